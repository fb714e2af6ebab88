//! The Node.js layer: `process.nextTick`, `queueMicrotask`, `setTimeout`,
//! `setInterval`, `setImmediate` and their `clear*`, `ref`, `unref`, with
//! Node.js v20's exact ordering.
//!
//! # Ordering guarantees
//!
//! - After the main program (everything queued before [`Loop::run`]) and
//!   after every callback the loop runs, the nextTick queue drains
//!   completely, then the microtask queue, repeated until both are empty.
//! - Between two timer callbacks of one timers phase, and between two
//!   immediates of one check phase, the queues drain too.
//! - Timers are kept as Node keeps them (`lib/internal/timers.js`): one list
//!   per duration in insertion order, a priority queue of lists keyed by
//!   (expiry, list id), and a single loop timer for all of them. When several
//!   timers are due at once, every due timer of the earliest list runs before
//!   the next list, exactly as in Node.js (which is not always expiry order).
//! - Creating a timer refreshes the loop time first (Node's `getLibuvNow`).
//! - A timeout of less than 1 ms, or more than 2^31-1 ms, runs as 1 ms.
//! - Immediates queued from the check phase run in the next iteration.
//! - Inside an I/O callback, an immediate runs before any timer.
//!
//! # Differences from Node.js
//!
//! - A [`Loop::set_timeout`] timeout is freed when it fires (its callback
//!   is `FnOnce` and nothing like a garbage collector tells when its id is
//!   dropped), so `timeout_refresh` of a fired one does nothing, where Node
//!   re-arms it. A host that needs Node's behaviour (a JavaScript runtime)
//!   uses [`Loop::set_timeout_refreshable`]: kept after it fires, until
//!   [`Loop::clear_timeout`].
//! - A panic in a callback propagates out of `run` (Node would emit
//!   `uncaughtException`); the timers and immediates still due run on the
//!   next `run`.

mod immediate;
mod timers;

pub use immediate::Immediate;
pub use timers::Timeout;

use crate::callback::Job;
use crate::event_loop::Loop;

/// The Node.js layer's state, kept inside the loop.
pub(crate) struct NodeState<D> {
    pub(crate) timers: timers::Timers<D>,
    pub(crate) immediates: immediate::Immediates<D>,
}

impl<D> Default for NodeState<D> {
    fn default() -> Self {
        Self {
            timers: timers::Timers::default(),
            immediates: immediate::Immediates::default(),
        }
    }
}

impl<D> Loop<D> {
    /// `process.nextTick(f)`: `f` runs as soon as the current callback (or
    /// the main program) returns, before any microtask.
    pub fn next_tick(&mut self, f: impl FnOnce(&mut Loop<D>, &mut D) + 'static) {
        self.ticks.push_back(Box::new(f) as Job<D>);
    }

    /// `queueMicrotask(f)` (the queue promise reactions use): `f` runs once
    /// the nextTick queue is empty, after the current callback.
    pub fn queue_microtask(&mut self, f: impl FnOnce(&mut Loop<D>, &mut D) + 'static) {
        // Wakes made before this call run before `f` (`task` module).
        self.flush_wakes();
        self.microtasks
            .push_back(crate::callback::Micro::Job(Box::new(f) as Job<D>));
    }

    /// Number of queued ticks and microtasks.
    pub fn queued_ticks(&self) -> (usize, usize) {
        (self.ticks.len(), self.microtasks.len())
    }
}
