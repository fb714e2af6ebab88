//! UDP, libuv level: `uv_udp_t` (libuv 1.46 `src/unix/udp.c`) on mio's
//! `UdpSocket`, socket2 for the options and `recvmmsg` (loop-net's `sys`)
//! to receive.
//!
//! # Invariants
//!
//! - **Lazy socket.** [`Udp::new`] makes a handle without a socket, as
//!   `uv_udp_init`; the socket is made by `bind`, `open`, `connect`, or the
//!   first `send`/`try_send` (the implicit bind to `0.0.0.0:0` or `[::]:0`
//!   of the destination's family, libuv's `uv__udp_maybe_deferred_bind`).
//! - **Never re-entrant.** No call runs a callback from inside itself: a
//!   datagram sent at once by `send` has its callback in the next pending
//!   phase ([`Loop::defer`]); what waited for writability has it in the
//!   poll phase; on `close`, every queued send gets `ECANCELED` in the
//!   close phase, before the close callback.
//! - **Every callback through [`Loop::make_callback`]**; after a panic the
//!   handle puts its state in order and starts no other callback.
//! - **Send order.** Datagrams leave in `send` order and their callbacks
//!   run in that order: the completed sends are always a prefix of the
//!   queue.
//! - **Bounded receive.** One readable event serves at most
//!   [`MAX_RECVS`] datagrams (libuv: 32); past that the registration is
//!   renewed so the other ready handles run first.
//! - **One receive batch per loop**: one `recvmmsg` takes up to
//!   [`MAX_RECVS`] datagrams into 32 slots of 64 KiB (the largest
//!   datagram; made on the first receive, pages touched only as datagrams
//!   fill them), each lent to the callback as a slice: nothing is
//!   allocated per datagram. What a `recv_stop` (or a panic) in the middle
//!   of a batch leaves undelivered is copied aside and delivered first
//!   when receiving goes on: no datagram the kernel gave us is dropped,
//!   except by `close` (as the kernel drops what is queued on a closed
//!   socket).
//! - **Interest follows need.** The socket is in the epoll set for reading
//!   only while `recv_start` is in force, for writing only while a send
//!   waits for room.
//! - **A copied fd is deregistered before close.** Closing an fd takes it
//!   out of the epoll set only when no other fd refers to the socket; once
//!   [`Udp::try_clone_fd`] made a copy (to pass it to another process),
//!   `close` calls `epoll_ctl(DEL)` first, so no event of a socket we no
//!   longer own can reach the loop.
//! - **Requests keep the loop alive**: each queued send holds an
//!   [`loop_core::ActiveRequest`] until its callback ran; the handle is
//!   active (keeps a referenced loop alive) while it receives.
//!
//! # Differences from libuv
//!
//! - Multicast interfaces are typed: an IPv4 address for IPv4 groups, an
//!   interface index for IPv6 ones (libuv parses a string with a scope).
//! - Source-specific membership is IPv4 only (socket2 has no IPv6 form):
//!   an IPv6 group is `ENOTSUP`.
//! - Misuse is an [`Error`] with libuv's code, never an assertion.

mod io;
mod options;

use crate::error::{bad_handle, Error, Result};
use loop_core::mio::net::UdpSocket;
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::slots::{GenSlab, Key};
use loop_core::{ActiveRequest, ExtKey, IoId, Loop};
use socket2::{Domain, SockRef, Socket, Type};
use std::collections::VecDeque;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

pub use io::MAX_RECVS;
pub use options::Membership;

/// The largest payload of a UDP datagram over IPv4: 65,535 − 8 (UDP
/// header) − 20 (IP header).
pub const MAX_DATAGRAM: usize = 65_507;

/// The most one datagram delivers: the size of a slot of the loop's
/// receive batch.
pub const RECV_BUF: usize = crate::sys::SLOT;

// One `recvmmsg` serves a whole round.
const _: () = assert!(io::MAX_RECVS <= crate::sys::BATCH);

/// A UDP handle. A small `Copy` id; invalid once closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Udp {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

impl fmt::Display for Udp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "udp #{}.{}", self.index, self.gen)
    }
}

impl Udp {
    /// The id's [`Key`] in its table.
    #[inline]
    pub(crate) fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

/// How to bind (`uv_udp_bind`'s flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BindFlags {
    /// `IPV6_V6ONLY`: an IPv6 socket that does not receive IPv4 datagrams
    /// (`UV_UDP_IPV6ONLY`). `EINVAL` with an IPv4 address.
    pub ipv6_only: bool,
    /// `SO_REUSEADDR` (and `SO_REUSEPORT`, as libuv on Linux): several
    /// sockets bind the same address and port (`UV_UDP_REUSEADDR`).
    pub reuse_addr: bool,
}

/// A received datagram, lent from the loop's buffer for the callback.
#[derive(Debug)]
pub struct Datagram<'a> {
    /// The payload (empty for a zero-length datagram).
    pub data: &'a [u8],
    /// The sender.
    pub from: SocketAddr,
    /// The datagram was longer than the buffer and cut (`UV_UDP_PARTIAL`,
    /// the kernel's `MSG_TRUNC`).
    pub truncated: bool,
}

/// A receive callback: a datagram, or a receive error (`ECONNREFUSED` on a
/// connected socket whose peer is gone, say).
pub type RecvCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Udp, Result<Datagram<'_>>)>;

/// A send callback: the datagram's size, or why it was not sent.
pub type SendCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Result<usize>)>;

/// A close callback.
pub type UdpCloseCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D)>;

pub(crate) const CLOSING: u8 = 1;
pub(crate) const READING: u8 = 2;
pub(crate) const CONNECTED: u8 = 4;
pub(crate) const REG_READ: u8 = 8;
pub(crate) const REG_WRITE: u8 = 16;
/// Bound explicitly (or by open/connect/implicit bind): a socket exists.
pub(crate) const BOUND: u8 = 32;
/// The fd was copied ([`Udp::try_clone_fd`]): closing ours may leave the
/// socket open (in another process, say), so `close` deregisters first.
pub(crate) const SHARED: u8 = 64;

pub(crate) struct SendReq<D> {
    pub(crate) data: Vec<u8>,
    pub(crate) addr: Option<SocketAddr>,
    pub(crate) cb: Option<SendCb<D>>,
    pub(crate) req: ActiveRequest,
    /// Set once sent or failed.
    pub(crate) result: Option<Result<usize>>,
}

pub(crate) struct UdpState<D> {
    pub(crate) flags: u8,
    pub(crate) io: IoId,
    pub(crate) sock: Option<UdpSocket>,
    pub(crate) recv_cb: Option<RecvCb<D>>,
    /// The most bytes one datagram delivers (the rest is cut, `truncated`).
    pub(crate) recv_limit: usize,
    pub(crate) queue: VecDeque<SendReq<D>>,
    /// Bytes of the sends not yet sent.
    pub(crate) queue_bytes: usize,
    /// A pending-phase completion run is queued.
    pub(crate) feed: bool,
    /// Datagrams a `recvmmsg` took that a `recv_stop` or a panic in the
    /// middle of its batch left undelivered (copied out of the loop's
    /// batch): delivered first when receiving goes on. Empty, and not
    /// allocated, unless that happened.
    pub(crate) stash: VecDeque<(Vec<u8>, SocketAddr, bool)>,
}

/// The loop's UDP state (an extension of its own, apart from the streams').
pub(crate) struct Udps<D> {
    pub(crate) slab: GenSlab<UdpState<D>>,
    /// The receive batch, made on first use; `None` while lent out.
    pub(crate) batch: Option<Box<crate::sys::RecvBatch>>,
}

impl<D> Udps<D> {
    pub(crate) fn take_batch(&mut self) -> Box<crate::sys::RecvBatch> {
        self.batch
            .take()
            .unwrap_or_else(|| Box::new(crate::sys::RecvBatch::new()))
    }
}

fn udps<D: 'static>(lp: &mut Loop<D>) -> &mut Udps<D> {
    lp.extension_or_insert_with(|_| Udps::<D> {
        slab: GenSlab::new(),
        batch: None,
    })
}

pub(crate) fn get<D: 'static>(lp: &mut Loop<D>, u: Udp) -> Option<&mut UdpState<D>> {
    lp.extension_mut::<Udps<D>>()?.slab.get_mut(u.key())
}

pub(crate) fn get_k<D: 'static>(
    lp: &mut Loop<D>,
    k: ExtKey<Udps<D>>,
    u: Udp,
) -> Option<&mut UdpState<D>> {
    lp.ext_mut(k)?.slab.get_mut(u.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, u: Udp) -> Option<&UdpState<D>> {
    lp.extension::<Udps<D>>()?.slab.get(u.key())
}

pub(crate) fn live<'a, D: 'static>(
    lp: &'a mut Loop<D>,
    u: Udp,
    op: &'static str,
) -> Result<&'a mut UdpState<D>> {
    match get(lp, u) {
        Some(st) if st.flags & CLOSING == 0 => Ok(st),
        _ => Err(bad_handle(op)),
    }
}

fn live_ref<'a, D: 'static>(lp: &'a Loop<D>, u: Udp, op: &'static str) -> Result<&'a UdpState<D>> {
    match get_ref(lp, u) {
        Some(st) if st.flags & CLOSING == 0 => Ok(st),
        _ => Err(bad_handle(op)),
    }
}

/// The socket of a live handle, for an option or a query: `EBADF` if it
/// has none yet (never bound), as libuv.
pub(crate) fn sock_ref<'a, D: 'static>(
    lp: &'a Loop<D>,
    u: Udp,
    op: &'static str,
) -> Result<SockRef<'a>> {
    let st = live_ref(lp, u, op)?;
    st.sock
        .as_ref()
        .map(SockRef::from)
        .ok_or_else(|| Error::misuse(op, libc::EBADF, "the handle has no socket yet"))
}

/// Puts the epoll registration in line with what the handle waits for.
pub(crate) fn update_interest<D: 'static>(lp: &mut Loop<D>, u: Udp) {
    let Some(st) = get(lp, u) else { return };
    let Some(fd) = st.sock.as_ref().map(|s| s.as_raw_fd()) else {
        return;
    };
    let read = st.flags & READING != 0;
    let write = st.queue.iter().any(|r| r.result.is_none());
    let want = (if read { REG_READ } else { 0 }) | (if write { REG_WRITE } else { 0 });
    let have = st.flags & (REG_READ | REG_WRITE);
    if want == have {
        return;
    }
    let io = st.io;
    let r = lp.io_token(io).map_err(std::io::Error::from).and_then(|t| {
        let reg = lp.registry();
        match (have, interest(want)) {
            (_, None) => reg.deregister(&mut SourceFd(&fd)),
            (0, Some(i)) => reg.register(&mut SourceFd(&fd), t, i),
            (_, Some(i)) => reg.reregister(&mut SourceFd(&fd), t, i),
        }
    });
    match r {
        Ok(()) => {
            if let Some(st) = get(lp, u) {
                st.flags = (st.flags & !(REG_READ | REG_WRITE)) | want;
            }
        }
        Err(e) => tracing::warn!(udp = %u, error = %e, "epoll_ctl failed"),
    }
}

pub(crate) fn interest(reg: u8) -> Option<Interest> {
    match (reg & REG_READ != 0, reg & REG_WRITE != 0) {
        (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
        (true, false) => Some(Interest::READABLE),
        (false, true) => Some(Interest::WRITABLE),
        (false, false) => None,
    }
}

/// Renews the registration: epoll reports the socket again if it is still
/// ready (the end of a bounded receive batch).
pub(crate) fn rearm<D: 'static>(lp: &mut Loop<D>, u: Udp) {
    let Some(st) = get(lp, u) else { return };
    let (io, fd, reg) = (
        st.io,
        st.sock.as_ref().map(|s| s.as_raw_fd()),
        interest(st.flags),
    );
    if let (Some(fd), Some(i)) = (fd, reg) {
        let r = lp
            .io_token(io)
            .map_err(std::io::Error::from)
            .and_then(|t| lp.registry().reregister(&mut SourceFd(&fd), t, i));
        if let Err(e) = r {
            tracing::warn!(udp = %u, error = %e, "epoll_ctl(MOD) failed");
        }
    }
}

fn new_socket(v6: bool) -> std::io::Result<Socket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), None)
}

/// Gives the handle `sock` (it had none).
fn adopt<D: 'static>(lp: &mut Loop<D>, u: Udp, sock: Socket) {
    if let Some(st) = get(lp, u) {
        st.sock = Some(UdpSocket::from_std(sock.into()));
        st.flags |= BOUND;
    }
    // What waited for a socket (reading started before bind) registers now.
    update_interest(lp, u);
}

/// The implicit bind of a first send or connect to `dest`'s family
/// (`0.0.0.0:0` or `[::]:0`), if the handle has no socket yet.
pub(crate) fn maybe_bind<D: 'static>(
    lp: &mut Loop<D>,
    u: Udp,
    dest: SocketAddr,
    op: &'static str,
) -> Result<()> {
    if live(lp, u, op)?.sock.is_some() {
        return Ok(());
    }
    let any: SocketAddr = if dest.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let s = new_socket(dest.is_ipv6())
        .and_then(|s| s.bind(&any.into()).map(|()| s))
        .map_err(|e| Error::io(op, e, Some(&any)))?;
    adopt(lp, u, s);
    Ok(())
}

impl Udp {
    /// A UDP handle without a socket yet (`uv_udp_init`): `bind`, `open`,
    /// `connect` or the first send makes it.
    pub fn new<D: 'static>(lp: &mut Loop<D>) -> Udp {
        let n = udps(lp);
        let Key { index, gen } = n.slab.vacant_key();
        let u = Udp { index, gen };
        let k = lp.extension_key::<Udps<D>>().expect("inserted just above");
        let io = lp.io_init(move |lp, d, r| io::on_ready(lp, d, k, u, r));
        let key = udps(lp).slab.insert(UdpState {
            flags: 0,
            io,
            sock: None,
            recv_cb: None,
            recv_limit: RECV_BUF,
            queue: VecDeque::new(),
            queue_bytes: 0,
            feed: false,
            stash: VecDeque::new(),
        });
        debug_assert_eq!(key, u.key());
        u
    }

    /// Binds to `addr` (`uv_udp_bind`). `EINVAL` for `ipv6_only` with an
    /// IPv4 address or on a handle that has a socket already;
    /// `EADDRINUSE` if the address is taken and `reuse_addr` is off on
    /// either side.
    pub fn bind<D: 'static>(
        self,
        lp: &mut Loop<D>,
        addr: SocketAddr,
        flags: BindFlags,
    ) -> Result<()> {
        let st = live(lp, self, "bind")?;
        if flags.ipv6_only && addr.is_ipv4() {
            return Err(Error::misuse(
                "bind",
                libc::EINVAL,
                "ipv6_only with an IPv4 address",
            ));
        }
        if st.sock.is_some() {
            return Err(Error::misuse("bind", libc::EINVAL, "already bound"));
        }
        let s = (|| {
            let s = new_socket(addr.is_ipv6())?;
            if flags.reuse_addr {
                s.set_reuse_address(true)?;
                s.set_reuse_port(true)?;
            }
            if addr.is_ipv6() {
                s.set_only_v6(flags.ipv6_only)?;
            }
            s.bind(&addr.into())?;
            Ok(s)
        })()
        .map_err(|e| Error::io("bind", e, Some(&addr)))?;
        adopt(lp, self, s);
        Ok(())
    }

    /// Adopts an existing socket (`uv_udp_open`); it is made non-blocking.
    /// `EBUSY` if the handle has a socket already.
    pub fn open<D: 'static>(self, lp: &mut Loop<D>, sock: std::net::UdpSocket) -> Result<()> {
        let st = live(lp, self, "open")?;
        if st.sock.is_some() {
            return Err(Error::misuse(
                "open",
                libc::EBUSY,
                "the handle has a socket",
            ));
        }
        sock.set_nonblocking(true)
            .map_err(|e| Error::io("open", e, None))?;
        let s = Socket::from(std::os::fd::OwnedFd::from(sock));
        let connected = s.peer_addr().is_ok();
        adopt(lp, self, s);
        if connected {
            if let Some(st) = get(lp, self) {
                st.flags |= CONNECTED;
            }
        }
        Ok(())
    }

    /// Connects to `addr` (`uv_udp_connect`): sends go there without an
    /// address and only its datagrams are received. Binds implicitly if
    /// needed. `EISCONN` if connected already.
    pub fn connect<D: 'static>(self, lp: &mut Loop<D>, addr: SocketAddr) -> Result<()> {
        if live(lp, self, "connect")?.flags & CONNECTED != 0 {
            return Err(Error::misuse("connect", libc::EISCONN, "already connected"));
        }
        maybe_bind(lp, self, addr, "connect")?;
        sock_ref(lp, self, "connect")?
            .connect(&addr.into())
            .map_err(|e| Error::io("connect", e, Some(&addr)))?;
        if let Some(st) = get(lp, self) {
            st.flags |= CONNECTED;
        }
        Ok(())
    }

    /// Dissolves the association (`uv_udp_connect(handle, NULL)`,
    /// `connect(AF_UNSPEC)`). `ENOTCONN` if not connected.
    pub fn disconnect<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        if live(lp, self, "disconnect")?.flags & CONNECTED == 0 {
            return Err(Error::misuse("disconnect", libc::ENOTCONN, "not connected"));
        }
        let st = live_ref(lp, self, "disconnect")?;
        if let Some(s) = st.sock.as_ref() {
            rustix::net::connect_unspec(s).map_err(|e| Error::io("disconnect", e.into(), None))?;
        }
        if let Some(st) = get(lp, self) {
            st.flags &= !CONNECTED;
        }
        Ok(())
    }

    /// The bound address (`uv_udp_getsockname`); `EBADF` before any bind.
    pub fn local_addr<D: 'static>(self, lp: &Loop<D>) -> Result<SocketAddr> {
        let s = sock_ref(lp, self, "getsockname")?;
        s.local_addr()
            .and_then(|a| {
                a.as_socket()
                    .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))
            })
            .map_err(|e| Error::io("getsockname", e, None))
    }

    /// The connected peer (`uv_udp_getpeername`); `ENOTCONN` if not
    /// connected.
    pub fn peer_addr<D: 'static>(self, lp: &Loop<D>) -> Result<SocketAddr> {
        if live_ref(lp, self, "getpeername")?.flags & CONNECTED == 0 {
            return Err(Error::errno("getpeername", libc::ENOTCONN, None));
        }
        let s = sock_ref(lp, self, "getpeername")?;
        s.peer_addr()
            .and_then(|a| {
                a.as_socket()
                    .ok_or_else(|| std::io::Error::from_raw_os_error(libc::EINVAL))
            })
            .map_err(|e| Error::io("getpeername", e, None))
    }

    /// A copy of the handle's socket (`dup`, close-on-exec), to pass it to
    /// another process over IPC (libuv's `uv_write2` with a UDP
    /// `send_handle`): both then receive from the same socket, whichever
    /// reads a datagram first gets it. `EBADF` if the handle has no socket
    /// yet (never bound), as libuv's `uv_write2` with an unbound handle.
    pub fn try_clone_fd<D: 'static>(self, lp: &mut Loop<D>) -> Result<std::os::fd::OwnedFd> {
        let st = live(lp, self, "dup")?;
        let sock = st
            .sock
            .as_ref()
            .ok_or_else(|| Error::misuse("dup", libc::EBADF, "the handle has no socket yet"))?;
        let fd = SockRef::from(sock)
            .try_clone()
            .map_err(|e| Error::io("dup", e, None))?;
        st.flags |= SHARED;
        Ok(fd.into())
    }

    /// Bytes of the queued sends not yet sent (`uv_udp_get_send_queue_size`).
    pub fn send_queue_size<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self).map_or(0, |st| st.queue_bytes)
    }

    /// Sends whose callback has not run yet (`uv_udp_get_send_queue_count`).
    pub fn send_queue_count<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self).map_or(0, |st| st.queue.len())
    }

    /// Whether the handle is receiving.
    pub fn is_receiving<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.flags & (READING | CLOSING) == READING)
    }

    /// Whether the handle is closing.
    pub fn is_closing<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.flags & CLOSING != 0)
    }

    /// Whether the id names a handle whose close callback has not run.
    pub fn exists<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some()
    }

    /// The handle's loop handle.
    pub fn io_id<D: 'static>(self, lp: &Loop<D>) -> Option<IoId> {
        get_ref(lp, self).map(|st| st.io)
    }

    /// References the handle (`uv_ref`).
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = get(lp, self).ok_or_else(|| bad_handle("ref"))?.io;
        lp.ref_handle(io).map_err(|_| bad_handle("ref"))
    }

    /// Unreferences the handle (`uv_unref`): receiving no longer keeps the
    /// loop alive (queued sends still do).
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = get(lp, self).ok_or_else(|| bad_handle("unref"))?.io;
        lp.unref(io).map_err(|_| bad_handle("unref"))
    }

    /// Closes the handle (`uv_close`): the socket now; in the close phase,
    /// the queued sends' callbacks (`ECANCELED` for what was not sent),
    /// then `cb`. A second close is `EBADF`.
    pub fn close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        let st = live(lp, self, "close")?;
        st.flags |= CLOSING;
        st.flags &= !READING;
        let registered = st.flags & SHARED != 0 && st.flags & (REG_READ | REG_WRITE) != 0;
        if let (true, Some(fd)) = (registered, st.sock.as_ref().map(|s| s.as_raw_fd())) {
            // Another fd may keep the socket open: leave the epoll set.
            let _ = lp.registry().deregister(&mut SourceFd(&fd));
        }
        let st = get(lp, self).ok_or_else(|| bad_handle("close"))?;
        // Closing the fd takes it out of the epoll set (unless copied:
        // deregistered just above).
        st.sock = None;
        st.recv_cb = None;
        let io = st.io;
        let cb: UdpCloseCb<D> = Box::new(cb);
        lp.close(
            io,
            Some(Box::new(move |lp, d| finish_close(lp, d, self, cb))),
        )
        .map_err(|_| bad_handle("close"))
    }
}

fn finish_close<D: 'static>(lp: &mut Loop<D>, d: &mut D, u: Udp, cb: UdpCloseCb<D>) {
    let Some(st) = get(lp, u) else { return };
    let queue = std::mem::take(&mut st.queue);
    let mut ok = !lp.is_unwinding();
    for r in queue {
        lp.req_done(r.req);
        let res = r.result.unwrap_or_else(|| Err(Error::canceled("send")));
        if let (true, Some(cb)) = (ok, r.cb) {
            ok = lp
                .make_callback(d, "send", |lp, d| cb(lp, d, res))
                .is_some();
        }
    }
    if ok {
        lp.make_callback(d, "close", cb);
    }
    if let Some(n) = lp.extension_mut::<Udps<D>>() {
        n.slab.remove(u.key());
    }
}
