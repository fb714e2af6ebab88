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
//! - **Every callback through [`Loop::make_callback`].** Read, connect,
//!   write, shutdown and close callbacks run through loop-core's one entry
//!   (trace record, panic caught, then the nextTick and microtask queues
//!   drained). When a callback panicked the stream puts its state in
//!   order and returns without running another one: nothing read is lost
//!   (the read loop stops before the next `recv`) and what is still due
//!   (completed writes, a readable socket) waits for the next `run`.
//! - **The layer above is a caller like any other.** A stream knows the
//!   callbacks it was given and nothing of who gave them: the Node.js
//!   [`crate::Socket`] is built on this public surface alone.
//! - **Requests keep the loop alive.** Every connect, write and shutdown
//!   holds an [`loop_core::ActiveRequest`] until its callback has run, even
//!   on an unreferenced stream. A stream is *active* (keeps a referenced
//!   loop alive by itself) only while it is reading.
//! - **Order.** Write callbacks run in `write` order, all before the
//!   shutdown callback; on `close`, the connect callback, then the write
//!   callbacks (`ECANCELED` for what was not written), then the shutdown
//!   callback, then the close callback, all in the close phase.
//! - **Interest follows need** (libuv's `uv__io_start`/`uv__io_stop`). The
//!   socket is in the epoll set, edge-triggered, for reading only while
//!   `read_start` is in force (or a connect is pending) and for writing
//!   once a write had to wait (kept while reading, to spare a syscall per
//!   queued write). `read_stop` takes the read interest out: a paused
//!   socket costs no wake-up however much the peer sends. Registering
//!   again makes epoll report what is already waiting, so nothing is
//!   missed across a pause.
//! - **Readiness is edge-triggered and remembered.** A read stops at
//!   `WouldBlock`, at a short read (the kernel queue was emptied: any later
//!   data brings a new edge) unless the peer's FIN was seen, or after
//!   [`MAX_READS`] reads; in the last case the registration is renewed
//!   (`epoll_ctl(MOD)`), which makes epoll report the socket again if it
//!   is still ready.
//! - **One buffer per loop.** Reads go to the loop's 64 KiB buffer and the
//!   callback gets a slice of it; nothing is allocated per read or kept per
//!   connection.
//! - **Small when idle.** An idle stream is its entry (a few words: no
//!   buffer, the requests' state boxed apart and only while one is
//!   pending) and its read callback.
//!
//! # Modules
//!
//! `connect` (connect, by address, path or host name), `read`
//! (`read_start`/`read_stop` and the readiness callback), `write` (the
//! write queue, `try_write`, `shutdown`), `close` (close and the close
//! phase's cancellations).
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
//! - `read_start` with a callback of the same type as the previous one
//!   reuses its allocation: pausing and resuming allocates nothing.

mod close;
mod connect;
mod read;
mod write;

pub(crate) use connect::connect_prepared;

use crate::error::{bad_handle, Address, Error, Result};
use crate::state::{net, net_key, net_mut, net_ref, Net};
use crate::sys::Sock;
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::{ExtKey, IoId, Loop};
use std::fmt;
use std::io;

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

/// A read callback as kept by the stream: callable, and its concrete type
/// recoverable, so that a `read_start` with a callback of the same type
/// writes it over the old one in place instead of allocating.
pub(crate) trait ReadFn<D>:
    FnMut(&mut Loop<D>, &mut D, Stream, ReadEvent<'_>) + 'static
{
    fn as_any(&mut self) -> &mut dyn std::any::Any;
}

impl<D, F> ReadFn<D> for F
where
    F: FnMut(&mut Loop<D>, &mut D, Stream, ReadEvent<'_>) + 'static,
{
    fn as_any(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

// Stream flags.
const READING: u32 = 1;
const CONNECTING: u32 = 1 << 1;
pub(crate) const CONNECTED: u32 = 1 << 2;
/// libuv's `UV_HANDLE_READABLE`: cleared by a read error only.
pub(crate) const READABLE: u32 = 1 << 3;
/// libuv's `UV_HANDLE_WRITABLE`: cleared by `shutdown` and failures.
pub(crate) const WRITABLE: u32 = 1 << 4;
const SHUTTING: u32 = 1 << 5;
const SHUT: u32 = 1 << 6;
/// Unread data (or EOF) may be waiting in the kernel.
const HINT_READ: u32 = 1 << 7;
/// The peer's FIN (or an error) was seen: read on to EOF past short reads.
const HINT_RDHUP: u32 = 1 << 8;
const FLUSH_SCHEDULED: u32 = 1 << 9;
const CLOSING: u32 = 1 << 10;
/// The fd is in the epoll set with the read interest.
const REG_READ: u32 = 1 << 11;
/// The fd is in the epoll set with the write interest.
const REG_WRITE: u32 = 1 << 12;
/// Made by [`Stream::new`] (or back from [`Stream::close_keep`]) and not
/// connected since: `connect_to` may start a connect on it.
const UNCONNECTED: u32 = 1 << 13;
/// Closing with [`Stream::close_keep`]: the close phase makes the entry an
/// unconnected stream again instead of removing it.
const KEEP: u32 = 1 << 14;
/// The close callback is running: `connect_to` may make the stream an
/// unconnected one again and connect it (the entry then stays).
const IN_CLOSE_CB: u32 = 1 << 15;

pub(crate) struct StreamState<D> {
    gen: u32,
    flags: u32,
    io: IoId,
    sock: Sock,
    read_cb: Option<Box<dyn ReadFn<D>>>,
    /// Allocated while a request is pending (or a write failed).
    reqs: Option<Box<write::Reqs<D>>>,
    bytes_read: u64,
    bytes_written: u64,
}

// ----- entry access -----

#[inline]
fn get<D: 'static>(lp: &mut Loop<D>, s: Stream) -> Option<&mut StreamState<D>> {
    net_mut(lp)?
        .streams
        .get_mut(s.index as usize)
        .filter(|st| st.gen == s.gen)
}

/// [`get`] through the key the I/O callback captured.
#[inline]
fn get_k<D: 'static>(
    lp: &mut Loop<D>,
    k: ExtKey<Net<D>>,
    s: Stream,
) -> Option<&mut StreamState<D>> {
    lp.ext_mut(k)?
        .streams
        .get_mut(s.index as usize)
        .filter(|st| st.gen == s.gen)
}

#[inline]
fn get_ref<D: 'static>(lp: &Loop<D>, s: Stream) -> Option<&StreamState<D>> {
    net_ref(lp)?
        .streams
        .get(s.index as usize)
        .filter(|st| st.gen == s.gen)
}

/// The entry of a live (not closing) stream, or `EBADF` naming `op`.
#[inline]
fn live<'a, D: 'static>(
    lp: &'a mut Loop<D>,
    s: Stream,
    op: &'static str,
) -> Result<&'a mut StreamState<D>> {
    match get(lp, s) {
        Some(st) if st.flags & CLOSING == 0 => Ok(st),
        _ => Err(bad_handle(op)),
    }
}

#[inline]
fn live_ref<D: 'static>(lp: &Loop<D>, s: Stream) -> Option<&StreamState<D>> {
    get_ref(lp, s).filter(|st| st.flags & CLOSING == 0)
}

// ----- epoll interest -----

/// Puts the fd's epoll registration in line with what the stream waits
/// for (see *Interest follows need*). `Ok(true)` if it made a syscall; on
/// an error the registration is as before.
fn update_interest<D: 'static>(lp: &mut Loop<D>, s: Stream) -> io::Result<bool> {
    let Some(st) = get(lp, s) else {
        return Ok(false);
    };
    let Some(fd) = st.sock.fd() else {
        return Ok(false);
    };
    let f = st.flags;
    let read = f & (READING | CONNECTING) != 0;
    let unwritten = st.reqs.as_ref().is_some_and(|r| r.unwritten());
    let write = f & CONNECTING != 0 || unwritten || (f & REG_WRITE != 0 && read);
    let want = (if read { REG_READ } else { 0 }) | (if write { REG_WRITE } else { 0 });
    let have = f & (REG_READ | REG_WRITE);
    if want == have {
        return Ok(false);
    }
    let io = st.io;
    let t = token(lp, io)?;
    let reg = lp.registry();
    match (have, interest(want)) {
        (_, None) => reg.deregister(&mut SourceFd(&fd))?,
        (0, Some(i)) => reg.register(&mut SourceFd(&fd), t, i)?,
        (_, Some(i)) => reg.reregister(&mut SourceFd(&fd), t, i)?,
    }
    if let Some(st) = get(lp, s) {
        st.flags = (st.flags & !(REG_READ | REG_WRITE)) | want;
    }
    Ok(true)
}

/// [`update_interest`] where a failure can only be logged (the stream
/// carries on; the next change of interest tries again).
fn update_interest_or_log<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    if let Err(e) = update_interest(lp, s) {
        tracing::warn!(stream = %s, error = %e, "epoll_ctl failed");
    }
}

fn interest(reg: u32) -> Option<Interest> {
    match (reg & REG_READ != 0, reg & REG_WRITE != 0) {
        (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
        (true, false) => Some(Interest::READABLE),
        (false, true) => Some(Interest::WRITABLE),
        (false, false) => None,
    }
}

fn token<D: 'static>(lp: &Loop<D>, io: IoId) -> io::Result<loop_core::mio::Token> {
    lp.io_token(io).map_err(io::Error::from)
}

/// Renews the registration so that epoll reports the socket again if it
/// is still ready (what makes edge-triggered readiness level-like on
/// demand).
fn rearm<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    let (io, fd, reg) = (st.io, st.sock.fd(), interest(st.flags));
    if let (Some(fd), Some(i)) = (fd, reg) {
        let r = token(lp, io).and_then(|t| lp.registry().reregister(&mut SourceFd(&fd), t, i));
        if let Err(e) = r {
            tracing::warn!(stream = %s, error = %e, "epoll_ctl(MOD) failed");
        }
    }
}

/// Makes a stream of `sock` with `flags`. The fd joins the epoll set once
/// the stream waits for something (reading, a queued write, a connect).
pub(crate) fn insert<D: 'static>(lp: &mut Loop<D>, sock: Sock, flags: u32) -> Stream {
    let k = net_key(lp);
    let n = net(lp);
    let s = Stream {
        index: n.streams.vacant_key() as u32,
        gen: n.next_stream_gen(),
    };
    let io = lp.io_init(move |lp, d, r| read::on_ready(lp, d, k, s, r));
    let key = net(lp).streams.insert(StreamState {
        gen: s.gen,
        flags,
        io,
        sock,
        read_cb: None,
        reqs: None,
        bytes_read: 0,
        bytes_written: 0,
    });
    debug_assert_eq!(key, s.index as usize);
    tracing::trace!(stream = %s, "open");
    s
}

/// Registers the stream's fd and takes it out again: whether epoll can
/// watch it at all.
fn probe_epoll<D: 'static>(lp: &mut Loop<D>, s: Stream) -> io::Result<()> {
    let Some((io, Some(fd))) = get(lp, s).map(|st| (st.io, st.sock.fd())) else {
        return Ok(());
    };
    let t = token(lp, io)?;
    let reg = lp.registry();
    reg.register(&mut SourceFd(&fd), t, Interest::READABLE)?;
    reg.deregister(&mut SourceFd(&fd))
}

/// `EEXIST` if `fd` is already the fd of one of this loop's streams or
/// listeners (what libuv's `epoll_ctl(ADD)` says of an fd watched twice).
pub(crate) fn check_unwatched<D: 'static>(lp: &Loop<D>, fd: &std::os::fd::OwnedFd) -> Result<()> {
    use std::os::fd::AsRawFd;
    check_unwatched_raw(lp, fd.as_raw_fd())
}

/// [`check_unwatched`] by fd number.
pub(crate) fn check_unwatched_raw<D: 'static>(lp: &Loop<D>, fd: std::os::fd::RawFd) -> Result<()> {
    let raw = Some(fd);
    let Some(n) = net_ref(lp) else { return Ok(()) };
    if n.streams.iter().any(|(_, st)| st.sock.fd() == raw)
        || n.listeners.iter().any(|(_, l)| l.fd() == raw)
    {
        return Err(Error::misuse(
            "open",
            libc::EEXIST,
            "the fd is already a stream or listener of this loop",
        ));
    }
    Ok(())
}

// ----- the public API: queries and options -----

impl Stream {
    /// Adopts a connected std TCP stream (`uv_tcp_open`); it is made
    /// non-blocking.
    pub fn open_tcp<D: 'static>(lp: &mut Loop<D>, s: std::net::TcpStream) -> Result<Stream> {
        s.set_nonblocking(true)
            .map_err(|e| Error::io("open", e, None))?;
        let sock = Sock::Tcp(loop_core::mio::net::TcpStream::from_std(s));
        Ok(insert(lp, sock, CONNECTED | READABLE | WRITABLE))
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
        Ok(insert(lp, sock, CONNECTED | READABLE | WRITABLE))
    }

    /// Opens an fd as a stream (`uv_pipe_open`, `uv_tcp_open`): a connected
    /// TCP or Unix stream socket, a pipe, a FIFO or a character device. It
    /// is readable and writable as its access mode says (a socket is
    /// both; the read end of a pipe only readable), and made
    /// non-blocking. `EEXIST` if this loop already has a stream or a
    /// listener on that fd number; `EINVAL` for a regular file, a
    /// directory or a datagram socket; `ENOTCONN` for a listening socket;
    /// `EPERM` for a character device epoll cannot watch (`/dev/null`).
    /// The fd is closed on error. A pipe has no half-close: `shutdown` on
    /// one fails with `ENOTSOCK` (as libuv's), close it to give its reader
    /// EOF.
    pub fn open_fd<D: 'static>(lp: &mut Loop<D>, fd: std::os::fd::OwnedFd) -> Result<Stream> {
        check_unwatched(lp, &fd)?;
        let o = crate::sys::open_fd(fd).map_err(|e| Error::io("open", e, None))?;
        let flags = CONNECTED
            | if o.readable { READABLE } else { 0 }
            | if o.writable { WRITABLE } else { 0 };
        let pipe = matches!(o.sock, Sock::Pipe(_));
        let s = insert(lp, o.sock, flags);
        if pipe {
            // Not every character device can be watched (`/dev/null` is
            // EPERM to epoll): find out now rather than at `read_start`.
            if let Err(e) = probe_epoll(lp, s) {
                let _ = s.close(lp, |_, _| {});
                return Err(Error::io("open", e, None));
            }
        }
        Ok(s)
    }

    /// The stream's slot in the loop's stream table: small and dense,
    /// reused by a later stream once this one is closed. Made for side
    /// tables indexed by stream (a `Vec` per slot, checked against the
    /// whole id), as the Node.js [`crate::Socket`] keeps its state; a read
    /// callback that finds its state this way captures nothing, and
    /// `Box`ing it allocates nothing.
    pub fn slot(self) -> usize {
        self.index as usize
    }

    /// Bytes written but not yet taken by the kernel
    /// (`uv_stream_get_write_queue_size`); 0 for a closed stream.
    pub fn write_queue_size<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self)
            .and_then(|st| st.reqs.as_ref())
            .map_or(0, |r| r.size())
    }

    /// Write requests whose callbacks have not run yet: queued, or written
    /// and due. Inside a write callback, the requests after it. 0 once
    /// every write callback ran (what Node.js's `'drain'` waits for).
    pub fn write_requests<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self)
            .and_then(|st| st.reqs.as_ref())
            .map_or(0, |r| r.requests())
    }

    /// Whether the stream can be read (`uv_is_readable`): connected and no
    /// read error. Stays true after EOF.
    pub fn is_readable<D: 'static>(self, lp: &Loop<D>) -> bool {
        live_ref(lp, self)
            .is_some_and(|st| st.flags & (READABLE | CONNECTED) == READABLE | CONNECTED)
    }

    /// Whether the stream can be written (`uv_is_writable`): false from
    /// `shutdown` on, and after a failure.
    pub fn is_writable<D: 'static>(self, lp: &Loop<D>) -> bool {
        live_ref(lp, self).is_some_and(|st| {
            st.flags & WRITABLE != 0 && !st.reqs.as_ref().is_some_and(|r| r.failed())
        })
    }

    /// Whether the stream is reading.
    pub fn is_reading<D: 'static>(self, lp: &Loop<D>) -> bool {
        live_ref(lp, self).is_some_and(|st| st.flags & READING != 0)
    }

    /// Whether the stream is unconnected ([`Stream::new`], or back from
    /// [`Stream::close_keep`]): no socket, no connect started.
    pub fn is_unconnected<D: 'static>(self, lp: &Loop<D>) -> bool {
        live_ref(lp, self).is_some_and(|st| st.flags & UNCONNECTED != 0)
    }

    /// Whether a connect is in progress.
    pub fn is_connecting<D: 'static>(self, lp: &Loop<D>) -> bool {
        live_ref(lp, self).is_some_and(|st| st.flags & CONNECTING != 0)
    }

    /// Whether the stream is closing (its close callback is still to run).
    pub fn is_closing<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.flags & CLOSING != 0)
    }

    /// Whether the id names a stream that exists (closing or not).
    pub fn exists<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some()
    }

    /// Bytes read so far (Node's `socket.bytesRead`).
    pub fn bytes_read<D: 'static>(self, lp: &Loop<D>) -> u64 {
        get_ref(lp, self).map_or(0, |st| st.bytes_read)
    }

    /// Bytes written to the socket so far (queued bytes not included).
    pub fn bytes_written<D: 'static>(self, lp: &Loop<D>) -> u64 {
        get_ref(lp, self).map_or(0, |st| st.bytes_written)
    }

    /// The local address (`uv_tcp_getsockname`).
    pub fn local_addr<D: 'static>(self, lp: &Loop<D>) -> Result<Address> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("getsockname"))?;
        st.sock
            .local_addr()
            .map_err(|e| Error::io("getsockname", e, None))
    }

    /// The peer's address (`uv_tcp_getpeername`); `ENOTCONN` while
    /// connecting.
    pub fn peer_addr<D: 'static>(self, lp: &Loop<D>) -> Result<Address> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("getpeername"))?;
        st.sock
            .peer_addr()
            .map_err(|e| Error::io("getpeername", e, None))
    }

    /// `TCP_NODELAY` (`uv_tcp_nodelay`); a no-op on a Unix socket.
    pub fn set_no_delay<D: 'static>(self, lp: &Loop<D>, on: bool) -> Result<()> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("setNoDelay"))?;
        st.sock
            .set_nodelay(on)
            .map_err(|e| Error::io("setNoDelay", e, None))
    }

    /// Whether `TCP_NODELAY` is on (false for a Unix socket); `EBADF`
    /// with no socket (closed, or unconnected).
    pub fn no_delay<D: 'static>(self, lp: &Loop<D>) -> Result<bool> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("getsockopt"))?;
        st.sock
            .nodelay()
            .map_err(|e| Error::io("getsockopt", e, None))
    }

    /// Whether `SO_KEEPALIVE` is on (false for a Unix socket); `EBADF`
    /// with no socket.
    pub fn keep_alive<D: 'static>(self, lp: &Loop<D>) -> Result<bool> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("getsockopt"))?;
        st.sock
            .keepalive()
            .map_err(|e| Error::io("getsockopt", e, None))
    }

    /// TCP keep-alive (`uv_tcp_keepalive`): when on, the first probe after
    /// `delay_secs` idle seconds, then one a second, 10 at most (libuv
    /// 1.46's settings). `EINVAL` for `on` with a zero delay, as libuv.
    pub fn set_keep_alive<D: 'static>(self, lp: &Loop<D>, on: bool, delay_secs: u32) -> Result<()> {
        if on && delay_secs == 0 {
            return Err(Error::misuse(
                "setKeepAlive",
                libc::EINVAL,
                "keep-alive needs a delay of at least 1 s",
            ));
        }
        self.set_keep_alive_idle(lp, on, Some(delay_secs))
    }

    /// TCP keep-alive with the idle time optional: `None` turns it on or
    /// off and keeps the system's idle time (what Node.js's
    /// `setKeepAlive(true, delay)` does for a delay under 1 s).
    pub fn set_keep_alive_idle<D: 'static>(
        self,
        lp: &Loop<D>,
        on: bool,
        idle_secs: Option<u32>,
    ) -> Result<()> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("setKeepAlive"))?;
        st.sock
            .set_keepalive(on, idle_secs)
            .map_err(|e| Error::io("setKeepAlive", e, None))
    }

    /// `SO_LINGER` {on, 0}: closing the stream then sends an RST instead
    /// of a FIN (what [`Stream::close_reset`] sets; Node.js's
    /// `resetAndDestroy` sets it, then destroys).
    pub fn set_linger_zero<D: 'static>(self, lp: &Loop<D>) -> Result<()> {
        let st = live_ref(lp, self).ok_or_else(|| bad_handle("setLinger"))?;
        st.sock
            .set_linger_zero()
            .map_err(|e| Error::io("setLinger", e, None))
    }

    /// The stream's loop handle, to find it in [`Loop::handles`] or pass to
    /// [`Loop::unref`] and friends.
    pub fn io_id<D: 'static>(self, lp: &Loop<D>) -> Option<IoId> {
        get_ref(lp, self).map(|st| st.io)
    }

    /// References the stream (`uv_ref`).
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = self.io_id(lp).ok_or_else(|| bad_handle("ref"))?;
        lp.ref_handle(io).map_err(|_| bad_handle("ref"))
    }

    /// Unreferences the stream (`uv_unref`): its reading no longer keeps
    /// the loop alive (its requests still do).
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = self.io_id(lp).ok_or_else(|| bad_handle("unref"))?;
        lp.unref(io).map_err(|_| bad_handle("unref"))
    }
}
