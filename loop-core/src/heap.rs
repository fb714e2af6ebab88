//! An indexed binary min-heap.
//!
//! Every element is a small integer id (a slab index) with an ordered key.
//! The heap remembers where each id sits, so `remove` and `update` of any id
//! are O(log n) without scanning and without leaving tombstones behind: a
//! server that re-arms an idle timeout on every read keeps the heap exactly as
//! large as the number of armed timers.
//!
//! Invariants:
//! - `pos[id] == NONE` exactly when `id` is not in the heap;
//! - otherwise `entries[pos[id]].1 == id`;
//! - `entries` is a binary min-heap on the key.

/// Position marker for an id that is not in the heap.
const NONE: u32 = u32::MAX;

/// A binary min-heap of ids with keys of type `K`, supporting O(log n) removal
/// and key update of any id.
#[derive(Debug, Clone)]
pub struct IndexedHeap<K> {
    entries: Vec<(K, u32)>,
    pos: Vec<u32>,
}

impl<K> Default for IndexedHeap<K> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            pos: Vec::new(),
        }
    }
}

impl<K: Ord + Copy> IndexedHeap<K> {
    /// An empty heap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of ids in the heap.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the heap holds no id.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The smallest key and its id.
    pub fn peek(&self) -> Option<(K, u32)> {
        self.entries.first().copied()
    }

    /// Whether `id` is in the heap.
    pub fn contains(&self, id: u32) -> bool {
        self.pos.get(id as usize).is_some_and(|&p| p != NONE)
    }

    /// The key of `id`, if it is in the heap.
    pub fn key(&self, id: u32) -> Option<K> {
        let p = *self.pos.get(id as usize)?;
        (p != NONE).then(|| self.entries[p as usize].0)
    }

    /// Inserts `id` with `key`, or moves it to `key` if it is already there.
    pub fn push(&mut self, id: u32, key: K) {
        if self.contains(id) {
            self.update(id, key);
            return;
        }
        let i = id as usize;
        if self.pos.len() <= i {
            self.pos.resize(i + 1, NONE);
        }
        let at = self.entries.len();
        self.entries.push((key, id));
        self.pos[i] = at as u32;
        self.sift_up(at);
    }

    /// Removes and returns the smallest entry.
    pub fn pop(&mut self) -> Option<(K, u32)> {
        let top = self.peek()?;
        self.remove_at(0);
        Some(top)
    }

    /// Removes `id`; returns its key if it was in the heap.
    pub fn remove(&mut self, id: u32) -> Option<K> {
        let p = *self.pos.get(id as usize)?;
        if p == NONE {
            return None;
        }
        let key = self.entries[p as usize].0;
        self.remove_at(p as usize);
        Some(key)
    }

    /// Changes the key of `id` (which must be in the heap) and restores order.
    pub fn update(&mut self, id: u32, key: K) {
        let Some(&p) = self.pos.get(id as usize) else {
            return;
        };
        if p == NONE {
            return;
        }
        let p = p as usize;
        let old = self.entries[p].0;
        self.entries[p].0 = key;
        if key < old {
            self.sift_up(p);
        } else {
            self.sift_down(p);
        }
    }

    fn remove_at(&mut self, at: usize) {
        let last = self.entries.len() - 1;
        let id = self.entries[at].1;
        self.entries.swap(at, last);
        self.entries.pop();
        self.pos[id as usize] = NONE;
        if at < last {
            self.pos[self.entries[at].1 as usize] = at as u32;
            // The moved entry may belong above or below its new place.
            let at = self.sift_up(at);
            self.sift_down(at);
        }
    }

    fn sift_up(&mut self, mut at: usize) -> usize {
        while at > 0 {
            let parent = (at - 1) / 2;
            if self.entries[at].0 >= self.entries[parent].0 {
                break;
            }
            self.swap(at, parent);
            at = parent;
        }
        at
    }

    fn sift_down(&mut self, mut at: usize) {
        let n = self.entries.len();
        loop {
            let l = 2 * at + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let child = if r < n && self.entries[r].0 < self.entries[l].0 {
                r
            } else {
                l
            };
            if self.entries[child].0 >= self.entries[at].0 {
                break;
            }
            self.swap(at, child);
            at = child;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.entries.swap(a, b);
        self.pos[self.entries[a].1 as usize] = a as u32;
        self.pos[self.entries[b].1 as usize] = b as u32;
    }

    /// Checks every invariant; for tests.
    #[cfg(test)]
    fn check(&self) {
        for (p, &(k, id)) in self.entries.iter().enumerate() {
            assert_eq!(self.pos[id as usize], p as u32);
            if p > 0 {
                assert!(self.entries[(p - 1) / 2].0 <= k);
            }
        }
        let live = self.pos.iter().filter(|&&p| p != NONE).count();
        assert_eq!(live, self.entries.len());
    }
}

#[cfg(test)]
mod tests {
    use super::IndexedHeap;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Push(u32, u64),
        Remove(u32),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..64, 0u64..50).prop_map(|(i, k)| Op::Push(i, k)),
            (0u32..64).prop_map(Op::Remove),
            Just(Op::Pop),
        ]
    }

    proptest! {
        // The heap against a model: a map from id to key, min by (key, id).
        #[test]
        fn behaves_like_a_sorted_map(ops in proptest::collection::vec(op(), 0..400)) {
            let mut heap = IndexedHeap::new();
            let mut model: BTreeMap<u32, (u64, u32)> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Push(id, k) => { heap.push(id, (k, id)); model.insert(id, (k, id)); }
                    Op::Remove(id) => {
                        prop_assert_eq!(heap.remove(id), model.remove(&id));
                    }
                    Op::Pop => {
                        let want = model.values().min().copied();
                        let got = heap.pop().map(|(k, _)| k);
                        prop_assert_eq!(got, want);
                        if let Some((_, id)) = want { model.remove(&id); }
                    }
                }
                heap.check();
                prop_assert_eq!(heap.len(), model.len());
                prop_assert_eq!(heap.peek().map(|(k, _)| k), model.values().min().copied());
            }
        }
    }

    #[test]
    fn update_moves_both_ways() {
        let mut h = IndexedHeap::new();
        for i in 0..10u32 {
            h.push(i, (u64::from(i) * 10, i));
        }
        h.update(9, (0, 9));
        assert_eq!(h.pop(), Some(((0, 0), 0)));
        assert_eq!(h.pop(), Some(((0, 9), 9)));
        h.update(1, (1000, 1));
        assert_eq!(h.pop(), Some(((20, 2), 2)));
        assert_eq!(h.key(1), Some((1000, 1)));
        assert!(!h.contains(9));
        h.check();
    }
}
