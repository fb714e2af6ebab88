//! The worker threads: one queue of work under one mutex (libuv's design),
//! libuv's limit on slow I/O, cancel by ticket, and a shutdown that joins
//! every worker.
//!
//! Invariants (all queue state is in [`Queues`], under the one mutex
//! `Shared::queues`; the completion side is `notify.rs`):
//! - the pool knows nothing of loops: a [`Work`] is a request id and a boxed
//!   [`Job`] that runs in place (keeping its result, or its panic, inside
//!   itself); the worker that took it then hands the same box to the loop's
//!   [`Notifier`]. One allocation per request travels the whole way, and
//!   whoever holds the box owns the work: no lock or flag inside it;
//! - a `Work` leaves the queue exactly once, under the mutex: popped by a
//!   worker (which runs it) or taken back by [`Pool::take_queued`] (cancel,
//!   on the loop thread). So a cancel racing a worker start has exactly one
//!   outcome. A taken-back entry leaves a tombstone, so that a [`Ticket`]
//!   (the lane and sequence number given at submission) finds its entry by
//!   index, in O(1), without ever shifting the queue;
//! - CPU and fast I/O work go into the `main` lane, in FIFO order;
//! - slow I/O work (name lookups) waits in the `slow` lane, and one *marker*
//!   entry in `main` stands for it, as libuv's `run_slow_work_message`:
//!   whenever slow work is queued and fewer than `slow_limit` workers run
//!   slow work, exactly one marker is in `main` (`marker_out`). So slow work
//!   keeps its place in line with the rest, and at most `slow_limit` workers
//!   (half the pool, rounded up) are ever busy with it: a burst of slow
//!   lookups cannot starve file I/O;
//! - waking workers (`idle`, `waking`, `executing`, `lingering`, all under
//!   the mutex): a worker is *idle* (waiting on the condition variable),
//!   *executing* a job (outside the lock), or *coming*: on its way to look
//!   at `main` before it could sleep (holding or waiting for the lock,
//!   lingering, or signaled and not yet back from its wait). A push to
//!   `main` signals one idle, unsignaled worker only if `main` then holds
//!   more entries than there are coming workers: while some worker is not
//!   executing, every queued entry has a worker bound to look at it, and
//!   an entry that a coming worker will take costs no wake-up (a futex call
//!   for the submitter, a context switch for the worker; libuv signals
//!   whenever a worker is idle);
//! - a worker that finds `main` empty first *lingers* (at most
//!   `MAX_LINGERING` at a time, once per idle spell, a few to some tens of
//!   µs of back-off: spins, then yields of the CPU) before it sleeps: while it
//!   lingers it counts as coming, so a submitter queueing item after item
//!   wakes nobody. It watches `queued_hint`, `main`'s length stored at each
//!   change, without taking the lock; the hint only decides when to look
//!   again under the lock, never what is there, so a stale value costs a
//!   useless look or a sleep a little early, never an item;
//! - a panic in work is caught inside [`Job::run`]; a worker only ever
//!   leaves its loop on shutdown;
//! - shutdown sets `exit` (workers then take nothing more), wakes every
//!   worker and joins them all: it waits only for work that is executing,
//!   never for queued work, which is dropped with the queue.

use crate::error::Error;
use crate::notify::{Notifier, Wake};
use crate::sync::{self, AtomicUsize, Condvar, Mutex, Ordering};
use crate::work::ReqId;
use loop_core::AsyncSender;
use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

/// At most this many workers linger at a time.
const MAX_LINGERING: usize = 2;
/// Back-off steps of a lingering worker: busy-wait steps (2^step spins
/// each), then yields of the CPU (module docs). Under loom one of each:
/// every step is a point the model checker explores.
#[cfg(not(loom))]
const SPIN_STEPS: u32 = 7;
#[cfg(not(loom))]
const YIELD_STEPS: u32 = 6;
#[cfg(loom)]
const SPIN_STEPS: u32 = 1;
#[cfg(loom)]
const YIELD_STEPS: u32 = 1;

/// Work as the pool sees it: something that runs once, in place.
pub(crate) trait Job: Send {
    /// Runs the work on a worker, keeping its result (or panic) inside.
    fn run(&mut self);
    /// Completes the work as canceled (on the loop thread), in place.
    fn cancel(&mut self);
    /// For the loop to get the result back out with its type.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// A request's work on its way through the pool, and back as a completion.
pub(crate) struct Work {
    pub(crate) id: ReqId,
    pub(crate) job: Box<dyn Job>,
}

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

/// Where a queued [`Work`] is: its lane and sequence number in that lane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    slow: bool,
    seq: u64,
}

enum Entry {
    Work(Work),
    /// "Some slow work is waiting": see the module docs.
    Slow,
    /// Taken back by a cancel.
    Tombstone,
}

/// A FIFO whose entries keep their sequence number for life.
struct Lane<T> {
    entries: VecDeque<T>,
    /// The sequence number of `entries[0]`.
    front: u64,
}

impl<T> Lane<T> {
    fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            front: 0,
        }
    }

    fn push(&mut self, v: T) -> u64 {
        self.entries.push_back(v);
        self.front + self.entries.len() as u64 - 1
    }

    fn pop(&mut self) -> Option<T> {
        let v = self.entries.pop_front()?;
        self.front += 1;
        Some(v)
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        let at = usize::try_from(seq.checked_sub(self.front)?).ok()?;
        self.entries.get_mut(at)
    }
}

struct Queues {
    main: Lane<Entry>,
    slow: Lane<Option<Work>>,
    /// Workers running slow work.
    slow_running: usize,
    /// A marker for the slow lane is in `main`.
    marker_out: bool,
    /// Workers waiting on `Shared::ready`.
    idle: usize,
    /// Of those, the ones signaled and not yet back from their wait.
    waking: usize,
    /// Workers running a job (outside the lock).
    executing: usize,
    /// Workers lingering (module docs).
    lingering: usize,
    /// Worker threads (all of them are started before any work is queued;
    /// if one cannot be, the pool is dropped before it is used).
    workers: usize,
    exit: bool,
}

impl Queues {
    /// The next live slow entry, dropping tombstones at the front.
    fn pop_slow(&mut self) -> Option<Work> {
        while let Some(e) = self.slow.pop() {
            if e.is_some() {
                return e;
            }
        }
        None
    }

    /// Puts a marker in `main` if slow work waits and may run (module docs);
    /// returns whether it did.
    fn refill_marker(&mut self, slow_limit: usize) -> bool {
        if !self.marker_out && !self.slow.entries.is_empty() && self.slow_running < slow_limit {
            self.marker_out = true;
            self.main.push(Entry::Slow);
            return true;
        }
        false
    }
}

struct Shared<W: Wake> {
    queues: Mutex<Queues>,
    ready: Condvar,
    /// `queues.main`'s length as of its last change: read without the lock
    /// by lingering workers, a hint only (module docs).
    queued_hint: AtomicUsize,
    slow_limit: usize,
    notifier: Arc<Notifier<Work, W>>,
}

impl<W: Wake> Shared<W> {
    /// After a push to `main` (`q` is the locked state): wakes one waiting
    /// worker unless enough workers are on their way to the queue already
    /// (module docs).
    fn signal(&self, q: &mut Queues) {
        self.queued_hint
            .store(q.main.entries.len(), Ordering::Relaxed);
        let sleeping = q.idle - q.waking;
        let coming = q.workers - q.executing - sleeping;
        if sleeping > 0 && q.main.entries.len() > coming {
            q.waking += 1;
            self.ready.notify_one();
        }
    }
}

/// A running pool. Dropping it shuts it down (see the module docs).
pub(crate) struct Pool<W: Wake + Send + Sync + 'static = AsyncSender> {
    shared: Arc<Shared<W>>,
    workers: Vec<Worker>,
}

#[cfg(not(loom))]
type Worker = std::thread::JoinHandle<()>;
#[cfg(loom)]
type Worker = loom::thread::JoinHandle<()>;

impl<W: Wake + Send + Sync + 'static> Pool<W> {
    /// Starts `size` workers that complete through `notifier`.
    pub(crate) fn start(
        size: usize,
        stack_size: Option<usize>,
        notifier: Arc<Notifier<Work, W>>,
    ) -> Result<Pool<W>, Error> {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues {
                main: Lane::new(),
                slow: Lane::new(),
                slow_running: 0,
                marker_out: false,
                idle: 0,
                waking: 0,
                executing: 0,
                lingering: 0,
                workers: size,
                exit: false,
            }),
            ready: Condvar::new(),
            queued_hint: AtomicUsize::new(0),
            slow_limit: size.div_ceil(2),
            notifier,
        });
        let mut pool = Pool {
            shared,
            workers: Vec::with_capacity(size),
        };
        for i in 0..size {
            let shared = Arc::clone(&pool.shared);
            // On failure `pool` drops here and joins the workers started so far.
            let h = spawn_worker(i, stack_size, move || worker(&shared))?;
            pool.workers.push(h);
        }
        tracing::debug!(size, "thread pool started");
        Ok(pool)
    }

    /// Number of worker threads.
    pub(crate) fn size(&self) -> usize {
        self.workers.len()
    }

    /// Queues `work`; the ticket finds it again for [`Pool::take_queued`].
    pub(crate) fn submit(&self, work: Work, kind: WorkKind) -> Ticket {
        let s = &*self.shared;
        let mut q = s.queues.lock();
        let (ticket, for_workers) = match kind {
            WorkKind::Cpu | WorkKind::FastIo => {
                let seq = q.main.push(Entry::Work(work));
                (Ticket { slow: false, seq }, true)
            }
            WorkKind::SlowIo => {
                let seq = q.slow.push(Some(work));
                (Ticket { slow: true, seq }, q.refill_marker(s.slow_limit))
            }
        };
        if for_workers {
            s.signal(&mut q);
        }
        ticket
    }

    /// Takes back the work behind `ticket` if no worker has taken it (the
    /// one moment a cancel can win; module docs).
    pub(crate) fn take_queued(&self, ticket: Ticket) -> Option<Work> {
        let mut q = self.shared.queues.lock();
        if ticket.slow {
            q.slow.get_mut(ticket.seq)?.take()
        } else {
            let e = q.main.get_mut(ticket.seq)?;
            match std::mem::replace(e, Entry::Tombstone) {
                Entry::Work(w) => Some(w),
                other => {
                    *e = other;
                    None
                }
            }
        }
    }
}

/// Starts worker thread `i`.
#[cfg(not(loom))]
fn spawn_worker(
    i: usize,
    stack_size: Option<usize>,
    f: impl FnOnce() + Send + 'static,
) -> Result<Worker, Error> {
    let mut b = std::thread::Builder::new().name(format!("loop-fs-{i}"));
    if let Some(s) = stack_size {
        b = b.stack_size(s);
    }
    b.spawn(f).map_err(Error::Spawn)
}

/// Starts worker thread `i`, as a loom thread.
#[cfg(loom)]
fn spawn_worker(
    _i: usize,
    _stack_size: Option<usize>,
    f: impl FnOnce() + Send + 'static,
) -> Result<Worker, Error> {
    Ok(loom::thread::spawn(f))
}

impl<W: Wake + Send + Sync + 'static> Drop for Pool<W> {
    fn drop(&mut self) {
        self.shared.queues.lock().exit = true;
        self.shared.ready.notify_all();
        for h in self.workers.drain(..) {
            // A worker never panics (work panics are caught), but do not
            // turn a loop drop into a panic if one did.
            let _ = h.join();
        }
        tracing::debug!("thread pool joined");
    }
}

/// Waits a little, without the lock and without sleeping, for work to be
/// queued; returns whether some seems to be.
fn linger<W: Wake>(s: &Shared<W>) -> bool {
    for step in 0..SPIN_STEPS + YIELD_STEPS {
        if step < SPIN_STEPS {
            for _ in 0..1u32 << step {
                sync::spin_loop();
            }
        } else {
            sync::yield_now();
        }
        if s.queued_hint.load(Ordering::Relaxed) > 0 {
            return true;
        }
    }
    false
}

fn worker<W: Wake>(s: &Shared<W>) {
    let mut q = s.queues.lock();
    // Lingered since the last job, and found nothing: sleep when idle.
    let mut lingered = false;
    loop {
        if q.exit {
            return; // the loop is going away: queued work is dropped unrun
        }
        let next = q.main.pop();
        if next.is_some() {
            s.queued_hint.store(q.main.entries.len(), Ordering::Relaxed);
        }
        match next {
            Some(Entry::Work(mut work)) => {
                lingered = false;
                q.executing += 1;
                drop(q);
                work.job.run();
                s.notifier.post(work);
                q = s.queues.lock();
                q.executing -= 1;
            }
            Some(Entry::Slow) => {
                q.marker_out = false;
                if q.slow_running >= s.slow_limit {
                    continue; // cannot happen: the marker goes out below the limit
                }
                let Some(mut work) = q.pop_slow() else {
                    continue; // only tombstones were left
                };
                lingered = false;
                q.slow_running += 1;
                q.executing += 1;
                if q.refill_marker(s.slow_limit) {
                    s.signal(&mut q);
                }
                drop(q);
                work.job.run();
                s.notifier.post(work);
                q = s.queues.lock();
                q.executing -= 1;
                q.slow_running -= 1;
                if q.refill_marker(s.slow_limit) {
                    s.signal(&mut q);
                }
            }
            Some(Entry::Tombstone) => {}
            None if !lingered && q.lingering < MAX_LINGERING => {
                q.lingering += 1;
                drop(q);
                lingered = !linger(s);
                q = s.queues.lock();
                q.lingering -= 1;
            }
            None => {
                lingered = false;
                q.idle += 1;
                q = s.ready.wait(q);
                q.idle -= 1;
                // A wake-up without a signal leaves `waking` high for a
                // while: at worst one more signal than needed, never less.
                q.waking = q.waking.saturating_sub(1);
            }
        }
    }
}

/// The pool under loom (`scripts/check-deep.sh`; by hand:
/// `RUSTFLAGS="--cfg loom" cargo test -p loop-fs --lib --release pool::loom`):
/// real workers (loom threads), the real queue, wake-up rule and lingering,
/// the real completion queue; the loop's eventfd is a counter.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use std::sync::atomic::Ordering::SeqCst;

    struct Mark(Arc<AtomicUsize>);

    impl Job for Mark {
        fn run(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
        fn cancel(&mut self) {}
        fn into_any(self: Box<Self>) -> Box<dyn Any> {
            self
        }
    }

    #[derive(Default)]
    struct Edges(AtomicUsize);

    impl Wake for Arc<Edges> {
        fn wake(&self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn work(i: u32, ran: &Arc<AtomicUsize>) -> Work {
        Work {
            id: ReqId::new(i, 1),
            job: Box::new(Mark(Arc::clone(ran))),
        }
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(f);
    }

    /// The loop sleeps until an eventfd edge; yields until then, so an item
    /// stranded in the queue (every worker asleep) or a completion with no
    /// wake-up spins for ever and fails the model.
    fn wait_completions(
        edges: &Edges,
        n: &Notifier<Work, Arc<Edges>>,
        want: usize,
    ) -> VecDeque<Work> {
        let mut batch = VecDeque::new();
        while batch.len() < want {
            if edges.0.swap(0, SeqCst) > 0 {
                n.take_all(&mut batch);
            } else {
                loom::thread::yield_now();
            }
        }
        batch
    }

    /// Two items queued on two workers both run and both come back: the
    /// wake rule ("signal only if more is queued than workers are coming")
    /// and lingering never strand an item.
    #[test]
    fn every_item_runs_and_comes_back() {
        model(|| {
            let edges = Arc::new(Edges::default());
            let n = Arc::new(Notifier::new(Arc::clone(&edges)));
            let pool = Pool::start(2, None, Arc::clone(&n)).expect("pool");
            let ran = Arc::new(AtomicUsize::new(0));
            pool.submit(work(0, &ran), WorkKind::Cpu);
            pool.submit(work(1, &ran), WorkKind::FastIo);
            let done = wait_completions(&edges, &n, 2);
            assert_eq!(done.len(), 2);
            drop(pool);
            assert_eq!(ran.load(SeqCst), 2);
        });
    }

    /// A cancel racing a worker's start has exactly one outcome: taken back
    /// (never run, never posted) or run once and posted once.
    #[test]
    fn cancel_racing_a_worker_has_one_outcome() {
        model(|| {
            let edges = Arc::new(Edges::default());
            let n = Arc::new(Notifier::new(Arc::clone(&edges)));
            let pool = Pool::start(1, None, Arc::clone(&n)).expect("pool");
            let ran = Arc::new(AtomicUsize::new(0));
            let t = pool.submit(work(0, &ran), WorkKind::Cpu);
            let taken = pool.take_queued(t);
            if taken.is_none() {
                let done = wait_completions(&edges, &n, 1);
                assert_eq!(done.len(), 1);
            }
            drop(pool);
            let mut rest = VecDeque::new();
            n.take_all(&mut rest);
            match taken {
                Some(_) => assert_eq!((ran.load(SeqCst), rest.len()), (0, 0)),
                None => assert_eq!((ran.load(SeqCst), rest.len()), (1, 0)),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// Work that records how many jobs of its group run at once. With a
    /// `gate`, it waits (10 s at most) until `gate` of them were running
    /// together at some point: it proves the pool can run that many at once.
    struct Probe {
        now: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        gate: usize,
    }

    impl Job for Probe {
        fn run(&mut self) {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(n, Ordering::SeqCst);
            let t0 = Instant::now();
            while self.peak.load(Ordering::SeqCst) < self.gate
                && t0.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
        fn cancel(&mut self) {}
        fn into_any(self: Box<Self>) -> Box<dyn Any> {
            self
        }
    }

    fn probe(i: u32, now: &Arc<AtomicUsize>, peak: &Arc<AtomicUsize>, gate: usize) -> Work {
        Work {
            id: ReqId::new(i, 1),
            job: Box::new(Probe {
                now: Arc::clone(now),
                peak: Arc::clone(peak),
                gate,
            }),
        }
    }

    fn pool(size: usize) -> (Pool, Arc<Notifier>, loop_core::Loop<()>) {
        let mut lp = loop_core::Loop::<()>::new().unwrap();
        let h = lp.async_init(|_, _| {}).unwrap();
        let notifier = Arc::new(Notifier::new(lp.async_sender(h).unwrap()));
        let pool = Pool::start(size, None, Arc::clone(&notifier)).unwrap();
        (pool, notifier, lp)
    }

    /// The ids of the first `n` completions, in posting order (10 s at most).
    fn completions(notifier: &Notifier, n: usize) -> Vec<ReqId> {
        let mut batch = VecDeque::new();
        let t0 = Instant::now();
        while batch.len() < n && t0.elapsed() < Duration::from_secs(10) {
            notifier.take_all(&mut batch);
            std::thread::sleep(Duration::from_millis(1));
        }
        batch.iter().map(|w| w.id).collect()
    }

    #[test]
    fn slow_io_uses_at_most_half_the_pool_and_fast_work_still_runs() {
        for size in [1, 2, 3, 4] {
            let (pool, notifier, _lp) = pool(size);
            let now = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let n = 4 * size as u32;
            for i in 0..n {
                pool.submit(probe(i, &now, &peak, size.div_ceil(2)), WorkKind::SlowIo);
            }
            // Fast work queued behind the slow burst completes before it.
            let fast = Arc::new(AtomicUsize::new(0));
            pool.submit(probe(999, &fast, &fast.clone(), 0), WorkKind::FastIo);
            let got = completions(&notifier, n as usize + 1);
            assert_eq!(got.len() as u32, n + 1);
            let pos = got.iter().position(|id| *id == ReqId::new(999, 1));
            assert!(
                pos.is_some_and(|p| p < n as usize),
                "fast work waited for every slow item"
            );
            assert_eq!(
                peak.load(Ordering::SeqCst),
                size.div_ceil(2),
                "pool size {size}"
            );
        }
    }

    #[test]
    fn take_queued_wins_once_and_never_after_a_worker_took_the_work() {
        let (pool, notifier, _lp) = pool(1);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        // The only worker is held by a probe waiting for a second runner.
        let blocker = pool.submit(probe(0, &now, &peak, 2), WorkKind::Cpu);
        let t0 = Instant::now();
        while now.load(Ordering::SeqCst) == 0 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let fast = pool.submit(probe(1, &now, &peak, 0), WorkKind::Cpu);
        let slow = pool.submit(probe(2, &now, &peak, 0), WorkKind::SlowIo);
        assert!(pool.take_queued(blocker).is_none(), "already running");
        assert_eq!(pool.take_queued(fast).map(|w| w.id), Some(ReqId::new(1, 1)));
        assert!(pool.take_queued(fast).is_none(), "taken once");
        assert_eq!(pool.take_queued(slow).map(|w| w.id), Some(ReqId::new(2, 1)));
        assert!(pool.take_queued(slow).is_none(), "taken once");
        // The blocker ends (after its 10 s bound at most); the tombstones and
        // the marker left behind cost nothing, later work still runs.
        peak.store(2, Ordering::SeqCst);
        let last = Arc::new(AtomicUsize::new(0));
        pool.submit(probe(3, &last, &last.clone(), 0), WorkKind::SlowIo);
        let got = completions(&notifier, 2);
        assert_eq!(got, [ReqId::new(0, 1), ReqId::new(3, 1)]);
    }

    #[test]
    fn drop_joins_with_work_queued() {
        let (pool, _notifier, _lp) = pool(2);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        for i in 0..100 {
            pool.submit(probe(i, &now, &peak, 0), WorkKind::Cpu);
        }
        drop(pool); // returns after at most the executing items
        assert_eq!(now.load(Ordering::SeqCst), 0);
    }
}
