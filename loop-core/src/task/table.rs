//! The loop's task table: where tasks live between polls, how a microtask
//! entry polls one, and how they are dropped.
//!
//! # Invariants
//!
//! - A task is in the table from spawn until it finishes, panics, is
//!   aborted or its loop drops; its slot's future is taken out while it is
//!   polled (no borrow of the table is held across a poll), and the task
//!   is dropped with the loop published to [`with_loop`](super::with_loop)
//!   so a future's `Drop` can cancel what it registered.
//! - A microtask entry names a task by `(index, gen)`; an entry whose task
//!   is gone (slot freed or reused: other `gen`) does nothing.
//! - An entry that finds its task in the middle of its own poll (the task
//!   drained the queue from inside it, through `make_callback`) marks it
//!   `repoll`; the poll, when it returns pending, queues it again, so that
//!   wake is not lost.

use super::cx;
use super::join::{Completer, JoinError, JoinHandle, JoinInner};
use super::waker::{TaskWaker, Wakes};
use crate::callback::Micro;
use crate::event_loop::Loop;
use slab::Slab;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A task as the table sees it, whatever its output type.
pub(crate) trait Runnable {
    /// Polls the future with the task's waker, the panic caught; `Ready`
    /// once the task's result is written (its output or its panic).
    fn run(self: Pin<&mut Self>) -> Poll<()>;
    /// Whether its handle asked for an abort.
    fn is_aborted(&self) -> bool;
}

pin_project_lite::pin_project! {
    struct Task<F: Future> {
        #[pin]
        fut: F,
        join: Completer<F::Output>,
        waker: Waker,
    }
}

impl<F: Future> Runnable for Task<F> {
    fn run(self: Pin<&mut Self>) -> Poll<()> {
        let this = self.project();
        let fut = this.fut;
        let mut cx = Context::from_waker(this.waker);
        match catch_unwind(AssertUnwindSafe(|| fut.poll(&mut cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => {
                this.join.0.complete(Ok(v));
                Poll::Ready(())
            }
            Err(p) => {
                tracing::debug!("a task panicked: its error, not the loop's");
                this.join.0.complete(Err(JoinError::Panicked(p)));
                Poll::Ready(())
            }
        }
    }

    fn is_aborted(&self) -> bool {
        self.join.0.is_aborted()
    }
}

type BoxTask = Pin<Box<dyn Runnable>>;

struct Slot {
    gen: u32,
    /// The future; `None` while polled.
    task: Option<BoxTask>,
    header: Arc<TaskWaker>,
    repoll: bool,
}

/// The loop's task operations, monomorphised where `D: 'static` holds.
pub(crate) struct TaskFns<D> {
    pub(crate) poll: fn(&mut Loop<D>, &mut D, u32, u32),
    pub(crate) drop_all: fn(&mut Loop<D>),
}

impl<D> Clone for TaskFns<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for TaskFns<D> {}

/// The tasks of one loop.
///
/// Not a [`GenSlab`](crate::slots::GenSlab): the generation fills padding
/// beside `repoll`, and `GenSlab`'s slot would grow the 32-byte slot to
/// 40 (`size_of`, measured); the generation also travels in each task's
/// waker and microtask entries, which name a task by `(index, gen)`.
#[derive(Default)]
pub(crate) struct Tasks {
    slots: Slab<Slot>,
    next_gen: u32,
    /// Created with the first task.
    pub(crate) wakes: Option<Arc<Wakes>>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        if let Some(w) = &self.wakes {
            w.release();
        }
    }
}

impl Tasks {
    /// Whether a wake may be waiting to be moved to the microtask queue.
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        match &self.wakes {
            Some(w) => w.has_wakes(),
            None => false,
        }
    }

    /// Number of live tasks.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

impl<D> Loop<D> {
    /// Moves waiting wakes to the back of the microtask queue.
    #[inline]
    pub(crate) fn flush_wakes(&mut self) {
        if self.tasks.has_wakes() {
            self.flush_wakes_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn flush_wakes_slow(&mut self) {
        // Disjoint fields: no clone of the `Arc` (two locked instructions).
        let Some(w) = &self.tasks.wakes else {
            return;
        };
        let q = &mut self.microtasks;
        w.take(|(index, gen)| q.push_back(Micro::Task { index, gen }));
    }

    /// The number of tasks alive (spawned, not finished, not dropped).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }
}

impl<D: 'static> Loop<D> {
    /// Spawns `fut` as a task of this loop and polls it at once, as calling
    /// a JavaScript `async function` runs its body up to its first `await`
    /// (no nextTick or microtask drain follows: that is for the callback
    /// that called `spawn_local`). When woken, it is polled as a microtask
    /// (see the `task` module). `data` is the state the first poll reaches
    /// through [`task::with`](crate::task::with).
    ///
    /// The future need not be `Send`; its output is the [`JoinHandle`]'s.
    /// A panic in a poll is the task's error ([`JoinError::Panicked`]), not
    /// the loop's. A pending task does not keep the loop alive (as a
    /// pending promise does not keep Node.js alive): what it waits on does.
    ///
    /// ```
    /// use loop_core::{task, Loop, RunMode};
    ///
    /// let mut lp: Loop<Vec<&str>> = Loop::new()?;
    /// let mut log = Vec::new();
    /// let h = lp.spawn_local(&mut log, async {
    ///     task::with(|_, log: &mut Vec<&str>| log.push("body, up to the first await"));
    ///     task::yield_now().await;
    ///     task::with(|_, log: &mut Vec<&str>| log.push("continuation, a microtask"));
    ///     7
    /// });
    /// log.push("after spawn_local");
    /// lp.run(RunMode::Default, &mut log)?;
    /// assert_eq!(log, ["body, up to the first await", "after spawn_local", "continuation, a microtask"]);
    /// let mut h = h;
    /// assert_eq!(h.try_take().unwrap().unwrap(), 7);
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn spawn_local<F>(&mut self, data: &mut D, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let inner = JoinInner::new();
        let wakes = match self.task_wakes() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, "spawn_local: no cross-thread wake-up");
                inner.complete(Err(JoinError::Spawn(e)));
                return JoinHandle::new(inner, Waker::noop().clone());
            }
        };
        let gen = self.tasks.next_gen;
        self.tasks.next_gen = gen.wrapping_add(1);
        let entry = self.tasks.slots.vacant_entry();
        let index = entry.key() as u32;
        let header = Arc::new(TaskWaker::new(index, gen, wakes));
        let waker = Waker::from(Arc::clone(&header));
        let task: BoxTask = Box::pin(Task {
            fut,
            join: Completer(Rc::clone(&inner)),
            waker: waker.clone(),
        });
        entry.insert(Slot {
            gen,
            task: Some(task),
            header,
            repoll: false,
        });
        self.poll_task(data, index, gen);
        JoinHandle::new(inner, waker)
    }

    /// The loop's wake list, made with the first task (with the internal
    /// async handle that carries wakes from other threads).
    fn task_wakes(&mut self) -> crate::Result<Arc<Wakes>> {
        if let Some(w) = &self.tasks.wakes {
            return Ok(Arc::clone(w));
        }
        // Its callback does nothing: the drain after it moves the wakes.
        let h = self.async_init(|_, _| {})?;
        self.unref(h)?;
        self.set_internal(h, true)?;
        let w = Arc::new(Wakes::new(self.async_sender(h)?));
        self.tasks.wakes = Some(Arc::clone(&w));
        self.task_fns = Some(TaskFns {
            poll: Loop::<D>::poll_task,
            drop_all: drop_all_tasks::<D>,
        });
        Ok(w)
    }

    /// Polls task `(index, gen)` if it is still there: a microtask entry,
    /// or the first poll at spawn.
    pub(crate) fn poll_task(&mut self, data: &mut D, index: u32, gen: u32) {
        let Some(slot) = self.tasks.slots.get_mut(index as usize) else {
            return;
        };
        if slot.gen != gen {
            return;
        }
        let Some(mut task) = slot.task.take() else {
            slot.repoll = true; // in its own poll: see the invariants
            return;
        };
        slot.header.begin_poll();
        if task.is_aborted() {
            self.finish_task(index, task);
            return;
        }
        let r = cx::enter(self, Some(data), || task.as_mut().run());
        match r {
            Poll::Ready(()) => self.finish_task(index, task),
            Poll::Pending => {
                let slot = &mut self.tasks.slots[index as usize];
                slot.task = Some(task);
                if std::mem::take(&mut slot.repoll) {
                    self.microtasks.push_back(Micro::Task { index, gen });
                }
            }
        }
    }

    /// Removes a task and drops its future with the loop published.
    fn finish_task(&mut self, index: u32, task: BoxTask) {
        let slot = self.tasks.slots.remove(index as usize);
        slot.header.done();
        drop_task(self, task);
    }
}

/// Drops a task's future with the loop published to `with_loop`; a panic
/// in its `Drop` is logged, never the loop's.
fn drop_task<D: 'static>(lp: &mut Loop<D>, task: BoxTask) {
    let r = cx::enter(lp, None, || catch_unwind(AssertUnwindSafe(|| drop(task))));
    if r.is_err() {
        tracing::error!("a task's future panicked in its drop: ignored");
    }
}

/// The loop's drop: drops every task (a future's drop may spawn another,
/// so until none is left).
fn drop_all_tasks<D: 'static>(lp: &mut Loop<D>) {
    while let Some(index) = lp.tasks.slots.iter().next().map(|(i, _)| i) {
        let slot = lp.tasks.slots.remove(index);
        slot.header.done();
        if let Some(task) = slot.task {
            drop_task(lp, task);
        }
    }
}

use std::rc::Rc;
