//! `net.Socket`: a stream with Node.js's events, end/destroy life cycle,
//! backpressure and idle timeout, on the stream's public surface.
//!
//! Invariants:
//! - a socket's state is in the Node table from `attach` until its
//!   `'close'` handler returned (`on_closed`, which every destroy passes:
//!   the stream's close callback, or the next tick for a socket with no
//!   connection), unless that handler connected it again; a socket of
//!   `Socket::new` (`REUSABLE`) stays until `release`, its stream kept
//!   unconnected by `close_keep`;
//! - a socket connects only on an unconnected stream, and each connect
//!   starts from a new socket's flags (`connecting_again`), keeping only
//!   `KEPT_ACROSS_CONNECTS`;
//! - every handler runs through [`Loop::make_callback`] (nested in the
//!   stream's own call when the stream called us); after a panic the
//!   socket returns at once, its state in order, and starts nothing more.

use super::lines::{Lines, TooLong};
use super::server::{self, Server};
use super::Buf;
use super::{node, socket_ref, socket_state};
use crate::error::{Address, Error, Result};
use crate::stream::{ReadEvent, Stream, WriteCb};
use loop_core::{Loop, Timeout};
use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

/// Node.js's default `writableHighWaterMark`: 16 KiB.
pub const DEFAULT_HIGH_WATER_MARK: usize = 16 * 1024;

/// A Node.js-style socket (`net.Socket`): a [`Stream`] with events. A small
/// `Copy` id, the same as its stream's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Socket(pub(crate) Stream);

impl fmt::Display for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "socket #{}.{}", self.0.index, self.0.gen)
    }
}

type DataCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Socket, &[u8])>;
type EventCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Socket)>;
type CloseEventCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Socket, bool)>;
type ErrorCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Socket, Error)>;
type LineCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Socket, &[u8])>;

pub(crate) struct Handlers<D> {
    data: Option<DataCb<D>>,
    end: Option<EventCb<D>>,
    close: Option<CloseEventCb<D>>,
    /// [`Socket::on_close_first`]: runs before `close`.
    close_first: Option<CloseEventCb<D>>,
    error: Option<ErrorCb<D>>,
    drain: Option<EventCb<D>>,
    timeout: Option<EventCb<D>>,
    connect: Option<EventCb<D>>,
    line: Option<LineCb<D>>,
    finish: Option<EventCb<D>>,
}

// Socket flags.
const ALLOW_HALF_OPEN: u16 = 1;
/// `end()` was called.
const ENDED: u16 = 1 << 1;
/// Our FIN went out (the shutdown completed).
const FINISHED: u16 = 1 << 2;
/// The peer's FIN was read.
const READ_ENDED: u16 = 1 << 3;
const DESTROYED: u16 = 1 << 4;
const HAD_ERROR: u16 = 1 << 5;
/// `pause()`d (or created paused): do not read.
const PAUSED: u16 = 1 << 6;
const NEED_DRAIN: u16 = 1 << 7;
/// Counted in its server's connections.
const COUNTED: u16 = 1 << 8;
/// Destroyed while still connecting: its queued writes fail with
/// `ERR_SOCKET_CLOSED_BEFORE_CONNECTION`, not `ECANCELED` (Node's
/// `_writeGeneric` while `connecting`).
const CLOSED_CONNECTING: u16 = 1 << 9;
/// `destroy_soon()`: destroy once our FIN is out.
const DESTROY_SOON: u16 = 1 << 10;
/// A write canceled by `destroy` was reported: Node hands one write at a
/// time to libuv, and only that one (in flight) calls back with no
/// error; the ones still in its buffer get `ERR_STREAM_DESTROYED`.
const CANCEL_SEEN: u16 = 1 << 11;
/// Made by [`Socket::new`]: closing keeps the id (its stream is closed
/// with `close_keep`), so it may connect again, until `release`.
const REUSABLE: u16 = 1 << 12;
/// A reusable socket whose `'close'` ran: nothing of it is pending.
const CLOSED: u16 = 1 << 13;
/// `reset_and_destroy()` while connecting: reset once connected.
const RESET_ON_CONNECT: u16 = 1 << 14;
/// `set_no_delay(true)`: applied to each connection once connected
/// (Node's `kSetNoDelay`).
const NO_DELAY: u16 = 1 << 15;
/// What a new connect of a reusable socket keeps of its flags.
const KEPT_ACROSS_CONNECTS: u16 = ALLOW_HALF_OPEN | PAUSED | REUSABLE | NO_DELAY;
/// `keep_alive` when off.
const KEEP_ALIVE_OFF: u32 = u32::MAX;

/// The Node.js state of a socket, in the Node table at its stream's slot.
pub(crate) struct SocketState<D> {
    /// The stream it belongs to (the table is indexed by slot only).
    pub(super) stream: Stream,
    flags: u16,
    /// The first write failure of the current batch of write callbacks.
    write_failed: Option<Error>,
    hwm: u32,
    /// `set_keep_alive`: the idle seconds (0: the system's), or
    /// [`KEEP_ALIVE_OFF`]; applied to each connection once connected
    /// (Node's `kSetKeepAlive`).
    keep_alive: u32,
    timeout_ms: u32,
    server: Option<Server>,
    timeout: Option<Timeout>,
    /// The reads-only idle timeout ([`Socket::set_read_timeout`]).
    read_timeout_ms: u32,
    read_timeout: Option<Timeout>,
    /// `end_with_deadline`'s timer: destroys the socket when it fires.
    deadline: Option<Timeout>,
    /// The line reader, with `on_line`.
    lines: Option<Lines>,
    /// The user's value ([`Socket::set_data`]).
    user: Option<Box<dyn Any>>,
    h: Handlers<D>,
}

impl<D> SocketState<D> {
    pub(crate) fn new(
        stream: Stream,
        server: Option<Server>,
        allow_half_open: bool,
        paused: bool,
        hwm: usize,
    ) -> Self {
        let mut flags = 0;
        if allow_half_open {
            flags |= ALLOW_HALF_OPEN;
        }
        if paused {
            flags |= PAUSED;
        }
        if server.is_some() {
            flags |= COUNTED;
        }
        SocketState {
            stream,
            flags,
            write_failed: None,
            hwm: hwm.min(u32::MAX as usize) as u32,
            keep_alive: KEEP_ALIVE_OFF,
            timeout_ms: 0,
            server,
            timeout: None,
            read_timeout_ms: 0,
            read_timeout: None,
            deadline: None,
            lines: None,
            user: None,
            h: Handlers {
                data: None,
                end: None,
                close: None,
                close_first: None,
                error: None,
                drain: None,
                timeout: None,
                connect: None,
                line: None,
                finish: None,
            },
        }
    }
}

fn state<D: 'static>(lp: &mut Loop<D>, s: Stream) -> Option<&mut SocketState<D>> {
    socket_state(lp, s)
}

/// What running a handler came to.
#[derive(PartialEq, Eq)]
enum Emit {
    Ran,
    NoHandler,
    /// It panicked: return at once, start nothing more.
    Panicked,
}

/// Calls handler `$field` with `$args` through `make_callback` (taken out
/// of the state during the call, put back unless replaced, and put back
/// before the tick queues drain, so that a tick emitting the same event
/// finds it). Evaluates to an [`Emit`].
macro_rules! emit {
    ($lp:expr, $d:expr, $s:expr, $field:ident $(, $arg:expr)*) => {{
        let mut taken = state($lp, $s).and_then(|ns| ns.h.$field.take());
        match taken.is_some() {
            true => {
                let r = $lp.make_callback($d, concat!("socket.", stringify!($field)), |lp, d| {
                    if let Some(f) = taken.as_mut() {
                        f(lp, d, Socket($s) $(, $arg)*);
                    }
                    // Back before the tick queues drain: a tick may emit
                    // the same event again.
                    if let Some(ns) = state(lp, $s) {
                        if ns.h.$field.is_none() {
                            ns.h.$field = taken.take();
                        }
                    }
                });
                if let (Some(f), Some(ns)) = (taken, state($lp, $s)) {
                    // After a panic in the handler.
                    if ns.h.$field.is_none() {
                        ns.h.$field = Some(f);
                    }
                }
                if r.is_some() { Emit::Ran } else { Emit::Panicked }
            }
            false => Emit::NoHandler,
        }
    }};
}

/// Attaches the Node.js state to a stream.
pub(crate) fn attach<D: 'static>(lp: &mut Loop<D>, ns: SocketState<D>) {
    let slot = ns.stream.slot();
    let t = &mut node(lp).sockets;
    if t.len() <= slot {
        t.resize_with(slot + 1, || None);
    }
    t[slot] = Some(Box::new(ns));
}

impl Socket {
    /// The underlying libuv-level stream (for `try_write`, socket
    /// options…). Close the socket with [`Socket::destroy`] (or
    /// [`Socket::reset_and_destroy`]), not through the stream: the socket's
    /// `'close'` and its server's count come from the close callback that
    /// `destroy` gives the stream.
    pub fn stream(self) -> Stream {
        self.0
    }

    /// `net.connect({port, host})` to an address: the socket now,
    /// `on_connect` once connected, or `on_error` then `on_close(true)`.
    /// Writes and `end()` before that are queued.
    pub fn connect<D: 'static>(lp: &mut Loop<D>, addr: SocketAddr) -> Result<Socket> {
        let s = Stream::connect(lp, addr, on_connect)?;
        attach(
            lp,
            SocketState::new(s, None, false, false, DEFAULT_HIGH_WATER_MARK),
        );
        Ok(Socket(s))
    }

    /// `net.connect(port, host)` with a host name, resolved on loop-fs's
    /// pool (an IP literal is not looked up).
    pub fn connect_host<D: 'static>(lp: &mut Loop<D>, host: &str, port: u16) -> Result<Socket> {
        let s = Stream::connect_host(lp, host, port, on_connect)?;
        attach(
            lp,
            SocketState::new(s, None, false, false, DEFAULT_HIGH_WATER_MARK),
        );
        Ok(Socket(s))
    }

    /// `net.connect({port, host, localAddress, localPort})`: connects to
    /// `addr` from the local address `local` (bound first, with
    /// [`crate::TcpSocket`]). A bind error the kernel gives at once
    /// (`EADDRNOTAVAIL`, `EINVAL`) is returned; a local port in use is
    /// Node's: the socket is made, then destroyed with `bind EADDRINUSE
    /// LOCAL` (`on_error`, then `on_close(true)`), as Node's
    /// `checkBindError` finds it (libuv defers that error).
    pub fn connect_from<D: 'static>(
        lp: &mut Loop<D>,
        local: SocketAddr,
        addr: SocketAddr,
    ) -> Result<Socket> {
        let mut t = crate::TcpSocket::new();
        t.bind(local, false)?;
        let s = if t.local_addr().is_err() {
            // The deferred EADDRINUSE: the connect's callback gets it; say
            // it as Node does (`bind`, the local address).
            t.connect(lp, addr, move |lp, d, s, r: Result<()>| {
                let err = |_| Error::errno("bind", libc::EADDRINUSE, Some(&local));
                on_connect(lp, d, s, r.map_err(err))
            })?
        } else {
            t.connect(lp, addr, on_connect)?
        };
        attach(
            lp,
            SocketState::new(s, None, false, false, DEFAULT_HIGH_WATER_MARK),
        );
        Ok(Socket(s))
    }

    /// `net.connect(path)`: a Unix-domain socket.
    pub fn connect_path<D: 'static>(lp: &mut Loop<D>, path: impl AsRef<Path>) -> Result<Socket> {
        let s = Stream::connect_path(lp, path, on_connect)?;
        attach(
            lp,
            SocketState::new(s, None, false, false, DEFAULT_HIGH_WATER_MARK),
        );
        Ok(Socket(s))
    }

    /// `new net.Socket()`: a socket with no connection yet. Set its
    /// handlers, then [`Socket::connect_to`] (or `connect_to_host`,
    /// `connect_to_path`). Unlike the sockets of [`Socket::connect`] and
    /// of a server, it **keeps its id after `'close'`**: it may connect
    /// again, from its `on_close` handler or any time later, with its
    /// handlers and data (Node.js allows `connect()` on a closed socket).
    /// Its state lives until [`Socket::release`] (or the loop is dropped).
    /// It keeps no loop alive before it connects.
    ///
    /// Node.js's events for it: a write before any connect fails with
    /// `ERR_SOCKET_CLOSED` (write callback, `on_error`, then
    /// `on_close(true)`, all on the next tick), and `destroy()` before any
    /// connect emits `on_close(false)` on the next tick.
    ///
    /// ```
    /// use loop_core::{Loop, RunMode};
    /// use loop_net::{Server, ServerOptions, Socket};
    ///
    /// let mut lp: Loop<u32> = Loop::new()?;
    /// let server = Server::new(&mut lp, ServerOptions::default());
    /// server.on_connection(&mut lp, |lp, _, c| c.end_with(lp, "hi"));
    /// server.listen(&mut lp, 0, Some("127.0.0.1"))?;
    /// let addr = server.address(&lp).unwrap().as_inet().unwrap();
    ///
    /// // Connects twice under the same id: the second time from 'close'.
    /// let s = Socket::new(&mut lp);
    /// s.on_data(&mut lp, |_, n, _, _| *n += 1);
    /// s.on_close(&mut lp, move |lp, n, s, _| {
    ///     if *n == 1 {
    ///         s.connect_to(lp, addr).unwrap();
    ///     } else {
    ///         s.release(lp);
    ///         server.close(lp);
    ///     }
    /// });
    /// s.connect_to(&mut lp, addr)?;
    /// let mut n = 0;
    /// lp.run(RunMode::Default, &mut n)?;
    /// assert_eq!(n, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new<D: 'static>(lp: &mut Loop<D>) -> Socket {
        let s = Stream::new(lp);
        let mut ns = SocketState::new(s, None, false, false, DEFAULT_HIGH_WATER_MARK);
        ns.flags |= REUSABLE;
        attach(lp, ns);
        Socket(s)
    }

    /// `socket.connect({port, host})` on a socket of [`Socket::new`], new
    /// or closed (`'close'` ran), or on **any** socket from inside its
    /// `on_close` handler (Node's reconnect from `'close'`, as
    /// test-net-reconnect-error.js does): as [`Socket::connect`], on this
    /// id, with its handlers and data. While it has a connect in progress
    /// (`EALREADY`) or a connection (`EISCONN`), the error is returned and,
    /// as Node.js does, also destroys the socket (`on_error`, then
    /// `on_close(true)`). `EBADF` between `destroy` and its `'close'`, and
    /// for a socket that is not of `Socket::new` once its `on_close`
    /// returned.
    pub fn connect_to<D: 'static>(self, lp: &mut Loop<D>, addr: SocketAddr) -> Result<()> {
        let r = self.0.connect_to(lp, addr, on_connect);
        started(lp, self.0, r)
    }

    /// [`Socket::connect_to`] a host name, resolved on loop-fs's pool.
    pub fn connect_to_host<D: 'static>(
        self,
        lp: &mut Loop<D>,
        host: &str,
        port: u16,
    ) -> Result<()> {
        let r = self.0.connect_to_host(lp, host, port, on_connect);
        started(lp, self.0, r)
    }

    /// [`Socket::connect_to`] a Unix socket's path.
    pub fn connect_to_path<D: 'static>(
        self,
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        let r = self.0.connect_to_path(lp, path, on_connect);
        started(lp, self.0, r)
    }

    /// Frees a socket of [`Socket::new`] for good: destroys it if it is
    /// connected, and its id names nothing once its `'close'` ran (at
    /// once if it has no connection). A no-op on other sockets' ids once
    /// closed; on a live one of them, `destroy`.
    pub fn release<D: 'static>(self, lp: &mut Loop<D>) {
        let s = self.0;
        let Some(ns) = state(lp, s) else { return };
        ns.flags &= !REUSABLE;
        let f = ns.flags;
        if f & CLOSED != 0 || (f & DESTROYED == 0 && s.is_unconnected(lp)) {
            forget(lp, s);
        } else if f & DESTROYED == 0 {
            destroy(lp, s, None);
        }
        // Else destroyed, its 'close' to come: `on_closed` frees it.
    }

    /// Makes a socket of a connected stream (`new net.Socket({handle})`);
    /// it starts reading unless `paused`.
    pub fn from_stream<D: 'static>(lp: &mut Loop<D>, s: Stream, paused: bool) -> Result<Socket> {
        if !s.exists(lp) || s.is_closing(lp) {
            return Err(crate::error::bad_handle("socket"));
        }
        if s.is_unconnected(lp) {
            return Err(Error::misuse(
                "socket",
                libc::ENOTCONN,
                "the stream is not connected: use Socket::new and connect_to",
            ));
        }
        if socket_ref(lp, s).is_some() {
            return Err(Error::misuse("socket", libc::EINVAL, "already a socket"));
        }
        attach(
            lp,
            SocketState::new(s, None, false, paused, DEFAULT_HIGH_WATER_MARK),
        );
        if !paused {
            let _ = s.read_start(lp, on_read);
        }
        Ok(Socket(s))
    }

    /// Makes a write-only socket of a connected stream (`new
    /// net.Socket({handle, readable: false})`, as Node makes a child's
    /// stdin): it never reads (no `on_data`, no `on_end`), and, its read
    /// side counting as ended, it is destroyed once its `end()` is flushed
    /// (`on_finish`, then `on_close`). A write after `end()` is
    /// `ERR_STREAM_WRITE_AFTER_END`.
    pub fn from_stream_write_only<D: 'static>(lp: &mut Loop<D>, s: Stream) -> Result<Socket> {
        let sock = Socket::from_stream(lp, s, true)?;
        if let Some(ns) = state(lp, s) {
            ns.flags |= READ_ENDED | ALLOW_HALF_OPEN;
        }
        Ok(sock)
    }

    /// The `'connect'` event (client sockets).
    pub fn on_connect<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.connect = Some(Box::new(f));
        }
    }

    /// The `'data'` event: bytes read, a slice valid for the call only.
    pub fn on_data<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket, &[u8]) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.data = Some(Box::new(f));
        }
    }

    /// The `'end'` event: the peer finished sending.
    pub fn on_end<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.end = Some(Box::new(f));
        }
    }

    /// The `'close'` event, last of all, with `had_error`.
    pub fn on_close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket, bool) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.close = Some(Box::new(f));
        }
    }

    /// A second `'close'` listener, for a layer built on sockets: it runs
    /// just before the [`Socket::on_close`] handler, in the same close
    /// phase callback, and `on_close` does not replace it. loop-process's
    /// child process counts its stdio streams' closes with it, as the
    /// listener Node's `spawn` adds runs before the user's (so a child's
    /// `'close'` comes before its last stream's user `'close'`).
    pub fn on_close_first<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket, bool) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.close_first = Some(Box::new(f));
        }
    }

    /// The `'error'` event; the socket is destroyed, `on_close(true)`
    /// follows.
    ///
    /// With no `on_error` handler, the error is not lost: as Node.js throws
    /// an `'error'` nobody listens to, [`Loop::run`] returns it (as
    /// [`loop_core::Error::Unhandled`], its message naming the operation
    /// and address) after the current callback; the loop stays usable and
    /// can be run again.
    pub fn on_error<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket, Error) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.error = Some(Box::new(f));
        }
    }

    /// The `'finish'` event: after `end()`, everything written and our FIN
    /// are out (the shutdown completed); before `on_close`. Not emitted if
    /// the socket is destroyed first.
    pub fn on_finish<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.finish = Some(Box::new(f));
        }
    }

    /// The `'drain'` event: everything written is out, after a `write`
    /// returned `false`.
    pub fn on_drain<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.drain = Some(Box::new(f));
        }
    }

    /// The `'timeout'` event (see [`Socket::set_timeout`]).
    pub fn on_timeout<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.h.timeout = Some(Box::new(f));
        }
    }

    /// Lines instead of `on_data` (Node's `readline` on the socket, tokio's
    /// `LinesCodec`): `f` gets each line read, split on `\n`, without its
    /// `\n` or `\r\n`; at end of input the last line, if it has no
    /// terminator, comes before `on_end`. A line longer than `max_len`
    /// bytes destroys the socket with `ERR_LINE_TOO_LONG` (to `on_error`,
    /// then `on_close(true)`), so a peer that never sends `\n` cannot make
    /// the buffer grow without bound. While set, `on_data` is not called.
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// s.on_line(lp, 4096, |lp, _, s, line| {
    ///     let text = String::from_utf8_lossy(line);
    ///     s.write(lp, format!("you said: {text}\n"));
    /// });
    /// # }
    /// ```
    pub fn on_line<D: 'static>(
        self,
        lp: &mut Loop<D>,
        max_len: usize,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket, &[u8]) + 'static,
    ) {
        if let Some(ns) = state(lp, self.0) {
            ns.lines = Some(Lines::new(max_len));
            ns.h.line = Some(Box::new(f));
        }
    }

    /// Attaches a value of the user's to the socket (replacing any), so
    /// that callbacks find their own record without a map lookup. Dropped
    /// when the socket is closed, once `on_close` ran (the handler still
    /// finds it); a socket of [`Socket::new`] keeps it across connects.
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// struct Client { nick: String }
    /// s.set_data(lp, Client { nick: "ada".into() });
    /// s.on_line(lp, 1024, |lp, _, s, _line| {
    ///     let nick = s.data::<Client, _>(lp).map(|c| c.nick.clone());
    ///     # let _ = nick;
    /// });
    /// # }
    /// ```
    pub fn set_data<T: Any, D: 'static>(self, lp: &mut Loop<D>, value: T) {
        if let Some(ns) = state(lp, self.0) {
            ns.user = Some(Box::new(value));
        }
    }

    /// The value given to [`Socket::set_data`], if it is a `T`.
    pub fn data<T: Any, D: 'static>(self, lp: &Loop<D>) -> Option<&T> {
        socket_ref(lp, self.0)?.user.as_deref()?.downcast_ref()
    }

    /// The value given to [`Socket::set_data`], mutably, if it is a `T`.
    pub fn data_mut<T: Any, D: 'static>(self, lp: &mut Loop<D>) -> Option<&mut T> {
        state(lp, self.0)?.user.as_deref_mut()?.downcast_mut()
    }

    /// Takes the value given to [`Socket::set_data`] back, if it is a `T`.
    pub fn take_data<T: Any, D: 'static>(self, lp: &mut Loop<D>) -> Option<T> {
        let ns = state(lp, self.0)?;
        match ns.user.take()?.downcast::<T>() {
            Ok(v) => Some(*v),
            Err(other) => {
                ns.user = Some(other);
                None
            }
        }
    }

    /// `socket.write(data)`: `false` once the bytes not yet written reach
    /// the high-water mark (wait for `on_drain`). After `end()` it is an
    /// error (`ERR_STREAM_WRITE_AFTER_END`, or `EPIPE` "This socket has been
    /// ended by the other party" when our end followed the peer's), given to
    /// `on_error`, and the socket is destroyed; on a destroyed socket it
    /// does nothing and returns `false` (Node.js; [`Socket::send`] tells
    /// a destroyed socket from backpressure).
    ///
    /// `data` is anything a [`Buf`] is made from: `&str`, `String`,
    /// `&[u8]`, `b"…"`, `Vec<u8>` (kept without a copy if it has to queue).
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// s.write(lp, "hello\n");
    /// s.write(lp, format!("{} clients\n", 3));
    /// s.write(lp, vec![0u8; 16]);
    /// # }
    /// ```
    pub fn write<'a, D: 'static>(self, lp: &mut Loop<D>, data: impl Into<Buf<'a>>) -> bool {
        write_node(lp, self.0, data.into().0, None)
    }

    /// [`Socket::write`] that tells why it did not take the data:
    /// `Ok(true)` below the high-water mark, `Ok(false)` at it (wait for
    /// `on_drain`), `Err` with `ERR_STREAM_DESTROYED` on a destroyed
    /// socket (nothing written, nothing emitted), or the write-after-end
    /// error (which also goes to `on_error` and destroys the socket, as
    /// `write`).
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// match s.send(lp, "tick\n") {
    ///     Ok(true) => {}                  // keep writing
    ///     Ok(false) => { /* wait for on_drain */ }
    ///     Err(e) => eprintln!("{e}"),     // destroyed or ended: stop
    /// }
    /// # }
    /// ```
    pub fn send<'a, D: 'static>(self, lp: &mut Loop<D>, data: impl Into<Buf<'a>>) -> Result<bool> {
        if self.is_destroyed(lp) {
            return Err(stream_destroyed());
        }
        let flags = socket_ref(lp, self.0).map_or(0, |ns| ns.flags);
        if flags & ENDED != 0 {
            let err = write_after_end(flags);
            destroy(lp, self.0, Some(err.clone()));
            return Err(err);
        }
        Ok(write_node(lp, self.0, data.into().0, None))
    }

    /// `socket.write(data, cb)`: `cb` runs once the data is written, or
    /// with the error.
    pub fn write_with<'a, D: 'static>(
        self,
        lp: &mut Loop<D>,
        data: impl Into<Buf<'a>>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<()>) + 'static,
    ) -> bool {
        write_node(lp, self.0, data.into().0, Some(Box::new(cb)))
    }

    /// `socket.end()`: FIN once the queued writes are out. Idempotent.
    pub fn end<D: 'static>(self, lp: &mut Loop<D>) {
        end_node(lp, self.0);
    }

    /// `socket.end(data)`: write, then end.
    pub fn end_with<'a, D: 'static>(self, lp: &mut Loop<D>, data: impl Into<Buf<'a>>) {
        if state(lp, self.0).is_some_and(|ns| ns.flags & (ENDED | DESTROYED) == 0) {
            write_node(lp, self.0, data.into().0, None);
        }
        end_node(lp, self.0);
    }

    /// `end()`, then [`Socket::destroy`] after `ms` ms if the socket is
    /// not destroyed by then (a peer that never sends its FIN, or never
    /// reads what is queued): a graceful close with a bound.
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// s.write(lp, "server shutting down\n");
    /// s.end_with_deadline(lp, 2_000); // closed within 2 s, whatever the peer does
    /// # }
    /// ```
    pub fn end_with_deadline<D: 'static>(self, lp: &mut Loop<D>, ms: u64) {
        end_node(lp, self.0);
        let s = self.0;
        let Some(ns) = state(lp, s) else { return };
        if ns.flags & DESTROYED != 0 {
            return;
        }
        let old = ns.deadline.take();
        if let Some(t) = old {
            lp.clear_timeout(t);
        }
        let t = lp.set_timeout(ms, move |lp, _| {
            if let Some(ns) = state(lp, s) {
                ns.deadline = None;
            }
            tracing::debug!(socket = %Socket(s), "end deadline passed: destroying");
            destroy(lp, s, None);
        });
        if let Some(ns) = state(lp, s) {
            ns.deadline = Some(t);
        }
    }

    /// `socket.destroySoon()`: `end()`, and destroy as soon as our FIN is
    /// out (the queued writes flushed), without waiting for the peer's.
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// s.write(lp, "bye\n");
    /// s.destroy_soon(lp);
    /// # }
    /// ```
    pub fn destroy_soon<D: 'static>(self, lp: &mut Loop<D>) {
        let Some(ns) = state(lp, self.0) else { return };
        if ns.flags & DESTROYED != 0 {
            return;
        }
        ns.flags |= DESTROY_SOON;
        if ns.flags & FINISHED != 0 {
            destroy(lp, self.0, None);
        } else {
            end_node(lp, self.0);
        }
    }

    /// `socket.destroy()`: closes now, queued writes are dropped (their
    /// callbacks run as Node 20 runs them: the oldest with no error, the
    /// rest with `ERR_STREAM_DESTROYED`, or all with
    /// `ERR_SOCKET_CLOSED_BEFORE_CONNECTION` while connecting);
    /// `on_close(false)` follows.
    pub fn destroy<D: 'static>(self, lp: &mut Loop<D>) {
        destroy(lp, self.0, None);
    }

    /// `socket.destroy(err)`: `on_error(err)`, then `on_close(true)`.
    pub fn destroy_with_error<D: 'static>(self, lp: &mut Loop<D>, err: Error) {
        destroy(lp, self.0, Some(err));
    }

    /// `socket.resetAndDestroy()`: closes with an RST (`SO_LINGER` 0).
    /// While connecting, it waits for the connect (`on_connect` runs),
    /// then resets, as Node.js does; on a socket of [`Socket::new`] that
    /// has no connection, it destroys it with `ERR_SOCKET_CLOSED`.
    pub fn reset_and_destroy<D: 'static>(self, lp: &mut Loop<D>) {
        if self.0.is_unconnected(lp) {
            destroy(lp, self.0, Some(socket_closed("resetAndDestroy")));
            return;
        }
        if self.0.is_connecting(lp) {
            if let Some(ns) = state(lp, self.0) {
                ns.flags |= RESET_ON_CONNECT;
            }
            return;
        }
        if state(lp, self.0).is_some_and(|ns| ns.flags & DESTROYED == 0) {
            // Only the linger option differs from destroy().
            let _ = self.0.set_linger_zero(lp);
        }
        destroy(lp, self.0, None);
    }

    /// `socket.pause()`: stop reading (the peer's writes then wait in the
    /// TCP window).
    ///
    /// A paused socket with nothing to write does **not** keep the loop
    /// alive (libuv's: a stream is active while it reads or writes, as in
    /// Node.js 20): if nothing else does, `run` returns with the socket
    /// still open. Resume it, or keep the loop alive otherwise (a timer, a
    /// listening server). A socket destroyed while paused still gets its
    /// `on_close` before `run` returns: a closing handle keeps the loop
    /// alive until its close callback ran.
    pub fn pause<D: 'static>(self, lp: &mut Loop<D>) {
        if let Some(ns) = state(lp, self.0) {
            ns.flags |= PAUSED;
            let _ = self.0.read_stop(lp);
        }
    }

    /// `socket.resume()`: read again.
    pub fn resume<D: 'static>(self, lp: &mut Loop<D>) {
        let Some(ns) = state(lp, self.0) else { return };
        ns.flags &= !PAUSED;
        if ns.flags & (DESTROYED | READ_ENDED) == 0 && !self.0.is_connecting(lp) {
            // A plain function: the stream reuses the box, nothing allocated.
            let _ = self.0.read_start(lp, on_read);
        }
    }

    /// Whether the socket is paused.
    pub fn is_paused<D: 'static>(self, lp: &Loop<D>) -> bool {
        socket_ref(lp, self.0).is_some_and(|ns| ns.flags & PAUSED != 0)
    }

    /// `socket.setTimeout(ms)`: after `ms` ms without reads or writes,
    /// `on_timeout` runs; the socket stays open. The timer is re-armed on
    /// any activity and does not keep the loop alive (Node's unref'd
    /// timer). 0 turns it off.
    pub fn set_timeout<D: 'static>(self, lp: &mut Loop<D>, ms: u32) {
        let Some(ns) = state(lp, self.0) else { return };
        if ns.flags & DESTROYED != 0 {
            return;
        }
        ns.timeout_ms = ms;
        if let Some(t) = ns.timeout.take() {
            lp.clear_timeout(t);
        }
        if ms > 0 {
            arm_timer(lp, self.0, ms, Which::Any);
        }
    }

    /// An idle timeout on reads only: after `ms` ms without data read,
    /// `on_timeout` runs (the socket stays open). Unlike
    /// [`Socket::set_timeout`], writes do not re-arm it, so a silent client
    /// that keeps receiving (a chat's broadcasts) still times out. Does not
    /// keep the loop alive; 0 turns it off. Both timeouts can be set; each
    /// runs `on_timeout`.
    ///
    /// ```no_run
    /// # use loop_core::Loop;
    /// # fn f(lp: &mut Loop<()>, s: loop_net::Socket) {
    /// s.set_read_timeout(lp, 30_000);
    /// s.on_timeout(lp, |lp, _, s| {
    ///     s.end_with(lp, "idle for 30 s, bye\n");
    /// });
    /// # }
    /// ```
    pub fn set_read_timeout<D: 'static>(self, lp: &mut Loop<D>, ms: u32) {
        let Some(ns) = state(lp, self.0) else { return };
        if ns.flags & DESTROYED != 0 {
            return;
        }
        ns.read_timeout_ms = ms;
        if let Some(t) = ns.read_timeout.take() {
            lp.clear_timeout(t);
        }
        if ms > 0 {
            arm_timer(lp, self.0, ms, Which::Reads);
        }
    }

    /// `socket.setKeepAlive(enable, initialDelay)`: the delay is in ms,
    /// rounded down to seconds as Node does; under 1 s, the system's idle
    /// time applies. Before the connection (connecting, or a socket of
    /// [`Socket::new`]) it is kept and set once connected, and a socket
    /// connected again gets it again (Node's `kSetKeepAlive`).
    pub fn set_keep_alive<D: 'static>(
        self,
        lp: &mut Loop<D>,
        enable: bool,
        initial_delay_ms: u64,
    ) -> Result<()> {
        let secs = (initial_delay_ms / 1000).min(u32::MAX as u64 - 1) as u32;
        if let Some(ns) = state(lp, self.0) {
            ns.keep_alive = if enable { secs } else { KEEP_ALIVE_OFF };
        }
        if self.0.is_unconnected(lp) || self.0.is_connecting(lp) {
            // No connection yet: kept, and set once connected (Node).
            return Ok(());
        }
        self.0
            .set_keep_alive_idle(lp, enable, (secs > 0).then_some(secs))
    }

    /// `socket.setNoDelay(on)`: `TCP_NODELAY`. Before the connection it is
    /// kept and set once connected, and on each later connection (Node's
    /// `kSetNoDelay`).
    pub fn set_no_delay<D: 'static>(self, lp: &mut Loop<D>, on: bool) -> Result<()> {
        if let Some(ns) = state(lp, self.0) {
            if on {
                ns.flags |= NO_DELAY;
            } else {
                ns.flags &= !NO_DELAY;
            }
        }
        if self.0.is_unconnected(lp) || self.0.is_connecting(lp) {
            // No connection yet: kept, and set once connected (Node).
            return Ok(());
        }
        self.0.set_no_delay(lp, on)
    }

    /// `allowHalfOpen`: when on, reading the peer's FIN does not end our
    /// side; call [`Socket::end`] yourself.
    pub fn set_allow_half_open<D: 'static>(self, lp: &mut Loop<D>, on: bool) {
        if let Some(ns) = state(lp, self.0) {
            if on {
                ns.flags |= ALLOW_HALF_OPEN;
            } else {
                ns.flags &= !ALLOW_HALF_OPEN;
            }
        }
    }

    /// The high-water mark `write` compares [`Socket::writable_length`] to.
    pub fn set_high_water_mark<D: 'static>(self, lp: &mut Loop<D>, bytes: usize) {
        if let Some(ns) = state(lp, self.0) {
            ns.hwm = bytes.min(u32::MAX as usize) as u32;
        }
    }

    /// `socket.writableLength`: bytes written but not yet taken by the
    /// kernel; 0 once destroyed (the queue is dropped, even though the
    /// stream's close callback has not run yet).
    pub fn writable_length<D: 'static>(self, lp: &Loop<D>) -> usize {
        if self.is_destroyed(lp) {
            return 0;
        }
        self.0.write_queue_size(lp)
    }

    /// `socket.writableNeedDrain`: a `write` returned `false` and
    /// `on_drain` has not run yet.
    pub fn needs_drain<D: 'static>(self, lp: &Loop<D>) -> bool {
        socket_ref(lp, self.0).is_some_and(|ns| ns.flags & NEED_DRAIN != 0)
    }

    /// `socket.remoteAddress`/`remotePort`, while open.
    pub fn remote_address<D: 'static>(self, lp: &Loop<D>) -> Option<Address> {
        self.0.peer_addr(lp).ok()
    }

    /// `socket.localAddress`/`localPort`, while open.
    pub fn local_address<D: 'static>(self, lp: &Loop<D>) -> Option<Address> {
        self.0.local_addr(lp).ok()
    }

    /// `socket.bytesRead`.
    pub fn bytes_read<D: 'static>(self, lp: &Loop<D>) -> u64 {
        self.0.bytes_read(lp)
    }

    /// `socket.bytesWritten`: bytes `write` took, as Node.js counts them:
    /// those the kernel took plus those still queued (while connecting,
    /// say: [`Socket::writable_length`]). [`Stream::bytes_written`] is
    /// the kernel's part alone.
    pub fn bytes_written<D: 'static>(self, lp: &Loop<D>) -> u64 {
        self.0.bytes_written(lp) + self.writable_length(lp) as u64
    }

    /// `socket.destroyed`: true from `destroy` (or an error, or both ends
    /// done) on, and once closed.
    pub fn is_destroyed<D: 'static>(self, lp: &Loop<D>) -> bool {
        socket_ref(lp, self.0).is_none_or(|ns| ns.flags & DESTROYED != 0)
    }

    /// `socket.connecting`.
    pub fn is_connecting<D: 'static>(self, lp: &Loop<D>) -> bool {
        self.0.is_connecting(lp)
    }

    /// `socket.writableEnded`: `end()` was called.
    pub fn is_ended<D: 'static>(self, lp: &Loop<D>) -> bool {
        socket_ref(lp, self.0).is_some_and(|ns| ns.flags & ENDED != 0)
    }

    /// `socket.ref()`.
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        self.0.ref_handle(lp)
    }

    /// `socket.unref()`: the socket no longer keeps the loop alive.
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        self.0.unref(lp)
    }
}

// ----- the stream's callbacks -----

/// The connect callback of a client socket.
fn on_connect<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, r: Result<()>) {
    match r {
        Ok(()) => {
            refresh_timeout(lp, s);
            // Options set before the connection (Node's afterConnect).
            if let Some(ns) = state(lp, s) {
                let (nd, ka) = (ns.flags & NO_DELAY != 0, ns.keep_alive);
                if nd {
                    let _ = s.set_no_delay(lp, true);
                }
                if ka != KEEP_ALIVE_OFF {
                    let _ = s.set_keep_alive_idle(lp, true, (ka > 0).then_some(ka));
                }
            }
            if emit!(lp, d, s, connect) == Emit::Panicked {
                return;
            }
            let Some(ns) = state(lp, s) else { return };
            if ns.flags & (RESET_ON_CONNECT | DESTROYED) == RESET_ON_CONNECT {
                // Node's `once('connect', () => this._reset())`.
                let _ = s.set_linger_zero(lp);
                destroy(lp, s, None);
                return;
            }
            if ns.flags & (PAUSED | DESTROYED | READ_ENDED) == 0 {
                let _ = s.read_start(lp, on_read);
            }
        }
        Err(e) => {
            if !s.is_closing(lp) {
                destroy(lp, s, Some(e));
            }
        }
    }
}

/// The read callback: data, EOF or a read error from the stream (Node's
/// `onStreamRead`).
pub(super) fn on_read<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, ev: ReadEvent<'_>) {
    match ev {
        ReadEvent::Data(b) => {
            refresh_timeout(lp, s);
            refresh_read_timeout(lp, s);
            if state(lp, s).is_some_and(|ns| ns.lines.is_some()) {
                emit_lines(lp, d, s, b);
            } else {
                emit!(lp, d, s, data, b);
            }
        }
        ReadEvent::Eof => {
            let last = state(lp, s).and_then(|ns| {
                ns.flags |= READ_ENDED;
                ns.lines.as_mut()?.finish()
            });
            if let Some(line) = last {
                if emit!(lp, d, s, line, &line) == Emit::Panicked {
                    return;
                }
                if state(lp, s).is_none_or(|ns| ns.flags & DESTROYED != 0) {
                    return;
                }
            }
            if emit!(lp, d, s, end) == Emit::Panicked {
                return;
            }
            let Some(ns) = state(lp, s) else { return };
            if ns.flags & DESTROYED != 0 {
                return;
            }
            if ns.flags & ALLOW_HALF_OPEN == 0 && ns.flags & ENDED == 0 {
                end_node(lp, s);
            } else if ns.flags & FINISHED != 0 {
                destroy(lp, s, None);
            }
        }
        ReadEvent::Error(e) => destroy(lp, s, Some(e)),
    }
}

/// Splits `b` into lines for `on_line`; a line too long destroys the
/// socket. Stops once the socket is destroyed or a handler panicked.
fn emit_lines<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, b: &[u8]) {
    let Some(ns) = state(lp, s) else { return };
    let (Some(mut lines), Some(mut f)) = (ns.lines.take(), ns.h.line.take()) else {
        return;
    };
    let r = lines.feed(b, |line| {
        lp.make_callback(d, "socket.on_line", |lp, d| f(lp, d, Socket(s), line))
            .is_some()
            && state(lp, s).is_some_and(|ns| ns.flags & DESTROYED == 0)
    });
    if let Some(ns) = state(lp, s) {
        if ns.lines.is_none() {
            ns.lines = Some(lines);
        }
        if ns.h.line.is_none() {
            ns.h.line = Some(f);
        }
    }
    if let Err(TooLong) = r {
        let e = Error::node(
            "read",
            "ERR_LINE_TOO_LONG",
            io::ErrorKind::InvalidData,
            "a line is longer than the maximum line length",
        );
        destroy(lp, s, Some(e));
    }
}

/// The write callback of a queued write: the user's callback, then, once
/// the stream has no write request left (the batch of completions is
/// over), a failure destroys the socket, else `'drain'` if it was needed.
fn write_done<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    s: Stream,
    cb: Option<WriteCb<D>>,
    r: Result<()>,
) {
    // A write cut short by `destroy`, as Node 20 reports it: queued while
    // connecting, `ERR_SOCKET_CLOSED_BEFORE_CONNECTION`; else the first
    // (Node's one write in flight) no error, the rest
    // `ERR_STREAM_DESTROYED`.
    let r = match (r, state(lp, s)) {
        (Err(e), Some(ns)) if e.is_canceled() && ns.flags & DESTROYED != 0 => {
            if ns.flags & CLOSED_CONNECTING != 0 {
                Err(closed_before_connection())
            } else if ns.flags & CANCEL_SEEN == 0 {
                ns.flags |= CANCEL_SEEN;
                Ok(())
            } else {
                Err(stream_destroyed())
            }
        }
        (r, _) => r,
    };
    if let (Err(e), Some(ns)) = (&r, state(lp, s)) {
        if ns.write_failed.is_none() {
            ns.write_failed = Some(e.clone());
        }
    }
    if let Some(cb) = cb {
        if lp
            .make_callback(d, "socket.write", |lp, d| cb(lp, d, r))
            .is_none()
        {
            return;
        }
    }
    if s.is_closing(lp) || s.write_requests(lp) > 0 {
        return; // canceled by close, or more of the batch to come
    }
    let Some(ns) = state(lp, s) else { return };
    if let Some(e) = ns.write_failed.take() {
        destroy(lp, s, Some(e));
        return;
    }
    refresh_timeout(lp, s);
    let empty = s.write_queue_size(lp) == 0;
    let Some(ns) = state(lp, s) else { return };
    if empty && ns.flags & (NEED_DRAIN | DESTROYED) == NEED_DRAIN {
        ns.flags &= !NEED_DRAIN;
        emit!(lp, d, s, drain);
    }
}

/// Our FIN went out (`end()`'s shutdown completed, `ok`), or failed.
/// `'finish'` on the next tick, before the `'close'` a destroy from here
/// leads to (Node's `afterShutdown` → `'finish'`).
fn finished<D: 'static>(lp: &mut Loop<D>, s: Stream, ok: bool) {
    let Some(ns) = state(lp, s) else { return };
    ns.flags |= FINISHED;
    if ok && ns.flags & DESTROYED == 0 && ns.h.finish.is_some() {
        lp.next_tick(move |lp, d| {
            emit!(lp, d, s, finish);
        });
    }
    let Some(ns) = state(lp, s) else { return };
    if ns.flags & DESTROYED == 0 && ns.flags & (READ_ENDED | DESTROY_SOON) != 0 {
        destroy(lp, s, None);
    }
}

/// The stream's close callback (close phase): `'close'`, and the server's
/// count if the socket was closed under it rather than destroyed. The
/// state is made ready for another connect before `'close'` (whose
/// handler may connect again, as Node's can); it leaves the table after
/// the handler unless the socket is reusable ([`Socket::new`]) or the
/// handler connected it again.
fn on_closed<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let Some(mut ns) = take_state(lp, s) else {
        return;
    };
    if ns.flags & DESTROYED == 0 {
        ns.flags |= DESTROYED;
        clear_timers(lp, &mut ns);
        uncount(lp, &mut ns);
    }
    let had_error = ns.flags & HAD_ERROR != 0;
    let keep = ns.flags & REUSABLE != 0;
    let first = ns.h.close_first.take();
    let handler = ns.h.close.take();
    ns.flags = (ns.flags & KEPT_ACROSS_CONNECTS) | DESTROYED | CLOSED;
    ns.write_failed = None;
    if let Some(l) = ns.lines.as_mut() {
        *l = Lines::new(l.max());
    }
    put_back(lp, ns);
    // The layer above's own listener first (`on_close_first`), then the
    // user's; each put back after it ran, for a socket that connects again.
    let mut unwinding = false;
    if let Some(mut f) = first {
        let r = lp.make_callback(d, "socket.close_first", |lp, d| {
            f(lp, d, Socket(s), had_error)
        });
        unwinding = r.is_none();
        if let Some(ns) = state(lp, s) {
            if ns.h.close_first.is_none() {
                ns.h.close_first = Some(f);
            }
        }
    }
    if let Some(mut f) = handler.filter(|_| !unwinding) {
        lp.make_callback(d, "socket.close", |lp, d| f(lp, d, Socket(s), had_error));
        if let Some(ns) = state(lp, s) {
            if ns.h.close.is_none() {
                ns.h.close = Some(f);
            }
        }
    }
    let again = s.exists(lp) && !s.is_closing(lp) && !s.is_unconnected(lp);
    if !keep && !again {
        // Gone once 'close' ran (and its stream, if `release` came while
        // it was kept).
        forget(lp, s);
    }
}

/// `'close'` of a socket destroyed with no connection (Node's
/// `emitCloseNT`: no handle to close), on the next tick; unless it
/// connected again meanwhile.
/// Node emits that `'close'` with no argument, so `had_error` is false
/// even after an error.
fn closed_unconnected<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let unconnected = s.is_unconnected(lp);
    let Some(ns) = state(lp, s) else { return };
    if ns.flags & (DESTROYED | CLOSED) == DESTROYED && unconnected {
        ns.flags &= !HAD_ERROR;
        on_closed(lp, d, s);
    }
}

/// Puts a state taken by [`take_state`] back (no allocation).
fn put_back<D: 'static>(lp: &mut Loop<D>, ns: Box<SocketState<D>>) {
    let slot = ns.stream.slot();
    if let Some(e) = node(lp).sockets.get_mut(slot) {
        *e = Some(ns);
    }
}

fn take_state<D: 'static>(lp: &mut Loop<D>, s: Stream) -> Option<Box<SocketState<D>>> {
    lp.extension_mut::<super::NodeNet<D>>()
        .and_then(|n| n.sockets.get_mut(s.slot()))
        .and_then(|e| e.take_if(|ns| ns.stream == s))
}

/// What a `connect_to` came to: a new connect started, or (Node's
/// `connect()` on a socket that is connecting or connected) the error,
/// which also destroys the socket: `'error'`, then `'close'(true)`.
fn started<D: 'static>(lp: &mut Loop<D>, s: Stream, r: Result<()>) -> Result<()> {
    match r {
        Ok(()) => {
            connecting_again(lp, s);
            Ok(())
        }
        Err(e) if matches!(e.code(), "EALREADY" | "EISCONN") => {
            destroy(lp, s, Some(e.clone()));
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// A socket starts a new connect: its flags as a new client socket's.
fn connecting_again<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(ns) = state(lp, s) else { return };
    // `end()` before the connect: kept, and the FIN queued behind it.
    let pending_end = ns.flags & (ENDED | DESTROYED) == ENDED;
    ns.flags &= KEPT_ACROSS_CONNECTS;
    ns.write_failed = None;
    ns.server = None;
    if pending_end {
        end_node(lp, s);
    }
}

/// Drops a socket's state and frees its (unconnected) stream.
fn forget<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    drop(take_state(lp, s));
    if s.exists(lp) && !s.is_closing(lp) {
        let _ = s.close(lp, |_, _| {});
    }
}

fn uncount<D: 'static>(lp: &mut Loop<D>, ns: &mut SocketState<D>) {
    if ns.flags & COUNTED != 0 {
        ns.flags &= !COUNTED;
        if let Some(srv) = ns.server {
            server::connection_gone(lp, srv);
        }
    }
}

// ----- operations -----

fn write_node<D: 'static>(
    lp: &mut Loop<D>,
    s: Stream,
    data: Cow<'_, [u8]>,
    cb: Option<WriteCb<D>>,
) -> bool {
    // Destroyed, or closed and gone from the table: Node calls back with
    // `ERR_STREAM_DESTROYED` on the next tick either way.
    let destroyed = state(lp, s).is_none_or(|ns| ns.flags & DESTROYED != 0);
    if destroyed {
        if let Some(cb) = cb {
            let err = stream_destroyed();
            lp.next_tick(move |lp, d| cb(lp, d, Err(err)));
        }
        return false;
    }
    if s.is_unconnected(lp) {
        // Never connected (Node's `_writeGeneric` with no `_handle`): the
        // callback on the next tick, and the destroy right after it.
        let err = socket_closed("write");
        lp.next_tick(move |lp, d| {
            if let Some(cb) = cb {
                cb(lp, d, Err(err.clone()));
            }
            destroy(lp, s, Some(err));
        });
        return false;
    }
    let Some(ns) = state(lp, s) else {
        return false;
    };
    if ns.flags & ENDED != 0 {
        let err = write_after_end(ns.flags);
        if let Some(cb) = cb {
            let e = err.clone();
            lp.next_tick(move |lp, d| cb(lp, d, Err(e)));
        }
        destroy(lp, s, Some(err));
        return false;
    }
    let hwm = ns.hwm as usize;
    refresh_timeout(lp, s);
    // Node's writeGeneric: try the socket first; a write that goes out
    // whole with no callback needs no request at all.
    let mut data = data;
    if cb.is_none() {
        match s.try_write(lp, &data) {
            Ok(n) if n == data.len() => return s.write_queue_size(lp) < hwm,
            Ok(n) => match &mut data {
                Cow::Borrowed(b) => *b = &b[n..],
                Cow::Owned(v) => drop(v.drain(..n)),
            },
            // EAGAIN (full, or writes queued): queue it; any other error
            // comes again from `write_with`, as a queued write would get it.
            Err(_) => {}
        }
    }
    let queued = s.write_with(lp, data, move |lp, d, r| write_done(lp, d, s, cb, r));
    if let Err(e) = queued {
        destroy(lp, s, Some(e));
        return false;
    }
    let ok = s.write_queue_size(lp) < hwm;
    if !ok {
        if let Some(ns) = state(lp, s) {
            ns.flags |= NEED_DRAIN;
        }
    }
    ok
}

/// The error of a write after `end()`: `EPIPE` when our end followed the
/// peer's (Node's "ended by the other party"), else
/// `ERR_STREAM_WRITE_AFTER_END`.
fn write_after_end(flags: u16) -> Error {
    if flags & (READ_ENDED | ALLOW_HALF_OPEN) == READ_ENDED {
        Error::misuse(
            "write",
            libc::EPIPE,
            "This socket has been ended by the other party",
        )
    } else {
        Error::node(
            "write",
            "ERR_STREAM_WRITE_AFTER_END",
            io::ErrorKind::BrokenPipe,
            "write after end",
        )
    }
}

/// `ERR_STREAM_DESTROYED`: a write on a destroyed socket.
fn stream_destroyed() -> Error {
    Error::node(
        "write",
        "ERR_STREAM_DESTROYED",
        io::ErrorKind::BrokenPipe,
        "Cannot call write after a stream was destroyed",
    )
}

/// `ERR_SOCKET_CLOSED`: a write (or a reset) on a socket that never
/// connected.
fn socket_closed(op: &'static str) -> Error {
    Error::node(
        op,
        "ERR_SOCKET_CLOSED",
        io::ErrorKind::NotConnected,
        "Socket is closed",
    )
}

/// `ERR_SOCKET_CLOSED_BEFORE_CONNECTION`: a write queued while connecting
/// on a socket destroyed before it connected.
fn closed_before_connection() -> Error {
    Error::node(
        "write",
        "ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
        io::ErrorKind::NotConnected,
        "Socket closed before the connection was established",
    )
}

fn end_node<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(ns) = state(lp, s) else { return };
    if ns.flags & (ENDED | DESTROYED) != 0 {
        return;
    }
    ns.flags |= ENDED;
    if s.is_unconnected(lp) {
        // Before any connect (Node's `_final` while `pending`): the FIN
        // goes out once a connect starts (`connect_to`).
        return;
    }
    if s.shutdown(lp, move |lp, _, r| finished(lp, s, r.is_ok()))
        .is_err()
    {
        // Not connected or already shut down: nothing to flush.
        finished(lp, s, false);
    }
}

/// `destroy(err)`: close now; `'error'` on the next tick, `'close'` in the
/// close phase. Needs no `&mut D`: nothing runs from inside it.
pub(crate) fn destroy<D: 'static>(lp: &mut Loop<D>, s: Stream, err: Option<Error>) {
    let connecting = s.is_connecting(lp);
    let Some(ns) = state(lp, s) else { return };
    if ns.flags & DESTROYED != 0 {
        return;
    }
    ns.flags |= DESTROYED;
    if err.is_some() {
        ns.flags |= HAD_ERROR;
    }
    if connecting {
        ns.flags |= CLOSED_CONNECTING;
    }
    let timers = [
        ns.timeout.take(),
        ns.read_timeout.take(),
        ns.deadline.take(),
    ];
    // Node's `_destroy` clears the timeout for good: a socket connected
    // again has none until `set_timeout` again.
    ns.timeout_ms = 0;
    ns.read_timeout_ms = 0;
    let counted = ns.flags & COUNTED != 0;
    let reusable = ns.flags & REUSABLE != 0;
    let server = ns.server;
    ns.flags &= !COUNTED;
    for t in timers.into_iter().flatten() {
        lp.clear_timeout(t);
    }
    if let Some(err) = err {
        tracing::debug!(socket = %Socket(s), error = %err, "destroyed by an error");
        lp.next_tick(move |lp, d| {
            if emit!(lp, d, s, error, err.clone()) == Emit::NoHandler {
                // Node throws an `'error'` nobody listens to: `run` returns it.
                lp.report_unhandled("socket.on_error", Box::new(err));
            }
        });
    }
    if s.is_unconnected(lp) {
        // No connection, so no handle to close (Node's `_destroy` with no
        // `_handle`): 'close' on the next tick, after the error's.
        lp.next_tick(move |lp, d| closed_unconnected(lp, d, s));
    } else if !s.is_closing(lp) {
        let closed = move |lp: &mut Loop<D>, d: &mut D| on_closed(lp, d, s);
        let _ = if reusable {
            s.close_keep(lp, closed)
        } else {
            s.close(lp, closed)
        };
    }
    if let (true, Some(srv)) = (counted, server) {
        server::connection_gone(lp, srv);
    }
}

/// Which idle timeout: Node's (any activity) or reads only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Any,
    Reads,
}

fn clear_timers<D: 'static>(lp: &mut Loop<D>, ns: &mut SocketState<D>) {
    ns.timeout_ms = 0;
    ns.read_timeout_ms = 0;
    for t in [
        ns.timeout.take(),
        ns.read_timeout.take(),
        ns.deadline.take(),
    ]
    .into_iter()
    .flatten()
    {
        lp.clear_timeout(t);
    }
}

fn arm_timer<D: 'static>(lp: &mut Loop<D>, s: Stream, ms: u32, which: Which) {
    let t = lp.set_timeout(ms.into(), move |lp, d| {
        let Some(ns) = state(lp, s) else { return };
        if ns.flags & DESTROYED == 0 {
            emit!(lp, d, s, timeout);
        }
    });
    lp.timeout_unref(t);
    if let Some(ns) = state(lp, s) {
        match which {
            Which::Any => ns.timeout = Some(t),
            Which::Reads => ns.read_timeout = Some(t),
        }
    }
}

/// Activity: push the idle timeout back (Node's `_unrefTimer`).
fn refresh_timeout<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(ns) = state(lp, s) else { return };
    if ns.timeout_ms == 0 || ns.flags & DESTROYED != 0 {
        return;
    }
    let (ms, t) = (ns.timeout_ms, ns.timeout);
    if !t.is_some_and(|t| lp.timeout_refresh(t)) {
        // Fired already: Node's refresh() re-arms a fired timer.
        arm_timer(lp, s, ms, Which::Any);
    }
}

/// Data read: push the reads-only timeout back.
fn refresh_read_timeout<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(ns) = state(lp, s) else { return };
    if ns.read_timeout_ms == 0 || ns.flags & DESTROYED != 0 {
        return;
    }
    let (ms, t) = (ns.read_timeout_ms, ns.read_timeout);
    if !t.is_some_and(|t| lp.timeout_refresh(t)) {
        arm_timer(lp, s, ms, Which::Reads);
    }
}
