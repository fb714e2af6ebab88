//! A task's result and the handle that awaits it.
//!
//! # Invariants
//!
//! - A task's result is written once, by the task (its output, or its
//!   panic), or by its drop when it had not finished (aborted, or dropped
//!   with its loop): [`Completer`]'s `Drop` writes `Aborted` if nothing
//!   was written, so a [`JoinHandle`] always resolves.
//! - Whoever writes the result wakes the waker last given by a poll of
//!   the handle.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Why a task has no output.
pub enum JoinError {
    /// The task panicked; the payload, as `catch_unwind` gives it.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The task was aborted ([`JoinHandle::abort`]) or dropped with its
    /// loop before it finished.
    Aborted,
    /// The task could not be spawned: the loop's cross-thread wake-up (an
    /// eventfd, created with the first task) could not be made.
    Spawn(crate::Error),
}

impl JoinError {
    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// Whether the task was aborted or dropped before it finished.
    pub fn is_aborted(&self) -> bool {
        matches!(self, JoinError::Aborted)
    }

    /// The panic message, when the payload is a string (as `panic!` makes).
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            _ => None,
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => f
                .debug_tuple("Panicked")
                .field(&self.panic_message().unwrap_or("<non-string payload>"))
                .finish(),
            JoinError::Aborted => f.write_str("Aborted"),
            JoinError::Spawn(e) => f.debug_tuple("Spawn").field(e).finish(),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "task panicked: {m}"),
                None => f.write_str("task panicked"),
            },
            JoinError::Aborted => f.write_str("task aborted"),
            JoinError::Spawn(e) => write!(f, "spawn_local: {e}"),
        }
    }
}

impl std::error::Error for JoinError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JoinError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// What a task and its handle share.
pub(crate) struct JoinInner<T> {
    result: RefCell<Option<Result<T, JoinError>>>,
    finished: Cell<bool>,
    aborted: Cell<bool>,
    joiner: RefCell<Option<Waker>>,
}

impl<T> JoinInner<T> {
    pub(crate) fn new() -> Rc<Self> {
        Rc::new(Self {
            result: RefCell::new(None),
            finished: Cell::new(false),
            aborted: Cell::new(false),
            joiner: RefCell::new(None),
        })
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.get()
    }

    /// Writes the result (once) and wakes the joiner.
    pub(crate) fn complete(&self, r: Result<T, JoinError>) {
        if self.finished.replace(true) {
            return;
        }
        *self.result.borrow_mut() = Some(r);
        let w = self.joiner.borrow_mut().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// The task's side: writes `Aborted` if dropped before the task finished.
pub(crate) struct Completer<T>(pub(crate) Rc<JoinInner<T>>);

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        self.0.complete(Err(JoinError::Aborted));
    }
}

/// A spawned task ([`Loop::spawn_local`](crate::Loop::spawn_local)), and a
/// future of its result: `Ok(output)`, or a [`JoinError`] when it panicked
/// or was aborted. Dropping the handle detaches the task (it runs on).
/// Not `Send`: tasks are local to their loop's thread.
#[must_use = "dropping a JoinHandle detaches the task; .await it, or drop it on purpose"]
pub struct JoinHandle<T> {
    inner: Rc<JoinInner<T>>,
    task: Waker,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(inner: Rc<JoinInner<T>>, task: Waker) -> Self {
        Self { inner, task }
    }

    /// Aborts the task: it is dropped at the next safe point (its next turn
    /// in the microtask queue, never in the middle of a poll), and the
    /// handle resolves to [`JoinError::Aborted`]. Does nothing once the
    /// task finished.
    pub fn abort(&self) {
        if self.inner.finished.get() || self.inner.aborted.replace(true) {
            return;
        }
        self.task.wake_by_ref();
    }

    /// Detaches the task: it runs on, and its result is dropped. The same
    /// as dropping the handle, said on purpose.
    pub fn detach(self) {}

    /// Whether the task finished (with an output, a panic, or aborted).
    pub fn is_finished(&self) -> bool {
        self.inner.finished.get()
    }

    /// The result, if the task finished and nobody took it yet; for code
    /// outside a task (a test after `run`).
    pub fn try_take(&mut self) -> Option<Result<T, JoinError>> {
        self.inner.result.borrow_mut().take()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.inner.finished.get())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(r) = self.inner.result.borrow_mut().take() {
            return Poll::Ready(r);
        }
        if self.inner.finished.get() {
            // Taken already (`try_take`, or polled after Ready).
            return Poll::Ready(Err(JoinError::Aborted));
        }
        let mut j = self.inner.joiner.borrow_mut();
        match &mut *j {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
