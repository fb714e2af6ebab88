//! The coalescing cross-thread wake-up behind async handles, as a protocol
//! of its own so that loom can check it (`scripts/check-deep.sh`; run by
//! hand with `RUSTFLAGS="--cfg loom" cargo test -p loop-core --lib
//! --release wakeup`).
//!
//! # Ground rules
//!
//! - A handle's `pending` flag is set by a send and cleared by the loop
//!   *before* the handle's callback runs. Only the send that flips it from
//!   clear to set pushes the handle on the queue and wakes the loop: sends
//!   that arrive before the loop serves the handle coalesce into one
//!   callback, and a send made during (or racing with) the callback flips
//!   it again, so it is never lost.
//! - `queued` is set after every push and cleared by the loop *before* it
//!   takes the queue, so a non-blocking poll that watches nothing else can
//!   skip `epoll_wait` and still see every push (a push it misses set
//!   `queued` again after the clear).
//! - A send on a closed flag fails; the loop never serves a closed handle.
//!
//! The property the loom models prove: once every sender has returned,
//! either the loop's last callback saw every message written before a
//! send, or a wake-up is still on its way; and callbacks never outnumber
//! the flips.

use crate::sync::{AtomicBool, Mutex, Ordering};

/// One handle's flags, shared with its senders.
#[derive(Debug, Default)]
pub(crate) struct Flag {
    pending: AtomicBool,
    closed: AtomicBool,
}

impl Flag {
    /// Marks the handle closed: later sends fail.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether the handle was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The loop, right before the handle's callback: clears the flag.
    /// AcqRel: what a sender wrote before a send that coalesced into this
    /// one is visible to the callback.
    pub(crate) fn begin_callback(&self) {
        self.pending.swap(false, Ordering::AcqRel);
    }
}

/// The queue of handles whose flag flipped, shared by a loop and every
/// sender of its async handles.
#[derive(Debug)]
pub(crate) struct WakeQueue<Id> {
    queue: Mutex<Vec<Id>>,
    queued: AtomicBool,
}

/// A send on a closed handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

impl<Id: Copy> WakeQueue<Id> {
    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            queued: AtomicBool::new(false),
        }
    }

    /// Whether a push may be waiting for the loop.
    #[inline]
    pub(crate) fn has_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire)
    }

    /// A sender: sets `flag`; returns `Ok(true)` when this send flipped it,
    /// queued `id`, and must now wake the loop.
    pub(crate) fn send(&self, flag: &Flag, id: Id) -> Result<bool, Closed> {
        if flag.is_closed() {
            return Err(Closed);
        }
        if flag.pending.swap(true, Ordering::AcqRel) {
            return Ok(false); // already queued: coalesce
        }
        self.queue.lock().push(id);
        self.queued.store(true, Ordering::Release);
        Ok(true)
    }

    /// The loop: takes every queued id into `out` (which must be empty),
    /// leaving `out`'s old buffer behind for the next pushes.
    pub(crate) fn take(&self, out: &mut Vec<Id>) {
        self.queued.store(false, Ordering::Release);
        std::mem::swap(out, &mut *self.queue.lock());
    }

    /// The loop, after a panic: puts back ids taken but not served (their
    /// flags are still set). Returns whether any were put back.
    pub(crate) fn requeue(&self, rest: &[Id]) -> bool {
        if rest.is_empty() {
            return false;
        }
        self.queue.lock().extend_from_slice(rest);
        self.queued.store(true, Ordering::Release);
        true
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    /// What the loop thread keeps between two services.
    #[derive(Default)]
    struct LoopSide {
        batch: Vec<usize>,
        callbacks: usize,
        /// Per handle: the messages its last callback saw.
        seen: [usize; 2],
    }

    /// Two async handles of one loop.
    struct Shared {
        q: WakeQueue<usize>,
        flags: [Flag; 2],
        /// Per handle, written by a sender before its send: the messages.
        msgs: [AtomicUsize; 2],
        /// The eventfd: one edge per wake.
        edges: AtomicUsize,
        flips: AtomicUsize,
    }

    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            q: WakeQueue::new(),
            flags: [Flag::default(), Flag::default()],
            msgs: [AtomicUsize::new(0), AtomicUsize::new(0)],
            edges: AtomicUsize::new(0),
            flips: AtomicUsize::new(0),
        })
    }

    fn sender(s: &Arc<Shared>, handle: usize, sends: usize) -> thread::JoinHandle<()> {
        let s = Arc::clone(s);
        thread::spawn(move || {
            for _ in 0..sends {
                s.msgs[handle].fetch_add(1, Ordering::Release);
                if s.q.send(&s.flags[handle], handle).expect("open") {
                    s.flips.fetch_add(1, Ordering::Relaxed);
                    s.edges.fetch_add(1, Ordering::Release);
                }
            }
        })
    }

    /// `dispatch_async`: take the queue, clear each flag, call back.
    fn serve(s: &Shared, l: &mut LoopSide) {
        s.q.take(&mut l.batch);
        for h in l.batch.drain(..) {
            s.flags[h].begin_callback();
            l.callbacks += 1;
            l.seen[h] = s.msgs[h].load(Ordering::Acquire);
        }
    }

    fn check(s: &Shared, l: &LoopSide, sent: [usize; 2]) {
        assert_eq!(
            l.seen, sent,
            "a message was stranded with no wake-up coming"
        );
        assert!(
            l.callbacks <= s.flips.load(Ordering::Relaxed),
            "more callbacks than flips"
        );
    }

    /// The loop wakes on eventfd edges (epoll), once while the senders run
    /// and once after they all returned; one handle's sender sends twice
    /// (coalescing, and a send racing its callback).
    #[test]
    fn epoll_path_loses_no_wakeup_and_never_doubles() {
        loom::model(|| {
            let s = shared();
            let t = [sender(&s, 0, 2), sender(&s, 1, 1)];
            let mut l = LoopSide::default();
            if s.edges.swap(0, Ordering::AcqRel) > 0 {
                serve(&s, &mut l);
            }
            for t in t {
                t.join().unwrap();
            }
            if s.edges.swap(0, Ordering::AcqRel) > 0 {
                serve(&s, &mut l);
            }
            check(&s, &l, [2, 1]);
        });
    }

    /// A non-blocking poll with only the waker registered skips epoll and
    /// reads `queued` instead: the same guarantee.
    #[test]
    fn queued_flag_path_loses_no_wakeup() {
        loom::model(|| {
            let s = shared();
            let t = [sender(&s, 0, 1), sender(&s, 1, 1)];
            let mut l = LoopSide::default();
            if s.q.has_queued() {
                serve(&s, &mut l);
            }
            for t in t {
                t.join().unwrap();
            }
            if s.q.has_queued() {
                serve(&s, &mut l);
            }
            check(&s, &l, [1, 1]);
        });
    }

    /// A send racing `close` either fails or is queued before the close:
    /// never queued after the loop stopped serving the handle.
    #[test]
    fn send_racing_close_has_one_outcome() {
        loom::model(|| {
            let s = shared();
            let s2 = Arc::clone(&s);
            let t = thread::spawn(move || s2.q.send(&s2.flags[0], 0));
            s.flags[0].close();
            let r = t.join().unwrap();
            let mut batch = Vec::new();
            s.q.take(&mut batch);
            match r {
                Err(Closed) => assert!(batch.is_empty()),
                Ok(flipped) => assert!(flipped && batch == [0]),
            }
        });
    }
}
