//! Task wakers: std [`Waker`](std::task::Waker)s whose wake queues the
//! task's poll as a microtask of its loop.
//!
//! # Invariants
//!
//! - One [`TaskWaker`] per task, allocated once at spawn (the `Arc` behind
//!   every clone of the task's `Waker`); a wake allocates nothing (the
//!   queues are `Vec`s reused from wake to wake).
//! - `SCHEDULED` is set by a wake and cleared by the loop right *before*
//!   it polls the task. Only the wake that sets it pushes the task: wakes
//!   before the poll coalesce into one poll; a wake during the poll (or
//!   racing with it from another thread) sets it again and is never lost.
//!   `DONE`, set once the task is gone, makes every later wake a no-op.
//!   This protocol ([`TaskState`]) is checked under loom
//!   (`scripts/check-deep.sh`; by hand: `RUSTFLAGS="--cfg loom" cargo
//!   test -p loop-core --lib --release task::waker::loom_models`).
//! - A wake pushes `(index, gen)` on the loop's [`Wakes`] list. The loop
//!   moves that list to the back of its microtask queue before each
//!   microtask it queues and whenever its microtask queue runs empty, so a
//!   wake made on the loop thread lands in the microtask FIFO exactly where
//!   a `queue_microtask` made at the same moment would.
//! - A wake from another thread does the same push, then wakes the loop
//!   through an internal async handle (the coalescing eventfd wake-up of
//!   `wakeup.rs`); that handle's callback does nothing, and the drain that
//!   follows every callback moves the list and polls.
//! - On the loop thread a wake takes no lock: it goes to a thread-local
//!   queue owned by the loop (the first loop with tasks on the thread;
//!   another one there uses its locked list). Wakes from other threads
//!   take the lock.
//! - "The loop thread" is recognised by the address of a thread-local,
//!   unique among live threads; a loop never moves between threads (it is
//!   not `Send`), so its thread lives as long as it does.

use crate::async_handle::AsyncSender;
use crate::sync::{AtomicBool, AtomicU8, Mutex, Ordering};
use std::cell::RefCell;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::task::Wake;

const SCHEDULED: u8 = 1;
const DONE: u8 = 2;

/// A thread's fast queue of wakes, owned by the first loop with tasks on
/// that thread (`owner`, a [`Wakes`] id; 0: free). Wakes of that loop
/// made on its thread go here with no lock; other loops on the thread use
/// their locked list.
struct LocalQueue {
    owner: usize,
    q: Vec<(u32, u32)>,
}

thread_local!(static LOCAL: RefCell<LocalQueue> = const {
    RefCell::new(LocalQueue { owner: 0, q: Vec::new() })
});

/// This thread's mark: the address of a thread-local.
pub(crate) fn thread_mark() -> usize {
    LOCAL.with(|h| h as *const RefCell<LocalQueue> as usize)
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// What a loop shares with the wakers of all its tasks.
pub(crate) struct Wakes {
    id: usize,
    /// Whether this loop owns its thread's [`LocalQueue`].
    local_fast: bool,
    /// Wakes from other threads (and from the loop thread when another
    /// loop owns the fast queue).
    list: Mutex<Vec<(u32, u32)>>,
    /// Whether `list` may be non-empty.
    locked_any: AtomicBool,
    /// Whether a wake may be waiting anywhere: the loop's fast check.
    any: AtomicBool,
    /// The loop's thread ([`thread_mark`]).
    thread: usize,
    /// Wakes the loop from another thread.
    sender: AsyncSender,
}

impl Wakes {
    pub(crate) fn new(sender: AsyncSender) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let local_fast = LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if l.owner == 0 {
                l.owner = id;
                l.q.clear();
                true
            } else {
                false
            }
        });
        Self {
            id,
            local_fast,
            list: Mutex::new(Vec::new()),
            locked_any: AtomicBool::new(false),
            any: AtomicBool::new(false),
            thread: thread_mark(),
            sender,
        }
    }

    /// The loop, when it drops: frees the thread's fast queue.
    pub(crate) fn release(&self) {
        if self.local_fast {
            let _ = LOCAL.try_with(|l| {
                let mut l = l.borrow_mut();
                if l.owner == self.id {
                    l.owner = 0;
                    l.q.clear();
                }
            });
        }
    }

    /// Whether a wake may be waiting to be moved to the microtask queue.
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// The loop: hands every waiting wake to `f`, the loop thread's in
    /// wake order, then those of other threads.
    pub(crate) fn take(&self, mut f: impl FnMut((u32, u32))) {
        self.any.store(false, Ordering::Release);
        if self.local_fast {
            LOCAL.with(|l| l.borrow_mut().q.drain(..).for_each(&mut f));
        }
        // A load first: the swap (a locked instruction) only when a wake
        // from another thread (or another loop's thread-mate) is waiting.
        if self.locked_any.load(Ordering::Acquire) && self.locked_any.swap(false, Ordering::AcqRel)
        {
            self.list.lock().drain(..).for_each(f);
        }
    }

    fn push_locked(&self, index: u32, gen: u32) {
        self.list.lock().push((index, gen));
        self.locked_any.store(true, Ordering::Release);
        self.any.store(true, Ordering::Release);
    }

    /// A wake: on the loop thread into the fast queue (or the locked list
    /// when another loop owns it); from another thread into the locked
    /// list, then the loop is woken. One thread-local access.
    fn push(&self, index: u32, gen: u32) {
        let here = LOCAL.with(|l| {
            if l as *const RefCell<LocalQueue> as usize != self.thread {
                return false;
            }
            match l.try_borrow_mut() {
                Ok(mut q) if self.local_fast => {
                    q.q.push((index, gen));
                    self.any.store(true, Ordering::Release);
                }
                _ => self.push_locked(index, gen),
            }
            true
        });
        if !here {
            self.push_locked(index, gen);
            // Coalesced by the async handle; fails only once the loop is
            // dropped, and then there is nobody to wake.
            let _ = self.sender.send();
        }
    }
}

/// A task's `SCHEDULED` and `DONE` bits (module invariants), as a
/// protocol of its own so that loom can check it.
#[derive(Default)]
pub(crate) struct TaskState(AtomicU8);

impl TaskState {
    /// A wake: whether it must push the task (it set `SCHEDULED`, and the
    /// task is not gone).
    #[inline]
    pub(crate) fn wake(&self) -> bool {
        self.0.fetch_or(SCHEDULED, Ordering::AcqRel) & (SCHEDULED | DONE) == 0
    }

    /// The loop, right before a poll: a wake from now on pushes again.
    /// AcqRel: what a waker wrote before its wake is seen by the poll.
    #[inline]
    pub(crate) fn begin_poll(&self) {
        self.0.fetch_and(!SCHEDULED, Ordering::AcqRel);
    }

    /// The loop, once the task is gone: later wakes do nothing.
    pub(crate) fn done(&self) {
        self.0.fetch_or(DONE, Ordering::AcqRel);
    }
}

/// One task's waker.
pub(crate) struct TaskWaker {
    pub(crate) index: u32,
    pub(crate) gen: u32,
    state: TaskState,
    wakes: Arc<Wakes>,
}

impl TaskWaker {
    /// A waker for a task that is about to be polled at once (spawn):
    /// `SCHEDULED` clear.
    pub(crate) fn new(index: u32, gen: u32, wakes: Arc<Wakes>) -> Self {
        Self {
            index,
            gen,
            state: TaskState::default(),
            wakes,
        }
    }

    /// The loop, right before a poll ([`TaskState::begin_poll`]).
    #[inline]
    pub(crate) fn begin_poll(&self) {
        self.state.begin_poll();
    }

    /// The loop, once the task is gone ([`TaskState::done`]).
    pub(crate) fn done(&self) {
        self.state.done();
    }

    fn schedule(&self) {
        if !self.state.wake() {
            return; // already queued, or gone
        }
        self.wakes.push(self.index, self.gen);
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

#[cfg(all(test, loom))]
mod loom_models {
    use super::TaskState;
    use crate::sync::{Mutex, Ordering};
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    /// One task, its queue, and what wakers wrote before waking it.
    struct Shared {
        state: TaskState,
        queue: Mutex<usize>,
        msgs: AtomicUsize,
        pushes: AtomicUsize,
    }

    /// The loop: takes a queued entry, then polls (begin_poll, then reads
    /// the messages, as the task's poll would).
    fn serve(s: &Shared, seen: &mut usize, polls: &mut usize) {
        let queued = std::mem::take(&mut *s.queue.lock());
        if queued > 0 {
            s.state.begin_poll();
            *polls += 1;
            *seen = s.msgs.load(Ordering::Acquire);
        }
    }

    /// Two threads write a message and wake the task, while the loop
    /// serves once during and once after: every message is seen by a poll
    /// (no lost wake), and polls never outnumber pushes (coalescing).
    #[test]
    fn task_wakes_are_never_lost_and_coalesce() {
        loom::model(|| {
            let s = Arc::new(Shared {
                state: TaskState::default(),
                queue: Mutex::new(0),
                msgs: AtomicUsize::new(0),
                pushes: AtomicUsize::new(0),
            });
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let s = Arc::clone(&s);
                    thread::spawn(move || {
                        s.msgs.fetch_add(1, Ordering::Release);
                        if s.state.wake() {
                            s.pushes.fetch_add(1, Ordering::Relaxed);
                            *s.queue.lock() += 1;
                        }
                    })
                })
                .collect();
            let (mut seen, mut polls) = (0, 0);
            serve(&s, &mut seen, &mut polls);
            for w in wakers {
                w.join().unwrap();
            }
            serve(&s, &mut seen, &mut polls);
            assert_eq!(seen, 2, "a wake was lost: a message no poll saw");
            assert!(polls <= s.pushes.load(Ordering::Relaxed));
        });
    }

    /// A wake after `done` pushes nothing.
    #[test]
    fn a_wake_after_done_does_nothing() {
        loom::model(|| {
            let s = Arc::new(TaskState::default());
            let s2 = Arc::clone(&s);
            let t = thread::spawn(move || s2.wake());
            s.done();
            // Before `done` it may push (the loop then finds the slot
            // gone); after, never.
            let _ = t.join().unwrap();
            assert!(!s.wake(), "after done, no wake pushes");
        });
    }
}
