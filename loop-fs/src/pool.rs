//! The worker threads: one crossbeam channel of work, libuv's limit on slow
//! I/O, and a shutdown that joins every worker.
//!
//! Invariants:
//! - the pool knows nothing of loops: a [`Runnable`] runs its own work and
//!   says whether it did; the pool then posts the request's id through the
//!   loop's [`Notifier`]: into the completion channel, then a wake-up;
//! - [`Notifier`]: a completion in the channel always has a wake-up coming,
//!   or is seen by the batch the loop is running. Its `wake_pending` flag is
//!   cleared by the loop at the start of each batch, before it looks at the
//!   channel; a worker pushes, then (SeqCst fences on both sides) reads the
//!   flag and sends the loop's async wake-up only if it finds it clear and
//!   is the one to set it. Either the worker sees the flag clear and wakes
//!   the loop, or the loop sees the completion: a completion is never
//!   stranded, and most completions cost a plain load instead of a write
//!   to a cache line every worker shares;
//! - CPU and fast I/O work go straight into the channel, in FIFO order;
//! - slow I/O work (name lookups) waits in its own queue, and one *marker*
//!   message in the channel stands for it, as libuv's `run_slow_work_message`:
//!   whenever slow work is queued and fewer than `slow_limit` workers run
//!   slow work, exactly one marker is in the channel (or being handled). So
//!   slow work keeps its place in line with the rest, and at most
//!   `slow_limit` workers (half the pool, rounded up) are ever busy with it:
//!   a burst of slow lookups cannot starve file I/O;
//! - a panic in work is caught inside [`Runnable::run`]; a worker only ever
//!   leaves its loop on [`Msg::Exit`];
//! - shutdown sets a flag (workers drop, without running, whatever they take
//!   from then on), sends one `Exit` per worker and joins them all. It waits
//!   only for work that is executing, never for queued work.

use crate::error::Error;
use crate::work::ReqId;
use crossbeam_channel::{Receiver, Sender};
use loop_core::AsyncSender;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Work as the pool sees it.
pub(crate) trait Runnable: Send + Sync {
    /// Runs the work unless it was canceled meanwhile; returns whether it
    /// ran (then its result is stored and the loop must be told).
    fn run(&self) -> bool;
    /// The request this work belongs to.
    fn id(&self) -> ReqId;
}

pub(crate) type TaskRef = Arc<dyn Runnable>;

/// What runs where: libuv's `uv__work_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkKind {
    /// CPU-bound work (the default of [`crate::queue_work`]).
    #[default]
    Cpu,
    /// Fast I/O: file-system calls. Shares the queue with CPU work.
    FastIo,
    /// Slow I/O, such as name lookups: at most half the pool (rounded up)
    /// runs slow I/O at a time, so it cannot starve the rest.
    SlowIo,
}

enum Msg {
    Task(TaskRef),
    /// "Some slow work is waiting": see the module docs.
    Slow,
    Exit,
}

#[derive(Default)]
struct SlowQueue {
    queue: VecDeque<TaskRef>,
    running: usize,
    /// A `Msg::Slow` is in the channel or being handled.
    marker_out: bool,
}

/// Where completions go: the loop's channel and its wake-up (module docs).
pub(crate) struct Notifier {
    done: Sender<ReqId>,
    waker: AsyncSender,
    wake_pending: AtomicBool,
}

impl Notifier {
    pub(crate) fn new(done: Sender<ReqId>, waker: AsyncSender) -> Self {
        Self {
            done,
            waker,
            wake_pending: AtomicBool::new(false),
        }
    }

    /// Posts a completion and makes sure the loop will look at it.
    pub(crate) fn post(&self, id: ReqId) {
        // The loop drops its receiver only after joining the pool.
        let _ = self.done.send(id);
        fence(Ordering::SeqCst);
        self.wake();
    }

    /// Makes sure a wake-up is on its way (one, however many ask).
    pub(crate) fn wake(&self) {
        if !self.wake_pending.load(Ordering::Relaxed)
            && !self.wake_pending.swap(true, Ordering::Relaxed)
        {
            // Fails only once the loop is being dropped: nobody to wake.
            let _ = self.waker.send();
        }
    }

    /// Called by the loop before it looks at the channel for a batch.
    pub(crate) fn begin_batch(&self) {
        self.wake_pending.store(false, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }
}

struct Shared {
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    slow: Mutex<SlowQueue>,
    slow_limit: usize,
    shutdown: AtomicBool,
    notifier: Arc<Notifier>,
}

/// A running pool. Dropping it shuts it down (see the module docs).
pub(crate) struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `size` workers that complete through `notifier`.
    pub(crate) fn start(
        size: usize,
        stack_size: Option<usize>,
        notifier: Arc<Notifier>,
    ) -> Result<Pool, Error> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            tx,
            rx,
            slow: Mutex::new(SlowQueue::default()),
            slow_limit: size.div_ceil(2),
            shutdown: AtomicBool::new(false),
            notifier,
        });
        let mut pool = Pool {
            shared,
            workers: Vec::with_capacity(size),
        };
        for i in 0..size {
            let mut b = std::thread::Builder::new().name(format!("loop-fs-{i}"));
            if let Some(s) = stack_size {
                b = b.stack_size(s);
            }
            let shared = Arc::clone(&pool.shared);
            // On failure `pool` drops here and joins the workers started so far.
            let h = b.spawn(move || worker(&shared)).map_err(Error::Spawn)?;
            pool.workers.push(h);
        }
        tracing::debug!(size, "thread pool started");
        Ok(pool)
    }

    /// Number of worker threads.
    pub(crate) fn size(&self) -> usize {
        self.workers.len()
    }

    /// Queues `task`.
    pub(crate) fn submit(&self, task: TaskRef, kind: WorkKind) {
        let s = &*self.shared;
        match kind {
            WorkKind::Cpu | WorkKind::FastIo => {
                // Cannot fail: the pool holds a receiver.
                let _ = s.tx.send(Msg::Task(task));
            }
            WorkKind::SlowIo => {
                let mut q = s.slow.lock();
                q.queue.push_back(task);
                if !q.marker_out && q.running < s.slow_limit {
                    q.marker_out = true;
                    let _ = s.tx.send(Msg::Slow);
                }
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        for _ in &self.workers {
            let _ = self.shared.tx.send(Msg::Exit);
        }
        for h in self.workers.drain(..) {
            // A worker never panics (work panics are caught), but do not
            // turn a loop drop into a panic if one did.
            let _ = h.join();
        }
        tracing::debug!("thread pool joined");
    }
}

fn worker(s: &Shared) {
    while let Ok(msg) = s.rx.recv() {
        match msg {
            Msg::Task(task) => execute(s, task),
            Msg::Slow => {
                let task = {
                    let mut q = s.slow.lock();
                    q.marker_out = false;
                    if q.running >= s.slow_limit {
                        continue; // cannot happen: the marker is sent below the limit
                    }
                    let Some(task) = q.queue.pop_front() else {
                        continue;
                    };
                    q.running += 1;
                    if !q.queue.is_empty() && q.running < s.slow_limit {
                        q.marker_out = true;
                        let _ = s.tx.send(Msg::Slow);
                    }
                    task
                };
                execute(s, task);
                let mut q = s.slow.lock();
                q.running -= 1;
                if !q.queue.is_empty() && !q.marker_out {
                    q.marker_out = true;
                    let _ = s.tx.send(Msg::Slow);
                }
            }
            Msg::Exit => break,
        }
    }
}

fn execute(s: &Shared, task: TaskRef) {
    if s.shutdown.load(Ordering::Acquire) {
        return; // the loop is going away: drop queued work unrun
    }
    let id = task.id();
    let ran = task.run();
    // Let go of the task before the loop can learn it is done: the loop
    // then holds the last reference and frees it on its own thread.
    drop(task);
    if ran {
        s.notifier.post(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// Work that records how many tasks of its group run at once. With a
    /// `gate`, it waits (10 s at most) until `gate` of them were running
    /// together at some point: it proves the pool can run that many at once.
    struct Probe {
        id: ReqId,
        now: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        gate: usize,
    }

    impl Runnable for Probe {
        fn run(&self) -> bool {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(n, Ordering::SeqCst);
            let t0 = std::time::Instant::now();
            while self.peak.load(Ordering::SeqCst) < self.gate
                && t0.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.now.fetch_sub(1, Ordering::SeqCst);
            true
        }
        fn id(&self) -> ReqId {
            self.id
        }
    }

    fn pool(size: usize) -> (Pool, Receiver<ReqId>, loop_core::Loop<()>) {
        let mut lp = loop_core::Loop::<()>::new().unwrap();
        let h = lp.async_init(|_, _| {}).unwrap();
        let waker = lp.async_sender(h).unwrap();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let notifier = Arc::new(Notifier::new(done_tx, waker));
        (Pool::start(size, None, notifier).unwrap(), done_rx, lp)
    }

    #[test]
    fn slow_io_uses_at_most_half_the_pool_and_fast_work_still_runs() {
        for size in [1, 2, 3, 4] {
            let (pool, done, _lp) = pool(size);
            let now = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let n = 4 * size as u32;
            for i in 0..n {
                pool.submit(
                    Arc::new(Probe {
                        id: ReqId::new(i, 1),
                        now: Arc::clone(&now),
                        peak: Arc::clone(&peak),
                        gate: size.div_ceil(2),
                    }),
                    WorkKind::SlowIo,
                );
            }
            // Fast work queued behind the slow burst completes before it.
            let fast_peak = Arc::new(AtomicUsize::new(0));
            pool.submit(
                Arc::new(Probe {
                    id: ReqId::new(999, 1),
                    now: Arc::new(AtomicUsize::new(0)),
                    peak: fast_peak,
                    gate: 0,
                }),
                WorkKind::FastIo,
            );
            let mut got = Vec::new();
            for _ in 0..=n {
                got.push(done.recv().unwrap());
            }
            assert_eq!(got.len() as u32, n + 1);
            assert!(got.contains(&ReqId::new(999, 1)));
            let pos = got.iter().position(|id| *id == ReqId::new(999, 1)).unwrap();
            assert!(pos < n as usize, "fast work waited for every slow item");
            assert_eq!(
                peak.load(Ordering::SeqCst),
                size.div_ceil(2),
                "pool size {size}"
            );
        }
    }

    #[test]
    fn drop_joins_with_work_queued() {
        let (pool, _done, _lp) = pool(2);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        for i in 0..100 {
            pool.submit(
                Arc::new(Probe {
                    id: ReqId::new(i, 1),
                    now: Arc::clone(&now),
                    peak: Arc::clone(&peak),
                    gate: 0,
                }),
                WorkKind::Cpu,
            );
        }
        drop(pool); // returns after at most the executing items
        assert_eq!(now.load(Ordering::SeqCst), 0);
    }
}
