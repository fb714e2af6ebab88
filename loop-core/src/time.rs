//! The loop's time: the cached millisecond clock (`uv_now`) and its
//! refresh points; the manual clock's hooks for tests.
//!
//! Invariant: the cached time never goes backwards; it moves only in
//! [`Loop::update_time`] (called by the loop before timers, after poll, and
//! by the Node.js layer where Node reads `getLibuvNow()`).

use crate::clock::ManualClock;
use crate::error::{Error, Result};
use crate::event_loop::Loop;

impl<D> Loop<D> {
    /// The cached loop time in milliseconds (`uv_now`). It changes only when
    /// the loop refreshes it (after poll and before timers) or on
    /// [`Loop::update_time`].
    pub fn now(&self) -> u64 {
        self.time
    }

    /// Refreshes the cached time from the clock (`uv_update_time`).
    pub fn update_time(&mut self) {
        let now = self.clock.now_ms();
        if now > self.time {
            self.time = now;
        }
    }

    /// The manual clock, when the loop was built with one.
    pub fn manual_clock(&self) -> Option<&ManualClock> {
        self.clock.manual()
    }

    /// Moves a manual clock to the due time of the earliest armed timer (if
    /// it is in the future) and refreshes the loop time. Returns the new loop
    /// time, or `None` when no timer is armed.
    pub fn advance_to_next_timer(&mut self) -> Result<Option<u64>> {
        let Some(clock) = self.clock.manual() else {
            return Err(Error::InvalidArgument {
                op: "advance_to_next_timer",
                why: "the loop runs on the system clock",
            });
        };
        let Some(((due, _), _)) = self.timers.peek() else {
            return Ok(None);
        };
        clock.set(due);
        self.update_time();
        Ok(Some(self.time))
    }
}
