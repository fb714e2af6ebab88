//! [`AsyncStream`]: a TCP or Unix stream for tasks — connect, read into
//! the caller's buffer, `write_all` with backpressure, shutdown.
//!
//! # Invariants
//!
//! - The stream and its futures share one [`Shared`] cell with the stream
//!   layer's callbacks: a callback records (bytes, EOF, an error, a
//!   completion) and wakes the waker the latest poll left; a future looks
//!   at the cell and, when it must act on the loop, reaches it through
//!   `task::with_any_loop` and the [`Ops`] of the loop's state type.
//! - **Reading** starts at the first read and goes on while at most
//!   [`READ_HIGH_WATER`] bytes wait in the cell: past it, `read_stop`
//!   (the peer waits on its TCP window), and the read that brings the
//!   cell back under [`READ_LOW_WATER`] resumes (`read_start` with the
//!   same closure type: no allocation). Nothing read is ever dropped: a
//!   read future dropped mid-way leaves the bytes in the cell for the
//!   next read.
//! - **Steady state allocates nothing**: the cell's buffer keeps its
//!   capacity (emptied, not freed), wakers are task wakers (a clone is a
//!   reference count), and a `write_all` the kernel takes at once is one
//!   `try_write`.
//! - **Writing** is all or nothing per `write_all`: it waits while the
//!   stream's write queue holds more than [`WRITE_HIGH_WATER`] bytes,
//!   then hands its whole buffer over in one poll (`try_write`, the rest
//!   copied into the write queue). Dropped while waiting, it wrote
//!   nothing. A queued write's error is kept and is the result of the
//!   next write, flush or shutdown.
//! - **Dropping** the stream closes it, when dropped in a task's poll or
//!   by the loop (the usual case: the task owning it ends); dropped
//!   elsewhere, it marks the cell orphaned and the next callback of the
//!   stream closes it (else the loop's drop does).

use super::ops::{ops, Ops};
use crate::error::{Address, Error, Result};
use crate::{ReadEvent, Stream};
use loop_core::task::{with_any_loop, AnyLoop};
use loop_core::Loop;
use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Reading pauses once more than this many received bytes wait unread
/// (64 KiB, the size of one read of the stream layer: a task that keeps up
/// never pauses its stream).
pub const READ_HIGH_WATER: usize = 64 * 1024;
/// A paused stream resumes reading once fewer bytes than this wait.
pub const READ_LOW_WATER: usize = READ_HIGH_WATER / 2;
/// `write_all` waits while the write queue holds more than this (Node's
/// default high-water mark, 16 KiB).
pub const WRITE_HIGH_WATER: usize = crate::DEFAULT_HIGH_WATER_MARK;

/// Where the shutdown is.
enum Shut {
    None,
    Pending,
    Done(Result<()>),
}

struct State {
    /// Received bytes; `rbuf[rpos..]` are unread.
    rbuf: Vec<u8>,
    rpos: usize,
    /// `read_start` is in force.
    reading: bool,
    eof: bool,
    rerr: Option<Error>,
    read_waker: Option<Waker>,
    /// Writes, flush, shutdown and connect wait here.
    write_waker: Option<Waker>,
    werr: Option<Error>,
    shut: Shut,
    /// `None` while connecting.
    connect: Option<Result<()>>,
    /// The stream was dropped where no loop was reachable.
    orphaned: bool,
}

/// What a stream shares with the stream layer's callbacks.
pub(crate) struct Shared {
    st: RefCell<State>,
}

fn take_wake(w: &mut Option<Waker>) -> Option<Waker> {
    w.take()
}

fn register(slot: &mut Option<Waker>, w: &Waker) {
    match slot {
        Some(old) if old.will_wake(w) => {}
        _ => *slot = Some(w.clone()),
    }
}

impl Shared {
    fn new(connected: bool) -> Rc<Shared> {
        Rc::new(Shared {
            st: RefCell::new(State {
                rbuf: Vec::new(),
                rpos: 0,
                reading: false,
                eof: false,
                rerr: None,
                read_waker: None,
                write_waker: None,
                werr: None,
                shut: Shut::None,
                connect: connected.then_some(Ok(())),
                orphaned: false,
            }),
        })
    }

    /// A queued write completed (or failed, or was canceled by close).
    pub(crate) fn written(&self, r: Result<()>) {
        let w = {
            let mut st = self.st.borrow_mut();
            if let Err(e) = r {
                st.werr.get_or_insert(e);
            }
            take_wake(&mut st.write_waker)
        };
        if let Some(w) = w {
            w.wake();
        }
    }

    /// The shutdown completed.
    pub(crate) fn shut(&self, r: Result<()>) {
        let w = {
            let mut st = self.st.borrow_mut();
            st.shut = Shut::Done(r);
            take_wake(&mut st.write_waker)
        };
        if let Some(w) = w {
            w.wake();
        }
    }

    fn connected(&self, r: Result<()>) {
        let w = {
            let mut st = self.st.borrow_mut();
            st.connect = Some(r);
            take_wake(&mut st.write_waker)
        };
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// The stream's read callback (see [`Ops`]): records, pauses past the
/// high-water mark, wakes the reader.
pub(crate) fn on_read<D: 'static>(lp: &mut Loop<D>, s: Stream, sh: &Shared, ev: ReadEvent<'_>) {
    let (w, stop) = {
        let mut st = sh.st.borrow_mut();
        let mut stop = false;
        match ev {
            ReadEvent::Data(b) => {
                if st.rpos == st.rbuf.len() {
                    st.rbuf.clear();
                    st.rpos = 0;
                } else if st.rpos >= READ_LOW_WATER {
                    let p = st.rpos;
                    st.rbuf.drain(..p);
                    st.rpos = 0;
                }
                st.rbuf.extend_from_slice(b);
                // More than the mark, not as much: one full read (64 KiB)
                // the task takes at once must not stop and restart the
                // stream (two `epoll_ctl`s per read).
                if st.rbuf.len() - st.rpos > READ_HIGH_WATER {
                    st.reading = false;
                    stop = true;
                }
            }
            ReadEvent::Eof => {
                st.eof = true;
                st.reading = false;
            }
            ReadEvent::Error(e) => {
                st.rerr = Some(e);
                st.reading = false;
            }
        }
        if st.orphaned {
            drop(st);
            let _ = s.close(lp, |_, _| {});
            return;
        }
        (take_wake(&mut st.read_waker), stop)
    };
    if stop {
        let _ = s.read_stop(lp);
    }
    if let Some(w) = w {
        w.wake();
    }
}

/// The error of a future polled where no loop is reachable.
fn outside(op: &'static str) -> Error {
    Error::misuse(op, libc::EINVAL, "polled outside a task of its loop")
}

/// Runs `f` with the loop of the task being polled.
fn on_loop<R>(op: &'static str, f: impl FnOnce(&mut dyn AnyLoop) -> Result<R>) -> Result<R> {
    with_any_loop(f).unwrap_or_else(|| Err(outside(op)))
}

/// A connected TCP or Unix stream, for tasks (module docs of
/// [`crate::future`]). Its futures run inside a task of the loop it was
/// made on; it is closed when dropped.
pub struct AsyncStream {
    s: Stream,
    sh: Rc<Shared>,
    ops: &'static Ops,
}

impl std::fmt::Debug for AsyncStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStream")
            .field("stream", &self.s)
            .finish()
    }
}

impl AsyncStream {
    /// Connects to `addr` (the connect starts now, as Node's
    /// `net.connect`); the future gives the stream once connected, or the
    /// error naming the address (`connect ECONNREFUSED 127.0.0.1:9`).
    /// Dropping the future before it is done closes the stream.
    pub fn connect<D: 'static>(lp: &mut Loop<D>, addr: SocketAddr) -> Connect {
        Self::start(lp, |lp, cb| Stream::connect(lp, addr, cb))
    }

    /// Connects to the Unix socket at `path`, as [`AsyncStream::connect`].
    pub fn connect_path<D: 'static>(lp: &mut Loop<D>, path: impl AsRef<Path>) -> Connect {
        let path = path.as_ref();
        Self::start(lp, |lp, cb| Stream::connect_path(lp, path, cb))
    }

    /// Resolves `host` (on loop-fs's pool) and connects, as
    /// [`Stream::connect_host`].
    pub fn connect_host<D: 'static>(lp: &mut Loop<D>, host: &str, port: u16) -> Connect {
        Self::start(lp, |lp, cb| Stream::connect_host(lp, host, port, cb))
    }

    fn start<D: 'static>(
        lp: &mut Loop<D>,
        f: impl FnOnce(&mut Loop<D>, crate::ConnectCb<D>) -> Result<Stream>,
    ) -> Connect {
        let sh = Shared::new(false);
        let cb_sh = Rc::clone(&sh);
        let r = f(lp, Box::new(move |_, _, _, r| cb_sh.connected(r)));
        Connect {
            st: Some(r.map(|s| AsyncStream {
                s,
                sh,
                ops: ops::<D>(),
            })),
        }
    }

    /// Adopts a stream of the loop `lp` that is connected (accepted, or
    /// opened with [`Stream::open_tcp`]…) and has no reader yet: the
    /// stream's read callback becomes this type's.
    pub fn from_stream<D: 'static>(_lp: &mut Loop<D>, s: Stream) -> AsyncStream {
        Self::adopt(s, ops::<D>())
    }

    pub(crate) fn adopt(s: Stream, ops: &'static Ops) -> AsyncStream {
        AsyncStream {
            s,
            sh: Shared::new(true),
            ops,
        }
    }

    /// The stream-layer id, for what this type does not wrap (socket
    /// options, counters, addresses): `task::with(|lp, _| s.id().set_no_delay(lp, true))`.
    pub fn id(&self) -> Stream {
        self.s
    }

    /// Reads into `buf`: at least one byte once some arrived, `0` at EOF
    /// (or for an empty `buf`); the read error otherwise (`read
    /// ECONNRESET`). Cancel-safe: dropped before it is ready, it took no
    /// byte.
    pub fn read<'a>(&'a self, buf: &'a mut [u8]) -> Read<'a> {
        Read { s: self, buf }
    }

    /// Appends every byte received so far to `out` (at least one; when
    /// `out` is empty it trades buffers with the stream instead of
    /// copying), `0` at EOF. `out`'s capacity follows the traffic: an
    /// echo of small messages keeps small buffers, and an idle
    /// connection none. Cancel-safe like [`AsyncStream::read`].
    pub fn read_chunk<'a>(&'a self, out: &'a mut Vec<u8>) -> ReadChunk<'a> {
        ReadChunk { s: self, out }
    }

    /// Writes all of `buf`, waiting first while more than
    /// [`WRITE_HIGH_WATER`] bytes are queued (backpressure): the kernel
    /// takes what it can at once, the rest is copied to the write queue.
    /// Ready once `buf` is handed over (not yet sent: [`AsyncStream::flush`]
    /// waits for that). All or nothing: dropped while waiting, it wrote
    /// nothing.
    pub fn write_all<'a>(&'a self, buf: &'a [u8]) -> WriteAll<'a> {
        WriteAll {
            s: self,
            buf,
            done: false,
        }
    }

    /// Waits until the write queue is empty (every byte given to the
    /// kernel); a write's error otherwise.
    pub fn flush(&self) -> Flush<'_> {
        Flush { s: self }
    }

    /// Half-closes: the writing side shuts down once every queued write is
    /// written, and the peer reads EOF; reading goes on. A second call
    /// waits for (and gives) the first one's result.
    pub fn shutdown(&self) -> Shutdown<'_> {
        Shutdown { s: self }
    }

    /// The remote address.
    pub fn peer_addr(&self) -> Result<Address> {
        let (s, ops) = (self.s, self.ops);
        on_loop("getpeername", |lp| (ops.peer_addr)(lp, s))
    }

    // ----- the polls, shared by the futures and the futures-io traits -----

    pub(crate) fn poll_read_into(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize>> {
        let empty = buf.is_empty();
        self.poll_read_with(
            cx,
            |rbuf, rpos| {
                let n = (rbuf.len() - *rpos).min(buf.len());
                buf[..n].copy_from_slice(&rbuf[*rpos..*rpos + n]);
                *rpos += n;
                n
            },
            empty,
        )
    }

    fn poll_read_chunk(&self, cx: &mut Context<'_>, out: &mut Vec<u8>) -> Poll<Result<usize>> {
        self.poll_read_with(
            cx,
            |rbuf, rpos| {
                let n = rbuf.len() - *rpos;
                if out.is_empty() && *rpos == 0 {
                    std::mem::swap(out, rbuf);
                    rbuf.clear();
                } else {
                    out.extend_from_slice(&rbuf[*rpos..]);
                    *rpos = rbuf.len();
                }
                n
            },
            false,
        )
    }

    /// Takes buffered bytes with `take` (which moves `rpos` on or trades
    /// `rbuf` away); otherwise the error, EOF, or waits (starting to read
    /// at the first wait).
    fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut Vec<u8>, &mut usize) -> usize,
        empty: bool,
    ) -> Poll<Result<usize>> {
        let mut st = self.sh.st.borrow_mut();
        let st = &mut *st;
        if st.rpos < st.rbuf.len() && !empty {
            let n = take(&mut st.rbuf, &mut st.rpos);
            if st.rpos == st.rbuf.len() {
                st.rbuf.clear();
                st.rpos = 0;
            }
            let resume = !st.reading
                && !st.eof
                && st.rerr.is_none()
                && st.rbuf.len() - st.rpos < READ_LOW_WATER;
            if resume {
                // Paused past the high-water mark: resume now that the
                // reader caught up. Its error, if any, is the next read's.
                st.reading = true;
                let (s, ops, sh) = (self.s, self.ops, Rc::clone(&self.sh));
                if let Some(Err(e)) = with_any_loop(|lp| (ops.read_start)(lp, s, &sh)) {
                    st.reading = false;
                    st.rerr = Some(e);
                }
            }
            return Poll::Ready(Ok(n));
        }
        if let Some(e) = &st.rerr {
            return Poll::Ready(Err(e.clone()));
        }
        if st.eof || empty {
            return Poll::Ready(Ok(0));
        }
        register(&mut st.read_waker, cx.waker());
        if !st.reading {
            st.reading = true;
            let (s, ops, sh) = (self.s, self.ops, Rc::clone(&self.sh));
            match with_any_loop(|lp| (ops.read_start)(lp, s, &sh)) {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    st.reading = false;
                    st.read_waker = None;
                    return Poll::Ready(Err(e));
                }
                None => {
                    st.reading = false;
                    st.read_waker = None;
                    return Poll::Ready(Err(outside("read")));
                }
            }
        }
        Poll::Pending
    }

    /// One `write_all` step: waits while the queue is over the high-water
    /// mark, then hands all of `buf` over.
    pub(crate) fn poll_write_all(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<()>> {
        if let Some(e) = self.write_error() {
            return Poll::Ready(Err(e));
        }
        let (s, ops, sh) = (self.s, self.ops, &self.sh);
        let r = on_loop("write", |lp| {
            // `try_write` first: it writes only when nothing is queued (else
            // `EAGAIN`), so the common case costs one call, and the queue
            // is looked at only when there is one.
            let n = match (ops.try_write)(lp, s, buf) {
                Ok(n) => n,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                    if (ops.queue_size)(lp, s)? > WRITE_HIGH_WATER {
                        return Ok(false);
                    }
                    0
                }
                Err(e) => return Err(e),
            };
            if n < buf.len() {
                (ops.write_queued)(lp, s, &buf[n..], sh)?;
            }
            Ok(true)
        });
        match r {
            Ok(true) => Poll::Ready(Ok(())),
            Ok(false) => {
                register(&mut self.sh.st.borrow_mut().write_waker, cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    pub(crate) fn poll_flush_queue(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(e) = self.write_error() {
            return Poll::Ready(Err(e));
        }
        let (s, ops) = (self.s, self.ops);
        match on_loop("write", |lp| (ops.queue_size)(lp, s)) {
            Ok(0) => Poll::Ready(Ok(())),
            Ok(_) => {
                register(&mut self.sh.st.borrow_mut().write_waker, cx.waker());
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    pub(crate) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut st = self.sh.st.borrow_mut();
        match &st.shut {
            Shut::Done(r) => return Poll::Ready(r.clone()),
            Shut::Pending => {
                register(&mut st.write_waker, cx.waker());
                return Poll::Pending;
            }
            Shut::None => {}
        }
        let (s, ops, sh) = (self.s, self.ops, &self.sh);
        match on_loop("shutdown", |lp| (ops.shutdown)(lp, s, sh)) {
            Ok(()) => {
                st.shut = Shut::Pending;
                register(&mut st.write_waker, cx.waker());
                Poll::Pending
            }
            Err(e) => {
                st.shut = Shut::Done(Err(e.clone()));
                Poll::Ready(Err(e))
            }
        }
    }

    fn write_error(&self) -> Option<Error> {
        self.sh.st.borrow().werr.clone()
    }
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        let (s, ops) = (self.s, self.ops);
        if with_any_loop(|lp| (ops.close)(lp, s)).is_none() {
            self.sh.st.borrow_mut().orphaned = true;
        }
    }
}

/// The future of [`AsyncStream::connect`] and its kin.
#[must_use = "futures do nothing unless awaited; dropping this closes the stream"]
#[derive(Debug)]
pub struct Connect {
    st: Option<Result<AsyncStream>>,
}

impl Future for Connect {
    type Output = Result<AsyncStream>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<AsyncStream>> {
        let this = self.get_mut();
        let s = match this.st.as_ref().expect("Connect polled after it completed") {
            Err(_) => return Poll::Ready(this.st.take().expect("checked")),
            Ok(s) => s,
        };
        let r = {
            let mut st = s.sh.st.borrow_mut();
            match &st.connect {
                None => {
                    register(&mut st.write_waker, cx.waker());
                    return Poll::Pending;
                }
                Some(r) => r.clone(),
            }
        };
        let s = this.st.take().expect("checked").expect("checked");
        // On error `s` drops here: the stream is closed.
        Poll::Ready(r.map(|()| s))
    }
}

/// The future of [`AsyncStream::read`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Read<'a> {
    s: &'a AsyncStream,
    buf: &'a mut [u8],
}

impl Future for Read<'_> {
    type Output = Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = self.get_mut();
        this.s.poll_read_into(cx, this.buf)
    }
}

/// The future of [`AsyncStream::read_chunk`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct ReadChunk<'a> {
    s: &'a AsyncStream,
    out: &'a mut Vec<u8>,
}

impl Future for ReadChunk<'_> {
    type Output = Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = self.get_mut();
        this.s.poll_read_chunk(cx, this.out)
    }
}

/// The future of [`AsyncStream::write_all`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct WriteAll<'a> {
    s: &'a AsyncStream,
    buf: &'a [u8],
    done: bool,
}

impl Future for WriteAll<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(Ok(()));
        }
        let r = this.s.poll_write_all(cx, this.buf);
        if r.is_ready() {
            this.done = true;
        }
        r
    }
}

/// The future of [`AsyncStream::flush`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Flush<'a> {
    s: &'a AsyncStream,
}

impl Future for Flush<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.s.poll_flush_queue(cx)
    }
}

/// The future of [`AsyncStream::shutdown`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Shutdown<'a> {
    s: &'a AsyncStream,
}

impl Future for Shutdown<'_> {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.s.poll_shutdown(cx)
    }
}
