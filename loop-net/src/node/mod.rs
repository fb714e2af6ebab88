//! The Node.js level: `net.Server` ([`Server`]) and `net.Socket`
//! ([`Socket`]), built on the streams' and listeners' public surface
//! alone, as Node's `lib/net.js` is built on libuv's `uv_stream_t`.
//!
//! # Layering
//!
//! The stream below knows nothing of this layer: a socket is a stream
//! whose callbacks (read, connect, write, shutdown, close) are this
//! module's functions, and whose Node.js state (flags, handlers, timer,
//! server) lives in a table of its own, indexed by [`Stream::slot`] and
//! checked against the whole id. A read reaches `on_data` so: the
//! stream's readiness callback reads into the loop's buffer and runs its
//! read callback through [`Loop::make_callback`]; that callback
//! (`socket::on_read`, a plain function: boxing it allocates nothing)
//! finds the socket's state and runs the `on_data` handler through
//! `make_callback` in turn, which drains the nextTick and microtask
//! queues after it, as Node's `onStreamRead` → `push` → `'data'` does.
//!
//! Writes go to the stream's `try_write` first (Node's `writeGeneric`);
//! what does not go out is queued with a write callback of this layer,
//! which runs the user's callback and, once the stream has no write
//! request left ([`Stream::write_requests`]), emits `'drain'` or destroys
//! the socket after a failure.
//!
//! # Life of a socket
//!
//! A socket is open until it is *destroyed*: by [`Socket::destroy`], by an
//! error (`on_error`, then `on_close(true)`), or by itself once both
//! directions are done: the peer's FIN was read (`on_end`) **and** our
//! `end()` was flushed and shut down. Without `allow_half_open` (the
//! default), reading the peer's FIN calls `end()` for us, after the writes
//! already queued. `on_close(had_error)` runs last, in the close phase.
//!
//! # Ordering guarantees
//!
//! As Node.js 20:
//!
//! - `on_data` and `on_end` run in the poll phase, one callback each,
//!   with the nextTick and microtask queues drained after each;
//! - `on_error` runs on the next tick after the failure (Node's
//!   `process.nextTick(emitErrorNT)`), before `on_close(true)`, which runs
//!   in the close phase;
//! - write callbacks run in order, each before `on_drain`;
//! - the server's connection count drops when a socket is destroyed, and
//!   a closed server's `close` callbacks run on the next tick once the
//!   count is 0, possibly before the last socket's `on_close` (as Node).
//!
//! # Backpressure
//!
//! [`Socket::write`] returns `false` once the bytes not yet taken by the
//! kernel ([`Socket::writable_length`]) reach the high-water mark (16 KiB
//! by default, Node's `writableHighWaterMark`); `on_drain` runs when they
//! are all written. A writer that stops on `false` until `on_drain` (or
//! pauses its source, as an echo does with [`Socket::pause`]) keeps memory
//! bounded however slow the reader is: the data waits in the peer's TCP
//! window, not in this process.
//!
//! # Differences from Node.js
//!
//! - No `readable`/`Readable` stream API: data is pushed to `on_data` (Node's
//!   flowing mode); `pause` stops reading from the socket.
//! - An error with no `on_error` handler is not thrown (there is no
//!   exception): [`Loop::run`] returns it as
//!   [`loop_core::Error::Unhandled`] after the current callback, and the
//!   loop can be run again.
//! - `write` takes bytes or UTF-8 text ([`Buf`]; no other encodings); no
//!   `cork`/`uncork`.
//! - Events have one handler each (`on_data` replaces the previous one).

mod buf;
mod dgram;
mod lines;
mod server;
mod socket;

pub use buf::Buf;
pub use dgram::{DgramCb, DgramOptions, DgramSendCb, DgramSocket, DgramType, RemoteInfo};
pub use server::{Server, ServerOptions};
pub use socket::{Socket, DEFAULT_HIGH_WATER_MARK};

use crate::stream::Stream;
use loop_core::slots::GenSlab;
use loop_core::Loop;
use server::ServerState;
use socket::SocketState;

/// The Node.js level's per-loop state: its own loop extension, beside the
/// streams' (which it never touches but through their public methods).
pub(crate) struct NodeNet<D> {
    /// Socket state by stream slot; each entry names its stream.
    sockets: Vec<Option<Box<SocketState<D>>>>,
    pub(crate) servers: GenSlab<ServerState<D>>,
}

/// The loop's Node.js state, created if there is none (for the paths
/// that make a socket or a server).
fn node<D: 'static>(lp: &mut Loop<D>) -> &mut NodeNet<D> {
    lp.extension_or_insert_with(|_| NodeNet::<D> {
        sockets: Vec::new(),
        servers: GenSlab::new(),
    })
}

/// The Node.js state of the socket on `s`, if it is one. Never inserts.
#[inline]
fn socket_state<D: 'static>(lp: &mut Loop<D>, s: Stream) -> Option<&mut SocketState<D>> {
    lp.extension_mut::<NodeNet<D>>()?
        .sockets
        .get_mut(s.slot())?
        .as_deref_mut()
        .filter(|ns| ns.stream == s)
}

#[inline]
fn socket_ref<D: 'static>(lp: &Loop<D>, s: Stream) -> Option<&SocketState<D>> {
    lp.extension::<NodeNet<D>>()?
        .sockets
        .get(s.slot())?
        .as_deref()
        .filter(|ns| ns.stream == s)
}
