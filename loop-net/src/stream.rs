//! Streams, libuv level: a connected TCP or Unix socket (`uv_tcp_t` and
//! `uv_pipe_t` seen as a `uv_stream_t`).
//!
//! # Ground rules
//!
//! - **Never re-entrant.** No call invokes a callback from inside itself:
//!   what completes or fails during a call (a write that went out at once,
//!   an immediate connect error, a shutdown on an empty queue) is delivered
//!   through the loop's pending phase ([`Loop::defer`]), as libuv's
//!   `uv__io_feed` does.
//! - **Requests keep the loop alive.** Every connect, write and shutdown
//!   holds an [`loop_core::ActiveRequest`] until its callback has run, even
//!   on an unreferenced stream. A stream is *active* (keeps a referenced
//!   loop alive by itself) only while it is reading.
//! - **Order.** Write callbacks run in `write` order, all before the
//!   shutdown callback; on `close`, the connect callback, then the write
//!   callbacks (`ECANCELED` for what was not written), then the shutdown
//!   callback, then the close callback, all in the close phase.
//! - **Readiness is edge-triggered and remembered.** The socket is
//!   registered once, readable and writable. A read stops at `WouldBlock`,
//!   at a short read (the kernel queue was emptied: any later data brings a
//!   new edge) unless the peer's FIN was seen, or after [`MAX_READS`] reads;
//!   in the last case, and on `read_start` while unread data may be waiting,
//!   the registration is renewed (`epoll_ctl(MOD)`), which makes epoll
//!   report the socket again if it is still ready.
//! - **One buffer per loop.** Reads go to the loop's 64 KiB buffer and the
//!   callback gets a slice of it; nothing is allocated per read or kept per
//!   connection.
//!
//! # Writes
//!
//! `write` tries the socket at once when nothing is queued (Node.js's
//! `writeGeneric` → `uv_try_write` path) and queues only what did not go
//! out, owning it (a `Vec<u8>` given is kept as is, a borrowed slice is
//! copied). Queued writes go out together in one `sendmsg` (up to
//! [`MAX_IOV`] buffers) when the socket becomes writable.
//! [`Stream::write_queue_size`] is the number of bytes not yet written.
//!
//! # Differences from libuv
//!
//! - After a write fails (`EPIPE`, `ECONNRESET`), the writes queued behind
//!   it and every later write fail with the same error at once, and a
//!   pending shutdown completes; libuv leaves them queued until `close`
//!   cancels them.
//! - Errors carry the operation and address (`connect ECONNREFUSED
//!   127.0.0.1:9`); misuse is an [`Error`] with libuv's code, never an
//!   assertion.
//! - A listener is a different type ([`crate::Listener`]): writing to it,
//!   reading from it or shutting it down does not compile, where libuv
//!   returns `EPIPE`/`ENOTCONN`.

use crate::error::{bad_handle, Address, Error, Result};
use crate::node::{self, SocketState};
use crate::state::{net, put_buf, take_buf};
use crate::sys::{self, Sock};
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::{ActiveRequest, IoId, Loop, Ready};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::path::Path;

/// How many reads one readiness event may serve before the stream yields to
/// the other ready handles (libuv's `uv__read` reads at most 32 times too).
pub const MAX_READS: usize = 32;

/// How many queued buffers one `sendmsg` may carry.
pub const MAX_IOV: usize = 64;

/// A connection: a TCP or Unix-domain stream socket. A small `Copy` id (slab
/// index and generation); once the stream is closed, its id names nothing
/// and every operation on it is an `EBADF` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stream {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream #{}.{}", self.index, self.gen)
    }
}

/// What a read callback is given (libuv's `nread`/`buf` pair, made an enum).
#[derive(Debug)]
pub enum ReadEvent<'a> {
    /// Bytes read, a slice of the loop's read buffer: valid for this call
    /// only. Never empty.
    Data(&'a [u8]),
    /// The peer finished sending (FIN). Reading stops; the stream stays
    /// open, and still writable: close it (or shut down and close) when done.
    /// `read_start` again reports EOF again.
    Eof,
    /// Reading failed (`ECONNRESET`…). Reading stops; close the stream.
    Error(Error),
}

/// A read callback: `(loop, data, stream, event)`.
pub type ReadCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Stream, ReadEvent<'_>)>;
/// A write or shutdown callback: `(loop, data, result)`.
pub type WriteCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Result<()>)>;
/// A connect callback: `(loop, data, stream, result)`.
pub type ConnectCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>)>;
/// A close callback.
pub type CloseCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D)>;

// Stream flags.
pub(crate) const READING: u32 = 1;
pub(crate) const CONNECTING: u32 = 1 << 1;
pub(crate) const CONNECTED: u32 = 1 << 2;
/// libuv's `UV_HANDLE_READABLE`: cleared by a read error only.
pub(crate) const READABLE: u32 = 1 << 3;
/// libuv's `UV_HANDLE_WRITABLE`: cleared by `shutdown` and failures.
pub(crate) const WRITABLE: u32 = 1 << 4;
pub(crate) const SHUTTING: u32 = 1 << 5;
pub(crate) const SHUT: u32 = 1 << 6;
/// Unread data (or EOF) may be waiting in the kernel.
const HINT_READ: u32 = 1 << 7;
/// The peer's FIN (or an error) was seen: read on to EOF past short reads.
const HINT_RDHUP: u32 = 1 << 8;
const FLUSH_SCHEDULED: u32 = 1 << 9;
pub(crate) const CLOSING: u32 = 1 << 10;

pub(crate) struct StreamState<D> {
    pub(crate) gen: u32,
    pub(crate) flags: u32,
    pub(crate) io: IoId,
    pub(crate) sock: Sock,
    read_cb: Option<ReadCb<D>>,
    /// Allocated while writes are queued or their callbacks are due.
    writes: Option<Box<WriteQueue<D>>>,
    connect: Option<Box<ConnectReq<D>>>,
    shutdown: Option<Box<ShutdownReq<D>>>,
    /// Set when a write failed: later writes fail the same way.
    write_err: Option<Error>,
    pub(crate) bytes_read: u64,
    pub(crate) bytes_written: u64,
    /// The Node.js-level state, for a [`crate::Socket`].
    pub(crate) node: Option<Box<SocketState<D>>>,
}

struct WriteQueue<D> {
    reqs: VecDeque<WriteReq<D>>,
    /// `reqs[..done]` are complete; their callbacks are due.
    done: usize,
    /// Bytes not yet written.
    size: usize,
}

struct WriteReq<D> {
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    pos: usize,
    cb: Option<WriteCb<D>>,
    /// `Some` once complete.
    result: Option<Result<()>>,
    req: ActiveRequest,
}

struct ConnectReq<D> {
    cb: ConnectCb<D>,
    req: ActiveRequest,
    /// The address being connected to (or the host name being resolved),
    /// for errors.
    addr: Target,
    /// Further addresses to try if this one fails (connect by host name).
    rest: Vec<SocketAddr>,
    /// The name lookup, while it runs.
    lookup: Option<loop_fs::ReqId>,
}

/// What a connect goes to: an address, or a name still to resolve.
enum Target {
    Addr(Address),
    Host(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Addr(a) => a.fmt(f),
            Target::Host(h) => f.write_str(h),
        }
    }
}

struct ShutdownReq<D> {
    /// `None` for the Node.js layer's `end()`, which has its own hook.
    cb: Option<WriteCb<D>>,
    req: ActiveRequest,
}

// ----- entry access -----

#[inline]
pub(crate) fn get<D: 'static>(lp: &mut Loop<D>, s: Stream) -> Option<&mut StreamState<D>> {
    net(lp)
        .streams
        .get_mut(s.index as usize)
        .filter(|st| st.gen == s.gen)
}

/// The entry of a live (not closing) stream, or `EBADF` naming `op`.
#[inline]
pub(crate) fn live<'a, D: 'static>(
    lp: &'a mut Loop<D>,
    s: Stream,
    op: &'static str,
) -> Result<&'a mut StreamState<D>> {
    match get(lp, s) {
        Some(st) if st.flags & CLOSING == 0 => Ok(st),
        _ => Err(bad_handle(op)),
    }
}

fn token<D: 'static>(lp: &Loop<D>, io: IoId) -> io::Result<loop_core::mio::Token> {
    lp.io_token(io).map_err(io::Error::from)
}

/// Registers (or, with `again`, re-registers) `fd` readable + writable
/// under the handle's token.
fn register<D: 'static>(lp: &mut Loop<D>, io: IoId, fd: i32, again: bool) -> io::Result<()> {
    let t = token(lp, io)?;
    let interest = Interest::READABLE | Interest::WRITABLE;
    if again {
        lp.registry().reregister(&mut SourceFd(&fd), t, interest)
    } else {
        lp.registry().register(&mut SourceFd(&fd), t, interest)
    }
}

/// Renews the registration so that epoll reports the socket again if it
/// is still ready (what makes edge-triggered readiness level-like on
/// demand).
fn rearm<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    let (io, fd) = (st.io, st.sock.fd());
    if let Some(fd) = fd {
        if let Err(e) = register(lp, io, fd, true) {
            tracing::warn!(stream = %s, error = %e, "epoll_ctl(MOD) failed");
        }
    }
}

/// Makes a stream of `sock` with `flags`.
pub(crate) fn insert<D: 'static>(lp: &mut Loop<D>, sock: Sock, flags: u32) -> Result<Stream> {
    let n = net(lp);
    let s = Stream {
        index: n.streams.vacant_key() as u32,
        gen: n.next_gen(),
    };
    let io = lp.io_init(move |lp, d, r| on_ready(lp, d, s, r));
    if let Some(fd) = sock.fd() {
        if let Err(e) = register(lp, io, fd, false) {
            let _ = lp.close(io, None);
            return Err(Error::io("epoll_ctl", e, None));
        }
    }
    let key = net(lp).streams.insert(StreamState {
        gen: s.gen,
        flags,
        io,
        sock,
        read_cb: None,
        writes: None,
        connect: None,
        shutdown: None,
        write_err: None,
        bytes_read: 0,
        bytes_written: 0,
        node: None,
    });
    debug_assert_eq!(key, s.index as usize);
    tracing::trace!(stream = %s, "open");
    Ok(s)
}

// ----- the public API -----

impl Stream {
    /// Connects to `addr` (`uv_tcp_connect`). `cb` runs once, never from
    /// inside this call: with `Ok` once connected, or with the error, which
    /// names the address (`connect ECONNREFUSED 127.0.0.1:9`). Errors of
    /// `socket()` and `connect()` themselves also come through `cb`.
    ///
    /// Writes and a shutdown may be issued at once; they wait for the
    /// connection (and are canceled if it fails). `read_start` must wait
    /// for `cb`.
    pub fn connect<D: 'static>(
        lp: &mut Loop<D>,
        addr: SocketAddr,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<Stream> {
        let s = insert(lp, Sock::None, CONNECTING | WRITABLE)?;
        let req = lp.req_start();
        live(lp, s, "connect")?.connect = Some(Box::new(ConnectReq {
            cb: Box::new(cb),
            req,
            addr: Target::Addr(Address::Inet(addr)),
            rest: Vec::new(),
            lookup: None,
        }));
        start_connect(lp, s, addr);
        Ok(s)
    }

    /// Connects to the Unix socket at `path` (`uv_pipe_connect`); as
    /// [`Stream::connect`].
    pub fn connect_path<D: 'static>(
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<Stream> {
        let path = path.as_ref();
        // A path that cannot be a socket address (too long) is EINVAL now.
        socket2::SockAddr::unix(path)
            .map_err(|e| Error::io("connect", e, Some(&path.display())))?;
        let s = insert(lp, Sock::None, CONNECTING | WRITABLE)?;
        let req = lp.req_start();
        live(lp, s, "connect")?.connect = Some(Box::new(ConnectReq {
            cb: Box::new(cb),
            req,
            addr: Target::Addr(Address::Unix(path.to_path_buf())),
            rest: Vec::new(),
            lookup: None,
        }));
        let r = sys::connect_unix(path);
        opened(lp, s, r);
        Ok(s)
    }

    /// Resolves `host` on loop-fs's thread pool ([`loop_fs::dns::lookup`],
    /// `getaddrinfo`), then connects to its addresses in the resolver's
    /// order until one accepts; `cb` gets the last error if none does, or
    /// the lookup's (`getaddrinfo ENOTFOUND name`). Closing the stream
    /// during the lookup cancels it.
    pub fn connect_host<D: 'static>(
        lp: &mut Loop<D>,
        host: &str,
        port: u16,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<Stream> {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Stream::connect(lp, SocketAddr::new(ip, port), cb);
        }
        let s = insert(lp, Sock::None, CONNECTING | WRITABLE)?;
        let req = lp.req_start();
        let lookup = loop_fs::dns::lookup(lp, host, port, move |lp, d, r| {
            resolved(lp, d, s, r);
        });
        let lookup = match lookup {
            Ok(id) => Some(id),
            Err(e) => {
                let err = Error::io("getaddrinfo", io::Error::other(e), Some(&host));
                lp.defer(move |lp, d| connect_failed(lp, d, s, err));
                None
            }
        };
        live(lp, s, "connect")?.connect = Some(Box::new(ConnectReq {
            cb: Box::new(cb),
            req,
            addr: Target::Host(host.to_string()),
            rest: Vec::new(),
            lookup,
        }));
        Ok(s)
    }

    /// Adopts a connected std TCP stream (`uv_tcp_open`); it is made
    /// non-blocking.
    pub fn open_tcp<D: 'static>(lp: &mut Loop<D>, s: std::net::TcpStream) -> Result<Stream> {
        s.set_nonblocking(true)
            .map_err(|e| Error::io("open", e, None))?;
        let sock = Sock::Tcp(loop_core::mio::net::TcpStream::from_std(s));
        insert(lp, sock, CONNECTED | READABLE | WRITABLE)
    }

    /// Adopts a connected std Unix stream (`uv_pipe_open`), for example one
    /// end of `UnixStream::pair()`; it is made non-blocking.
    pub fn open_unix<D: 'static>(
        lp: &mut Loop<D>,
        s: std::os::unix::net::UnixStream,
    ) -> Result<Stream> {
        s.set_nonblocking(true)
            .map_err(|e| Error::io("open", e, None))?;
        let sock = Sock::Unix(loop_core::mio::net::UnixStream::from_std(s));
        insert(lp, sock, CONNECTED | READABLE | WRITABLE)
    }

    /// Starts reading (`uv_read_start`): `cb` gets data, EOF or an error,
    /// in the poll phase. `EALREADY` if reading already, `ENOTCONN` if not
    /// connected (yet) or after a read error.
    pub fn read_start<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnMut(&mut Loop<D>, &mut D, Stream, ReadEvent<'_>) + 'static,
    ) -> Result<()> {
        read_start_impl(lp, self, Some(Box::new(cb)))
    }

    /// Stops reading (`uv_read_stop`); no read callback runs after it.
    /// Stopping a stream that is not reading is fine.
    pub fn read_stop<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let st = live(lp, self, "read_stop")?;
        if st.flags & READING != 0 {
            st.flags &= !READING;
            let io = st.io;
            let _ = lp.io_stop(io);
        }
        Ok(())
    }

    /// Writes `data` (`uv_write` without a callback). A `Vec<u8>` is kept
    /// as is if it must be queued; a slice is copied only as far as it could
    /// not be written at once. Errors of the socket itself (`EPIPE`…) are
    /// only logged here: use [`Stream::write_with`] to see them. `EPIPE` if
    /// the stream was shut down, is closing or never connected.
    pub fn write<'a, D: 'static>(
        self,
        lp: &mut Loop<D>,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Result<()> {
        write_impl(lp, self, Bufs::One(data.into()), None)
    }

    /// Writes `data`; `cb` runs once it is all written (or failed, or was
    /// canceled by `close`), in order with the other writes, never from
    /// inside this call.
    pub fn write_with<'a, D: 'static>(
        self,
        lp: &mut Loop<D>,
        data: impl Into<Cow<'a, [u8]>>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<()>) + 'static,
    ) -> Result<()> {
        write_impl(lp, self, Bufs::One(data.into()), Some(Box::new(cb)))
    }

    /// Writes several buffers as one request (`uv_write` with `nbufs > 1`):
    /// one `sendmsg` when the queue is empty; what is left is copied.
    /// `EINVAL` for an empty list, as libuv.
    pub fn write_vectored<D: 'static>(
        self,
        lp: &mut Loop<D>,
        bufs: &[&[u8]],
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<()>) + 'static,
    ) -> Result<()> {
        if bufs.is_empty() {
            return Err(Error::misuse("write", libc::EINVAL, "no buffers"));
        }
        write_impl(lp, self, Bufs::Many(bufs), Some(Box::new(cb)))
    }

    /// Writes what the socket takes now, without queueing (`uv_try_write`):
    /// the number of bytes written, or `EAGAIN` if none could be (or writes
    /// are queued, or the stream is still connecting).
    pub fn try_write<D: 'static>(self, lp: &mut Loop<D>, data: &[u8]) -> Result<usize> {
        let st = live(lp, self, "try_write")?;
        if st.flags & WRITABLE == 0 {
            return Err(not_writable("try_write", st.flags));
        }
        if let Some(e) = &st.write_err {
            return Err(e.clone().with_op("try_write"));
        }
        let queued = st.writes.as_ref().is_some_and(|q| q.done < q.reqs.len());
        if st.flags & CONNECTING != 0 || queued {
            return Err(Error::misuse(
                "try_write",
                libc::EAGAIN,
                "writes are queued",
            ));
        }
        if data.is_empty() {
            return Ok(0);
        }
        match st.sock.send(data) {
            Ok(n) => {
                st.bytes_written += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::misuse(
                "try_write",
                libc::EAGAIN,
                "the socket's send buffer is full",
            )),
            Err(e) => Err(Error::io("try_write", e, None)),
        }
    }

    /// Shuts the writing side down once every queued write is written
    /// (`uv_shutdown`): the peer reads EOF. `cb` runs after every write
    /// callback. `ENOTCONN` if not connected or if shutdown was already
    /// requested. The stream is no longer writable from this call on.
    pub fn shutdown<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<()>) + 'static,
    ) -> Result<()> {
        shutdown_impl(lp, self, Some(Box::new(cb)))
    }

    /// Closes the stream (`uv_close`): the fd is closed now; in the close
    /// phase, the pending connect, write and shutdown callbacks get
    /// `ECANCELED` (writes already done get their result), then `cb` runs.
    /// A second close is an error.
    pub fn close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        close_impl(lp, self, Some(Box::new(cb)), false)
    }

    /// Closes the stream with an RST instead of a FIN (`uv_tcp_close_reset`:
    /// `SO_LINGER` {on, 0}, then close). `EINVAL` while a shutdown is
    /// pending (the stream stays open; its shutdown callback still runs).
    pub fn close_reset<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        close_impl(lp, self, Some(Box::new(cb)), true)
    }

    /// Bytes written but not yet taken by the kernel
    /// (`uv_stream_get_write_queue_size`); 0 for a closed stream.
    pub fn write_queue_size<D: 'static>(self, lp: &mut Loop<D>) -> usize {
        get(lp, self)
            .and_then(|st| st.writes.as_ref())
            .map_or(0, |q| q.size)
    }

    /// Whether the stream can be read (`uv_is_readable`): connected and no
    /// read error. Stays true after EOF.
    pub fn is_readable<D: 'static>(self, lp: &mut Loop<D>) -> bool {
        live(lp, self, "").is_ok_and(|st| st.flags & (READABLE | CONNECTED) == READABLE | CONNECTED)
    }

    /// Whether the stream can be written (`uv_is_writable`): false from
    /// `shutdown` on, and after a failure.
    pub fn is_writable<D: 'static>(self, lp: &mut Loop<D>) -> bool {
        live(lp, self, "").is_ok_and(|st| st.flags & WRITABLE != 0 && st.write_err.is_none())
    }

    /// Whether the stream is reading.
    pub fn is_reading<D: 'static>(self, lp: &mut Loop<D>) -> bool {
        live(lp, self, "").is_ok_and(|st| st.flags & READING != 0)
    }

    /// Whether a connect is in progress.
    pub fn is_connecting<D: 'static>(self, lp: &mut Loop<D>) -> bool {
        live(lp, self, "").is_ok_and(|st| st.flags & CONNECTING != 0)
    }

    /// Whether the stream is closing (its close callback is still to run).
    pub fn is_closing<D: 'static>(self, lp: &mut Loop<D>) -> bool {
        get(lp, self).is_some_and(|st| st.flags & CLOSING != 0)
    }

    /// Whether the id names a stream that exists (closing or not).
    pub fn exists<D: 'static>(self, lp: &mut Loop<D>) -> bool {
        get(lp, self).is_some()
    }

    /// Bytes read so far (Node's `socket.bytesRead`).
    pub fn bytes_read<D: 'static>(self, lp: &mut Loop<D>) -> u64 {
        get(lp, self).map_or(0, |st| st.bytes_read)
    }

    /// Bytes written to the socket so far (queued bytes not included).
    pub fn bytes_written<D: 'static>(self, lp: &mut Loop<D>) -> u64 {
        get(lp, self).map_or(0, |st| st.bytes_written)
    }

    /// The local address (`uv_tcp_getsockname`).
    pub fn local_addr<D: 'static>(self, lp: &mut Loop<D>) -> Result<Address> {
        let st = live(lp, self, "getsockname")?;
        st.sock
            .local_addr()
            .map_err(|e| Error::io("getsockname", e, None))
    }

    /// The peer's address (`uv_tcp_getpeername`); `ENOTCONN` while
    /// connecting.
    pub fn peer_addr<D: 'static>(self, lp: &mut Loop<D>) -> Result<Address> {
        let st = live(lp, self, "getpeername")?;
        st.sock
            .peer_addr()
            .map_err(|e| Error::io("getpeername", e, None))
    }

    /// `TCP_NODELAY` (`uv_tcp_nodelay`); a no-op on a Unix socket.
    pub fn set_no_delay<D: 'static>(self, lp: &mut Loop<D>, on: bool) -> Result<()> {
        let st = live(lp, self, "setNoDelay")?;
        st.sock
            .set_nodelay(on)
            .map_err(|e| Error::io("setNoDelay", e, None))
    }

    /// TCP keep-alive (`uv_tcp_keepalive`): when on, the first probe after
    /// `delay_secs` idle seconds, then one a second, 10 at most (libuv
    /// 1.46's settings). `EINVAL` for `on` with a zero delay, as libuv.
    pub fn set_keep_alive<D: 'static>(
        self,
        lp: &mut Loop<D>,
        on: bool,
        delay_secs: u32,
    ) -> Result<()> {
        if on && delay_secs == 0 {
            return Err(Error::misuse(
                "setKeepAlive",
                libc::EINVAL,
                "keep-alive needs a delay of at least 1 s",
            ));
        }
        let st = live(lp, self, "setKeepAlive")?;
        st.sock
            .set_keepalive(on, Some(delay_secs))
            .map_err(|e| Error::io("setKeepAlive", e, None))
    }

    /// The stream's loop handle, to find it in [`Loop::handles`] or pass to
    /// [`Loop::unref`] and friends.
    pub fn io_id<D: 'static>(self, lp: &mut Loop<D>) -> Option<IoId> {
        get(lp, self).map(|st| st.io)
    }

    /// References the stream (`uv_ref`).
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = get(lp, self).ok_or_else(|| bad_handle("ref"))?.io;
        lp.ref_handle(io).map_err(|_| bad_handle("ref"))
    }

    /// Unreferences the stream (`uv_unref`): its reading no longer keeps
    /// the loop alive (its requests still do).
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = get(lp, self).ok_or_else(|| bad_handle("unref"))?.io;
        lp.unref(io).map_err(|_| bad_handle("unref"))
    }
}

// ----- connect -----

fn start_connect<D: 'static>(lp: &mut Loop<D>, s: Stream, addr: SocketAddr) {
    let r = sys::connect_tcp(addr);
    opened(lp, s, r);
}

/// Takes the socket a connect made: registers it, and feeds an immediate
/// outcome to the pending phase.
fn opened<D: 'static>(lp: &mut Loop<D>, s: Stream, r: io::Result<(Sock, bool)>) {
    match r {
        Ok((sock, done)) => {
            let Some(st) = get(lp, s) else { return };
            let io = st.io;
            let fd = sock.fd();
            st.sock = sock;
            if let Some(fd) = fd {
                if let Err(e) = register(lp, io, fd, false) {
                    lp.defer(move |lp, d| connect_finish(lp, d, s, Err(e)));
                    return;
                }
            }
            if done {
                lp.defer(move |lp, d| connect_finish(lp, d, s, Ok(())));
            }
        }
        Err(e) => lp.defer(move |lp, d| connect_finish(lp, d, s, Err(e))),
    }
}

fn resolved<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, r: io::Result<Vec<SocketAddr>>) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    let Some(c) = st.connect.as_deref_mut() else {
        return;
    };
    c.lookup = None;
    let host = c.addr.to_string();
    match r {
        Ok(addrs) if !addrs.is_empty() => {
            let mut addrs = addrs.into_iter();
            let first = addrs.next().expect("not empty");
            c.rest = addrs.collect();
            c.rest.reverse();
            c.addr = Target::Addr(Address::Inet(first));
            tracing::trace!(stream = %s, %host, addr = %first, "resolved");
            start_connect(lp, s, first);
        }
        Ok(_) => {
            let e = io::Error::new(io::ErrorKind::NotFound, "no address found");
            connect_failed(lp, d, s, Error::io("getaddrinfo", e, Some(&host)));
        }
        Err(e) => connect_failed(lp, d, s, Error::io("getaddrinfo", e, Some(&host))),
    }
}

/// In the poll phase: has the pending connect completed?
fn connect_check<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, r: Ready) {
    let Some(st) = get(lp, s) else { return };
    let res = match st.sock.take_error() {
        Ok(Some(e)) | Err(e) => Err(e),
        Ok(None) => match st.sock.peer_addr() {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                if !(r.error || r.write_closed) {
                    return; // not yet: a spurious wake-up
                }
                Err(io::Error::from_raw_os_error(libc::ECONNREFUSED))
            }
            Err(e) => Err(e),
        },
    };
    connect_finish(lp, d, s, res);
}

/// The outcome of a connect attempt: call back, or try the next address.
fn connect_finish<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, res: io::Result<()>) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & (CONNECTING | CLOSING) != CONNECTING || st.connect.is_none() {
        return; // finished already (a deferred outcome met an earlier event)
    }
    match res {
        Ok(()) => {
            st.flags &= !CONNECTING;
            st.flags |= CONNECTED | READABLE;
            let c = st.connect.take().expect("checked above");
            tracing::trace!(stream = %s, addr = %c.addr, "connected");
            let ConnectReq { cb, req, .. } = *c;
            lp.req_done(req);
            cb(lp, d, s, Ok(()));
            lp.drain_ticks(d);
            if let Some(st) = get(lp, s) {
                if st.flags & CLOSING == 0 {
                    write_some(lp, s);
                    run_completions(lp, d, s);
                }
            }
        }
        Err(e) => {
            let c = st.connect.as_deref_mut().expect("checked above");
            let err = Error::io("connect", e, Some(&c.addr));
            if let Some(next) = c.rest.pop() {
                tracing::debug!(stream = %s, error = %err, next = %next, "connect failed, trying the next address");
                c.addr = Target::Addr(Address::Inet(next));
                st.sock = Sock::None;
                start_connect(lp, s, next);
                return;
            }
            connect_failed(lp, d, s, err);
        }
    }
}

/// The connect failed for good: its callback, then the queued writes and
/// the shutdown are canceled (libuv's `uv__stream_connect` on error).
fn connect_failed<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, err: Error) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    let Some(c) = st.connect.take() else { return };
    st.flags &= !(CONNECTING | READABLE | WRITABLE);
    tracing::debug!(stream = %s, error = %err, "connect failed");
    let ConnectReq { cb, req, .. } = *c;
    lp.req_done(req);
    cb(lp, d, s, Err(err));
    lp.drain_ticks(d);
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    if let Some(q) = st.writes.as_deref_mut() {
        fail_all(q, &Error::canceled("write"));
    }
    run_completions(lp, d, s);
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    if let Some(sh) = st.shutdown.take() {
        st.flags |= SHUT;
        let ShutdownReq { cb, req } = *sh;
        lp.req_done(req);
        match cb {
            Some(cb) => cb(lp, d, Err(Error::canceled("shutdown"))),
            None => node::on_finish(lp, d, s),
        }
        lp.drain_ticks(d);
    }
}

// ----- readiness -----

/// The stream's I/O callback (libuv's `uv__stream_io`): connect, then
/// read, then write.
fn on_ready<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, r: Ready) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    if st.flags & CONNECTING != 0 {
        if st.connect.as_ref().is_some_and(|c| c.lookup.is_some()) {
            return;
        }
        if r.writable || r.error || r.write_closed || r.read_closed {
            connect_check(lp, d, s, r);
        }
        match get(lp, s) {
            Some(st) if st.flags & (CONNECTED | CLOSING) == CONNECTED => {}
            _ => return,
        }
    }
    let st = get(lp, s).expect("checked above");
    if r.readable || r.read_closed || r.error {
        st.flags |= HINT_READ;
        if r.read_closed || r.error {
            st.flags |= HINT_RDHUP;
        }
        if st.flags & READING != 0 {
            do_read(lp, d, s);
        }
    }
    if r.writable || r.error || r.write_closed {
        let Some(st) = get(lp, s) else { return };
        if st.flags & CLOSING != 0 {
            return;
        }
        let unwritten = st.writes.as_ref().is_some_and(|q| q.done < q.reqs.len());
        if unwritten {
            write_some(lp, s);
        }
        if needs_completion(lp, s) {
            run_completions(lp, d, s);
        }
    }
}

pub(crate) fn read_start_impl<D: 'static>(
    lp: &mut Loop<D>,
    s: Stream,
    cb: Option<ReadCb<D>>,
) -> Result<()> {
    let st = live(lp, s, "read_start")?;
    if st.flags & READING != 0 {
        return Err(Error::misuse(
            "read_start",
            libc::EALREADY,
            "already reading",
        ));
    }
    if st.flags & (CONNECTED | READABLE) != CONNECTED | READABLE {
        return Err(Error::misuse(
            "read_start",
            libc::ENOTCONN,
            "the stream is not connected",
        ));
    }
    st.flags |= READING;
    if cb.is_some() {
        st.read_cb = cb;
    }
    let (io, hint) = (st.io, st.flags & HINT_READ != 0);
    let _ = lp.io_start(io);
    if hint {
        // Data (or EOF) may wait since the last edge: have epoll say so.
        rearm(lp, s);
    }
    Ok(())
}

/// Reads until `WouldBlock`, a short read, EOF, an error, `read_stop`, or
/// [`MAX_READS`] reads (then re-arms, to serve the rest next poll).
fn do_read<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let mut buf = take_buf(lp);
    let mut bounded = true;
    for _ in 0..MAX_READS {
        let Some(st) = get(lp, s) else {
            bounded = false;
            break;
        };
        if st.flags & (READING | CLOSING) != READING {
            bounded = false;
            break;
        }
        match st.sock.recv(&mut buf) {
            Ok(0) => {
                // EOF: reading stops; READABLE and the hint stay, so a new
                // read_start reports EOF again (libuv's readable_on_eof).
                st.flags &= !READING;
                let io = st.io;
                let _ = lp.io_stop(io);
                deliver(lp, d, s, ReadEvent::Eof);
                bounded = false;
                break;
            }
            Ok(n) => {
                st.bytes_read += n as u64;
                let short = n < buf.len() && st.flags & HINT_RDHUP == 0;
                if short {
                    st.flags &= !HINT_READ;
                }
                deliver(lp, d, s, ReadEvent::Data(&buf[..n]));
                if short {
                    bounded = false;
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                st.flags &= !(HINT_READ | HINT_RDHUP);
                bounded = false;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                st.flags &= !(READING | READABLE | WRITABLE);
                let io = st.io;
                let _ = lp.io_stop(io);
                deliver(lp, d, s, ReadEvent::Error(Error::io("read", e, None)));
                bounded = false;
                break;
            }
        }
    }
    put_buf(lp, buf);
    if bounded {
        rearm(lp, s);
    }
}

/// Calls the read callback (or the Node.js layer), then drains the
/// nextTick and microtask queues, as Node.js does after each `onread`.
fn deliver<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, ev: ReadEvent<'_>) {
    let Some(st) = get(lp, s) else { return };
    if let Some(mut cb) = st.read_cb.take() {
        cb(lp, d, s, ev);
        if let Some(st) = get(lp, s) {
            if st.read_cb.is_none() {
                st.read_cb = Some(cb);
            }
        }
    } else if st.node.is_some() {
        node::on_read(lp, d, s, ev);
    }
    lp.drain_ticks(d);
}

// ----- writes -----

pub(crate) enum Bufs<'a> {
    One(Cow<'a, [u8]>),
    Many(&'a [&'a [u8]]),
}

impl Bufs<'_> {
    fn len(&self) -> usize {
        match self {
            Bufs::One(b) => b.len(),
            Bufs::Many(bs) => bs.iter().map(|b| b.len()).sum(),
        }
    }

    fn send(&self, sock: &Sock) -> io::Result<usize> {
        match self {
            Bufs::One(b) => sock.send(b),
            Bufs::Many(bs) => {
                let mut iov = [IoSlice::new(&[]); MAX_IOV];
                let n = bs.len().min(MAX_IOV);
                for (slot, b) in iov.iter_mut().zip(bs.iter()) {
                    *slot = IoSlice::new(b);
                }
                sock.send_vectored(&iov[..n])
            }
        }
    }

    /// What is left after `written` bytes, owned: (buffer, offset).
    fn into_rest(self, written: usize) -> (Vec<u8>, usize) {
        let total = self.len();
        match self {
            Bufs::One(Cow::Owned(v)) => (v, written),
            Bufs::One(Cow::Borrowed(b)) => (b[written..].to_vec(), 0),
            Bufs::Many(bs) => {
                let mut skip = written;
                let mut out = Vec::with_capacity(total - written);
                for b in bs {
                    if skip >= b.len() {
                        skip -= b.len();
                    } else {
                        out.extend_from_slice(&b[skip..]);
                        skip = 0;
                    }
                }
                (out, 0)
            }
        }
    }
}

fn not_writable(op: &'static str, flags: u32) -> Error {
    let why = if flags & (SHUTTING | SHUT) != 0 {
        "write after shutdown (end)"
    } else {
        "the stream is not connected"
    };
    Error::misuse(op, libc::EPIPE, why)
}

pub(crate) fn write_impl<D: 'static>(
    lp: &mut Loop<D>,
    s: Stream,
    data: Bufs<'_>,
    cb: Option<WriteCb<D>>,
) -> Result<()> {
    let st = live(lp, s, "write")?;
    if st.flags & WRITABLE == 0 {
        return Err(not_writable("write", st.flags));
    }
    let total = data.len();
    let queued = st.writes.as_ref().is_some_and(|q| q.done < q.reqs.len());
    let mut written = 0;
    let mut result = None;
    if let Some(e) = &st.write_err {
        result = Some(Err(e.clone()));
    } else if st.flags & CONNECTING == 0 && !queued {
        if total == 0 {
            result = Some(Ok(()));
        } else {
            // Node.js's try-first path: most writes never queue.
            match data.send(&st.sock) {
                Ok(n) => {
                    written = n;
                    st.bytes_written += n as u64;
                    if n == total {
                        result = Some(Ok(()));
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    let err = Error::io("write", e, None);
                    tracing::debug!(stream = %s, error = %err, "write failed");
                    st.write_err = Some(err.clone());
                    result = Some(Err(err));
                }
            }
        }
    }
    if matches!(result, Some(Ok(()))) && cb.is_none() {
        return Ok(()); // all written, and nobody to tell
    }
    let req = lp.req_start();
    let complete = result.is_some();
    let (buf, pos) = if complete {
        (Vec::new(), 0)
    } else {
        data.into_rest(written)
    };
    let st = get(lp, s).expect("live above");
    let q = st.writes.get_or_insert_with(|| {
        Box::new(WriteQueue {
            reqs: VecDeque::new(),
            done: 0,
            size: 0,
        })
    });
    q.size += buf.len() - pos;
    q.reqs.push_back(WriteReq {
        buf,
        pos,
        cb,
        result,
        req,
    });
    if complete {
        // Complete at once: every request before it is complete too.
        debug_assert_eq!(q.done + 1, q.reqs.len());
        q.done = q.reqs.len();
        schedule_flush(lp, s);
    }
    Ok(())
}

/// Writes queued data until the socket would block (libuv's `uv__write`).
/// Runs no callback.
fn write_some<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    let StreamState {
        sock,
        writes,
        bytes_written,
        write_err,
        ..
    } = st;
    let Some(q) = writes.as_deref_mut() else {
        return;
    };
    while q.done < q.reqs.len() {
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let mut n_iov = 0;
        let mut total = 0;
        for (slot, r) in iov.iter_mut().zip(q.reqs.range(q.done..)) {
            *slot = IoSlice::new(&r.buf[r.pos..]);
            total += r.buf.len() - r.pos;
            n_iov += 1;
        }
        let res = if total == 0 {
            Ok(0)
        } else {
            sock.send_vectored(&iov[..n_iov])
        };
        match res {
            Ok(0) if total > 0 => break, // cannot happen on a stream socket
            Ok(mut n) => {
                *bytes_written += n as u64;
                q.size -= n;
                // Complete every request the bytes cover (empty ones too).
                while q.done < q.reqs.len() {
                    let r = &mut q.reqs[q.done];
                    let left = r.buf.len() - r.pos;
                    if n < left {
                        r.pos += n;
                        break;
                    }
                    n -= left;
                    r.pos = 0;
                    r.buf = Vec::new();
                    r.result = Some(Ok(()));
                    q.done += 1;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let err = Error::io("write", e, None);
                tracing::debug!(stream = %s, error = %err, "write failed");
                fail_all(q, &err);
                *write_err = Some(err);
                break;
            }
        }
    }
}

/// Completes every unwritten request with `err`.
fn fail_all<D>(q: &mut WriteQueue<D>, err: &Error) {
    for r in q.reqs.range_mut(q.done..) {
        r.buf = Vec::new();
        r.pos = 0;
        r.result = Some(Err(err.clone()));
    }
    q.done = q.reqs.len();
    q.size = 0;
}

fn needs_completion<D: 'static>(lp: &mut Loop<D>, s: Stream) -> bool {
    let Some(st) = get(lp, s) else { return false };
    let q_done = st.writes.as_ref().map_or(0, |q| q.done);
    let q_len = st.writes.as_ref().map_or(0, |q| q.reqs.len());
    q_done > 0 || (q_len == 0 && st.flags & (SHUTTING | SHUT) == SHUTTING)
}

/// Runs this stream's completions in the next pending phase (once, however
/// many are due).
fn schedule_flush<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & FLUSH_SCHEDULED != 0 {
        return;
    }
    st.flags |= FLUSH_SCHEDULED;
    lp.defer(move |lp, d| {
        if let Some(st) = get(lp, s) {
            st.flags &= !FLUSH_SCHEDULED;
        }
        run_completions(lp, d, s);
    });
}

/// The completed writes' callbacks in order, the Node.js layer's hook,
/// then the shutdown if it is due (libuv's `uv__write_callbacks` and
/// `uv__drain`).
fn run_completions<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let mut any = false;
    let mut failed: Option<Error> = None;
    loop {
        let Some(st) = get(lp, s) else { return };
        if st.flags & CLOSING != 0 {
            return; // the close phase calls back what is left
        }
        let Some(q) = st.writes.as_deref_mut() else {
            break;
        };
        if q.done == 0 {
            if q.reqs.is_empty() {
                st.writes = None;
            }
            break;
        }
        let r = q.reqs.pop_front().expect("done > 0");
        q.done -= 1;
        let WriteReq {
            cb, result, req, ..
        } = r;
        lp.req_done(req);
        let result = result.unwrap_or(Ok(()));
        if let (Err(e), None) = (&result, &failed) {
            failed = Some(e.clone());
        }
        any = true;
        if let Some(cb) = cb {
            cb(lp, d, result);
            lp.drain_ticks(d);
        }
    }
    if any && get(lp, s).is_some_and(|st| st.node.is_some()) {
        node::after_write(lp, d, s, failed);
    }
    maybe_shutdown(lp, d, s);
}

fn maybe_shutdown<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & (SHUTTING | SHUT | CONNECTING | CLOSING) != SHUTTING
        || st.writes.is_some()
        || st.shutdown.is_none()
    {
        return;
    }
    st.flags |= SHUT;
    let res = st
        .sock
        .shutdown_write()
        .map_err(|e| Error::io("shutdown", e, None));
    tracing::trace!(stream = %s, ok = res.is_ok(), "shutdown");
    let ShutdownReq { cb, req } = *st.shutdown.take().expect("checked above");
    lp.req_done(req);
    match cb {
        Some(cb) => cb(lp, d, res),
        None => node::on_finish(lp, d, s),
    }
    lp.drain_ticks(d);
}

pub(crate) fn shutdown_impl<D: 'static>(
    lp: &mut Loop<D>,
    s: Stream,
    cb: Option<WriteCb<D>>,
) -> Result<()> {
    let st = live(lp, s, "shutdown")?;
    if st.flags & (SHUTTING | SHUT) != 0
        || st.flags & (CONNECTED | CONNECTING) == 0
        || st.flags & WRITABLE == 0
    {
        return Err(Error::misuse(
            "shutdown",
            libc::ENOTCONN,
            "not connected, or shutdown already requested",
        ));
    }
    st.flags |= SHUTTING;
    st.flags &= !WRITABLE;
    let ready = st.flags & CONNECTING == 0 && st.writes.is_none();
    let req = lp.req_start();
    get(lp, s).expect("live above").shutdown = Some(Box::new(ShutdownReq { cb, req }));
    if ready {
        schedule_flush(lp, s);
    }
    Ok(())
}

// ----- close -----

pub(crate) fn close_impl<D: 'static>(
    lp: &mut Loop<D>,
    s: Stream,
    cb: Option<CloseCb<D>>,
    reset: bool,
) -> Result<()> {
    let st = live(lp, s, if reset { "close_reset" } else { "close" })?;
    if reset {
        if st.flags & (SHUTTING | SHUT) == SHUTTING {
            return Err(Error::misuse(
                "close_reset",
                libc::EINVAL,
                "a shutdown is pending",
            ));
        }
        if let Err(e) = st.sock.set_linger_zero() {
            tracing::debug!(stream = %s, error = %e, "SO_LINGER failed");
        }
    }
    st.flags |= CLOSING;
    st.flags &= !READING;
    // Closing the fd also takes it out of the epoll set (never dup'd).
    st.sock = Sock::None;
    let io = st.io;
    let lookup = st.connect.as_mut().and_then(|c| c.lookup.take());
    if let Some(id) = lookup {
        // The lookup's own callback finds the stream closing and returns.
        let _ = loop_fs::cancel(lp, id);
    }
    tracing::trace!(stream = %s, reset, "close");
    lp.close(io, Some(Box::new(move |lp, d| finish_close(lp, d, s, cb))))
        .map_err(|_| bad_handle("close"))
}

/// The close phase: cancel what is pending, in libuv's order, then the
/// close callback; the id is invalid afterwards.
fn finish_close<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, cb: Option<CloseCb<D>>) {
    let Some(st) = get(lp, s) else { return };
    let connect = st.connect.take();
    let writes = st.writes.take();
    let shutdown = st.shutdown.take();
    if let Some(c) = connect {
        let ConnectReq { cb, req, addr, .. } = *c;
        lp.req_done(req);
        let err = Error::errno("connect", libc::ECANCELED, Some(&addr));
        cb(lp, d, s, Err(err));
        lp.drain_ticks(d);
    }
    if let Some(q) = writes {
        for r in q.reqs {
            lp.req_done(r.req);
            let res = r.result.unwrap_or_else(|| Err(Error::canceled("write")));
            if let Some(cb) = r.cb {
                cb(lp, d, res);
                lp.drain_ticks(d);
            }
        }
    }
    if let Some(sh) = shutdown {
        lp.req_done(sh.req);
        if let Some(cb) = sh.cb {
            cb(lp, d, Err(Error::canceled("shutdown")));
            lp.drain_ticks(d);
        }
    }
    if let Some(ns) = get(lp, s).and_then(|st| st.node.take()) {
        node::on_closed(lp, d, s, ns);
    }
    if let Some(cb) = cb {
        cb(lp, d);
        lp.drain_ticks(d);
    }
    net(lp).streams.remove(s.index as usize);
    tracing::trace!(stream = %s, "closed");
}
