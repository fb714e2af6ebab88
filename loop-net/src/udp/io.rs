//! Receiving and sending: `recv_start`/`recv_stop`, the send queue,
//! `try_send`, and the readiness callback that serves both.
//!
//! Invariants:
//! - a receive round takes at most [`MAX_RECVS`] datagrams and stops at
//!   `EAGAIN`; a round cut by the bound renews the registration
//!   (edge-triggered epoll reports the socket again if it is still ready);
//! - datagrams are read with `MSG_TRUNC`, so the kernel returns the real
//!   length and a cut datagram is flagged rather than silently shortened;
//! - sends leave in order; a send is tried at once only when nothing waits
//!   before it, and its callback always comes later (pending phase, or the
//!   poll phase for what waited for writability).

use super::{
    get, get_k, live, maybe_bind, rearm, sock_ref, update_interest, Datagram, SendReq, Udp, Udps,
    CLOSING, CONNECTED, READING, RECV_BUF,
};
use crate::error::{Error, Result};
use loop_core::{ExtKey, Loop, Ready};
use rustix::net::RecvFlags;
use socket2::SockRef;
use std::io::{self, IoSlice};
use std::net::{Ipv4Addr, SocketAddr};

/// Most datagrams received per readable event (libuv's 32).
pub const MAX_RECVS: usize = 32;

impl Udp {
    /// Starts receiving (`uv_udp_recv_start`): `cb` runs in the poll phase
    /// for each datagram, with at most [`super::RECV_BUF`] bytes (a longer
    /// one is cut and flagged `truncated`). Binds to `0.0.0.0:0` if the
    /// handle has no socket, as libuv. `EALREADY` if receiving already.
    pub fn recv_start<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnMut(&mut Loop<D>, &mut D, Udp, Result<Datagram<'_>>) + 'static,
    ) -> Result<()> {
        self.recv_start_limit(lp, RECV_BUF, cb)
    }

    /// [`Udp::recv_start`] delivering at most `limit` bytes of a datagram
    /// (libuv's `alloc_cb` size; at most [`super::RECV_BUF`]): a longer
    /// datagram is cut to `limit` and flagged `truncated`.
    pub fn recv_start_limit<D: 'static>(
        self,
        lp: &mut Loop<D>,
        limit: usize,
        cb: impl FnMut(&mut Loop<D>, &mut D, Udp, Result<Datagram<'_>>) + 'static,
    ) -> Result<()> {
        if live(lp, self, "recv_start")?.flags & READING != 0 {
            return Err(Error::misuse(
                "recv_start",
                libc::EALREADY,
                "already receiving",
            ));
        }
        maybe_bind(lp, self, (Ipv4Addr::UNSPECIFIED, 0).into(), "recv_start")?;
        let st = live(lp, self, "recv_start")?;
        st.flags |= READING;
        st.recv_cb = Some(Box::new(cb));
        st.recv_limit = limit.min(RECV_BUF);
        let io = st.io;
        let _ = lp.io_start(io);
        update_interest(lp, self);
        Ok(())
    }

    /// Stops receiving (`uv_udp_recv_stop`); datagrams wait in the kernel.
    /// A no-op if not receiving.
    pub fn recv_stop<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let st = live(lp, self, "recv_stop")?;
        st.flags &= !READING;
        let io = st.io;
        let _ = lp.io_stop(io);
        update_interest(lp, self);
        Ok(())
    }

    /// Queues one datagram made of `bufs` for `addr` (`uv_udp_send`);
    /// `addr` is `None` on a connected handle. `cb` gets the size sent or
    /// the error (`EMSGSIZE` for a datagram too big), never from inside
    /// this call. Binds implicitly to the unspecified address of `addr`'s
    /// family. `EISCONN` for an address on a connected handle,
    /// `EDESTADDRREQ` for none on an unconnected one.
    pub fn send<D: 'static>(
        self,
        lp: &mut Loop<D>,
        bufs: &[&[u8]],
        addr: Option<SocketAddr>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<usize>) + 'static,
    ) -> Result<()> {
        check_dest(lp, self, addr, "send")?;
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        let mut data = Vec::with_capacity(len);
        for b in bufs {
            data.extend_from_slice(b);
        }
        let req = lp.req_start();
        let st = match live(lp, self, "send") {
            Ok(st) => st,
            Err(e) => {
                lp.req_done(req);
                return Err(e);
            }
        };
        let first = st.queue.iter().all(|r| r.result.is_some());
        st.queue.push_back(SendReq {
            data,
            addr,
            cb: Some(Box::new(cb)),
            req,
            result: None,
        });
        st.queue_bytes += len;
        if first {
            flush(lp, self);
        }
        if get(lp, self).is_some_and(|st| st.queue.front().is_some_and(|r| r.result.is_some())) {
            feed(lp, self);
        }
        update_interest(lp, self);
        Ok(())
    }

    /// Sends one datagram now if nothing is queued (`uv_udp_try_send`):
    /// the size sent, or `EAGAIN` (queue not empty, or no room in the
    /// socket buffer), or the send's error.
    pub fn try_send<D: 'static>(
        self,
        lp: &mut Loop<D>,
        bufs: &[&[u8]],
        addr: Option<SocketAddr>,
    ) -> Result<usize> {
        check_dest(lp, self, addr, "try_send")?;
        if !live(lp, self, "try_send")?.queue.is_empty() {
            return Err(Error::misuse("try_send", libc::EAGAIN, "sends are queued"));
        }
        let s = sock_ref(lp, self, "try_send")?;
        let iov: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b)).collect();
        send_one(&s, &iov, addr).map_err(|e| send_error("try_send", e, addr))
    }
}

/// The destination checks of `send` and `try_send`, and the implicit bind.
fn check_dest<D: 'static>(
    lp: &mut Loop<D>,
    u: Udp,
    addr: Option<SocketAddr>,
    op: &'static str,
) -> Result<()> {
    let connected = live(lp, u, op)?.flags & CONNECTED != 0;
    match addr {
        Some(_) if connected => Err(Error::misuse(op, libc::EISCONN, "the handle is connected")),
        None if !connected => Err(Error::misuse(
            op,
            libc::EDESTADDRREQ,
            "no address for an unconnected handle",
        )),
        Some(a) => maybe_bind(lp, u, a, op),
        None => Ok(()),
    }
}

fn send_one(s: &SockRef<'_>, iov: &[IoSlice<'_>], addr: Option<SocketAddr>) -> io::Result<usize> {
    loop {
        let r = match addr {
            Some(a) => s.send_to_vectored(iov, &a.into()),
            None => s.send_vectored(iov),
        };
        match r {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn send_error(op: &'static str, e: io::Error, addr: Option<SocketAddr>) -> Error {
    match addr {
        Some(a) => Error::io(op, e, Some(&a)),
        None => Error::io(op, e, None),
    }
}

/// Sends what the queue holds, in order, until the socket is full.
fn flush<D: 'static>(lp: &mut Loop<D>, u: Udp) {
    let Some(st) = get(lp, u) else { return };
    let Some(sock) = st.sock.as_ref() else { return };
    let s = SockRef::from(sock);
    for r in st.queue.iter_mut().filter(|r| r.result.is_none()) {
        let res = match send_one(&s, &[IoSlice::new(&r.data)], r.addr) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Ok(n) => Ok(n),
            Err(e) => Err(send_error("send", e, r.addr)),
        };
        r.result = Some(res);
        st.queue_bytes -= r.data.len();
        // The bytes are no longer needed; the request lives until its callback.
        r.data = Vec::new();
    }
}

/// Runs the callbacks of the completed sends from the next pending phase.
fn feed<D: 'static>(lp: &mut Loop<D>, u: Udp) {
    let Some(st) = get(lp, u) else { return };
    if st.feed {
        return;
    }
    st.feed = true;
    lp.defer(move |lp, d| {
        if let Some(st) = get(lp, u) {
            st.feed = false;
        }
        complete(lp, d, u);
    });
}

/// Calls back the completed sends at the head of the queue, in order.
fn complete<D: 'static>(lp: &mut Loop<D>, d: &mut D, u: Udp) {
    loop {
        let Some(st) = get(lp, u) else { return };
        if st.flags & CLOSING != 0 || st.queue.front().is_none_or(|r| r.result.is_none()) {
            return;
        }
        let r = st.queue.pop_front().expect("checked just above");
        lp.req_done(r.req);
        let res = r.result.expect("checked just above");
        if let Some(cb) = r.cb {
            if lp
                .make_callback(d, "send", |lp, d| cb(lp, d, res))
                .is_none()
            {
                // The rest wait for the next run's pending phase.
                feed(lp, u);
                return;
            }
        }
    }
}

/// The readiness callback: receive, then send what waited and call back.
pub(super) fn on_ready<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    k: ExtKey<Udps<D>>,
    u: Udp,
    r: Ready,
) {
    if r.readable || r.error {
        recv_round(lp, d, k, u);
        if lp.is_unwinding() {
            return;
        }
    }
    if r.writable || r.error {
        flush(lp, u);
        complete(lp, d, u);
        update_interest(lp, u);
    }
}

fn recv_round<D: 'static>(lp: &mut Loop<D>, d: &mut D, k: ExtKey<Udps<D>>, u: Udp) {
    for _ in 0..MAX_RECVS {
        let Some(n) = lp.ext_mut(k) else { return };
        let mut buf = n.take_buf();
        let Some(st) = get_k(lp, k, u) else { return };
        if st.flags & (READING | CLOSING) != READING {
            put_buf(lp, k, buf);
            return;
        }
        let Some(sock) = st.sock.as_ref() else {
            put_buf(lp, k, buf);
            return;
        };
        let limit = st.recv_limit;
        let res = match rustix::net::recvfrom(sock, &mut buf[..limit], RecvFlags::TRUNC) {
            Ok((n, full, from)) => {
                let from = from
                    .and_then(|a| SocketAddr::try_from(a).ok())
                    .unwrap_or_else(|| (Ipv4Addr::UNSPECIFIED, 0).into());
                Ok((n, full > n, from))
            }
            Err(rustix::io::Errno::AGAIN) => {
                put_buf(lp, k, buf);
                return;
            }
            Err(rustix::io::Errno::INTR) => {
                put_buf(lp, k, buf);
                continue;
            }
            Err(e) => Err(Error::io("recv", e.into(), None)),
        };
        let failed = res.is_err();
        let Some(mut cb) = st.recv_cb.take() else {
            put_buf(lp, k, buf);
            return;
        };
        let ok = lp
            .make_callback(d, "recv", |lp, d| {
                let ev = res.map(|(n, truncated, from)| Datagram {
                    data: &buf[..n],
                    from,
                    truncated,
                });
                cb(lp, d, u, ev)
            })
            .is_some();
        if let Some(st) = get_k(lp, k, u) {
            if st.recv_cb.is_none() && st.flags & CLOSING == 0 {
                st.recv_cb = Some(cb);
            }
        }
        put_buf(lp, k, buf);
        if !ok || failed {
            // A panic, or an error: what is left comes on the next poll.
            rearm(lp, u);
            return;
        }
    }
    // The batch is used up: let the other handles run first.
    rearm(lp, u);
}

fn put_buf<D: 'static>(lp: &mut Loop<D>, k: ExtKey<Udps<D>>, buf: Vec<u8>) {
    if let Some(n) = lp.ext_mut(k) {
        n.buf = buf;
    }
}
