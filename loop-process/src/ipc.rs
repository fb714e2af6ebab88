//! IPC streams (libuv's `uv_pipe_t` opened with `ipc = 1`): a connected
//! Unix-domain stream socket that carries bytes and, with them, fds
//! (`SCM_RIGHTS`): a listening socket, a connection or a UDP socket
//! handed to another process.
//!
//! # Ground rules
//!
//! - **Never re-entrant.** No call runs a callback from inside itself: a
//!   write that went out at once, or failed at once, calls back in the
//!   loop's pending phase ([`Loop::defer`]); read and write callbacks
//!   otherwise run in the poll phase, the close callback in the close
//!   phase. Every one runs through [`Loop::make_callback`]; after a panic
//!   no further callback starts (what is still due is deferred).
//! - **An fd travels with the first byte of its write.** The fd attached
//!   to a write goes in the `SCM_RIGHTS` message of that write's first
//!   `sendmsg`; if the kernel takes only part of the bytes, the rest goes
//!   in later `sendmsg`s without it: the fd is sent exactly once. Our copy
//!   is closed once the kernel has it (the peer holds its own). A write
//!   with an fd needs at least one byte (a stream socket carries no
//!   ancillary data without data): `EINVAL` otherwise.
//! - **Received fds are close-on-exec and queued** (`recvmsg(…,
//!   MSG_CMSG_CLOEXEC)`): before the read callback with the bytes they
//!   came with runs, they are in the handle's pending queue, each with its
//!   [`HandleType`]; the callback (or later code) takes them with
//!   [`Ipc::accept_stream`], [`Ipc::accept_listener`], [`Ipc::accept_udp`]
//!   or [`Ipc::take_handle`]. The kernel never merges bytes across two
//!   messages that carry fds, so a read holds at most the fds of the
//!   messages it began.
//! - **Requests keep the loop alive**; the handle is active (keeps a
//!   referenced loop alive) while it reads or has writes queued.
//! - **Order.** Write callbacks in write order; on close, the unwritten
//!   ones with `ECANCELED`, then the close callback. Fds still pending at
//!   close are closed.
//!
//! # Differences from libuv
//!
//! - The handle is its own type, not a `uv_pipe_t`: [`Ipc::accept_stream`],
//!   [`Ipc::accept_listener`] and [`Ipc::accept_udp`] replace `uv_accept`
//!   into a handle of [`Ipc::pending_type`]'s type.
//! - A listener and a connection are told apart (`SO_ACCEPTCONN`), where
//!   libuv reports `UV_TCP` for both.
//! - After a write fails, the writes queued behind it fail with the same
//!   error at once (as loop-net's streams do).

use crate::sys;
use crate::Error;
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::slots::{GenSlab, Key};
use loop_core::{ExtKey, IoId, Loop, Ready};
use loop_net::{Listener, Stream, Udp};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// How many reads one readiness event may serve before the handle yields
/// (the rest is read from the next pending phase).
const MAX_READS: usize = 32;

/// Size of the read buffer, one per loop.
const READ_BUF: usize = 64 * 1024;

/// An IPC stream of a loop: a small `Copy` id; once closed it names
/// nothing, and every operation on it is `EBADF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipc {
    index: u32,
    gen: u32,
}

impl fmt::Display for Ipc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ipc #{}.{}", self.index, self.gen)
    }
}

impl Ipc {
    /// The id's [`Key`] in its table.
    #[inline]
    pub(crate) fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

/// What a received fd is (libuv's `uv_pipe_pending_type`, with listeners
/// told apart from connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleType {
    /// A listening TCP socket.
    TcpListener,
    /// A TCP connection.
    TcpStream,
    /// A listening Unix-domain stream socket.
    UnixListener,
    /// A connected Unix-domain stream socket (or socket pair end).
    UnixStream,
    /// A UDP socket.
    Udp,
    /// Anything else (a pipe, a file…).
    Other,
}

/// What an IPC read callback is given.
#[derive(Debug)]
pub enum IpcEvent<'a> {
    /// Bytes read, valid for this call only; never empty. The fds that
    /// came with them are in the pending queue already.
    Data(&'a [u8]),
    /// The peer closed its end. Reading stops.
    Eof,
    /// Reading failed. Reading stops; close the handle.
    Error(Error),
}

/// An IPC read callback: `(loop, data, handle, event)`.
type ReadCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Ipc, IpcEvent<'_>)>;
/// An IPC write callback.
type WriteCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Result<(), Error>)>;

struct WriteReq<D> {
    data: Vec<u8>,
    off: usize,
    fd: Option<OwnedFd>,
    cb: WriteCb<D>,
}

struct IpcState<D> {
    sock: UnixStream,
    io: IoId,
    reading: bool,
    closing: bool,
    read_cb: Option<ReadCb<D>>,
    writes: VecDeque<WriteReq<D>>,
    /// Set by a write error: every later write fails with it.
    failed: Option<i32>,
    pending: VecDeque<(HandleType, OwnedFd)>,
}

struct Table<D> {
    slab: GenSlab<IpcState<D>>,
    buf: Vec<u8>,
}

fn table_key<D: 'static>(lp: &mut Loop<D>) -> ExtKey<Table<D>> {
    lp.extension_or_insert_with(|_| Table::<D> {
        slab: GenSlab::new(),
        buf: Vec::new(),
    });
    lp.extension_key::<Table<D>>().expect("inserted just above")
}

fn get<D: 'static>(lp: &mut Loop<D>, h: Ipc) -> Option<&mut IpcState<D>> {
    lp.extension_mut::<Table<D>>()?.slab.get_mut(h.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, h: Ipc) -> Option<&IpcState<D>> {
    lp.extension::<Table<D>>()?.slab.get(h.key())
}

fn live<'a, D: 'static>(
    lp: &'a mut Loop<D>,
    h: Ipc,
    op: &'static str,
) -> Result<&'a mut IpcState<D>, Error> {
    match get(lp, h) {
        Some(st) if !st.closing => Ok(st),
        _ => Err(Error::from_errno(op, None, None, libc::EBADF)),
    }
}

/// Active while reading or writing.
fn update_active<D: 'static>(lp: &mut Loop<D>, h: Ipc) {
    let Some(st) = get(lp, h) else { return };
    let (io, busy) = (st.io, st.reading || !st.writes.is_empty());
    let _ = if busy {
        lp.io_start(io)
    } else {
        lp.io_stop(io)
    };
}

impl Ipc {
    /// Opens a connected Unix-domain stream socket as an IPC stream
    /// (`uv_pipe_init(ipc = 1)` + `uv_pipe_open`); it is made
    /// non-blocking. `EINVAL` if `fd` is not one; the fd is closed on
    /// error.
    pub fn open<D: 'static>(lp: &mut Loop<D>, fd: OwnedFd) -> Result<Ipc, Error> {
        let err = |e: io::Error| Error::sys("open", None, None, e);
        if sys::classify(&fd) != HandleType::UnixStream {
            return Err(Error::from_errno("open", None, None, libc::EINVAL));
        }
        let sock = UnixStream::from(fd);
        sock.set_nonblocking(true).map_err(err)?;
        let k = table_key(lp);
        let t = lp.ext_mut(k).expect("the table exists");
        let Key { index, gen } = t.slab.vacant_key();
        let h = Ipc { index, gen };
        let io = lp.io_init(move |lp, d, r| on_ready(lp, d, h, r));
        let raw = sock.as_raw_fd();
        // Registered once for both directions, edge-triggered: an edge
        // with nothing to do costs one callback, a change of interest
        // would cost a syscall.
        let reg = lp.io_token(io).map_err(Error::from).and_then(|t| {
            lp.registry()
                .register(
                    &mut SourceFd(&raw),
                    t,
                    Interest::READABLE | Interest::WRITABLE,
                )
                .map_err(err)
        });
        if let Err(e) = reg {
            let _ = lp.close(io, None);
            return Err(e);
        }
        let t = lp.ext_mut(k).expect("the table exists");
        let key = t.slab.insert(IpcState {
            sock,
            io,
            reading: false,
            closing: false,
            read_cb: None,
            writes: VecDeque::new(),
            failed: None,
            pending: VecDeque::new(),
        });
        debug_assert_eq!(key, h.key());
        Ok(h)
    }

    /// Starts reading (`uv_read_start`): `cb` gets the bytes, EOF or the
    /// error; the fds that came with the bytes are pending before it runs.
    /// `EALREADY` if reading already.
    pub fn read_start<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnMut(&mut Loop<D>, &mut D, Ipc, IpcEvent<'_>) + 'static,
    ) -> Result<(), Error> {
        let st = live(lp, self, "read_start")?;
        if st.reading {
            return Err(Error::from_errno("read_start", None, None, libc::EALREADY));
        }
        st.reading = true;
        st.read_cb = Some(Box::new(cb));
        update_active(lp, self);
        // What arrived before this call raised its edge already: read it
        // from the pending phase.
        lp.defer(move |lp, d| do_read(lp, d, self));
        Ok(())
    }

    /// Stops reading (`uv_read_stop`).
    pub fn read_stop<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        let st = live(lp, self, "read_stop")?;
        st.reading = false;
        st.read_cb = None;
        update_active(lp, self);
        Ok(())
    }

    /// Writes `data`, with `handle` attached if given (`uv_write2`): the
    /// fd goes with the first byte and is closed here once sent (send a
    /// copy, `try_clone_to_owned`, to keep yours). `cb` runs once the
    /// kernel took every byte, or with the error. `EINVAL` for an fd with
    /// no data.
    pub fn write<D: 'static>(
        self,
        lp: &mut Loop<D>,
        data: Vec<u8>,
        handle: Option<OwnedFd>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<(), Error>) + 'static,
    ) -> Result<(), Error> {
        if handle.is_some() && data.is_empty() {
            return Err(Error::from_errno("write", None, None, libc::EINVAL));
        }
        let st = live(lp, self, "write")?;
        let req = WriteReq {
            data,
            off: 0,
            fd: handle,
            cb: Box::new(cb),
        };
        if let Some(errno) = st.failed {
            let cb = req.cb;
            lp.defer(move |lp, d| {
                let e = Error::from_errno("write", None, None, errno);
                lp.make_callback(d, "ipc_write", |lp, d| cb(lp, d, Err(e)));
            });
            return Ok(());
        }
        st.writes.push_back(req);
        update_active(lp, self);
        if get(lp, self).is_some_and(|st| st.writes.len() == 1) {
            // Nothing queued ahead: try now; what completes calls back
            // from the pending phase.
            let done = flush(lp, self);
            if !done.is_empty() {
                lp.defer(move |lp, d| run_write_cbs(lp, d, done));
            }
            update_active(lp, self);
        }
        Ok(())
    }

    /// Bytes queued and not yet taken by the kernel.
    pub fn write_queue_size<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self).map_or(0, |st| st.writes.iter().map(|w| w.data.len() - w.off).sum())
    }

    /// Fds received and not yet taken (`uv_pipe_pending_count`).
    pub fn pending_count<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self).map_or(0, |st| st.pending.len())
    }

    /// The type of the next pending fd (`uv_pipe_pending_type`).
    pub fn pending_type<D: 'static>(self, lp: &Loop<D>) -> Option<HandleType> {
        get_ref(lp, self).and_then(|st| st.pending.front().map(|p| p.0))
    }

    /// Takes the next pending fd as it is, with its type.
    pub fn take_handle<D: 'static>(self, lp: &mut Loop<D>) -> Option<(HandleType, OwnedFd)> {
        get(lp, self)?.pending.pop_front()
    }

    /// Takes the next pending fd as a loop-net stream (`uv_accept` into a
    /// `uv_tcp_t` or `uv_pipe_t`): `EAGAIN` if none is pending, `EINVAL`
    /// (and the fd stays pending) if it is not a connection.
    pub fn accept_stream<D: 'static>(self, lp: &mut Loop<D>) -> Result<Stream, Error> {
        let fd = self.take_if(lp, &[HandleType::TcpStream, HandleType::UnixStream])?;
        Ok(Stream::open_fd(lp, fd)?)
    }

    /// Takes the next pending fd as a loop-net listener, accepting with
    /// `on_connection` (`uv_accept` then `uv_listen`): `EAGAIN` if none is
    /// pending, `EINVAL` (and the fd stays pending) if it is not a
    /// listening socket. For a Node.js [`loop_net::Server`], take the fd
    /// with [`Ipc::take_handle`] and give it to `Server::listen_fd`.
    pub fn accept_listener<D: 'static>(
        self,
        lp: &mut Loop<D>,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, loop_net::Result<()>) + 'static,
    ) -> Result<Listener, Error> {
        let fd = self.take_if(lp, &[HandleType::TcpListener, HandleType::UnixListener])?;
        Ok(Listener::open(lp, fd, on_connection)?)
    }

    /// Takes the next pending fd as a loop-net UDP handle (`uv_accept`
    /// into a `uv_udp_t`, which is `uv_udp_open` on the fd): bound as the
    /// sender had it, not receiving yet. `EAGAIN` if none is pending,
    /// `EINVAL` (and the fd stays pending) if it is not a UDP socket. For
    /// a Node.js [`loop_net::DgramSocket`], take the fd with
    /// [`Ipc::take_handle`] and give it to `DgramSocket::bind_fd`.
    pub fn accept_udp<D: 'static>(self, lp: &mut Loop<D>) -> Result<Udp, Error> {
        let fd = self.take_if(lp, &[HandleType::Udp])?;
        let u = Udp::new(lp);
        if let Err(e) = u.open(lp, std::net::UdpSocket::from(fd)) {
            let _ = u.close(lp, |_, _| {});
            return Err(e.into());
        }
        Ok(u)
    }

    fn take_if<D: 'static>(self, lp: &mut Loop<D>, types: &[HandleType]) -> Result<OwnedFd, Error> {
        let st = live(lp, self, "accept")?;
        match st.pending.front() {
            None => Err(Error::from_errno("accept", None, None, libc::EAGAIN)),
            Some((t, _)) if !types.contains(t) => {
                Err(Error::from_errno("accept", None, None, libc::EINVAL))
            }
            Some(_) => Ok(st.pending.pop_front().expect("checked above").1),
        }
    }

    /// Whether the handle is reading.
    pub fn is_reading<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.reading && !st.closing)
    }

    /// The handle's loop handle (for [`Loop::unref`] and friends).
    pub fn io_id<D: 'static>(self, lp: &Loop<D>) -> Option<IoId> {
        get_ref(lp, self).map(|st| st.io)
    }

    /// Unreferences the handle: it no longer keeps the loop alive by
    /// itself (Node's `channel.unref()`).
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        let io = live(lp, self, "unref")?.io;
        Ok(lp.unref(io)?)
    }

    /// References the handle again.
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        let io = live(lp, self, "ref")?.io;
        Ok(lp.ref_handle(io)?)
    }

    /// Closes the handle (`uv_close`): reading and writing stop and
    /// pending fds are closed at once; in the close phase the socket is
    /// closed, the unwritten writes' callbacks run with `ECANCELED`, then
    /// `cb`. `EBADF` if closed already.
    pub fn close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<(), Error> {
        let st = live(lp, self, "close")?;
        st.closing = true;
        st.reading = false;
        st.read_cb = None;
        st.pending.clear();
        let writes: Vec<WriteCb<D>> = st.writes.drain(..).map(|w| w.cb).collect();
        let io = st.io;
        let raw = st.sock.as_raw_fd();
        let _ = lp.registry().deregister(&mut SourceFd(&raw));
        let h = self;
        lp.close(
            io,
            Some(Box::new(move |lp, d| {
                let canceled = writes
                    .into_iter()
                    .map(|cb| {
                        (
                            cb,
                            Err(Error::from_errno("write", None, None, libc::ECANCELED)),
                        )
                    })
                    .collect();
                run_write_cbs(lp, d, canceled);
                if let Some(t) = lp.extension_mut::<Table<D>>() {
                    t.slab.remove(h.key());
                }
                if !lp.is_unwinding() {
                    lp.make_callback(d, "ipc_close", cb);
                }
            })),
        )?;
        Ok(())
    }
}

type Done<D> = Vec<(WriteCb<D>, Result<(), Error>)>;

/// Sends what the queue holds until the kernel pushes back; hands back the
/// callbacks now due, in order.
fn flush<D: 'static>(lp: &mut Loop<D>, h: Ipc) -> Done<D> {
    let mut done = Vec::new();
    let Some(st) = get(lp, h) else { return done };
    while let Some(w) = st.writes.front_mut() {
        if w.off == w.data.len() && w.fd.is_none() {
            let w = st.writes.pop_front().expect("front exists");
            done.push((w.cb, Ok(())));
            continue;
        }
        match sys::send_with_fd(&st.sock, &w.data[w.off..], w.fd.as_ref()) {
            Ok(n) => {
                // The kernel has the fd now: ours is not needed.
                w.fd = None;
                w.off += n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                st.failed = Some(errno);
                for w in st.writes.drain(..) {
                    done.push((w.cb, Err(Error::from_errno("write", None, None, errno))));
                }
            }
        }
    }
    done
}

/// Runs write callbacks in order; after a panic, defers the rest.
fn run_write_cbs<D: 'static>(lp: &mut Loop<D>, d: &mut D, done: Done<D>) {
    let mut it = done.into_iter();
    while let Some((cb, r)) = it.next() {
        if lp.is_unwinding() {
            let rest: Done<D> = std::iter::once((cb, r)).chain(it).collect();
            lp.defer(move |lp, d| run_write_cbs(lp, d, rest));
            return;
        }
        lp.make_callback(d, "ipc_write", |lp, d| cb(lp, d, r));
    }
}

fn on_ready<D: 'static>(lp: &mut Loop<D>, d: &mut D, h: Ipc, r: Ready) {
    if r.writable || r.error || r.write_closed {
        let done = flush(lp, h);
        update_active(lp, h);
        run_write_cbs(lp, d, done);
    }
    if r.readable || r.read_closed || r.error {
        do_read(lp, d, h);
    }
}

/// Reads (with the fds that come along) until `WouldBlock`, EOF, an error,
/// `read_stop`, a panic, or [`MAX_READS`] reads (then goes on from the
/// next pending phase).
fn do_read<D: 'static>(lp: &mut Loop<D>, d: &mut D, h: Ipc) {
    let Some(t) = lp.extension_mut::<Table<D>>() else {
        return;
    };
    let mut buf = std::mem::take(&mut t.buf);
    buf.resize(READ_BUF, 0);
    let mut more = true;
    for _ in 0..MAX_READS {
        if lp.is_unwinding() {
            more = false;
            break;
        }
        let Some(st) = get(lp, h) else {
            more = false;
            break;
        };
        if !st.reading || st.closing {
            more = false;
            break;
        }
        let r = sys::recv_with_fds(&st.sock, &mut buf, &mut |fd| {
            let t = sys::classify(&fd);
            st.pending.push_back((t, fd));
        });
        let ev = match r {
            Ok(0) => {
                st.reading = false;
                IpcEvent::Eof
            }
            Ok(n) => IpcEvent::Data(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                more = false;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                st.reading = false;
                IpcEvent::Error(Error::sys("read", None, None, e))
            }
        };
        let last = !matches!(ev, IpcEvent::Data(_));
        let Some(mut cb) = st.read_cb.take() else {
            more = false;
            break;
        };
        lp.make_callback(d, "ipc_read", |lp, d| cb(lp, d, h, ev));
        if let Some(st) = get(lp, h) {
            // Put the callback back unless a new one was set meanwhile.
            if st.read_cb.is_none() && st.reading {
                st.read_cb = Some(cb);
            }
        }
        if last {
            update_active(lp, h);
            more = false;
            break;
        }
    }
    if let Some(t) = lp.extension_mut::<Table<D>>() {
        t.buf = buf;
    }
    if more {
        lp.defer(move |lp, d| do_read(lp, d, h));
    }
}
