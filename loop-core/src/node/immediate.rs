//! `setImmediate`, as Node.js v20 (`processImmediate` in
//! `lib/internal/timers.js`, `CheckImmediate` in `src/env.cc`).
//!
//! Invariants:
//! - a live immediate is linked either in `queue` (waiting for the next
//!   check phase) or in `outstanding` (the batch being run), never both;
//! - the check phase takes the whole `queue` as its batch: immediates queued
//!   while it runs wait for the next iteration;
//! - `ref_count` counts live referenced immediates; the idle handle (which
//!   keeps the loop alive and poll from blocking) is started while it is
//!   non-zero, and stopped only at the end of a check phase or on a clear,
//!   as Node toggles it;
//! - a ran or cleared immediate's slot is freed at once: its id goes stale.

use crate::event_loop::Loop;
use crate::handle::{CheckId, IdleId};
use crate::slots::{GenSlab, Key};
use crate::trace::CallbackKind;

const NONE: u32 = u32::MAX;

/// An immediate made by [`Loop::set_immediate`], like Node's `Immediate`.
/// Stale once it ran or was cleared; operations on it then do nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Immediate {
    index: u32,
    gen: u32,
}

impl Immediate {
    /// The id's [`Key`] in the table.
    #[inline]
    fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

struct Entry<D> {
    cb: Option<crate::callback::Job<D>>,
    refed: bool,
    /// In `outstanding` (the running batch) rather than `queue`.
    in_batch: bool,
    prev: u32,
    next: u32,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NONE,
    tail: NONE,
};

pub(crate) struct Immediates<D> {
    entries: GenSlab<Entry<D>>,
    queue: List,
    outstanding: List,
    ref_count: usize,
    check: Option<CheckId>,
    idle: Option<IdleId>,
}

impl<D> Default for Immediates<D> {
    fn default() -> Self {
        Self {
            entries: GenSlab::new(),
            queue: EMPTY,
            outstanding: EMPTY,
            ref_count: 0,
            check: None,
            idle: None,
        }
    }
}

impl<D> Immediates<D> {
    fn list(&mut self, batch: bool) -> &mut List {
        if batch {
            &mut self.outstanding
        } else {
            &mut self.queue
        }
    }

    fn push(&mut self, idx: u32) {
        let tail = self.queue.tail;
        let e = &mut self.entries[idx];
        e.prev = tail;
        e.next = NONE;
        e.in_batch = false;
        if tail == NONE {
            self.queue.head = idx;
        } else {
            self.entries[tail].next = idx;
        }
        self.queue.tail = idx;
    }

    fn unlink(&mut self, idx: u32) {
        let e = &self.entries[idx];
        let (prev, next, batch) = (e.prev, e.next, e.in_batch);
        if prev == NONE {
            self.list(batch).head = next;
        } else {
            self.entries[prev].next = next;
        }
        if next == NONE {
            self.list(batch).tail = prev;
        } else {
            self.entries[next].prev = prev;
        }
    }

    fn get(&self, im: Immediate) -> Option<&Entry<D>> {
        self.entries.get(im.key())
    }
}

impl<D: 'static> Loop<D> {
    /// `setImmediate(f)`: `f` runs in the check phase of this iteration (or
    /// of the next one, if queued from the check phase itself).
    pub fn set_immediate(&mut self, f: impl FnOnce(&mut Loop<D>, &mut D) + 'static) -> Immediate {
        self.ensure_immediate_handles();
        let im = &mut self.node.immediates;
        let Key { index, gen } = im.entries.insert(Entry {
            cb: Some(Box::new(f)),
            refed: false,
            in_batch: false,
            prev: NONE,
            next: NONE,
        });
        im.push(index);
        let id = Immediate { index, gen };
        self.immediate_ref(id);
        id
    }

    fn ensure_immediate_handles(&mut self) {
        if self.node.immediates.check.is_some() {
            return;
        }
        // Node's immediate check handle is unreferenced: only the idle
        // handle, started while referenced immediates exist, keeps the loop
        // alive (and poll from blocking).
        let check = self.check_init_internal();
        self.queue_start_idx(
            crate::queue::CHECK,
            check.0.index,
            Some(crate::callback::plain(check_immediate::<D>)),
        );
        self.handles.set_ref(check.0.index, false);
        let idle = self.idle_init_internal();
        self.node.immediates.check = Some(check);
        self.node.immediates.idle = Some(idle);
    }

    fn toggle_immediate_ref(&mut self, on: bool) {
        let Some(idle) = self.node.immediates.idle else {
            return;
        };
        if on {
            // Node's idle callback is empty: the handle only needs to be active.
            self.queue_start_idx(crate::queue::IDLE, idle.0.index, None);
        } else {
            self.queue_stop_idx(crate::queue::IDLE, idle.0.index);
        }
    }

    /// `clearImmediate(i)`; returns whether it was still pending.
    pub fn clear_immediate(&mut self, i: Immediate) -> bool {
        let im = &mut self.node.immediates;
        let Some(e) = im.get(i) else {
            return false;
        };
        let refed = e.refed;
        im.unlink(i.index);
        im.entries.remove(i.key());
        if refed {
            im.ref_count -= 1;
            if im.ref_count == 0 {
                self.toggle_immediate_ref(false);
            }
        }
        true
    }

    /// `immediate.ref()`.
    pub fn immediate_ref(&mut self, i: Immediate) {
        let im = &mut self.node.immediates;
        let Some(e) = im.entries.get_mut(i.key()) else {
            return;
        };
        if !e.refed {
            e.refed = true;
            im.ref_count += 1;
            if im.ref_count == 1 {
                self.toggle_immediate_ref(true);
            }
        }
    }

    /// `immediate.unref()`: it no longer keeps the loop alive.
    pub fn immediate_unref(&mut self, i: Immediate) {
        let im = &mut self.node.immediates;
        let Some(e) = im.entries.get_mut(i.key()) else {
            return;
        };
        if e.refed {
            e.refed = false;
            im.ref_count -= 1;
            if im.ref_count == 0 {
                self.toggle_immediate_ref(false);
            }
        }
    }

    /// `immediate.hasRef()`; `false` for a stale immediate.
    pub fn immediate_has_ref(&self, i: Immediate) -> bool {
        self.node.immediates.get(i).is_some_and(|e| e.refed)
    }

    /// Whether the immediate is still pending (neither ran nor cleared).
    pub fn immediate_is_pending(&self, i: Immediate) -> bool {
        self.node.immediates.get(i).is_some()
    }

    /// `processImmediate()`: runs the outstanding batch, or takes the queue
    /// as a new batch; ticks drain between two immediates.
    fn process_immediate(&mut self, data: &mut D) {
        let im = &mut self.node.immediates;
        if im.outstanding.head == NONE {
            im.outstanding = std::mem::replace(&mut im.queue, EMPTY);
            let mut at = im.outstanding.head;
            while at != NONE {
                let e = &mut im.entries[at];
                e.in_batch = true;
                at = e.next;
            }
        }
        let mut first = true;
        loop {
            if self.node.immediates.outstanding.head == NONE {
                break;
            }
            if !first {
                self.drain_ticks(data);
            }
            first = false;
            let im = &mut self.node.immediates;
            let idx = im.outstanding.head;
            if idx == NONE {
                break; // cleared by a tick
            }
            im.unlink(idx);
            let Some(e) = im.entries.remove_by_index(idx) else {
                break; // never: a listed immediate is in the table
            };
            if e.refed {
                im.ref_count -= 1;
            }
            self.record(CallbackKind::Immediate, None);
            // A panic leaves the rest in `outstanding`, to run first next time.
            if let Some(f) = e.cb {
                f(self, data);
            }
        }
    }
}

/// `CheckImmediate`: the callback of the immediate check handle.
fn check_immediate<D: 'static>(lp: &mut Loop<D>, data: &mut D) {
    let im = &lp.node.immediates;
    if im.queue.head != NONE || im.outstanding.head != NONE {
        lp.process_immediate(data);
    }
    // Node toggles after every processImmediate, even one that threw. A
    // panic here skips this line, so the next check phase does it, even
    // with nothing queued (else the idle handle, started for an immediate
    // that panicked, kept the loop alive and spinning for ever; found by
    // tests/tests/panic_safety.rs).
    if lp.node.immediates.ref_count == 0 {
        lp.toggle_immediate_ref(false);
    }
}
