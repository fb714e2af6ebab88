//! Requests: [`queue_work`], [`cancel`], and the per-loop state behind them.
//!
//! Invariants:
//! - each loop has at most one [`Ext`] (an extension of the loop, dropped
//!   with it): the pool, the completion channel, one async handle
//!   (unreferenced: only requests keep the loop alive) and the table of
//!   pending requests. Dropping it joins the pool *before* the table and the
//!   channel go, so no worker ever completes into a dropped loop;
//! - a request is in the table, and counted as an active request of the
//!   loop, from submission until its callback is called; it leaves the
//!   table (and the loop's count) just before its callback runs, as libuv
//!   unregisters a request before `after_work_cb`. Its callback runs exactly
//!   once, on the loop thread, in the poll phase, and the nextTick and
//!   microtask queues drain after it, as after any callback;
//! - a task's stage moves `Queued → Running → Done` on a worker, or
//!   `Queued → Done (canceled)` on the loop thread; whoever moves it out of
//!   `Queued` owns the work. Its id is posted to the completion channel once
//!   it is `Done`, never before, and exactly once;
//! - one wake-up serves the completions that were in the channel when it
//!   began (libuv takes its whole done queue the same way): later ones wait
//!   for the next poll, so completions that keep coming cannot starve
//!   timers or immediates. If a callback panics, the wake-up is renewed
//!   before the panic leaves, so the completions still in the channel are
//!   served by the next `run`.

use crate::error::{CancelError, Error, Panic, WorkError};
use crate::pool::{Notifier, Pool, Runnable, WorkKind};
use crossbeam_channel::Receiver;
use loop_core::{ActiveRequest, AsyncId, Loop};
use parking_lot::Mutex;
use slab::Slab;
use std::fmt;
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
    pub(crate) fn new(index: u32, gen: u32) -> Self {
        Self { index, gen }
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

enum Stage<F, T> {
    Queued(F),
    Running,
    Done {
        value: std::thread::Result<T>,
        canceled: bool,
    },
    Taken,
}

/// One request's work and result, shared by the loop and the worker.
struct Task<F, T> {
    id: ReqId,
    stage: Mutex<Stage<F, T>>,
}

impl<F, T> Runnable for Task<F, T>
where
    F: FnOnce(Fate) -> T + Send,
    T: Send,
{
    fn run(&self) -> bool {
        let f = {
            let mut stage = self.stage.lock();
            match std::mem::replace(&mut *stage, Stage::Running) {
                Stage::Queued(f) => f,
                other => {
                    *stage = other; // canceled meanwhile
                    return false;
                }
            }
        };
        let value = catch_unwind(AssertUnwindSafe(move || f(Fate::Run)));
        *self.stage.lock() = Stage::Done {
            value,
            canceled: false,
        };
        true
    }

    fn id(&self) -> ReqId {
        self.id
    }
}

impl<F, T> Task<F, T>
where
    F: FnOnce(Fate) -> T,
{
    fn cancel(&self) -> Result<(), CancelError> {
        let f = {
            let mut stage = self.stage.lock();
            match &*stage {
                Stage::Queued(_) => {}
                Stage::Done { canceled: true, .. } => return Err(CancelError::AlreadyCanceled),
                _ => return Err(CancelError::Busy),
            }
            let Stage::Queued(f) = std::mem::replace(&mut *stage, Stage::Running) else {
                unreachable!("checked above");
            };
            f
        };
        let value = catch_unwind(AssertUnwindSafe(move || f(Fate::Cancel)));
        *self.stage.lock() = Stage::Done {
            value,
            canceled: true,
        };
        Ok(())
    }

    fn take(&self) -> std::thread::Result<T> {
        match std::mem::replace(&mut *self.stage.lock(), Stage::Taken) {
            Stage::Done { value, .. } => value,
            _ => unreachable!("a request completes only once its task is done"),
        }
    }
}

/// The loop side of a request: how to cancel it and how to complete it.
trait Complete<D> {
    fn cancel(&self) -> Result<(), CancelError>;
    fn finish(self: Box<Self>, lp: &mut Loop<D>, data: &mut D);
}

struct Pending<F, T, A> {
    task: Arc<Task<F, T>>,
    after: A,
}

impl<D, F, T, A> Complete<D> for Pending<F, T, A>
where
    F: FnOnce(Fate) -> T,
    A: FnOnce(&mut Loop<D>, &mut D, std::thread::Result<T>),
{
    fn cancel(&self) -> Result<(), CancelError> {
        self.task.cancel()
    }

    fn finish(self: Box<Self>, lp: &mut Loop<D>, data: &mut D) {
        let value = self.task.take();
        drop(self.task);
        (self.after)(lp, data, value);
    }
}

struct Entry<D> {
    gen: u32,
    item: Box<dyn Complete<D>>,
    req: ActiveRequest,
}

/// A loop's pool and pending requests (a loop extension).
pub(crate) struct Ext<D> {
    // Declared first, so dropped (shut down and joined) first.
    pool: Pool,
    table: Slab<Entry<D>>,
    next_gen: u32,
    notifier: Arc<Notifier>,
    done_rx: Receiver<ReqId>,
    handle: AsyncId,
}

impl<D: 'static> Ext<D> {
    /// Starts the pool on `lp` and attaches it.
    pub(crate) fn install(
        lp: &mut Loop<D>,
        size: usize,
        stack_size: Option<usize>,
    ) -> Result<(), Error> {
        if lp.extension::<Ext<D>>().is_some() {
            return Err(Error::AlreadyStarted);
        }
        let handle = lp.async_init(on_wake::<D>).map_err(Error::Loop)?;
        lp.unref(handle).map_err(Error::Loop)?;
        let waker = lp.async_sender(handle).map_err(Error::Loop)?;
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let notifier = Arc::new(Notifier::new(done_tx, waker));
        let pool = match Pool::start(size, stack_size, Arc::clone(&notifier)) {
            Ok(pool) => pool,
            Err(e) => {
                let _ = lp.close(handle, None);
                return Err(e);
            }
        };
        lp.insert_extension(Ext::<D> {
            pool,
            table: Slab::new(),
            next_gen: 0,
            notifier,
            done_rx,
            handle,
        });
        Ok(())
    }
}

/// The loop's pool state, started (with the default size, or the one from
/// `LOOP_THREADPOOL_SIZE`) on first use.
fn ext<D: 'static>(lp: &mut Loop<D>) -> Result<&mut Ext<D>, Error> {
    if lp.extension::<Ext<D>>().is_none() {
        crate::PoolBuilder::new().install(lp)?;
    }
    Ok(lp.extension_mut::<Ext<D>>().expect("installed just above"))
}

/// Queues `f` on the pool; `after` gets what it returned (or its panic) on
/// the loop thread. The primitive every request of this crate is made of.
pub(crate) fn submit<D, T, F, A>(
    lp: &mut Loop<D>,
    kind: WorkKind,
    f: F,
    after: A,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    F: FnOnce(Fate) -> T + Send + 'static,
    A: FnOnce(&mut Loop<D>, &mut D, std::thread::Result<T>) + 'static,
{
    ext(lp)?;
    let req = lp.req_start();
    let e = lp.extension_mut::<Ext<D>>().expect("started above");
    e.next_gen = e.next_gen.wrapping_add(1);
    let slot = e.table.vacant_entry();
    let id = ReqId::new(slot.key() as u32, e.next_gen);
    let task = Arc::new(Task {
        id,
        stage: Mutex::new(Stage::Queued(f)),
    });
    slot.insert(Entry {
        gen: id.gen,
        item: Box::new(Pending {
            task: Arc::clone(&task),
            after,
        }),
        req,
    });
    e.pool.submit(task, kind);
    tracing::trace!(req = %id, ?kind, "queued");
    Ok(id)
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
    let Some(e) = lp.extension_mut::<Ext<D>>() else {
        return Err(CancelError::NotPending);
    };
    match e.table.get(id.index as usize) {
        Some(entry) if entry.gen == id.gen => entry.item.cancel()?,
        _ => return Err(CancelError::NotPending),
    }
    // As libuv's uv__work_cancel: through the done queue and the wake-up.
    e.notifier.post(id);
    tracing::trace!(req = %id, "canceled");
    Ok(())
}

/// Requests of this loop whose callback has not run yet.
pub fn pending_requests<D: 'static>(lp: &Loop<D>) -> usize {
    lp.extension::<Ext<D>>().map_or(0, |e| e.table.len())
}

/// The number of worker threads of the loop's pool, if it has started.
pub fn pool_size<D: 'static>(lp: &Loop<D>) -> Option<usize> {
    lp.extension::<Ext<D>>().map(|e| e.pool.size())
}

/// The async handle the loop's pool completes through, if the pool has
/// started. It is unreferenced and shows in [`Loop::handles`]; closing it
/// would strand every later completion, so leave it alone (libuv hides its
/// own, which loop-core has no way to do for another crate).
pub fn completion_handle<D: 'static>(lp: &Loop<D>) -> Option<AsyncId> {
    lp.extension::<Ext<D>>().map(|e| e.handle)
}

/// On drop (a normal return or a panic unwinding through a completion
/// callback): if completions are left in the channel, make sure a wake-up
/// is coming for them. After a normal return that is one load: whoever
/// posted them after the batch began has seen to it already.
struct Rearm {
    rx: Receiver<ReqId>,
    notifier: Arc<Notifier>,
}

impl Drop for Rearm {
    fn drop(&mut self) {
        if !self.rx.is_empty() {
            self.notifier.wake();
        }
    }
}

/// The async callback: completes the requests that were done when it began.
fn on_wake<D: 'static>(lp: &mut Loop<D>, data: &mut D) {
    let Some(e) = lp.extension_mut::<Ext<D>>() else {
        return;
    };
    let guard = Rearm {
        rx: e.done_rx.clone(),
        notifier: Arc::clone(&e.notifier),
    };
    guard.notifier.begin_batch();
    let mut budget = guard.rx.len();
    while budget > 0 {
        budget -= 1;
        let Ok(id) = guard.rx.try_recv() else {
            break;
        };
        let Some(e) = lp.extension_mut::<Ext<D>>() else {
            return;
        };
        let entry = match e.table.get(id.index as usize) {
            Some(entry) if entry.gen == id.gen => e.table.remove(id.index as usize),
            _ => continue,
        };
        tracing::trace!(req = %id, "completion");
        lp.req_done(entry.req);
        // Each completion is a callback of its own, as in Node.js: the
        // nextTick and microtask queues drain after it.
        entry.item.finish(lp, data);
        lp.drain_ticks(data);
    }
}
