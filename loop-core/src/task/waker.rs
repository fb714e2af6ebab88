//! Task wakers: std [`Waker`](std::task::Waker)s whose wake queues the
//! task's poll as a microtask of its loop.
//!
//! # Invariants
//!
//! - One [`TaskWaker`] per task, allocated once at spawn (the `Arc` behind
//!   every clone of the task's `Waker`); a wake allocates nothing (the
//!   shared list is a `Vec` reused from wake to wake).
//! - `SCHEDULED` is set by a wake and cleared by the loop right *before*
//!   it polls the task. Only the wake that sets it pushes the task: wakes
//!   before the poll coalesce into one poll; a wake during the poll (or
//!   racing with it from another thread) sets it again and is never lost.
//!   `DONE`, set once the task is gone, makes every later wake a no-op.
//! - A wake pushes `(index, gen)` on the loop's [`Wakes`] list. The loop
//!   moves that list to the back of its microtask queue before each
//!   microtask it queues and whenever its microtask queue runs empty, so a
//!   wake made on the loop thread lands in the microtask FIFO exactly where
//!   a `queue_microtask` made at the same moment would.
//! - A wake from another thread does the same push, then wakes the loop
//!   through an internal async handle (the coalescing eventfd wake-up of
//!   `wakeup.rs`); that handle's callback does nothing, and the drain that
//!   follows every callback moves the list and polls.
//! - "The loop thread" is recognised by the address of a thread-local,
//!   unique among live threads; a loop never moves between threads (it is
//!   not `Send`), so its thread lives as long as it does.

use crate::async_handle::AsyncSender;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::Wake;

const SCHEDULED: u8 = 1;
const DONE: u8 = 2;

thread_local!(static HERE: u8 = const { 0 });

/// This thread's mark: the address of a thread-local.
pub(crate) fn thread_mark() -> usize {
    HERE.with(|h| h as *const u8 as usize)
}

/// What a loop shares with the wakers of all its tasks.
pub(crate) struct Wakes {
    list: Mutex<Vec<(u32, u32)>>,
    /// Whether `list` may be non-empty: the loop's fast check.
    any: AtomicBool,
    /// The loop's thread ([`thread_mark`]).
    thread: usize,
    /// Wakes the loop from another thread.
    sender: AsyncSender,
}

impl Wakes {
    pub(crate) fn new(sender: AsyncSender) -> Self {
        Self {
            list: Mutex::new(Vec::new()),
            any: AtomicBool::new(false),
            thread: thread_mark(),
            sender,
        }
    }

    /// Whether a wake may be waiting to be moved to the microtask queue.
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// The loop: appends every waiting wake to `out`, in wake order.
    pub(crate) fn take_into(&self, out: &mut impl Extend<(u32, u32)>) {
        self.any.store(false, Ordering::Release);
        let mut l = self.list.lock();
        out.extend(l.drain(..));
    }

    fn push(&self, index: u32, gen: u32) {
        self.list.lock().push((index, gen));
        self.any.store(true, Ordering::Release);
    }
}

/// One task's waker.
pub(crate) struct TaskWaker {
    pub(crate) index: u32,
    pub(crate) gen: u32,
    state: AtomicU8,
    wakes: Arc<Wakes>,
}

impl TaskWaker {
    /// A waker for a task that is about to be polled at once (spawn):
    /// `SCHEDULED` clear.
    pub(crate) fn new(index: u32, gen: u32, wakes: Arc<Wakes>) -> Self {
        Self {
            index,
            gen,
            state: AtomicU8::new(0),
            wakes,
        }
    }

    /// The loop, right before a poll: a wake from now on queues again.
    /// AcqRel: what a waker wrote before its wake is seen by the poll.
    #[inline]
    pub(crate) fn begin_poll(&self) {
        self.state.fetch_and(!SCHEDULED, Ordering::AcqRel);
    }

    /// The loop, once the task is gone: later wakes do nothing.
    pub(crate) fn done(&self) {
        self.state.fetch_or(DONE, Ordering::AcqRel);
    }

    fn schedule(&self) {
        if self.state.fetch_or(SCHEDULED, Ordering::AcqRel) & (SCHEDULED | DONE) != 0 {
            return; // already queued, or gone
        }
        self.wakes.push(self.index, self.gen);
        if thread_mark() != self.wakes.thread {
            // Coalesced by the async handle; fails only once the loop is
            // dropped, and then there is nobody to wake.
            let _ = self.wakes.sender.send();
        }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.schedule();
    }
}
