//! Awaitable timers and immediates: [`sleep`], [`sleep_until`],
//! [`immediate`], on the Node.js layer's `set_timeout` and
//! `set_immediate`, so a task's wait is ordered exactly as
//! `await new Promise(r => setTimeout(r, ms))` (or `setImmediate(r)`).
//!
//! # Invariants
//!
//! - The timer (immediate) is made at the first poll, i.e. where the task
//!   reaches the `.await`, as the JS twin calls `setTimeout` where its
//!   `await` is; it wakes a [`Fired`] cell, which forwards to the waker of
//!   the latest poll (a future may move between tasks).
//! - Dropping the future before it fired clears its timer (immediate)
//!   through [`with_any_loop`](super::with_any_loop): at once inside a
//!   poll or a task drop; elsewhere (no loop reachable) the timer stays
//!   and fires into nothing.
//! - Polled outside a task of a loop, these futures panic: a program
//!   error, like a tokio timer outside a runtime.

use super::with_any_loop;
use crate::node::{Immediate, Timeout};
use parking_lot::Mutex;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Set by the loop's callback; wakes the latest poll's waker.
#[derive(Default)]
struct Fired {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Fired {
    fn is_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Keeps the latest poll's waker.
    fn register(&self, w: &Waker) {
        let mut g = self.waker.lock();
        match &*g {
            Some(old) if old.will_wake(w) => {}
            _ => *g = Some(w.clone()),
        }
    }
}

impl Wake for Fired {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        let w = self.waker.lock().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

const OUTSIDE: &str = "loop_core::task timer polled outside a task of a loop";

enum State<H> {
    Unarmed,
    Armed { handle: H, cell: Arc<Fired> },
    Done,
}

/// Arms on first poll with `arm`, then waits for the cell.
fn poll_state<H: Copy>(
    st: &mut State<H>,
    cx: &mut Context<'_>,
    arm: impl FnOnce(&mut dyn super::AnyLoop, Waker) -> H,
) -> Poll<()> {
    match st {
        State::Done => Poll::Ready(()),
        State::Unarmed => {
            let cell = Arc::new(Fired::default());
            cell.register(cx.waker());
            let w = Waker::from(Arc::clone(&cell));
            let handle = with_any_loop(|lp| arm(lp, w)).expect(OUTSIDE);
            *st = State::Armed { handle, cell };
            Poll::Pending
        }
        State::Armed { cell, .. } => {
            if cell.is_fired() {
                *st = State::Done;
                return Poll::Ready(());
            }
            cell.register(cx.waker());
            // Fired between the check and the registration: the cell took
            // no waker then, so look again.
            if cell.is_fired() {
                *st = State::Done;
                return Poll::Ready(());
            }
            Poll::Pending
        }
    }
}

/// A task's `await new Promise(r => setTimeout(r, ms))`: resolves in the
/// timers phase, its continuation a microtask right after the timer's
/// callback. A delay below 1 ms runs as 1 ms, as Node's. The timer starts
/// at the first poll (where the `.await` is). On a manual clock
/// (`ManualClock`), advancing the clock makes it due.
///
/// ```
/// use loop_core::{task, Loop, RunMode};
///
/// let mut lp: Loop<Vec<&str>> = Loop::new()?;
/// let mut log = Vec::new();
/// lp.spawn_local(&mut log, async {
///     task::sleep(2).await;
///     task::with(|_, log: &mut Vec<&str>| log.push("2 ms later"));
/// })
/// .detach();
/// lp.set_timeout(1, |_, log| log.push("1 ms"));
/// lp.run(RunMode::Default, &mut log)?;
/// assert_eq!(log, ["1 ms", "2 ms later"]);
/// # Ok::<(), loop_core::Error>(())
/// ```
pub fn sleep(ms: u64) -> Sleep {
    Sleep {
        delay: Delay::In(ms),
        st: State::Unarmed,
    }
}

/// [`sleep`] until loop time `deadline_ms` ([`Loop::now`](crate::Loop::now)'s
/// clock): a `set_timeout` of the time left at the first poll, so a
/// deadline already past runs as 1 ms, as `setTimeout(r, 0)` does.
pub fn sleep_until(deadline_ms: u64) -> Sleep {
    Sleep {
        delay: Delay::Until(deadline_ms),
        st: State::Unarmed,
    }
}

#[derive(Clone, Copy)]
enum Delay {
    In(u64),
    Until(u64),
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    delay: Delay,
    st: State<Timeout>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let delay = this.delay;
        poll_state(&mut this.st, cx, |lp, w| {
            let ms = match delay {
                Delay::In(ms) => ms,
                Delay::Until(t) => t.saturating_sub(lp.now_ms()),
            };
            lp.set_timeout_waker(ms, w)
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Armed { handle, cell } = &self.st {
            if !cell.is_fired() {
                let t = *handle;
                with_any_loop(|lp| lp.clear_timeout_any(t));
            }
        }
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("armed", &matches!(self.st, State::Armed { .. }))
            .field("done", &matches!(self.st, State::Done))
            .finish()
    }
}

/// A task's `await new Promise(r => setImmediate(r))`: resolves in the
/// check phase, its continuation a microtask right after the immediate's
/// callback. Queued at the first poll.
pub fn immediate() -> ImmediateFuture {
    ImmediateFuture { st: State::Unarmed }
}

/// The future of [`immediate`].
#[must_use = "futures do nothing unless awaited"]
pub struct ImmediateFuture {
    st: State<Immediate>,
}

impl Future for ImmediateFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_state(&mut self.get_mut().st, cx, |lp, w| {
            lp.set_immediate_waker(w)
        })
    }
}

impl Drop for ImmediateFuture {
    fn drop(&mut self) {
        if let State::Armed { handle, cell } = &self.st {
            if !cell.is_fired() {
                let i = *handle;
                with_any_loop(|lp| lp.clear_immediate_any(i));
            }
        }
    }
}

impl std::fmt::Debug for ImmediateFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImmediateFuture")
            .field("done", &matches!(self.st, State::Done))
            .finish()
    }
}
