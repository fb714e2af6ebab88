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
use parking_lot::Mutex;
use std::collections::VecDeque;

struct Inner {
    items: VecDeque<Work>,
    wake_pending: bool,
}

/// Where completions go: the loop's queue and its wake-up (module docs).
pub(crate) struct Notifier {
    inner: Mutex<Inner>,
    waker: AsyncSender,
}

impl Notifier {
    pub(crate) fn new(waker: AsyncSender) -> Self {
        Self {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                wake_pending: false,
            }),
            waker,
        }
    }

    /// Posts a completion and makes sure the loop will take it.
    pub(crate) fn post(&self, done: Work) {
        let wake = {
            let mut g = self.inner.lock();
            g.items.push_back(done);
            !std::mem::replace(&mut g.wake_pending, true)
        };
        if wake {
            // Fails only once the loop is being dropped: nobody to wake.
            let _ = self.waker.send();
        }
    }

    /// Called by the loop: moves every posted completion to the back of
    /// `batch` and clears the wake-up flag, in one critical section.
    pub(crate) fn take_all(&self, batch: &mut VecDeque<Work>) {
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
        let _ = self.waker.send();
    }
}
