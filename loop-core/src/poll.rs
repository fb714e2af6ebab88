//! The poll phase: how long to block, the wait itself, and the dispatch
//! of I/O events to their handles.
//!
//! # Ground rules
//!
//! - Events are copied out of mio's buffer before any callback runs, so a
//!   callback may borrow the loop; a panic leaves the rest of the batch in
//!   `io_events`, served first by the next poll.
//! - Within a batch, signal events and those of handles set
//!   [`Loop::io_set_batch_last`] run after all the others, in the order
//!   the poller gave them (libuv's `uv__io_poll` defers its signal
//!   watcher to the end of the batch).
//! - A token names a handle and its generation ([`crate::token`]): an event
//!   for a handle closed earlier in the same batch never reaches the slot's
//!   next owner.
//! - A finite wait sleeps only what is left of the timeout after the
//!   callbacks that ran since it was computed (Node's libuv runs with
//!   `UV_METRICS_IDLE_TIME`). A manual clock never sleeps.

use crate::callback::CbArg;
use crate::error::{Error, Result};
use crate::event_loop::Loop;
use crate::handle::HandleKind;
use crate::io::Ready;
use crate::queue::IDLE;
use crate::token::{self, TokenKind};
use crate::trace::Phase;
use std::time::{Duration, Instant};

impl<D> Loop<D> {
    /// How long poll would block now, in ms; `None` means until an event
    /// arrives (`uv_backend_timeout`). It is 0 when the loop is stopping, has
    /// nothing referenced and active, has pending callbacks, an active idle
    /// handle (even unreferenced) or closing handles; otherwise the time to
    /// the nearest timer (referenced or not), or `None` with no timer.
    pub fn backend_timeout(&self) -> Option<u64> {
        if self.stop_flag
            || (self.handles.active_refd() == 0 && self.active_reqs == 0)
            || !self.pending.is_empty()
            || !self.queues[IDLE].is_empty()
            || !self.closing.is_empty()
        {
            return Some(0);
        }
        self.next_timeout()
    }

    fn next_timeout(&self) -> Option<u64> {
        let ((due, _), _) = self.timers.peek()?;
        Some(due.saturating_sub(self.time).min(i32::MAX as u64))
    }

    pub(crate) fn poll_io(&mut self, timeout: Option<u64>, data: &mut D) -> Result<()> {
        self.enter(Phase::Poll);
        // Events left over by a callback that panicked are served first.
        if self.io_next < self.io_events.len() {
            self.dispatch_io(data);
            return Ok(());
        }
        let mut wait = timeout;
        let mut advance_to = None;
        if let (None, Some(t @ 1..)) = (self.clock.manual(), timeout) {
            // The timeout was computed from the time cached before the
            // callbacks that ran since; sleep only what is left of it.
            // Node.js runs libuv with UV_METRICS_IDLE_TIME, whose
            // uv__io_poll polls once without blocking, refreshes the time,
            // then waits the rest: an interval whose callback takes 65 of
            // its 130 ms waits 65 ms, not 130 (plain libuv would drift).
            let base = self.time;
            self.update_time();
            wait = Some(t.saturating_sub(self.time - base));
        }
        if let (Some(clock), Some(t)) = (self.clock.manual(), timeout) {
            if t > 0 {
                // Virtual time never sleeps: poll without blocking, and jump
                // to the timer if the clock auto-advances.
                wait = Some(0);
                if clock.auto_advance() {
                    advance_to = Some(self.time.saturating_add(t));
                }
            }
        }
        if wait == Some(0) && self.registered == 1 {
            if let Some(shared) = &self.async_shared {
                // Only the waker to watch: its queue says all epoll would.
                // (A wake-up found here leaves a stale eventfd edge behind;
                // the poll that meets it finds an empty queue.)
                if shared.has_queued() {
                    self.update_time();
                    self.metrics.events += 1;
                    self.dispatch_async(data);
                } else if let (Some(clock), Some(t)) = (self.clock.manual(), advance_to) {
                    // Nothing ready and virtual time: jump to the timer, as
                    // the epoll path below does (without this, a loop with
                    // an async handle and an auto-advancing clock spun for
                    // ever; found by tests/tests/panic_safety.rs).
                    clock.set(t);
                    self.update_time();
                }
                return Ok(());
            }
        }
        if self.registered == 0 && wait == Some(0) {
            // Nothing can be ready: no syscall and no time update, as
            // libuv's uv__io_poll with no fd (the time is refreshed before
            // timers anyway).
            if let (Some(clock), Some(t)) = (self.clock.manual(), advance_to) {
                clock.set(t);
                self.update_time();
            }
            return Ok(());
        }
        let started = (wait != Some(0)).then(Instant::now);
        loop {
            let dur = wait.map(Duration::from_millis);
            match self.poll.poll(&mut self.events, dur) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    // A signal: wait again for what is left of the timeout.
                    if let (Some(w), Some(t0)) = (wait, started) {
                        let spent = t0.elapsed().as_millis() as u64;
                        wait = Some(w.saturating_sub(spent));
                    }
                    continue;
                }
                Err(source) => {
                    return Err(Error::Io {
                        op: "poll (epoll_wait)",
                        source,
                    })
                }
            }
        }
        if let Some(t0) = started {
            self.metrics.idle_time += t0.elapsed();
        }
        self.io_events.clear();
        self.io_next = 0;
        for ev in self.events.iter() {
            let entry = (ev.token(), Ready::from_event(ev));
            if token::batch_last(entry.0) {
                self.io_last.push(entry);
            } else {
                self.io_events.push(entry);
            }
        }
        self.io_events.append(&mut self.io_last);
        if self.io_events.is_empty() {
            if let (Some(clock), Some(t)) = (self.clock.manual(), advance_to) {
                clock.set(t);
            }
        }
        self.update_time();
        self.dispatch_io(data);
        Ok(())
    }

    pub(crate) fn dispatch_io(&mut self, data: &mut D) {
        while self.io_next < self.io_events.len() {
            let (token, ready) = self.io_events[self.io_next];
            self.io_next += 1;
            self.metrics.events += 1;
            match token::decode(token) {
                TokenKind::Waker => self.dispatch_async(data),
                TokenKind::Signal(signum) => self.dispatch_signal(signum, data),
                TokenKind::Io(id) => {
                    // A stale token (its handle closed, the slot reused in
                    // this same batch) must not reach the new handle.
                    let live = self.handles.get(id.index as usize).is_some_and(|s| {
                        s.gen == id.gen && s.kind == HandleKind::Io && !s.is_closing()
                    });
                    if live {
                        self.invoke(id.index, CbArg::Io(ready), data);
                    }
                }
            }
            if self.aborting() {
                return;
            }
        }
    }
}
