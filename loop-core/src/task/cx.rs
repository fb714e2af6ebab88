//! The task context: how a future reaches the loop and the embedder's
//! state while it is polled, in the spirit of calloop's `&mut Data`.
//!
//! # Invariants
//!
//! - [`CX`] holds the loop (and, while a task is polled, the state `D`) for
//!   exactly the duration of a poll, or of a task's drop by the loop
//!   (abort, completion, the loop's own drop; the state is absent then).
//!   It is set by [`enter`] only, with references the caller holds
//!   borrowed for that duration, so no reference outlives its scope.
//! - While [`with`] runs its closure the slot is empty (the scoped
//!   thread-local takes the value out): a nested `with` finds nothing and
//!   can never hand out a second `&mut` to the same loop. A nested poll
//!   (a `make_callback` from inside `with` drains the microtask queue and
//!   polls another task) sets the slot anew for its own duration.
//! - The loop and the state are kept as `&mut dyn Any` so that one
//!   thread-local serves loops of every state type; [`with`] checks the
//!   type (a `TypeId` compare) before it hands them out.
//!
//! This uses `scoped-tls-hkt` (loop-js uses it for the same need) rather
//! than a raw pointer in a thread-local: the crate keeps the unsafe
//! lifetime erasure behind a scope, and loop-core stays
//! `#![forbid(unsafe_code)]`.

use super::AnyLoop;
use crate::event_loop::Loop;
use scoped_tls_hkt::{scoped_thread_local, ReborrowMut};
use std::any::Any;

/// What a poll can reach: the loop, and the state when there is one.
pub(crate) struct Cx<'a> {
    lp: &'a mut dyn AnyLoop,
    data: Option<&'a mut (dyn Any + 'static)>,
}

impl<'a, 'b: 'a> ReborrowMut<'a> for Cx<'b> {
    type Result = Cx<'a>;
    fn reborrow_mut(&'a mut self) -> Cx<'a> {
        Cx {
            lp: &mut *self.lp,
            data: self.data.as_deref_mut(),
        }
    }
}

scoped_thread_local!(
    /// The loop (and state) of the task being polled on this thread.
    static mut CX: for<'a> Cx<'a>
);

/// Runs `f` with the loop (and the state, if given) published to
/// [`with`] and [`with_loop`].
pub(crate) fn enter<D: 'static, R>(
    lp: &mut Loop<D>,
    data: Option<&mut D>,
    f: impl FnOnce() -> R,
) -> R {
    let cx = Cx {
        lp,
        data: data.map(|d| d as &mut dyn Any),
    };
    CX.set(cx, f)
}

/// Whether a task context is set on this thread and free to borrow.
fn is_set() -> bool {
    CX.is_set()
}

/// Runs `f` with the loop and the state of the task being polled on this
/// thread: `Some` inside a task's poll on a `Loop<D>` (the loop's own, or
/// a future's `poll` called from it), `None` elsewhere: outside any poll,
/// on a loop of another state type, while the loop drops a task (no state
/// then: see [`with_loop`]), or nested inside another `try_with`/`with`.
///
/// This is how a future built by another crate registers loop callbacks
/// (a timer, an I/O watcher, a pool request) from inside its `poll`, and
/// how a task reaches the embedder's state.
///
/// ```
/// use loop_core::{task, Loop, RunMode};
///
/// let mut lp: Loop<Vec<&str>> = Loop::new()?;
/// let mut log = Vec::new();
/// lp.spawn_local(&mut log, async {
///     task::try_with(|lp: &mut Loop<Vec<&str>>, log: &mut Vec<&str>| {
///         log.push("in the task");
///         lp.set_immediate(|_, log| log.push("immediate"));
///     })
///     .expect("inside a poll");
/// });
/// assert!(task::try_with(|_: &mut Loop<Vec<&str>>, _: &mut Vec<&str>| ()).is_none());
/// lp.run(RunMode::Default, &mut log)?;
/// assert_eq!(log, ["in the task", "immediate"]);
/// # Ok::<(), loop_core::Error>(())
/// ```
pub fn try_with<D: 'static, R>(f: impl FnOnce(&mut Loop<D>, &mut D) -> R) -> Option<R> {
    if !is_set() {
        return None;
    }
    CX.with(|cx| {
        let lp = cx.lp.as_any_mut().downcast_mut::<Loop<D>>()?;
        let data = cx.data?.downcast_mut::<D>()?;
        Some(f(lp, data))
    })
}

/// [`try_with`], for code that only runs inside a task's poll.
///
/// # Panics
///
/// Outside a task's poll on a `Loop<D>` (see [`try_with`] for when there
/// is none): a program error, like polling a future on the wrong executor.
pub fn with<D: 'static, R>(f: impl FnOnce(&mut Loop<D>, &mut D) -> R) -> R {
    try_with(f).expect(
        "loop_core::task::with called outside a task's poll on a Loop<D> of this state type",
    )
}

/// Runs `f` with the loop alone: `Some` inside a task's poll and also
/// while the loop drops a task (an abort, a finished task, the loop's own
/// drop), where there is no state. A future's `Drop` uses it to cancel
/// what it registered (a timer, a queued request).
pub fn with_loop<D: 'static, R>(f: impl FnOnce(&mut Loop<D>) -> R) -> Option<R> {
    if !is_set() {
        return None;
    }
    CX.with(|cx| Some(f(cx.lp.as_any_mut().downcast_mut::<Loop<D>>()?)))
}

/// [`with_loop`] for futures that are not generic over the state type:
/// the loop as [`AnyLoop`]. `Some` inside a task's poll and while the loop
/// drops a task, whatever the loop's state type.
pub fn with_any_loop<R>(f: impl FnOnce(&mut dyn AnyLoop) -> R) -> Option<R> {
    if !is_set() {
        return None;
    }
    CX.with(|cx| Some(f(cx.lp)))
}
