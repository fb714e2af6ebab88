//! The completion queue: how finished work gets from the workers back to
//! the loop thread. The one place where the two sides synchronize on
//! completions (the pool's own queue is in `pool.rs`), kept small so that it
//! can be model-checked on its own.
//!
//! Invariants (all state below is under the one mutex `inner`):
//! - `items` holds completions posted and not yet taken by the loop, in
//!   posting order;
//! - `wake_pending` is true iff a wake-up of the loop was sent (or is being
//!   sent, right after the poster releases the lock) since the loop last
//!   took the queue. A poster that finds it false sets it and sends one
//!   wake-up; one that finds it true sends none (the loop is bound to come
//!   and take its item too);
//! - the loop takes every item and clears the flag in the same critical
//!   section ([`Notifier::take_all`]). So an item is either taken by a batch
//!   or posted after that batch cleared the flag, and then its poster sends
//!   a wake-up: a completion is never stranded, and a stream of completions
//!   costs one wake-up per batch, not one per item;
//! - the async handle behind the wake-up coalesces sends and clears its own
//!   flag before calling back, so a wake-up that arrives after its items
//!   were taken costs one empty batch, never a lost item;
//! - nothing runs under the lock but queue operations: no user code, no
//!   allocation beyond the queue growing, no system call (the wake-up is
//!   sent after the lock is released).

use crate::pool::Work;
use loop_core::AsyncSender;
use std::collections::VecDeque;

use crate::sync::Mutex;

/// How a poster wakes the loop: the loop's async handle in production, a
/// counter in the loom model.
pub(crate) trait Wake {
    /// Sends one wake-up (coalescing is the receiver's business).
    fn wake(&self);
}

impl Wake for AsyncSender {
    fn wake(&self) {
        // Fails only once the loop is being dropped: nobody to wake.
        let _ = self.send();
    }
}

struct Inner<T> {
    items: VecDeque<T>,
    wake_pending: bool,
}

/// Where completions go: the loop's queue and its wake-up (module docs).
pub(crate) struct Notifier<T = Work, W: Wake = AsyncSender> {
    inner: Mutex<Inner<T>>,
    waker: W,
}

impl<T, W: Wake> Notifier<T, W> {
    pub(crate) fn new(waker: W) -> Self {
        Self {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                wake_pending: false,
            }),
            waker,
        }
    }

    /// Posts a completion and makes sure the loop will take it.
    pub(crate) fn post(&self, done: T) {
        let wake = {
            let mut g = self.inner.lock();
            g.items.push_back(done);
            !std::mem::replace(&mut g.wake_pending, true)
        };
        if wake {
            self.waker.wake();
        }
    }

    /// Called by the loop: moves every posted completion to the back of
    /// `batch` and clears the wake-up flag, in one critical section.
    pub(crate) fn take_all(&self, batch: &mut VecDeque<T>) {
        let mut g = self.inner.lock();
        g.wake_pending = false;
        if batch.is_empty() {
            // The common case: trade buffers, keeping both allocations.
            std::mem::swap(batch, &mut g.items);
        } else {
            batch.append(&mut g.items);
        }
    }

    /// Called by the loop when it leaves completions in its own batch (a
    /// callback panicked): the next `run` gets a wake-up for them.
    pub(crate) fn wake_again(&self) {
        self.waker.wake();
    }
}

/// The completion path under loom (`scripts/check-deep.sh`; by hand:
/// `RUSTFLAGS="--cfg loom" cargo test -p loop-fs --lib --release notify`).
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;
    use loom::thread;

    /// The loop's eventfd behind its async handle: one edge per wake.
    #[derive(Default)]
    struct Edges(AtomicUsize);

    impl Wake for Arc<Edges> {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::Release);
        }
    }

    /// Two workers post while the loop serves a wake-up; once both have
    /// returned, either every completion was taken or a wake-up is still
    /// coming: a completion posted while the loop decides to sleep is
    /// never stranded. And no more wake-ups than batches that need one.
    #[test]
    fn a_completion_is_never_stranded() {
        loom::model(|| {
            let edges = Arc::new(Edges::default());
            let n = Arc::new(Notifier::<u32, Arc<Edges>>::new(Arc::clone(&edges)));
            let workers: Vec<_> = (0..2)
                .map(|i| {
                    let n = Arc::clone(&n);
                    thread::spawn(move || n.post(i))
                })
                .collect();
            let mut taken = VecDeque::new();
            let mut served = 0;
            // The loop: serve one wake-up if one came (epoll), concurrently.
            if edges.0.swap(0, Ordering::AcqRel) > 0 {
                n.take_all(&mut taken);
                served += 1;
            }
            for w in workers {
                w.join().unwrap();
            }
            // The loop sleeps in epoll: it wakes only for an edge.
            let pending = edges.0.swap(0, Ordering::AcqRel);
            if pending > 0 {
                n.take_all(&mut taken);
                served += 1;
            }
            let mut got: Vec<u32> = taken.into_iter().collect();
            got.sort();
            assert_eq!(got, [0, 1], "a completion was stranded");
            assert!(served <= 2);
        });
    }
}
