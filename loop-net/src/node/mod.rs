//! The Node.js level: `net.Server` ([`Server`]) and `net.Socket`
//! ([`Socket`]), built on the streams and listeners.
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
//! - An error with no `on_error` handler is logged (`tracing` warning)
//!   instead of being thrown as an uncaught exception.
//! - `write` takes bytes only (no encodings); no `cork`/`uncork`.
//! - Events have one handler each (`on_data` replaces the previous one).

mod server;
mod socket;

pub use server::{Server, ServerOptions};
pub use socket::{Socket, DEFAULT_HIGH_WATER_MARK};

pub(crate) use server::ServerState;
pub(crate) use socket::{after_write, on_closed, on_finish, on_read, SocketState};
