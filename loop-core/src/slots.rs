//! [`GenSlab`]: a slab whose entries are named by (index, generation) keys,
//! the table most handle kinds of the workspace keep their state in (the
//! four that keep their own slab, and why, are in docs/architecture.md).
//!
//! Invariants:
//! - every insert takes the next value of one table-wide generation counter
//!   (incremented before use, so the first key has generation 1) and stores
//!   it beside the value; a lookup by key succeeds only when the slot at
//!   `index` is occupied and holds that same generation, so a key whose
//!   entry was removed, or whose slot now holds a newer entry, names nothing
//!   (`get` is `None`, `remove` leaves the newer entry alone);
//! - the counter wraps (`wrapping_add`), never overflows or panics: a stale
//!   key could only reach a newer value after 2^32 inserts into this table
//!   that reuse the same slot, the same bound the hand-written tables had;
//! - [`GenSlab::vacant_key`] is the key the next [`GenSlab::insert`] returns,
//!   for a state that has to name itself (closures capturing its id) before
//!   it is inserted; it changes only through `insert` and `remove`, so a
//!   key peeked and never inserted must not escape (the next insert hands
//!   it out again);
//! - the cost is the `slab` crate's plus one `u32` compare per lookup: no
//!   allocation beyond the slab's own, no hashing; the slot is the value
//!   plus a `u32`, so 8 bytes more than an entry that kept its generation
//!   in its own padding (a table on a hot path where that matters keeps
//!   its own slab).

use slab::Slab;
use std::fmt;
use std::ops::{Index, IndexMut};

/// The name of one [`GenSlab`] entry: its slot and the generation it was
/// inserted with.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Key {
    /// The slot in the slab.
    pub index: u32,
    /// The generation the entry was inserted with.
    pub gen: u32,
}

struct Slot<T> {
    gen: u32,
    value: T,
}

/// A slab of `T` named by generational [`Key`]s (see the module's
/// invariants).
pub struct GenSlab<T> {
    slab: Slab<Slot<T>>,
    next_gen: u32,
}

impl<T> Default for GenSlab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for GenSlab<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenSlab")
            .field("len", &self.slab.len())
            .field("next_gen", &self.next_gen)
            .finish()
    }
}

impl<T> GenSlab<T> {
    /// An empty table (no allocation until the first insert).
    pub const fn new() -> Self {
        GenSlab {
            slab: Slab::new(),
            next_gen: 0,
        }
    }

    /// The key the next [`insert`](Self::insert) returns.
    #[inline]
    pub fn vacant_key(&self) -> Key {
        Key {
            index: self.slab.vacant_key() as u32,
            gen: self.next_gen.wrapping_add(1),
        }
    }

    /// Stores `value` under a new key and returns the key.
    #[inline]
    pub fn insert(&mut self, value: T) -> Key {
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let index = self.slab.insert(Slot { gen, value }) as u32;
        Key { index, gen }
    }

    /// The value `key` names; `None` for a stale or unknown key.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slab.get(key.index as usize) {
            Some(slot) if slot.gen == key.gen => Some(&slot.value),
            _ => None,
        }
    }

    /// The value `key` names, mutably; `None` for a stale or unknown key.
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slab.get_mut(key.index as usize) {
            Some(slot) if slot.gen == key.gen => Some(&mut slot.value),
            _ => None,
        }
    }

    /// Whether `key` names a live entry.
    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Removes and returns the value `key` names; `None` (and the table
    /// unchanged) for a stale or unknown key.
    #[inline]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        if !self.contains(key) {
            return None;
        }
        Some(self.slab.remove(key.index as usize).value)
    }

    /// Removes the entry in slot `index` whatever its generation: for a
    /// table whose own links (an intrusive list) name entries by slot.
    #[inline]
    pub fn remove_by_index(&mut self, index: u32) -> Option<T> {
        self.slab.try_remove(index as usize).map(|slot| slot.value)
    }

    /// The number of live entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether the table has no live entry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// The live entries with their keys, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> + '_ {
        self.slab.iter().map(|(index, slot)| {
            (
                Key {
                    index: index as u32,
                    gen: slot.gen,
                },
                &slot.value,
            )
        })
    }
}

/// The entry in slot `index` whatever its generation, for links the table's
/// owner keeps by slot (an intrusive list); panics if the slot is vacant,
/// as `slab`'s own indexing: only for a slot the owner knows is occupied.
impl<T> Index<u32> for GenSlab<T> {
    type Output = T;

    #[inline]
    fn index(&self, index: u32) -> &T {
        &self.slab[index as usize].value
    }
}

impl<T> IndexMut<u32> for GenSlab<T> {
    #[inline]
    fn index_mut(&mut self, index: u32) -> &mut T {
        &mut self.slab[index as usize].value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn stale_key_never_reaches_a_newer_value() {
        let mut t = GenSlab::new();
        let a = t.insert("a");
        assert_eq!(t.remove(a), Some("a"));
        let b = t.insert("b");
        assert_eq!(a.index, b.index, "the slot is reused");
        assert_ne!(a.gen, b.gen);
        assert_eq!(t.get(a), None);
        assert_eq!(t.remove(a), None);
        assert_eq!(t.get(b), Some(&"b"), "a stale remove left the new entry");
    }

    #[test]
    fn index_paths_ignore_the_generation() {
        let mut t = GenSlab::new();
        let a = t.insert(1);
        t[a.index] += 1;
        assert_eq!(t.get(a), Some(&2));
        assert_eq!(t.remove_by_index(a.index), Some(2));
        assert_eq!(t.remove_by_index(a.index), None);
        assert!(!t.contains(a));
        assert_eq!(t.remove_by_index(7), None);
    }

    #[test]
    fn vacant_key_is_the_next_insert() {
        let mut t = GenSlab::new();
        for i in 0..5 {
            let k = t.vacant_key();
            assert_eq!(t.insert(i), k);
        }
        let k1 = Key { index: 1, gen: 2 };
        t.remove(k1);
        let k = t.vacant_key();
        assert_eq!(k.index, 1);
        assert_eq!(t.insert(9), k);
    }

    #[test]
    fn generations_wrap_without_panic() {
        let mut t = GenSlab::new();
        t.next_gen = u32::MAX - 1;
        let a = t.insert(1);
        assert_eq!(a.gen, u32::MAX);
        t.remove(a);
        let b = t.insert(2);
        assert_eq!(b.gen, 0);
        let c = t.insert(3);
        assert_eq!(c.gen, 1);
        assert_eq!(t.get(a), None);
        assert_eq!(t.get(b), Some(&2));
        assert_eq!(t.get(c), Some(&3));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8),
        /// Remove the n-th key ever handed out (live or stale).
        Remove(usize),
        Get(usize),
        SetVal(usize, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u8>().prop_map(Op::Insert),
            any::<usize>().prop_map(Op::Remove),
            any::<usize>().prop_map(Op::Get),
            (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Op::SetVal(i, v)),
        ]
    }

    proptest! {
        /// The table against a model: a map from every live key to its
        /// value; every key ever handed out is probed, stale ones included.
        #[test]
        fn matches_a_map_model(ops in proptest::collection::vec(op(), 1..200)) {
            let mut t = GenSlab::new();
            let mut model: HashMap<Key, u8> = HashMap::new();
            let mut handed: Vec<Key> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(v) => {
                        let want = t.vacant_key();
                        let k = t.insert(v);
                        prop_assert_eq!(k, want);
                        prop_assert!(!handed.contains(&k), "a key is never handed out twice");
                        model.insert(k, v);
                        handed.push(k);
                    }
                    Op::Remove(i) if !handed.is_empty() => {
                        let k = handed[i % handed.len()];
                        prop_assert_eq!(t.remove(k), model.remove(&k));
                    }
                    Op::Get(i) if !handed.is_empty() => {
                        let k = handed[i % handed.len()];
                        prop_assert_eq!(t.get(k), model.get(&k));
                        prop_assert_eq!(t.contains(k), model.contains_key(&k));
                    }
                    Op::SetVal(i, v) if !handed.is_empty() => {
                        let k = handed[i % handed.len()];
                        if let Some(slot) = t.get_mut(k) {
                            *slot = v;
                        }
                        if let Some(m) = model.get_mut(&k) {
                            *m = v;
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(t.len(), model.len());
                let mut live: Vec<(Key, u8)> = t.iter().map(|(k, v)| (k, *v)).collect();
                let mut want: Vec<(Key, u8)> = model.iter().map(|(k, v)| (*k, *v)).collect();
                live.sort_by_key(|(k, _)| k.index);
                want.sort_by_key(|(k, _)| k.index);
                prop_assert_eq!(live, want);
                for (k, v) in t.iter() {
                    prop_assert_eq!(&t[k.index], v);
                }
            }
        }
    }
}
