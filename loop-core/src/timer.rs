//! Timer handles (`uv_timer_t`).
//!
//! Armed timers live in an indexed min-heap keyed by (due time, start
//! sequence): ties fire in start order, and a restart queues behind equal
//! deadlines. Start, stop and re-arm are O(log n) with nothing left behind.
//!
//! The timers phase follows libuv HEAD (1.48+): it first collects every timer
//! due at the cached loop time, then runs them. So a timer restarted with
//! 0 ms from its own callback waits for the next pass instead of running
//! forever, and a due timer stopped by an earlier callback of the same pass
//! does not fire. A repeating timer is re-armed from the loop time *before*
//! its callback (drift, no catch-up), as `uv_timer_again` does.

use crate::callback::{AnyCb, CbArg};
use crate::error::{Error, Result};
use crate::event_loop::{Body, Loop};
use crate::handle::{HandleKind, TimerId};
use crate::trace::Phase;

impl<D> Loop<D> {
    /// A new, stopped timer (`uv_timer_init`).
    pub fn timer_init(&mut self) -> TimerId {
        TimerId(self.insert_handle(
            HandleKind::Timer,
            Body::Timer {
                repeat: 0,
                due: 0,
                ready: false,
                rerun: false,
            },
            false,
        ))
    }

    /// A new timer, started: shortcut for `timer_init` + `timer_start`.
    pub fn add_timer(
        &mut self,
        timeout: u64,
        repeat: u64,
        cb: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) -> TimerId {
        let t = self.timer_init();
        self.timer_arm(t.0.index, timeout, repeat, Some(crate::callback::plain(cb)));
        t
    }

    /// Starts (or restarts) a timer (`uv_timer_start`): `cb` runs `timeout` ms
    /// after the cached loop time, then every `repeat` ms if `repeat > 0`.
    /// A due time past `u64::MAX` clamps to it.
    pub fn timer_start(
        &mut self,
        t: TimerId,
        timeout: u64,
        repeat: u64,
        cb: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        self.slot_mut("timer_start", t.0)?;
        self.timer_arm(t.0.index, timeout, repeat, Some(crate::callback::plain(cb)));
        Ok(())
    }

    fn timer_arm(&mut self, idx: u32, timeout: u64, repeat: u64, cb: Option<AnyCb<D>>) {
        self.timer_stop_idx(idx);
        let due = self.time.saturating_add(timeout);
        let slot = &mut self.handles[idx as usize];
        if let Some(cb) = cb {
            slot.cb = Some(cb);
        }
        if let Body::Timer {
            repeat: r, due: d, ..
        } = &mut slot.body
        {
            *r = repeat;
            *d = due;
        }
        let seq = self.timer_seq;
        self.timer_seq += 1;
        self.timers.push(idx, (due, seq));
        self.handles.activate(idx);
    }

    /// Stops a timer (`uv_timer_stop`); stopping a stopped timer is fine.
    pub fn timer_stop(&mut self, t: TimerId) -> Result<()> {
        self.slot_mut("timer_stop", t.0)?;
        self.timer_stop_idx(t.0.index);
        Ok(())
    }

    pub(crate) fn timer_stop_idx(&mut self, idx: u32) {
        self.timers.remove(idx);
        if let Body::Timer { ready, .. } = &mut self.handles[idx as usize].body {
            *ready = false;
        }
        self.handles.deactivate(idx);
    }

    /// Restarts a repeating timer from now with its repeat as timeout
    /// (`uv_timer_again`); does nothing when repeat is 0. An error if the
    /// timer was never started.
    pub fn timer_again(&mut self, t: TimerId) -> Result<()> {
        let slot = self.slot_mut("timer_again", t.0)?;
        if slot.cb.is_none() && !slot.is_running() {
            return Err(Error::InvalidArgument {
                op: "timer_again",
                why: "the timer was never started",
            });
        }
        let Body::Timer { repeat, .. } = slot.body else {
            unreachable!("a TimerId names a timer");
        };
        if repeat > 0 {
            self.timer_arm(t.0.index, repeat, repeat, None);
        }
        Ok(())
    }

    /// Sets the repeat interval (`uv_timer_set_repeat`). It takes effect at
    /// the next (re-)arm: after the next expiry, or on `timer_again`.
    pub fn timer_set_repeat(&mut self, t: TimerId, repeat: u64) -> Result<()> {
        if let Body::Timer { repeat: r, .. } = &mut self.slot_mut("timer_set_repeat", t.0)?.body {
            *r = repeat;
        }
        Ok(())
    }

    /// The repeat interval (`uv_timer_get_repeat`).
    pub fn timer_repeat(&self, t: TimerId) -> Result<u64> {
        match self.slot_any("timer_repeat", t.0)?.body {
            Body::Timer { repeat, .. } => Ok(repeat),
            _ => unreachable!("a TimerId names a timer"),
        }
    }

    /// Milliseconds until the timer is due, 0 if it is due or was never
    /// started (`uv_timer_get_due_in`).
    pub fn timer_due_in(&self, t: TimerId) -> Result<u64> {
        match self.slot_any("timer_due_in", t.0)?.body {
            Body::Timer { due, .. } => Ok(due.saturating_sub(self.time)),
            _ => unreachable!("a TimerId names a timer"),
        }
    }

    /// The timers phase: collect every due timer, then run them in order.
    pub(crate) fn run_timers(&mut self, data: &mut D) {
        let Some(((first, _), _)) = self.timers.peek() else {
            return;
        };
        if first > self.time {
            return;
        }
        self.phase = Phase::Timers;
        tracing::trace!(phase = "timers", "phase");
        while let Some(((due, _), idx)) = self.timers.peek() {
            if due > self.time {
                break;
            }
            self.timers.pop();
            self.handles.deactivate(idx);
            if let Body::Timer { ready, .. } = &mut self.handles[idx as usize].body {
                *ready = true;
            }
            self.timer_ready.push_back(idx);
        }
        while let Some(idx) = self.timer_ready.pop_front() {
            let slot = &mut self.handles[idx as usize];
            let Body::Timer { ready, repeat, .. } = &mut slot.body else {
                continue;
            };
            if !*ready {
                continue; // stopped or restarted by an earlier callback
            }
            *ready = false;
            let repeat = *repeat;
            if repeat > 0 {
                self.timer_arm(idx, repeat, repeat, None);
            }
            self.invoke(idx, CbArg::None, data);
            if self.aborting() {
                // The rest stay due: back into the heap, in the same order.
                while let Some(rest) = self.timer_ready.pop_front() {
                    if let Body::Timer { ready, due, .. } = &mut self.handles[rest as usize].body {
                        if *ready {
                            *ready = false;
                            let due = *due;
                            let seq = self.timer_seq;
                            self.timer_seq += 1;
                            self.timers.push(rest, (due, seq));
                            self.handles.activate(rest);
                        }
                    }
                }
                return;
            }
        }
        // Timers with the re-run option (`timer_set_rerun_when_due`) that
        // their callbacks re-armed already due run again in this pass.
        let mut i = 0;
        while i < self.timer_rerun.len() {
            let idx = self.timer_rerun[i];
            match self.timers.key(idx) {
                Some((due, _)) if due <= self.time => {
                    self.timer_stop_idx(idx);
                    self.invoke(idx, CbArg::None, data);
                    if self.aborting() {
                        return;
                    }
                }
                _ => i += 1,
            }
        }
    }

    /// Whether a timer that its own callback re-armed already due (its due
    /// time at or before the cached loop time, which the callback may have
    /// refreshed) runs again in the same timers pass, as every timer did in
    /// libuv 1.46 (`uv__run_timers` re-read the heap after each callback).
    /// Off by default: a 0 ms restart then waits for the next pass.
    ///
    /// The Node.js layer sets it on its one loop timer: Node v20 runs on
    /// libuv 1.46, and its timer callback reads a fresh time, so a list
    /// that comes due while it runs is served in the same pass.
    pub fn timer_set_rerun_when_due(&mut self, t: TimerId, on: bool) -> Result<()> {
        let slot = self.slot_mut("timer_set_rerun_when_due", t.0)?;
        let Body::Timer { rerun, .. } = &mut slot.body else {
            unreachable!("a TimerId names a timer");
        };
        if *rerun == on {
            return Ok(());
        }
        *rerun = on;
        if on {
            self.timer_rerun.push(t.0.index);
        } else {
            self.timer_rerun.retain(|&i| i != t.0.index);
        }
        Ok(())
    }

    /// Number of armed timers (internal ones included).
    pub fn armed_timers(&self) -> usize {
        self.timers.len()
    }
}
