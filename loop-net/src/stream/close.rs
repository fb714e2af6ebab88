//! Closing (`uv_close`, `uv_tcp_close_reset`) and the close phase, which
//! cancels what is pending in libuv's order before the close callback.
//!
//! Invariants:
//! - the fd is closed by the `close` call itself (which also takes it out
//!   of the epoll set: it is never duplicated); the entry lives on, marked
//!   closing, until the close phase has called back;
//! - in the close phase: the connect callback, the write callbacks in
//!   order, the shutdown callback, then the close callback, each through
//!   [`Loop::make_callback`]; after a panic in one, the others are
//!   dropped uncalled (their requests released) and the entry is removed;
//! - a stream closed with `close_keep` is not removed: before its close
//!   callback it becomes an unconnected stream (new loop handle, same id);
//!   a stream closed with `close` whose close callback calls `connect_to`
//!   becomes one then, and is not removed either.

use super::write::Pending;
use super::{
    get, live, CloseCb, Stream, CLOSING, IN_CLOSE_CB, KEEP, READING, SHUT, SHUTTING, UNCONNECTED,
};
use crate::error::{bad_handle, Error, Result};
use crate::state::{net, net_key};
use crate::sys::Sock;
use loop_core::Loop;

impl Stream {
    /// Closes the stream (`uv_close`): the fd is closed now; in the close
    /// phase, the pending connect, write and shutdown callbacks get
    /// `ECANCELED` (writes already done get their result), then `cb` runs.
    /// A second close is an error.
    pub fn close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        close_impl(lp, self, Box::new(cb), false)
    }

    /// Closes the stream with an RST instead of a FIN (`uv_tcp_close_reset`:
    /// `SO_LINGER` {on, 0}, then close). `EINVAL` while a shutdown is
    /// pending (the stream stays open; its shutdown callback still runs).
    pub fn close_reset<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        close_impl(lp, self, Box::new(cb), true)
    }

    /// Closes the connection as [`Stream::close`] does (the fd now, the
    /// pending requests canceled and `cb` in the close phase), but keeps
    /// the id: from the close phase on (already inside `cb`) the stream is
    /// an unconnected one, as [`Stream::new`] makes, and may
    /// [`Stream::connect_to`] again. What a C program does by calling
    /// `uv_tcp_init` again on the handle's memory once `uv_close` called
    /// back; Node.js's `socket.connect()` on a closed socket. The kept
    /// stream costs its entry until [`Stream::close`]d; it is referenced
    /// again (a new loop handle), and its counters start at 0 again at the
    /// next connect.
    pub fn close_keep<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        let st = live(lp, self, "close")?;
        st.flags |= KEEP;
        close_impl(lp, self, Box::new(cb), false)
    }
}

fn close_impl<D: 'static>(lp: &mut Loop<D>, s: Stream, cb: CloseCb<D>, reset: bool) -> Result<()> {
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
    let lookup = st
        .reqs
        .as_deref_mut()
        .and_then(|r| r.connect.as_mut())
        .and_then(|c| c.lookup.take());
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
fn finish_close<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, cb: CloseCb<D>) {
    let Some(st) = get(lp, s) else { return };
    let Pending {
        connect,
        writes,
        shutdown,
    } = st.reqs.take().map(|mut r| r.take_all()).unwrap_or_default();
    // Once a callback panicked, the rest are dropped uncalled.
    let mut ok = !lp.is_unwinding();
    if let Some(c) = connect {
        let (cb, req, err) = c.cancel();
        lp.req_done(req);
        if ok {
            ok = lp
                .make_callback(d, "connect", |lp, d| cb(lp, d, s, Err(err)))
                .is_some();
        }
    }
    for r in writes {
        lp.req_done(r.req);
        let res = r.result.unwrap_or_else(|| Err(Error::canceled("write")));
        if let (true, Some(cb)) = (ok, r.cb) {
            ok = lp
                .make_callback(d, "write", |lp, d| cb(lp, d, res))
                .is_some();
        }
    }
    if let Some(sh) = shutdown {
        lp.req_done(sh.req);
        if ok {
            let cb = sh.cb;
            ok = lp
                .make_callback(d, "shutdown", |lp, d| {
                    cb(lp, d, Err(Error::canceled("shutdown")))
                })
                .is_some();
        }
    }
    if st_keep(lp, s) {
        // Unconnected again before `cb`, so that `cb` may connect again.
        reinit(lp, s);
        if ok {
            lp.make_callback(d, "close", cb);
        }
        tracing::trace!(stream = %s, "closed, kept unconnected");
        return;
    }
    if let Some(st) = get(lp, s) {
        st.flags |= IN_CLOSE_CB;
    }
    if ok {
        lp.make_callback(d, "close", cb);
    }
    if get(lp, s).is_some_and(|st| st.flags & CLOSING != 0) {
        net(lp).streams.remove(s.index as usize);
        tracing::trace!(stream = %s, "closed");
    } else {
        tracing::trace!(stream = %s, "closed, connecting again from its close callback");
    }
}

fn st_keep<D: 'static>(lp: &mut Loop<D>, s: Stream) -> bool {
    get(lp, s).is_some_and(|st| st.flags & KEEP != 0)
}

/// Makes a closed stream's entry an unconnected stream under the same id:
/// a new loop handle (the old one is closed), no socket, no read callback.
/// The counters keep the last connection's (the close callback reads
/// them: Node's `bytesRead` in `'close'`) until the next connect.
pub(super) fn reinit<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let k = net_key(lp);
    let io = lp.io_init(move |lp, d, r| super::read::on_ready(lp, d, k, s, r));
    if let Some(st) = get(lp, s) {
        st.io = io;
        st.flags = UNCONNECTED;
        st.read_cb = None;
    }
}
