//! Deferred callbacks and the pending phase (libuv's `uv__io_feed` and
//! `uv__run_pending`).
//!
//! Invariant: a callback deferred while the pending phase runs waits for
//! the next pass (the phase takes its queue whole), so a callback that
//! defers itself cannot starve the loop.

use crate::event_loop::Loop;
use crate::trace::{CallbackKind, Phase};

impl<D> Loop<D> {
    /// Queues `f` for the next pending phase (libuv's `uv__io_feed`): how
    /// an operation delivers a result or error that happened synchronously
    /// without calling back re-entrantly. Keeps the loop alive until it ran.
    pub fn defer(&mut self, f: impl FnOnce(&mut Loop<D>, &mut D) + 'static) {
        self.pending.push_back(Box::new(f));
    }

    #[inline]
    pub(crate) fn run_pending(&mut self, data: &mut D) {
        if self.pending.is_empty() {
            return;
        }
        self.enter(Phase::Pending);
        // Callbacks deferred while this runs wait for the next pass.
        let mut batch = std::mem::take(&mut self.pending);
        while let Some(f) = batch.pop_front() {
            self.record(CallbackKind::Pending, None);
            self.invoke_job(f, data);
            if self.aborting() {
                batch.append(&mut self.pending);
                self.pending = batch;
                return;
            }
        }
    }
}
