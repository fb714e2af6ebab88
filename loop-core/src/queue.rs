//! The idle, prepare and check phases: one queue of handles each, run as
//! libuv's `uv__run_##name`.
//!
//! Invariants: a queue holds each active handle of its kind once, most
//! recently started first; a handle's `pass` mark says in which pass it is
//! still to run, so a handle started during a pass waits for the next and
//! one stopped during it is skipped, without scanning.

use crate::callback::CbArg;
use crate::event_loop::{Body, Loop};
use crate::trace::Phase;

/// Index of each handle queue in `Loop::queues`.
pub(crate) const IDLE: usize = 0;
pub(crate) const PREPARE: usize = 1;
pub(crate) const CHECK: usize = 2;

impl<D> Loop<D> {
    /// Runs the idle, prepare or check handles, as libuv's `uv__run_##name`:
    /// the queue is taken whole; each handle goes back to the tail before
    /// its callback runs; a handle started during the pass goes to the head
    /// of the loop's queue and waits for the next pass; a handle stopped
    /// during the pass is skipped.
    pub(crate) fn run_queue(&mut self, q: usize, data: &mut D) {
        if self.queues[q].is_empty() {
            return;
        }
        self.enter([Phase::Idle, Phase::Prepare, Phase::Check][q]);
        if let [idx] = self.queues[q][..] {
            // One handle (Node.js's usual case): nothing can be stopped
            // before it runs, so no pass marks are needed. Back to the tail
            // first, as below, then its callback.
            self.invoke(idx, CbArg::None, data);
            return;
        }
        self.pass += 1;
        let pass = self.pass;
        // The snapshot swaps with a spare buffer: no allocation per pass.
        let spare = std::mem::take(&mut self.queue_spare);
        let snap = std::mem::replace(&mut self.queues[q], spare);
        for &idx in &snap {
            if let Body::Queue { pass: p } = &mut self.handles[idx as usize].body {
                *p = pass;
            }
        }
        for (i, &idx) in snap.iter().enumerate() {
            match self.handles.get_mut(idx as usize).map(|s| &mut s.body) {
                Some(Body::Queue { pass: p }) if *p == pass => *p = 0,
                _ => continue,
            }
            self.queues[q].push(idx);
            self.invoke(idx, CbArg::None, data);
            if self.aborting() {
                for &rest in &snap[i + 1..] {
                    if let Some(Body::Queue { pass: p }) =
                        self.handles.get_mut(rest as usize).map(|s| &mut s.body)
                    {
                        if *p == pass {
                            *p = 0;
                            self.queues[q].push(rest);
                        }
                    }
                }
                break;
            }
        }
        let mut snap = snap;
        snap.clear();
        self.queue_spare = snap;
    }
}
