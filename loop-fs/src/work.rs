//! Requests: [`queue_work`], [`cancel`], and the per-loop state behind them.
//!
//! Invariants:
//! - each loop has at most one [`Ext`] (an extension of the loop, dropped
//!   with it), attached on first use; once its pool runs it holds the pool,
//!   the completion queue, one async handle (unreferenced: only requests keep
//!   the loop alive; internal: not in [`Loop::handles`]) and the table of
//!   pending requests. Dropping it joins the pool *before* the table and the
//!   queues go, so no worker ever completes into a dropped loop. The async
//!   callback finds it by its [`ExtKey`], never by a type search;
//! - a request is in the table, and counted as an active request of the
//!   loop, from submission until its callback is called; it leaves the
//!   table (and the loop's count) just before its callback runs, as libuv
//!   unregisters a request before `after_work_cb`. Its callback runs exactly
//!   once, on the loop thread, in the poll phase, through
//!   [`Loop::make_callback`] (so the nextTick and microtask queues drain
//!   after it, as after any callback);
//! - a request's work is one box ([`Task`]) that moves: loop → pool queue →
//!   one worker (which runs it) or back to the loop (a cancel that took it
//!   from the queue, `pool.rs`) → completion queue → loop, which takes the
//!   result out and frees the box on its own thread. Whoever holds the box
//!   owns it, so it needs no lock; the table keeps only the callback and the
//!   [`Ticket`] a cancel needs. A box is posted as a completion once, when it
//!   holds its result;
//! - one wake-up serves the completions that were posted when it began
//!   (libuv takes its whole done queue the same way): later ones wait for
//!   the next poll, so completions that keep coming cannot starve timers or
//!   immediates. If a callback (or a tick it queued) panics, the rest of the
//!   batch stays in `Ext::batch` and the wake-up is renewed before the panic
//!   leaves, so they are served, each once, by the next `run`.

use crate::error::{CancelError, Error, Panic, WorkError};
use crate::notify::Notifier;
use crate::pool::{Job, Pool, Ticket, Work, WorkKind};
use loop_core::slots::{GenSlab, Key};
use loop_core::{ActiveRequest, AsyncId, ExtKey, Loop};
use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// A pending request of a loop's pool: a slot index and a generation, so an
/// id whose callback already ran is rejected (by [`cancel`]), never
/// confused with the request that reuses its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReqId {
    index: u32,
    gen: u32,
}

impl ReqId {
    #[cfg(test)]
    pub(crate) fn new(index: u32, gen: u32) -> Self {
        Self { index, gen }
    }

    fn from_key(Key { index, gen }: Key) -> Self {
        Self { index, gen }
    }

    fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

impl fmt::Display for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}.{}", self.index, self.gen)
    }
}

/// What a task's closure is asked to do: run, or say how it ends when
/// canceled (file-system requests build their `ECANCELED` error naming the
/// operation and path; [`queue_work`] drops the user's closure).
pub(crate) enum Fate {
    Run,
    Cancel,
}

/// One request's work, then its result: the box that travels (module docs).
enum Task<F, T> {
    Queued(F),
    Done(std::thread::Result<T>),
    Taken,
}

impl<F, T> Task<F, T>
where
    F: FnOnce(Fate) -> T,
{
    fn complete(&mut self, fate: Fate) {
        if let Task::Queued(f) = std::mem::replace(self, Task::Taken) {
            // Nearly free when nothing panics (measured: docs/performance.md).
            *self = Task::Done(catch_unwind(AssertUnwindSafe(move || f(fate))));
        }
    }
}

impl<F, T> Job for Task<F, T>
where
    F: FnOnce(Fate) -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(&mut self) {
        self.complete(Fate::Run);
    }

    fn cancel(&mut self) {
        self.complete(Fate::Cancel);
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// The loop side of a request: its callback, with the type of its result.
trait Complete<D> {
    fn finish(self: Box<Self>, lp: &mut Loop<D>, data: &mut D, job: Box<dyn Job>);
}

/// A zero-sized callback makes this zero-sized: its box allocates nothing.
struct Pending<F, T, A> {
    after: A,
    _task: PhantomData<fn() -> (F, T)>,
}

impl<D, F, T, A> Complete<D> for Pending<F, T, A>
where
    F: FnOnce(Fate) -> T + 'static,
    T: 'static,
    A: FnOnce(&mut Loop<D>, &mut D, std::thread::Result<T>),
{
    fn finish(self: Box<Self>, lp: &mut Loop<D>, data: &mut D, job: Box<dyn Job>) {
        // Neither miss can happen (a request's box is the one `submit` made,
        // posted once complete); should one, the callback still gets an
        // error rather than the loop a panic of ours.
        let miss = |what: &'static str| -> Box<dyn Any + Send> { Box::new(what) };
        let value = match job.into_any().downcast::<Task<F, T>>() {
            Ok(task) => match *task {
                Task::Done(value) => value,
                _ => Err(miss("loop-fs: a request completed without a result")),
            },
            Err(_) => Err(miss("loop-fs: a completion of another request type")),
        };
        (self.after)(lp, data, value);
    }
}

struct Entry<D> {
    /// The callback's name in traces (`CallbackKind::Extension`).
    name: &'static str,
    ticket: Ticket,
    canceled: bool,
    req: ActiveRequest,
    item: Box<dyn Complete<D>>,
}

/// What exists once the pool runs.
struct Running {
    pool: Pool,
    notifier: Arc<Notifier>,
    handle: AsyncId,
}

/// A loop's pool and pending requests (a loop extension).
pub(crate) struct Ext<D> {
    // Declared first, so dropped (shut down and joined) first.
    running: Option<Running>,
    table: GenSlab<Entry<D>>,
    /// Completions taken from the queue and not yet called back (kept
    /// across batches for its buffer, and across a panic for its items).
    batch: VecDeque<Work>,
}

impl<D: 'static> Ext<D> {
    fn new() -> Self {
        Self {
            running: None,
            table: GenSlab::new(),
            batch: VecDeque::new(),
        }
    }

    /// Starts the pool on `lp`.
    pub(crate) fn install(
        lp: &mut Loop<D>,
        size: usize,
        stack_size: Option<usize>,
    ) -> Result<(), Error> {
        if lp
            .extension_or_insert_with(|_| Ext::<D>::new())
            .running
            .is_some()
        {
            return Err(Error::AlreadyStarted);
        }
        let Some(key) = lp.extension_key::<Ext<D>>() else {
            return Err(Error::AlreadyStarted); // cannot happen: attached just above
        };
        let handle = lp
            .async_init(move |lp, data| on_wake(lp, data, key))
            .map_err(Error::Loop)?;
        let running = Self::start(lp, handle, size, stack_size);
        match (running, lp.ext_mut(key)) {
            (Ok(running), Some(e)) => {
                e.running = Some(running);
                Ok(())
            }
            (Err(e), _) => {
                let _ = lp.close(handle, None);
                Err(e)
            }
            (Ok(running), None) => {
                // Cannot happen (attached above); stop what was started.
                drop(running);
                let _ = lp.close(handle, None);
                Err(Error::AlreadyStarted)
            }
        }
    }

    fn start(
        lp: &mut Loop<D>,
        handle: AsyncId,
        size: usize,
        stack_size: Option<usize>,
    ) -> Result<Running, Error> {
        lp.unref(handle).map_err(Error::Loop)?;
        lp.set_internal(handle, true).map_err(Error::Loop)?;
        let waker = lp.async_sender(handle).map_err(Error::Loop)?;
        let notifier = Arc::new(Notifier::new(waker));
        let pool = Pool::start(size, stack_size, Arc::clone(&notifier))?;
        Ok(Running {
            pool,
            notifier,
            handle,
        })
    }
}

/// Queues `f` on the pool; `after` gets what it returned (or its panic) on
/// the loop thread, as a callback named `name`. The primitive every request
/// of this crate is made of.
pub(crate) fn submit<D, T, F, A>(
    lp: &mut Loop<D>,
    kind: WorkKind,
    name: &'static str,
    f: F,
    after: A,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    F: FnOnce(Fate) -> T + Send + 'static,
    A: FnOnce(&mut Loop<D>, &mut D, std::thread::Result<T>) + 'static,
{
    let req = lp.req_start();
    // The hot path: one lookup of the extension.
    if let Some(e) = lp.extension_mut::<Ext<D>>() {
        if e.running.is_some() {
            return Ok(e.enqueue(req, kind, name, f, after));
        }
    }
    // First use: start the pool (with the default size, or the one from
    // `LOOP_THREADPOOL_SIZE`).
    match crate::PoolBuilder::new().install(lp) {
        Ok(()) => {}
        Err(err) => {
            lp.req_done(req);
            return Err(err);
        }
    }
    match lp.extension_mut::<Ext<D>>() {
        Some(e) if e.running.is_some() => Ok(e.enqueue(req, kind, name, f, after)),
        _ => {
            lp.req_done(req);
            Err(Error::AlreadyStarted) // cannot happen: installed just above
        }
    }
}

impl<D: 'static> Ext<D> {
    /// Queues a request on the running pool.
    fn enqueue<T, F, A>(
        &mut self,
        req: ActiveRequest,
        kind: WorkKind,
        name: &'static str,
        f: F,
        after: A,
    ) -> ReqId
    where
        T: Send + 'static,
        F: FnOnce(Fate) -> T + Send + 'static,
        A: FnOnce(&mut Loop<D>, &mut D, std::thread::Result<T>) + 'static,
    {
        let id = ReqId::from_key(self.table.vacant_key());
        let job: Box<dyn Job> = Box::new(Task::<F, T>::Queued(f));
        let ticket = match &self.running {
            Some(run) => run.pool.submit(Work { id, job }, kind),
            None => unreachable!("enqueue is called on a running pool only"),
        };
        let key = self.table.insert(Entry {
            name,
            ticket,
            canceled: false,
            req,
            item: Box::new(Pending::<F, T, A> {
                after,
                _task: PhantomData,
            }),
        });
        debug_assert_eq!(key, id.key());
        tracing::trace!(req = %id, ?kind, "queued");
        id
    }
}

/// Runs `work` on the pool (`uv_queue_work`); `after` then runs on the loop
/// thread, in the poll phase, with what `work` returned.
///
/// `after` gets [`WorkError::Canceled`] if [`cancel`] took the request out
/// of the queue (`work` then never runs and is dropped), or
/// [`WorkError::Panicked`] if `work` panicked (the worker survives). Until
/// `after` has run, the request keeps the loop alive. Fails only when the
/// pool cannot be started (see [`crate::PoolBuilder`]).
///
/// ```
/// use loop_core::{Loop, RunMode};
///
/// let mut lp: Loop<u64> = Loop::new()?;
/// loop_fs::queue_work(&mut lp, || (1..=20u64).product::<u64>(), |_, out, r| {
///     *out = r.expect("not canceled, no panic");
/// })?;
/// let mut out = 0;
/// lp.run(RunMode::Default, &mut out)?;
/// assert_eq!(out, 2_432_902_008_176_640_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn queue_work<D, T, W, A>(lp: &mut Loop<D>, work: W, after: A) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
    A: FnOnce(&mut Loop<D>, &mut D, Result<T, WorkError>) + 'static,
{
    queue_work_with(lp, WorkKind::Cpu, work, after)
}

/// [`queue_work`] for a given kind of work: [`WorkKind::SlowIo`] work may
/// occupy at most half the pool (rounded up) at a time.
pub fn queue_work_with<D, T, W, A>(
    lp: &mut Loop<D>,
    kind: WorkKind,
    work: W,
    after: A,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
    A: FnOnce(&mut Loop<D>, &mut D, Result<T, WorkError>) + 'static,
{
    submit(
        lp,
        kind,
        "loop-fs:work",
        move |fate| match fate {
            Fate::Run => Ok(work()),
            Fate::Cancel => Err(WorkError::Canceled),
        },
        move |lp, data, r: std::thread::Result<Result<T, WorkError>>| {
            after(
                lp,
                data,
                r.unwrap_or_else(|p| Err(WorkError::Panicked(Panic::new(p)))),
            )
        },
    )
}

/// Cancels a request that no worker has started (`uv_cancel`): its callback
/// still runs, in the poll phase, with [`WorkError::Canceled`] (or, for a
/// file-system or lookup request, an `ECANCELED` error); the work never runs.
///
/// Fails with [`CancelError::Busy`] once a worker has started the request
/// (it runs to the end and completes normally), and with
/// [`CancelError::NotPending`] once its callback has run.
pub fn cancel<D: 'static>(lp: &mut Loop<D>, id: ReqId) -> Result<(), CancelError> {
    let Some(Ext {
        running: Some(run),
        table,
        ..
    }) = lp.extension_mut::<Ext<D>>()
    else {
        return Err(CancelError::NotPending);
    };
    let Some(entry) = table.get_mut(id.key()) else {
        return Err(CancelError::NotPending);
    };
    if entry.canceled {
        return Err(CancelError::AlreadyCanceled);
    }
    let Some(mut work) = run.pool.take_queued(entry.ticket) else {
        return Err(CancelError::Busy);
    };
    entry.canceled = true;
    // The work's own way to end canceled, on the loop thread.
    work.job.cancel();
    // As libuv's uv__work_cancel: through the done queue and the wake-up.
    run.notifier.post(work);
    tracing::trace!(req = %id, "canceled");
    Ok(())
}

/// Requests of this loop whose callback has not run yet.
pub fn pending_requests<D: 'static>(lp: &Loop<D>) -> usize {
    lp.extension::<Ext<D>>().map_or(0, |e| e.table.len())
}

/// The number of worker threads of the loop's pool, if it has started.
pub fn pool_size<D: 'static>(lp: &Loop<D>) -> Option<usize> {
    let run = lp.extension::<Ext<D>>()?.running.as_ref()?;
    Some(run.pool.size())
}

/// The async handle the loop's pool completes through, if the pool has
/// started. It is unreferenced and internal (left out of
/// [`Loop::handles`], as libuv hides its own); closing it would strand
/// every later completion, so leave it alone.
pub fn completion_handle<D: 'static>(lp: &Loop<D>) -> Option<AsyncId> {
    let run = lp.extension::<Ext<D>>()?.running.as_ref()?;
    Some(run.handle)
}

/// The async callback: completes the requests that were posted when it
/// began, each as a callback of its own.
fn on_wake<D: 'static>(lp: &mut Loop<D>, data: &mut D, key: ExtKey<Ext<D>>) {
    let Some(Ext {
        running: Some(run),
        batch,
        ..
    }) = lp.ext_mut(key)
    else {
        return;
    };
    run.notifier.take_all(batch);
    let mut budget = batch.len();
    while budget > 0 && !lp.is_unwinding() {
        budget -= 1;
        let Some(e) = lp.ext_mut(key) else {
            return;
        };
        let Some(done) = e.batch.pop_front() else {
            return;
        };
        let Some(entry) = e.table.remove(done.id.key()) else {
            continue;
        };
        tracing::trace!(req = %done.id, "completion");
        lp.req_done(entry.req);
        let item = entry.item;
        // Each completion is a callback of its own, as in Node.js: the
        // nextTick and microtask queues drain after it.
        lp.make_callback(data, entry.name, move |lp, data| {
            item.finish(lp, data, done.job)
        });
    }
    // A panic stopped the batch: what is left is for the next `run`.
    if let Some(Ext {
        running: Some(run),
        batch,
        ..
    }) = lp.ext(key)
    {
        if lp.is_unwinding() && !batch.is_empty() {
            run.notifier.wake_again();
        }
    }
}
