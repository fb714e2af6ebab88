//! `loop-net`: TCP and Unix-domain sockets for a [`loop_core::Loop`], at two
//! levels: libuv's streams ([`Listener`], [`Stream`]) and Node.js's `net`
//! module ([`Server`], [`Socket`]) on top of them.
//!
//! # Layers
//!
//! The stream layer (`Listener`, `Stream`) is libuv's `uv_stream_t`: it
//! knows the callbacks it was given and nothing of who gave them. The
//! Node.js layer (`Server`, `Socket`) is a user of the stream layer's
//! public surface, as Node's `lib/net.js` is of libuv: a socket is a
//! stream whose read, connect, write, shutdown and close callbacks are
//! the Node layer's, with its events, flags and timer in a table of its
//! own ([`Stream::slot`]). A read reaches `on_data` in two calls: the
//! stream's read callback (the Node layer's `onread`), then the `on_data`
//! handler, each through [`loop_core::Loop::make_callback`].
//!
//! An echo server and a client, in one loop, on 127.0.0.1:
//!
//! ```
//! use loop_core::{Loop, RunMode};
//! use loop_net::{Server, ServerOptions, Socket};
//!
//! let mut lp: Loop<Vec<u8>> = Loop::new()?;
//!
//! // The server echoes what it reads; without allow_half_open it ends its
//! // side when the client ends.
//! let server = Server::new(&mut lp, ServerOptions::default());
//! server.on_connection(&mut lp, |lp, _, sock| {
//!     sock.on_data(lp, |lp, _, sock, bytes| {
//!         sock.write(lp, bytes);
//!     });
//! });
//! server.listen(&mut lp, 0, Some("127.0.0.1"))?;
//! let addr = server.address(&mut lp).unwrap().as_inet().unwrap();
//!
//! // The client sends, ends, and keeps what comes back; when its socket
//! // closes, it closes the server, and the loop has nothing left to do.
//! let client = Socket::connect(&mut lp, addr)?;
//! client.write(&mut lp, &b"hello"[..]);
//! client.end(&mut lp);
//! client.on_data(&mut lp, |_, got, _, bytes| got.extend_from_slice(bytes));
//! client.on_close(&mut lp, move |lp, _, _, had_error| {
//!     assert!(!had_error);
//!     server.close(lp);
//! });
//!
//! let mut got = Vec::new();
//! lp.run(RunMode::Default, &mut got)?;
//! assert_eq!(got, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Contents
//!
//! - [`Listener`]: bind and listen (TCP with [`ListenOptions`], or a Unix
//!   path), the connection callback, [`Listener::accept`]; accepting in a
//!   bounded loop, and libuv's spare-fd answer to `EMFILE`;
//! - [`TcpSocket`] and [`UnixSocket`]: bind first, then listen or
//!   connect from the bound address (`uv_tcp_bind`, `uv_pipe_bind`);
//! - [`Stream`]: connect (address, path, host name; or [`Stream::new`]
//!   first, then [`Stream::connect_to`]), `read_start` with
//!   [`ReadEvent`]s, `write` with a queue and vectored writes, `try_write`,
//!   `shutdown`, `close`, `close_reset`, socket options, counters;
//! - [`Server`] and [`Socket`]: Node.js's events (`on_data`, `on_end`,
//!   `on_close(had_error)`, `on_error`, `on_drain`, `on_timeout`…),
//!   `end`/`destroy`, backpressure, `set_timeout`, `max_connections`,
//!   `pause_on_connect`, `allow_half_open`, draining `close`;
//!   `new net.Socket()` ([`Socket::new`]) and `connect()` again after
//!   `'close'` ([`Socket::connect_to`]), a local address to connect from
//!   ([`Socket::connect_from`]);
//! - [`Error`] and [`Address`]: errors that name the operation, the code
//!   and the address (`connect ECONNREFUSED 127.0.0.1:9`);
//! - [`stats`]: what a loop holds, for tests and diagnostics.
//! - [`future`]: the streams for `async` tasks (`accept().await`,
//!   `read`, `write_all`, `shutdown`, `futures-io`'s traits).
//! - [`Udp`] and [`DgramSocket`]: UDP at the libuv level (`uv_udp_t`) and
//!   Node.js's `dgram.Socket` on top of it; `docs/udp.md` in the
//!   repository follows one datagram.
//!
//! `docs/net.md` in the repository follows one connection through the
//! loop's phases and the system calls, from `socket()` to `close()`.
//!
//! # Ordering guarantees
//!
//! - No callback runs from inside the call that caused it: completions and
//!   errors known during a call come in the next pending phase.
//! - Read, accept, connect and write callbacks run in the poll phase (or
//!   the pending phase, for what was known at the call); close callbacks in
//!   the close phase.
//! - Every user callback runs through [`loop_core::Loop::make_callback`]:
//!   a trace record ([`loop_core::CallbackKind::Extension`]), the panic
//!   caught, then the nextTick and microtask queues drained, as Node.js's
//!   `MakeCallback`; between two callbacks of one event too (several
//!   reads, the write callbacks of one flush). After a panic, loop-net
//!   starts no other callback and the panic leaves [`loop_core::Loop::run`];
//!   nothing read is lost (what is still in the kernel is reported on the
//!   next `run`), and completions still due wait for the next `run`.
//! - Write callbacks run in order, then the shutdown callback; closing
//!   calls back a pending connect, then writes, then shutdown, with
//!   `ECANCELED`, then the close callback.
//!
//! # Starvation bounds
//!
//! One readiness event serves at most [`MAX_READS`] reads of a stream and
//! [`ACCEPT_BATCH`] accepts of a listener; the rest waits for the next
//! poll, after every other ready handle had its turn.
//!
//! # Hot path
//!
//! - A stream is in the epoll set for reading only while it reads:
//!   [`Stream::read_stop`] (and [`Socket::pause`]) takes the read interest
//!   out, so a paused connection costs no wake-up however much the peer
//!   sends; `read_start` puts it back and epoll reports what waited.
//! - Resuming allocates nothing: `read_start` with a callback of the same
//!   type as the kept one writes over it in place (the Node layer's read
//!   callback is a plain function, which needs no allocation at all).
//! - [`Stream::try_write`]'s `EAGAIN` is a shared error: no allocation.
//! - The I/O callbacks find the loop's stream table by its extension key,
//!   without a type search; queries (`is_readable`, `bytes_read`,
//!   [`stats`]…) take `&Loop` and never create that table.
//!
//! # Memory
//!
//! An idle connection costs its loop-core handle slot and its I/O
//! callback's boxed id, a 64-byte entry here (no buffer: reads use one
//! 64 KiB buffer per loop; the requests' state — write queue, connect,
//! shutdown — is boxed apart and exists only while one is pending), its
//! read callback, and, for a [`Socket`], its Node.js state and event
//! handlers. Unwritten data is owned by the queue; see [`Socket::write`]
//! for how backpressure bounds it.
//!
//! # Differences from libuv and Node.js
//!
//! Each module's docs list them; in short: accepting loops until `EAGAIN`
//! with a bound (libuv 1.46 accepts one connection per event), a failed
//! write fails the writes queued behind it at once, a listener is its own
//! type, and misuse is an [`Error`], never an assertion.
//!
//! # Unsafe code
//!
//! One call only: `recvmmsg` (libc; socket2 and rustix have no wrapper),
//! in the `sys` module, each `unsafe` block with its `SAFETY` line; the
//! crate is `#![deny(unsafe_code)]`, allowed on those two items alone.
//! socket2, mio, rustix and std cover every other call.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bind;
mod error;
pub mod future;
mod listener;
mod node;
mod state;
mod stats;
mod stream;
mod sys;
mod udp;

pub use bind::{TcpSocket, UnixSocket};
pub use error::{Address, Error, Result};
pub use listener::{
    ConnectionCb, ListenOptions, Listener, ACCEPT_BATCH, DEFAULT_BACKLOG, RETRY_MS,
};
pub use node::{Buf, Server, ServerOptions, Socket};
pub use node::{DgramCb, DgramOptions, DgramSendCb, DgramSocket, DgramType, RemoteInfo};
pub use state::READ_BUF;
pub use stats::{stats, NetStats};
pub use stream::{CloseCb, ConnectCb, ReadCb, ReadEvent, Stream, WriteCb, MAX_IOV, MAX_READS};
pub use udp::{
    BindFlags, Datagram, Membership, RecvCb, SendCb, Udp, UdpCloseCb, MAX_DATAGRAM, MAX_RECVS,
    RECV_BUF,
};

/// Node.js's default high-water mark for a socket's writes: 16 KiB.
pub const DEFAULT_HIGH_WATER_MARK: usize = node::DEFAULT_HIGH_WATER_MARK;
