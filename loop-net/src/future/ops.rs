//! The loop operations of the async types, monomorphised for the loop's
//! state type when a stream or listener is made, so that the types
//! themselves are not generic over it (as `loop_core::task::sleep` and
//! `loop_fs::future` are not).
//!
//! # Invariants
//!
//! - An [`Ops`] table is a `'static` constant per state type `D`
//!   ([`ops`]); each entry downcasts the task's `&mut dyn AnyLoop` to
//!   `Loop<D>` (a `TypeId` compare) and calls the stream layer's public
//!   surface: this module knows the layer below, and nothing above.
//! - A loop of another state type is an `EINVAL` error naming the
//!   operation, never a panic.
//! - The callbacks given to the stream layer only record and wake: no
//!   user code runs in them, so they never start a nested poll themselves
//!   (the drain that follows them, in `make_callback`, polls the task).

use super::stream::{on_read, Shared};
use crate::error::{Address, Error, Result};
use crate::{Listener, Stream};
use loop_core::task::AnyLoop;
use loop_core::Loop;
use std::marker::PhantomData;
use std::rc::Rc;

/// Queues a write whose completion is recorded in the stream's cell.
type WriteQueuedFn = fn(&mut dyn AnyLoop, Stream, &[u8], &Rc<Shared>) -> Result<()>;

/// The operations of one state type `D`.
pub(crate) struct Ops {
    pub(crate) read_start: fn(&mut dyn AnyLoop, Stream, &Rc<Shared>) -> Result<()>,
    pub(crate) try_write: fn(&mut dyn AnyLoop, Stream, &[u8]) -> Result<usize>,
    pub(crate) write_queued: WriteQueuedFn,
    pub(crate) queue_size: fn(&mut dyn AnyLoop, Stream) -> Result<usize>,
    pub(crate) shutdown: fn(&mut dyn AnyLoop, Stream, &Rc<Shared>) -> Result<()>,
    pub(crate) close: fn(&mut dyn AnyLoop, Stream),
    pub(crate) peer_addr: fn(&mut dyn AnyLoop, Stream) -> Result<Address>,
    pub(crate) accept: fn(&mut dyn AnyLoop, Listener) -> Result<Stream>,
    pub(crate) close_listener: fn(&mut dyn AnyLoop, Listener),
}

struct For<D>(PhantomData<fn() -> D>);

impl<D: 'static> For<D> {
    const OPS: Ops = Ops {
        read_start: read_start::<D>,
        try_write: try_write::<D>,
        write_queued: write_queued::<D>,
        queue_size: queue_size::<D>,
        shutdown: shutdown::<D>,
        close: close::<D>,
        peer_addr: peer_addr::<D>,
        accept: accept::<D>,
        close_listener: close_listener::<D>,
    };
}

/// The table of `Loop<D>`.
pub(crate) fn ops<D: 'static>() -> &'static Ops {
    &For::<D>::OPS
}

/// `lp` as the `Loop<D>` it must be (a misuse error for a loop of
/// another state type; the UDP table uses it too).
pub(super) fn on<'a, D: 'static>(
    lp: &'a mut dyn AnyLoop,
    op: &'static str,
) -> Result<&'a mut Loop<D>> {
    lp.as_any_mut().downcast_mut::<Loop<D>>().ok_or_else(|| {
        Error::misuse(
            op,
            libc::EINVAL,
            "polled on a loop of another state type than its own",
        )
    })
}

fn read_start<D: 'static>(lp: &mut dyn AnyLoop, s: Stream, sh: &Rc<Shared>) -> Result<()> {
    let lp = on::<D>(lp, "read_start")?;
    let sh = Rc::clone(sh);
    // The same closure type every time: a resume writes over the kept
    // callback in place (no allocation).
    s.read_start(lp, move |lp: &mut Loop<D>, _: &mut D, s, ev| {
        on_read(lp, s, &sh, ev)
    })
}

fn try_write<D: 'static>(lp: &mut dyn AnyLoop, s: Stream, b: &[u8]) -> Result<usize> {
    s.try_write(on::<D>(lp, "write")?, b)
}

fn write_queued<D: 'static>(
    lp: &mut dyn AnyLoop,
    s: Stream,
    b: &[u8],
    sh: &Rc<Shared>,
) -> Result<()> {
    let lp = on::<D>(lp, "write")?;
    let sh = Rc::clone(sh);
    s.write_with(lp, b, move |_, _: &mut D, r| sh.written(r))
}

fn queue_size<D: 'static>(lp: &mut dyn AnyLoop, s: Stream) -> Result<usize> {
    Ok(s.write_queue_size(on::<D>(lp, "write")?))
}

fn shutdown<D: 'static>(lp: &mut dyn AnyLoop, s: Stream, sh: &Rc<Shared>) -> Result<()> {
    let lp = on::<D>(lp, "shutdown")?;
    let sh = Rc::clone(sh);
    s.shutdown(lp, move |_, _: &mut D, r| sh.shut(r))
}

fn close<D: 'static>(lp: &mut dyn AnyLoop, s: Stream) {
    if let Ok(lp) = on::<D>(lp, "close") {
        if s.exists(lp) && !s.is_closing(lp) {
            let _ = s.close(lp, |_, _| {});
        }
    }
}

fn peer_addr<D: 'static>(lp: &mut dyn AnyLoop, s: Stream) -> Result<Address> {
    s.peer_addr(on::<D>(lp, "getpeername")?)
}

fn accept<D: 'static>(lp: &mut dyn AnyLoop, l: Listener) -> Result<Stream> {
    l.accept(on::<D>(lp, "accept")?)
}

fn close_listener<D: 'static>(lp: &mut dyn AnyLoop, l: Listener) {
    if let Ok(lp) = on::<D>(lp, "close") {
        if !l.is_closing(lp) {
            let _ = l.close(lp, |_, _| {});
        }
    }
}
