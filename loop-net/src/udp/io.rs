//! Receiving and sending: `recv_start`/`recv_stop`, the send queue,
//! `try_send`, and the readiness callback that serves both.
//!
//! Invariants:
//! - a receive round delivers at most [`MAX_RECVS`] datagrams: the stash
//!   first, then `recvmmsg` for the rest, called again after each batch
//!   until `EAGAIN` (datagrams that came during the callbacks are served
//!   in the same round, as libuv's read loop does); a round cut by the
//!   bound renews the registration (edge-triggered epoll reports the
//!   socket again if it is still ready);
//! - a datagram cut by its slot carries the kernel's `MSG_TRUNC` in its
//!   `msg_flags`, so it is flagged rather than silently shortened;
//! - a datagram taken from the kernel is delivered or, after `close`,
//!   dropped: what a batch holds beyond a `recv_stop` or a panic is copied
//!   into the handle's stash (the one allocation of the receive path, off
//!   the common one), delivered first from then on;
//! - sends leave in order; a send is tried at once only when nothing waits
//!   before it, and its callback always comes later (pending phase, or the
//!   poll phase for what waited for writability).

use super::{
    get, get_k, live, maybe_bind, rearm, sock_ref, update_interest, Datagram, SendReq, Udp, Udps,
    CLOSING, CONNECTED, READING, RECV_BUF,
};
use crate::error::{Error, Result};
use loop_core::{ExtKey, Loop, Ready};
use socket2::SockRef;
use std::io::{self, IoSlice};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;

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
        let stashed = !st.stash.is_empty();
        let io = st.io;
        let _ = lp.io_start(io);
        update_interest(lp, self);
        if stashed {
            // What an earlier batch left: no readiness event will say so.
            feed_stash(lp, self);
        }
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

/// Delivers one datagram through `make_callback`; `None` if the handle
/// stopped receiving (or has no callback), else whether the callback
/// returned (`false`: it panicked).
fn deliver<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    k: ExtKey<Udps<D>>,
    u: Udp,
    dg: Datagram<'_>,
) -> Option<bool> {
    let st = get_k(lp, k, u)?;
    if st.flags & (READING | CLOSING) != READING {
        return None;
    }
    let mut cb = st.recv_cb.take()?;
    let ok = lp
        .make_callback(d, "recv", |lp, d| cb(lp, d, u, Ok(dg)))
        .is_some();
    restore_cb(lp, k, u, cb);
    Some(ok)
}

/// Runs a receive round from the next pending phase (the stash waits
/// and no readiness event will come for it).
pub(super) fn feed_stash<D: 'static>(lp: &mut Loop<D>, u: Udp) {
    lp.defer(move |lp, d| {
        if let Some(k) = lp.extension_key::<Udps<D>>() {
            recv_round(lp, d, k, u);
        }
    });
}

/// One round: the stash first, then `recvmmsg` calls for the rest of the
/// round's [`MAX_RECVS`] until the socket is empty, each datagram through
/// its callback.
fn recv_round<D: 'static>(lp: &mut Loop<D>, d: &mut D, k: ExtKey<Udps<D>>, u: Udp) {
    let mut budget = MAX_RECVS;
    while budget > 0 {
        let Some(st) = get_k(lp, k, u) else { return };
        if st.flags & (READING | CLOSING) != READING {
            return;
        }
        let Some((data, from, truncated)) = st.stash.pop_front() else {
            break;
        };
        budget -= 1;
        let dg = Datagram {
            data: &data,
            from,
            truncated,
        };
        match deliver(lp, d, k, u, dg) {
            Some(true) => {}
            Some(false) => {
                feed_stash(lp, u);
                return;
            }
            None => {
                // Not delivered after all: first again.
                if let Some(st) = get_k(lp, k, u) {
                    st.stash.push_front((data, from, truncated));
                }
                return;
            }
        }
    }
    if budget == 0 {
        feed_stash(lp, u);
        return;
    }
    let Some(n) = lp.ext_mut(k) else { return };
    let mut batch = n.take_batch();
    while budget > 0 {
        match batch_step(lp, d, k, u, &mut batch, budget) {
            Some(n) => budget -= n,
            None => {
                put_batch(lp, k, batch);
                return;
            }
        }
    }
    put_batch(lp, k, batch);
    // The round is used up: let the other handles run first.
    rearm(lp, u);
}

/// One `recvmmsg` of at most `budget` datagrams, each delivered: how many,
/// if all were and the handle still receives (then another call may find
/// what came meanwhile, as libuv reads until `EAGAIN`); `None` once the
/// socket is empty, after an error, a `recv_stop`, a `close` or a panic.
fn batch_step<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    k: ExtKey<Udps<D>>,
    u: Udp,
    batch: &mut crate::sys::RecvBatch,
    budget: usize,
) -> Option<usize> {
    let st = get_k(lp, k, u)?;
    if st.flags & (READING | CLOSING) != READING {
        return None;
    }
    let fd = st.sock.as_ref()?.as_raw_fd();
    let got = match batch.recv(fd, budget, st.recv_limit) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
        Err(e) => {
            // A receive error (`ECONNREFUSED` on a connected socket):
            // reported once; what follows comes on the next poll.
            let err = Error::io("recv", e, None);
            if let Some(mut cb) = st.recv_cb.take() {
                lp.make_callback(d, "recv", |lp, d| cb(lp, d, u, Err(err)));
                restore_cb(lp, k, u, cb);
            }
            rearm(lp, u);
            return None;
        }
    };
    let mut i = 0;
    let mut on = true;
    while i < got {
        let (data, from, truncated) = batch.get(i);
        let dg = Datagram {
            data,
            from,
            truncated,
        };
        match deliver(lp, d, k, u, dg) {
            Some(true) => i += 1,
            Some(false) => {
                i += 1;
                on = false;
                feed_stash(lp, u);
                break;
            }
            None => {
                on = false;
                break;
            }
        }
    }
    // What the batch holds beyond a `recv_stop` or a panic is kept for
    // later; after `close`, dropped with the socket's queue.
    if let Some(st) = get_k(lp, k, u).filter(|st| st.flags & CLOSING == 0) {
        for j in i..got {
            let (data, from, truncated) = batch.get(j);
            st.stash.push_back((data.to_vec(), from, truncated));
        }
    }
    on.then_some(got)
}

fn restore_cb<D: 'static>(lp: &mut Loop<D>, k: ExtKey<Udps<D>>, u: Udp, cb: super::RecvCb<D>) {
    if let Some(st) = get_k(lp, k, u) {
        if st.recv_cb.is_none() && st.flags & CLOSING == 0 {
            st.recv_cb = Some(cb);
        }
    }
}

fn put_batch<D: 'static>(lp: &mut Loop<D>, k: ExtKey<Udps<D>>, batch: Box<crate::sys::RecvBatch>) {
    if let Some(n) = lp.ext_mut(k) {
        n.batch = Some(batch);
    }
}
