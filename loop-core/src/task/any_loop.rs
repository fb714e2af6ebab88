//! [`AnyLoop`]: a loop whatever its state type, for futures that are not
//! generic over it (`sleep`, `immediate`, and those of other crates).
//!
//! A task's context holds its loop as `&mut dyn AnyLoop`: the object-safe
//! operations below need no `D` in their signatures (they take a `Waker`
//! where a loop callback would take a closure over `&mut D`), and
//! [`AnyLoop::as_any_mut`] gives the `Loop<D>` back to code that knows `D`
//! (a future that captured a `fn` monomorphised for `D` when it was made).

use crate::event_loop::Loop;
use crate::node::{Immediate, Timeout};
use std::any::Any;
use std::task::Waker;

/// The loop of the task being polled, whatever its state type
/// ([`with_any_loop`](super::with_any_loop)).
pub trait AnyLoop: 'static {
    /// The loop as `Any`, to downcast to `Loop<D>`.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The cached loop time, in ms ([`Loop::now`]).
    fn now_ms(&self) -> u64;
    /// [`Loop::set_timeout`] whose callback wakes `waker`.
    fn set_timeout_waker(&mut self, ms: u64, waker: Waker) -> Timeout;
    /// [`Loop::clear_timeout`].
    fn clear_timeout_any(&mut self, t: Timeout) -> bool;
    /// [`Loop::set_immediate`] whose callback wakes `waker`.
    fn set_immediate_waker(&mut self, waker: Waker) -> Immediate;
    /// [`Loop::clear_immediate`].
    fn clear_immediate_any(&mut self, i: Immediate) -> bool;
}

impl<D: 'static> AnyLoop for Loop<D> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn now_ms(&self) -> u64 {
        self.now()
    }

    fn set_timeout_waker(&mut self, ms: u64, waker: Waker) -> Timeout {
        self.set_timeout(ms, move |_, _| waker.wake())
    }

    fn clear_timeout_any(&mut self, t: Timeout) -> bool {
        self.clear_timeout(t)
    }

    fn set_immediate_waker(&mut self, waker: Waker) -> Immediate {
        self.set_immediate(move |_, _| waker.wake())
    }

    fn clear_immediate_any(&mut self, i: Immediate) -> bool {
        self.clear_immediate(i)
    }
}
