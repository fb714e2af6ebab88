//! Where the loop reads its time.
//!
//! The loop keeps a cached time in whole milliseconds, as libuv does
//! (`uv_now`), and refreshes it only at fixed points of an iteration (see
//! [`crate::Loop::update_time`]). The cached time comes from a [`Clock`]
//! chosen when the loop is built:
//!
//! - [`Clock::System`], the monotonic clock of the OS, counted from the
//!   moment the loop was built;
//! - [`Clock::Manual`], a [`ManualClock`] that only moves when told to. Timer
//!   tests use it so that they never sleep: advance it by hand, jump straight
//!   to the next timer with [`crate::Loop::advance_to_next_timer`], or let the
//!   loop jump forward whenever it would otherwise sleep waiting for a timer
//!   ([`ManualClock::set_auto_advance`]).

use rustix::time::ClockId;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// The time source of a loop. See the module documentation.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The monotonic system clock, in milliseconds since the loop was built.
    #[default]
    System,
    /// A hand-driven clock, shared with the code that drives it.
    Manual(ManualClock),
}

/// A clock that moves only when told to.
///
/// Cloning gives another handle to the same clock, usable from any thread.
/// The time never goes backwards: [`ManualClock::set`] to an earlier time is
/// ignored.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug, Default)]
struct ManualInner {
    now_ms: AtomicU64,
    auto_advance: AtomicBool,
}

impl ManualClock {
    /// A manual clock reading `start_ms`, without auto-advance.
    pub fn new(start_ms: u64) -> Self {
        let clock = Self::default();
        clock.inner.now_ms.store(start_ms, Ordering::SeqCst);
        clock
    }

    /// The current reading, in milliseconds.
    pub fn now(&self) -> u64 {
        self.inner.now_ms.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `ms` (saturating at `u64::MAX`).
    pub fn advance(&self, ms: u64) {
        let _ = self
            .inner
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Sets the clock to `ms` if that is later than the current reading.
    pub fn set(&self, ms: u64) {
        self.inner.now_ms.fetch_max(ms, Ordering::SeqCst);
    }

    /// With auto-advance on, a loop that would block in poll waiting for a
    /// timer (and receives no I/O event) moves this clock to that timer's due
    /// time instead of sleeping. Like tokio's paused clock with auto-advance.
    pub fn set_auto_advance(&self, on: bool) {
        self.inner.auto_advance.store(on, Ordering::SeqCst);
    }

    /// Whether auto-advance is on.
    pub fn auto_advance(&self) -> bool {
        self.inner.auto_advance.load(Ordering::SeqCst)
    }
}

/// The loop's reader of a [`Clock`].
#[derive(Debug)]
pub(crate) struct ClockSource {
    kind: Clock,
    /// The system clock to read: `CLOCK_MONOTONIC_COARSE` where its
    /// resolution is 1 ms or better, else `CLOCK_MONOTONIC` (libuv's
    /// `UV_CLOCK_FAST` choice).
    id: ClockId,
    /// The system clock's reading when the loop was built, in ms.
    origin_ms: u64,
}

fn read_ms(id: ClockId) -> u64 {
    let t = rustix::time::clock_gettime(id);
    (t.tv_sec as u64) * 1000 + (t.tv_nsec as u64) / 1_000_000
}

impl ClockSource {
    pub(crate) fn new(kind: Clock) -> Self {
        let res = rustix::time::clock_getres(ClockId::MonotonicCoarse);
        let id = if res.tv_sec == 0 && res.tv_nsec <= 1_000_000 {
            ClockId::MonotonicCoarse
        } else {
            ClockId::Monotonic
        };
        Self {
            kind,
            id,
            origin_ms: read_ms(id),
        }
    }

    /// Milliseconds since the loop was built, truncated, as libuv's
    /// `uv__hrtime(UV_CLOCK_FAST) / 1e6`.
    #[inline]
    pub(crate) fn now_ms(&self) -> u64 {
        match &self.kind {
            Clock::System => read_ms(self.id).saturating_sub(self.origin_ms),
            Clock::Manual(m) => m.now(),
        }
    }

    pub(crate) fn manual(&self) -> Option<&ManualClock> {
        match &self.kind {
            Clock::System => None,
            Clock::Manual(m) => Some(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_goes_back() {
        let c = ManualClock::new(100);
        c.set(50);
        assert_eq!(c.now(), 100);
        c.advance(5);
        assert_eq!(c.now(), 105);
        c.advance(u64::MAX);
        assert_eq!(c.now(), u64::MAX);
    }
}
