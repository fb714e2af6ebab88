//! `setTimeout` / `setInterval`, as Node.js v20's `lib/internal/timers.js`.
//!
//! Invariants:
//! - every live (not destroyed) timer is linked in exactly one list, except
//!   while its own callback runs (unlinked, as in Node);
//! - a list is in `by_ms` and `queue` until it is found empty by
//!   `list_on_timeout` or emptied by a clear;
//! - `ref_count` counts live referenced timers; the single loop timer
//!   (`uv`) is referenced exactly when it is non-zero (toggled on 0 ↔ 1, and
//!   set at the end of each timers run, as Node's `RunTimers` does);
//! - a destroyed timer's slot is freed at once, so its [`Timeout`] goes stale
//!   and every operation on it is a no-op; except a fired timeout made by
//!   [`Loop::set_timeout_refreshable`], which stays (destroyed, unlinked,
//!   not counted in `ref_count`) until cleared, as a JS `Timeout` object
//!   outlives its firing.

use crate::event_loop::Loop;
use crate::handle::TimerId;
use crate::heap::IndexedHeap;
use crate::trace::CallbackKind;
use slab::Slab;
use std::collections::HashMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// Skips to the next loop turn when a drain changed the list under us.
macro_rules! continue_if_changed {
    ($self:ident, $li:ident, $gen:ident, $idx:ident) => {{
        let tm = &$self.node.timers;
        let same = tm.lists.get($li as usize).is_some_and(|l| l.gen == $gen)
            && tm.lists[$li as usize].head == $idx;
        if !same {
            continue;
        }
    }};
}

/// Node's `TIMEOUT_MAX`: larger delays run as 1 ms.
const TIMEOUT_MAX: u64 = 2_147_483_647;
const NONE: u32 = u32::MAX;

/// A timer made by [`Loop::set_timeout`], [`Loop::set_interval`] or
/// [`Loop::set_timeout_refreshable`], like Node's `Timeout` object. Stale
/// once the timer was cleared, or once a [`Loop::set_timeout`] timer fired;
/// operations on a stale `Timeout` do nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeout {
    index: u32,
    gen: u32,
}

type IntervalCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Timeout)>;

pub(crate) enum TimerCb<D> {
    Once(crate::callback::Job<D>),
    Repeat(IntervalCb<D>),
}

pub(crate) struct NodeTimer<D> {
    gen: u32,
    cb: Option<TimerCb<D>>,
    /// `_idleTimeout`: the list it belongs to; `None` once cleared (-1).
    idle_timeout: Option<u64>,
    /// `_repeat`: 0 for a one-shot timer.
    repeat: u64,
    /// `_idleStart`: loop time when it was inserted.
    idle_start: u64,
    refed: bool,
    destroyed: bool,
    /// Kept after it fires, for `refresh` ([`Loop::set_timeout_refreshable`]).
    keep: bool,
    /// Its callback is running (taken out of `cb`).
    running: bool,
    list: u32,
    prev: u32,
    next: u32,
}

struct TimerList {
    gen: u32,
    ms: u64,
    head: u32,
    tail: u32,
}

/// Not on [`GenSlab`](crate::slots::GenSlab) (yet): the move would be
/// size-neutral (`NodeTimer` 80 bytes and `TimerList` 24 either way,
/// `size_of`, measured), but the two slabs share one generation counter and
/// link each other by slot (a list's `head`/`tail`, a timer's `list`,
/// `prev`, `next`, the heap keyed by list slot), and the timer benchmarks
/// (`million-timers`, `timer-churn`) have not been re-measured for it.
pub(crate) struct Timers<D> {
    timers: Slab<NodeTimer<D>>,
    lists: Slab<TimerList>,
    by_ms: HashMap<u64, u32>,
    /// Lists keyed by (expiry, list id), as `timerListQueue`.
    queue: IndexedHeap<(u64, u64)>,
    /// `timerListId`.
    list_seq: u64,
    next_gen: u32,
    /// `nextExpiry`; `u64::MAX` is Infinity.
    next_expiry: u64,
    ref_count: u64,
    /// The one loop timer all of Node's timers share.
    uv: Option<TimerId>,
}

impl<D> Default for Timers<D> {
    fn default() -> Self {
        Self {
            timers: Slab::new(),
            lists: Slab::new(),
            by_ms: HashMap::new(),
            queue: IndexedHeap::new(),
            list_seq: 0,
            next_gen: 0,
            next_expiry: u64::MAX,
            ref_count: 0,
            uv: None,
        }
    }
}

impl<D> Timers<D> {
    fn get(&self, t: Timeout) -> Option<&NodeTimer<D>> {
        self.timers.get(t.index as usize).filter(|n| n.gen == t.gen)
    }

    fn live(&self, idx: u32, gen: u32) -> bool {
        self.timers.get(idx as usize).is_some_and(|n| n.gen == gen)
    }

    fn append(&mut self, li: u32, idx: u32) {
        let tail = self.lists[li as usize].tail;
        let t = &mut self.timers[idx as usize];
        t.list = li;
        t.prev = tail;
        t.next = NONE;
        if tail == NONE {
            self.lists[li as usize].head = idx;
        } else {
            self.timers[tail as usize].next = idx;
        }
        self.lists[li as usize].tail = idx;
    }

    /// `L.remove`: unlinks the timer from its list, if linked.
    fn unlink(&mut self, idx: u32) {
        let t = &mut self.timers[idx as usize];
        let (li, prev, next) = (t.list, t.prev, t.next);
        if li == NONE {
            return;
        }
        t.list = NONE;
        t.prev = NONE;
        t.next = NONE;
        if prev == NONE {
            self.lists[li as usize].head = next;
        } else {
            self.timers[prev as usize].next = next;
        }
        if next == NONE {
            self.lists[li as usize].tail = prev;
        } else {
            self.timers[next as usize].prev = prev;
        }
    }

    fn delete_list(&mut self, li: u32) {
        let ms = self.lists[li as usize].ms;
        self.queue.remove(li);
        self.by_ms.remove(&ms);
        self.lists.remove(li as usize);
    }
}

impl<D: 'static> Loop<D> {
    /// `getLibuvNow()`: Node refreshes the loop time whenever it reads it.
    fn libuv_now(&mut self) -> u64 {
        self.update_time();
        self.time
    }

    /// `setTimeout(f, ms)`. A delay below 1 or above 2^31-1 runs as 1 ms.
    pub fn set_timeout(
        &mut self,
        ms: u64,
        f: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Timeout {
        self.new_node_timer(ms, false, false, TimerCb::Once(Box::new(f)))
    }

    /// `setTimeout(f, ms)` for a host that keeps the `Timeout` object, as a
    /// JavaScript runtime does: after it fires, the timeout stays (not
    /// pending, not keeping the loop alive) so that
    /// [`Loop::timeout_refresh`] can arm it again, and `f` runs again, as
    /// `timeout.refresh()` does in Node.js. It is kept until
    /// [`Loop::clear_timeout`], which the host calls when it drops its
    /// object (a garbage-collected `Timeout`); until then it holds its slot
    /// and its callback. `f` is given its own [`Timeout`].
    ///
    /// ```
    /// use loop_core::{Loop, RunMode};
    ///
    /// let mut lp: Loop<u32> = Loop::new()?;
    /// let t = lp.set_timeout_refreshable(1, |lp, runs, me| {
    ///     *runs += 1;
    ///     if *runs < 3 {
    ///         lp.timeout_refresh(me); // once more, 1 ms from now
    ///     }
    /// });
    /// let mut runs = 0;
    /// lp.run(RunMode::Default, &mut runs)?;
    /// assert_eq!(runs, 3);
    /// assert!(!lp.timeout_is_pending(t));
    /// assert!(lp.timeout_refresh(t)); // fired, kept: it can run again
    /// lp.run(RunMode::Default, &mut runs)?;
    /// assert_eq!(runs, 4);
    /// lp.clear_timeout(t); // released: now stale
    /// assert!(!lp.timeout_refresh(t));
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn set_timeout_refreshable(
        &mut self,
        ms: u64,
        f: impl FnMut(&mut Loop<D>, &mut D, Timeout) + 'static,
    ) -> Timeout {
        self.new_node_timer(ms, false, true, TimerCb::Repeat(Box::new(f)))
    }

    /// `setInterval(f, ms)`: `f` runs every `ms` (at least 1) until cleared;
    /// it is given its own [`Timeout`], so it can clear itself.
    pub fn set_interval(
        &mut self,
        ms: u64,
        f: impl FnMut(&mut Loop<D>, &mut D, Timeout) + 'static,
    ) -> Timeout {
        self.new_node_timer(ms, true, false, TimerCb::Repeat(Box::new(f)))
    }

    fn new_node_timer(&mut self, ms: u64, repeat: bool, keep: bool, cb: TimerCb<D>) -> Timeout {
        let after = if (1..=TIMEOUT_MAX).contains(&ms) {
            ms
        } else {
            1
        };
        let tm = &mut self.node.timers;
        tm.next_gen = tm.next_gen.wrapping_add(1);
        let gen = tm.next_gen;
        let index = tm.timers.insert(NodeTimer {
            gen,
            cb: Some(cb),
            idle_timeout: Some(after),
            repeat: if repeat { after } else { 0 },
            idle_start: 0,
            refed: true,
            destroyed: false,
            keep,
            running: false,
            list: NONE,
            prev: NONE,
            next: NONE,
        }) as u32;
        self.inc_ref_count();
        let start = self.libuv_now();
        self.timer_insert(index, after, start);
        Timeout { index, gen }
    }

    /// `insert(item, msecs, start)`.
    fn timer_insert(&mut self, idx: u32, msecs: u64, start: u64) {
        let tm = &mut self.node.timers;
        tm.unlink(idx);
        tm.timers[idx as usize].idle_start = start;
        let li = match tm.by_ms.get(&msecs) {
            Some(&li) => li,
            None => {
                let expiry = start.saturating_add(msecs);
                tm.next_gen = tm.next_gen.wrapping_add(1);
                let li = tm.lists.insert(TimerList {
                    gen: tm.next_gen,
                    ms: msecs,
                    head: NONE,
                    tail: NONE,
                }) as u32;
                tm.by_ms.insert(msecs, li);
                let id = tm.list_seq;
                tm.list_seq += 1;
                tm.queue.push(li, (expiry, id));
                if tm.next_expiry > expiry {
                    tm.next_expiry = expiry;
                    self.schedule_timer(msecs);
                }
                li
            }
        };
        self.node.timers.append(li, idx);
    }

    /// `scheduleTimer(msecs)`: (re)starts the one loop timer.
    fn schedule_timer(&mut self, msecs: u64) {
        let uv = self.node_uv_timer();
        self.timer_start(uv, msecs, 0, run_node_timers::<D>)
            .expect("the Node timer handle is never closed");
    }

    fn node_uv_timer(&mut self) -> TimerId {
        if let Some(t) = self.node.timers.uv {
            return t;
        }
        let t = self.timer_init();
        let idx = t.0.index as usize;
        self.handles[idx].set_internal(true);
        // libuv 1.46's timers phase, which Node v20 runs on.
        self.timer_set_rerun_when_due(t, true)
            .expect("a timer made just above");
        // Node creates it unreferenced; `toggleTimerRef` refs it.
        self.handles.set_ref(t.0.index, false);
        self.node.timers.uv = Some(t);
        t
    }

    fn toggle_timer_ref(&mut self, on: bool) {
        let uv = self.node_uv_timer();
        self.handles.set_ref(uv.0.index, on);
    }

    fn inc_ref_count(&mut self) {
        self.node.timers.ref_count += 1;
        if self.node.timers.ref_count == 1 {
            self.toggle_timer_ref(true);
        }
    }

    fn dec_ref_count(&mut self) {
        self.node.timers.ref_count -= 1;
        if self.node.timers.ref_count == 0 {
            self.toggle_timer_ref(false);
        }
    }

    /// `clearTimeout(t)`; returns whether it was still pending. A fired
    /// [`Loop::set_timeout_refreshable`] timeout is released: its id goes
    /// stale.
    pub fn clear_timeout(&mut self, t: Timeout) -> bool {
        let tm = &mut self.node.timers;
        let Some(n) = tm.get(t) else {
            return false;
        };
        if n.destroyed {
            if n.keep && !n.running {
                tm.timers.remove(t.index as usize);
            }
            return false;
        }
        let (li, refed) = (n.list, n.refed);
        tm.unlink(t.index);
        if li != NONE && tm.lists[li as usize].head == NONE {
            tm.delete_list(li);
        }
        let n = &mut tm.timers[t.index as usize];
        n.destroyed = true;
        n.idle_timeout = None;
        if !n.running {
            // Not inside its own callback: nothing else refers to the slot.
            tm.timers.remove(t.index as usize);
        }
        if refed {
            self.dec_ref_count();
        }
        true
    }

    /// `clearInterval(t)`, the same as [`Loop::clear_timeout`].
    pub fn clear_interval(&mut self, t: Timeout) -> bool {
        self.clear_timeout(t)
    }

    /// `timeout.unref()`: the timer no longer keeps the loop alive.
    pub fn timeout_unref(&mut self, t: Timeout) {
        let Some(n) = self.node.timers.get(t) else {
            return;
        };
        if n.refed {
            let destroyed = n.destroyed;
            self.node.timers.timers[t.index as usize].refed = false;
            if !destroyed {
                self.dec_ref_count();
            }
        }
    }

    /// `timeout.ref()`.
    pub fn timeout_ref(&mut self, t: Timeout) {
        let Some(n) = self.node.timers.get(t) else {
            return;
        };
        if !n.refed {
            let destroyed = n.destroyed;
            self.node.timers.timers[t.index as usize].refed = true;
            if !destroyed {
                self.inc_ref_count();
            }
        }
    }

    /// `timeout.hasRef()`; `false` for a stale timeout.
    pub fn timeout_has_ref(&self, t: Timeout) -> bool {
        self.node.timers.get(t).is_some_and(|n| n.refed)
    }

    /// Whether the timeout is still pending (neither fired nor cleared).
    pub fn timeout_is_pending(&self, t: Timeout) -> bool {
        self.node.timers.get(t).is_some_and(|n| !n.destroyed)
    }

    /// `timeout.refresh()`: restarts the timer's delay from now (appended
    /// to its duration's list, as in Node.js); a fired
    /// [`Loop::set_timeout_refreshable`] timeout is armed again, and keeps
    /// the loop alive again if referenced. Returns `false` (and does
    /// nothing) for a cleared timeout, or a [`Loop::set_timeout`] that
    /// fired or is firing (its `FnOnce` callback is spent: Node.js would
    /// run it again; use [`Loop::set_timeout_refreshable`] for that).
    pub fn timeout_refresh(&mut self, t: Timeout) -> bool {
        let Some(n) = self.node.timers.get(t) else {
            return false;
        };
        let Some(ms) = n.idle_timeout else {
            return false;
        };
        if n.running && n.repeat == 0 && !n.keep {
            return false;
        }
        let (destroyed, refed) = (n.destroyed, n.refed);
        let start = self.libuv_now();
        self.timer_insert(t.index, ms, start);
        if destroyed {
            // `insertGuarded`: a fired timer comes back to life.
            self.node.timers.timers[t.index as usize].destroyed = false;
            if refed {
                self.inc_ref_count();
            }
        }
        true
    }

    /// `processTimers(now)`: runs due lists, earliest first. Returns the next
    /// expiry and whether any timer is referenced, or `None` with no list.
    fn process_timers(&mut self, now: u64, data: &mut D) -> Option<(u64, bool)> {
        self.node.timers.next_expiry = u64::MAX;
        let mut ran_list = false;
        while let Some(((expiry, _), li)) = self.node.timers.queue.peek() {
            if expiry > now {
                self.node.timers.next_expiry = expiry;
                return Some((expiry, self.node.timers.ref_count > 0));
            }
            if ran_list {
                self.drain_ticks(data);
            } else {
                ran_list = true;
            }
            self.list_on_timeout(li, now, data);
        }
        None
    }

    /// `listOnTimeout(list, now)`.
    fn list_on_timeout(&mut self, li: u32, now: u64, data: &mut D) {
        let (msecs, list_gen) = {
            let l = &self.node.timers.lists[li as usize];
            (l.ms, l.gen)
        };
        let mut ran = false;
        loop {
            let tm = &mut self.node.timers;
            // The list may have been emptied and deleted by a callback.
            if tm.lists.get(li as usize).is_none_or(|l| l.gen != list_gen) {
                return;
            }
            let idx = tm.lists[li as usize].head;
            if idx == NONE {
                break;
            }
            let start = tm.timers[idx as usize].idle_start;
            if now < start.saturating_add(msecs) {
                // Too early for the rest of this list.
                let expiry = start.saturating_add(msecs).max(now + 1);
                let id = tm.list_seq;
                tm.list_seq += 1;
                tm.queue.update(li, (expiry, id));
                return;
            }
            if ran {
                self.drain_ticks(data);
                // A tick may have cleared this timer or emptied the list.
                continue_if_changed!(self, li, list_gen, idx);
            } else {
                ran = true;
            }
            let tm = &mut self.node.timers;
            tm.unlink(idx);
            let repeat = tm.timers[idx as usize].repeat;
            let gen = tm.timers[idx as usize].gen;
            let cb = tm.timers[idx as usize].cb.take();
            tm.timers[idx as usize].running = true;
            let start = if repeat > 0 { self.libuv_now() } else { 0 };
            self.record(CallbackKind::Timeout, None);
            let mut cb = cb;
            let r = catch_unwind(AssertUnwindSafe(|| match &mut cb {
                Some(TimerCb::Repeat(f)) => f(self, data, Timeout { index: idx, gen }),
                Some(TimerCb::Once(_)) => {
                    if let Some(TimerCb::Once(f)) = cb.take() {
                        f(self, data)
                    }
                }
                None => {}
            }));
            // `finally`: re-insert an interval, destroy a one-shot timer.
            let tm = &mut self.node.timers;
            if tm.live(idx, gen) {
                let n = &mut tm.timers[idx as usize];
                n.running = false;
                if n.cb.is_none() {
                    n.cb = cb;
                }
                match n.idle_timeout {
                    Some(_) if n.repeat > 0 => {
                        let rep = n.repeat;
                        n.idle_timeout = Some(rep);
                        self.timer_insert(idx, rep, start);
                    }
                    _ => {
                        if n.list == NONE {
                            // Not re-linked by a refresh from its callback.
                            let refed = n.refed && !n.destroyed;
                            if n.keep && n.idle_timeout.is_some() {
                                // Kept for a refresh, until cleared.
                                n.destroyed = true;
                            } else {
                                tm.timers.remove(idx as usize);
                            }
                            if refed {
                                tm.ref_count -= 1;
                            }
                        }
                    }
                }
            }
            if let Err(p) = r {
                resume_unwind(p);
            }
        }
        let tm = &mut self.node.timers;
        if tm.by_ms.get(&msecs) == Some(&li) {
            tm.delete_list(li);
        }
    }
}

/// `RunTimers`: the callback of the one loop timer.
fn run_node_timers<D: 'static>(lp: &mut Loop<D>, data: &mut D) {
    let now = lp.libuv_now();
    match catch_unwind(AssertUnwindSafe(|| lp.process_timers(now, data))) {
        Ok(Some((expiry, refed))) => {
            let due_in = expiry.saturating_sub(lp.time).max(1);
            lp.schedule_timer(due_in);
            lp.toggle_timer_ref(refed);
        }
        Ok(None) => lp.toggle_timer_ref(false),
        Err(p) => {
            // Node calls processTimers again; here the rest run next pass.
            if !lp.node.timers.queue.is_empty() {
                lp.schedule_timer(1);
                let refed = lp.node.timers.ref_count > 0;
                lp.toggle_timer_ref(refed);
            }
            resume_unwind(p);
        }
    }
}
