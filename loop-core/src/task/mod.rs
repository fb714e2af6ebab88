//! Tasks: `async` Rust on the loop, with JavaScript's `await` ordering.
//!
//! A task is a `'static` future spawned with [`Loop::spawn_local`](crate::Loop::spawn_local). Its
//! wake-ups are microtasks: a task woken by a callback is polled in the
//! nextTick/microtask drain right after that callback, in the same FIFO as
//! [`Loop::queue_microtask`](crate::Loop::queue_microtask) entries, exactly where a JavaScript `await`
//! continuation runs in Node.js. So async Rust interleaves with
//! `next_tick`, immediates and timers as JS `async function`s do.
//!
//! # The model
//!
//! - **Spawn polls at once**, as calling an `async function` runs its body
//!   up to the first `await`; no drain follows (the caller's callback
//!   drains when it returns). Tested against its JS twin in
//!   `tests/tests/async_order.rs`.
//! - **A wake queues one poll as a microtask**: from the loop thread, at
//!   the back of the microtask queue at the moment of the wake; from
//!   another thread, through the loop's coalescing async wake-up, then the
//!   same way on the loop thread. Woken twice before it runs, a task is
//!   polled once. A wake allocates nothing (`waker`).
//! - **A task reaches the loop and the state** while it is polled through
//!   [`with`] / [`try_with`] (and the loop alone through [`with_loop`],
//!   also while the loop drops a task): this is how futures of other
//!   crates register loop callbacks from their `poll`, and cancel them from
//!   their `Drop`.
//! - **A panic in a task is that task's error** ([`JoinError::Panicked`]
//!   from its [`JoinHandle`]), not the loop's; the loop runs on.
//! - **Abort** ([`JoinHandle::abort`]) drops the task at its next turn in
//!   the microtask queue, never inside a poll.
//! - **Liveness**: a pending task does not keep the loop alive, as a
//!   pending promise does not keep Node.js alive; the timers, handles and
//!   requests it waits on do. `run` returns with tasks still pending when
//!   nothing they wait on is alive; they stay, and the next `run` goes on.
//! - **Dropping the loop drops its tasks** (their futures' `Drop` run with
//!   the loop reachable through [`with_loop`]); their handles resolve to
//!   [`JoinError::Aborted`].
//!
//! # Awaitables
//!
//! [`sleep`] / [`sleep_until`] (on the Node.js layer's timers, so they
//! order as `setTimeout` does; a manual clock advances them),
//! [`immediate`] (the check phase, as `setImmediate`), [`yield_now`]
//! (one hop to the back of the microtask queue, JavaScript's
//! `await null`), and [`JoinHandle`]. loop-fs adds its requests
//! (`loop_fs::future`). A future of another crate reaches the loop from
//! its `poll` (and its `Drop`) through [`with_loop`] when it knows the
//! state type, or [`with_any_loop`] ([`AnyLoop`]) when it does not.
//!
//! # Where Rust differs from JavaScript
//!
//! Awaiting a future that is already ready does not yield in Rust: the
//! task goes on in the same poll. JavaScript always takes a microtask hop
//! (`await 1` queues the continuation). A Rust task that wants the hop
//! awaits [`yield_now`] (JavaScript's `await null`).

mod any_loop;
mod cx;
mod join;
mod table;
mod timer;
mod waker;

pub use any_loop::AnyLoop;
pub use cx::{try_with, with, with_any_loop, with_loop};
pub use join::{JoinError, JoinHandle};
pub use timer::{immediate, sleep, sleep_until, ImmediateFuture, Sleep};

pub(crate) use table::{TaskFns, Tasks};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Spawns a task on the loop of the task being polled (see
/// [`Loop::spawn_local`](crate::Loop::spawn_local)): polled at once.
///
/// # Panics
///
/// Outside a task's poll on a `Loop<D>`, as [`with`].
pub fn spawn_local<D: 'static, F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    with(|lp: &mut crate::Loop<D>, d| lp.spawn_local(d, fut))
}

/// JavaScript's `await null`: the task goes to the back of the microtask
/// queue once, and goes on when its turn comes.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
