//! Writes and shutdown: the write queue (libuv's `uv__write` and
//! `uv__write_callbacks`), `try_write`, and the shutdown that follows the
//! last write (`uv__drain`).
//!
//! Invariants:
//! - `Reqs` exists while a request is pending (a write, the connect, the
//!   shutdown) or a write failed; an idle stream has none;
//! - `writes[..done]` are complete (their callbacks due), the rest are
//!   unwritten, and `size` is the unwritten bytes;
//! - callbacks run from [`run_completions`] only, in order, each through
//!   [`Loop::make_callback`]; after a panic the rest wait for a flush in
//!   the next pending phase.

use super::connect::ConnectReq;
use super::{
    get, live, update_interest_or_log, Stream, StreamState, WriteCb, CLOSING, CONNECTED,
    CONNECTING, FLUSH_SCHEDULED, MAX_IOV, SHUT, SHUTTING, WRITABLE,
};
use crate::error::{Error, Result};
use crate::sys::Sock;
use loop_core::{ActiveRequest, Loop};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::OnceLock;

/// The pending requests of a stream, boxed apart from its entry.
pub(super) struct Reqs<D> {
    writes: VecDeque<WriteReq<D>>,
    /// `writes[..done]` are complete; their callbacks are due.
    done: usize,
    /// Bytes not yet written.
    size: usize,
    pub(super) connect: Option<ConnectReq<D>>,
    pub(super) shutdown: Option<ShutdownReq<D>>,
    /// Set when a write failed: later writes fail the same way.
    write_err: Option<Error>,
}

impl<D> Reqs<D> {
    fn new() -> Self {
        Reqs {
            writes: VecDeque::new(),
            done: 0,
            size: 0,
            connect: None,
            shutdown: None,
            write_err: None,
        }
    }

    pub(super) fn unwritten(&self) -> bool {
        self.done < self.writes.len()
    }

    pub(super) fn size(&self) -> usize {
        self.size
    }

    pub(super) fn requests(&self) -> usize {
        self.writes.len()
    }

    pub(super) fn failed(&self) -> bool {
        self.write_err.is_some()
    }

    fn idle(&self) -> bool {
        self.writes.is_empty()
            && self.connect.is_none()
            && self.shutdown.is_none()
            && self.write_err.is_none()
    }

    /// Takes every request out, for the close phase.
    pub(super) fn take_all(&mut self) -> Pending<D> {
        self.done = 0;
        self.size = 0;
        Pending {
            connect: self.connect.take(),
            writes: std::mem::take(&mut self.writes),
            shutdown: self.shutdown.take(),
        }
    }
}

/// A closing stream's requests, in the order the close phase calls them
/// back.
pub(super) struct Pending<D> {
    pub(super) connect: Option<ConnectReq<D>>,
    pub(super) writes: VecDeque<WriteReq<D>>,
    pub(super) shutdown: Option<ShutdownReq<D>>,
}

impl<D> Default for Pending<D> {
    fn default() -> Self {
        Pending {
            connect: None,
            writes: VecDeque::new(),
            shutdown: None,
        }
    }
}

impl<D> StreamState<D> {
    pub(super) fn reqs_mut(&mut self) -> &mut Reqs<D> {
        self.reqs.get_or_insert_with(|| Box::new(Reqs::new()))
    }

    /// Frees the requests' box once nothing is pending.
    pub(super) fn tidy(&mut self) {
        if self.reqs.as_ref().is_some_and(|r| r.idle()) {
            self.reqs = None;
        }
    }
}

pub(super) struct WriteReq<D> {
    buf: Vec<u8>,
    /// Bytes of `buf` already written.
    pos: usize,
    pub(super) cb: Option<WriteCb<D>>,
    /// `Some` once complete.
    pub(super) result: Option<Result<()>>,
    pub(super) req: ActiveRequest,
}

pub(super) struct ShutdownReq<D> {
    pub(super) cb: WriteCb<D>,
    pub(super) req: ActiveRequest,
}

impl Stream {
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
    /// are queued, or the stream is still connecting). The `EAGAIN` error
    /// is shared: a full socket costs no allocation.
    pub fn try_write<D: 'static>(self, lp: &mut Loop<D>, data: &[u8]) -> Result<usize> {
        static QUEUED: OnceLock<Error> = OnceLock::new();
        static FULL: OnceLock<Error> = OnceLock::new();
        let st = live(lp, self, "try_write")?;
        if st.flags & WRITABLE == 0 {
            return Err(not_writable("try_write", st.flags));
        }
        if let Some(r) = &st.reqs {
            if let Some(e) = &r.write_err {
                return Err(e.clone().with_op("try_write"));
            }
        }
        let queued = st.reqs.as_ref().is_some_and(|r| r.unwritten());
        if st.flags & CONNECTING != 0 || queued {
            return Err(Error::shared(
                &QUEUED,
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
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(Error::shared(
                &FULL,
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
        shutdown_impl(lp, self, Box::new(cb))
    }
}

enum Bufs<'a> {
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

fn write_impl<D: 'static>(
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
    let queued = st.reqs.as_ref().is_some_and(|r| r.unwritten());
    let mut written = 0;
    let mut result = None;
    if let Some(e) = st.reqs.as_ref().and_then(|r| r.write_err.as_ref()) {
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
                    st.reqs_mut().write_err = Some(err.clone());
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
    let connecting = st.flags & CONNECTING != 0;
    let q = st.reqs_mut();
    q.size += buf.len() - pos;
    q.writes.push_back(WriteReq {
        buf,
        pos,
        cb,
        result,
        req,
    });
    if complete {
        // Complete at once: every request before it is complete too.
        debug_assert_eq!(q.done + 1, q.writes.len());
        q.done = q.writes.len();
        schedule_flush(lp, s);
    } else if !connecting {
        // The socket is full: wait until it is writable.
        update_interest_or_log(lp, s);
    }
    Ok(())
}

/// Writes queued data until the socket would block (libuv's `uv__write`).
/// Runs no callback.
pub(super) fn write_some<D: 'static>(lp: &mut Loop<D>, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    let StreamState {
        sock,
        reqs,
        bytes_written,
        ..
    } = st;
    let Some(q) = reqs.as_deref_mut() else {
        return;
    };
    while q.done < q.writes.len() {
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let mut n_iov = 0;
        let mut total = 0;
        for (slot, r) in iov.iter_mut().zip(q.writes.range(q.done..)) {
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
                while q.done < q.writes.len() {
                    let r = &mut q.writes[q.done];
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
                q.write_err = Some(err);
                break;
            }
        }
    }
}

/// Completes every unwritten request with `err`.
pub(super) fn fail_all<D>(q: &mut Reqs<D>, err: &Error) {
    for r in q.writes.range_mut(q.done..) {
        r.buf = Vec::new();
        r.pos = 0;
        r.result = Some(Err(err.clone()));
    }
    q.done = q.writes.len();
    q.size = 0;
}

/// Whether write callbacks or the shutdown are due.
pub(super) fn needs_completion<D: 'static>(lp: &mut Loop<D>, s: Stream) -> bool {
    let Some(st) = get(lp, s) else { return false };
    let (done, len) = st
        .reqs
        .as_ref()
        .map_or((0, 0), |r| (r.done, r.writes.len()));
    done > 0 || (len == 0 && st.flags & (SHUTTING | SHUT) == SHUTTING)
}

/// Runs this stream's completions in the next pending phase (once, however
/// many are due).
pub(super) fn schedule_flush<D: 'static>(lp: &mut Loop<D>, s: Stream) {
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

/// The completed writes' callbacks in order, then the shutdown if it is
/// due (libuv's `uv__write_callbacks` and `uv__drain`). After a panic in
/// one, the rest wait for a flush in the next pending phase.
pub(super) fn run_completions<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    loop {
        let Some(st) = get(lp, s) else { return };
        if st.flags & CLOSING != 0 {
            return; // the close phase calls back what is left
        }
        let Some(q) = st.reqs.as_deref_mut() else {
            break;
        };
        if q.done == 0 {
            break;
        }
        let r = q.writes.pop_front().expect("done > 0");
        q.done -= 1;
        let WriteReq {
            cb, result, req, ..
        } = r;
        lp.req_done(req);
        let result = result.unwrap_or(Ok(()));
        if let Some(cb) = cb {
            if lp
                .make_callback(d, "write", |lp, d| cb(lp, d, result))
                .is_none()
            {
                schedule_flush(lp, s);
                return;
            }
        }
    }
    if let Some(st) = get(lp, s) {
        st.tidy();
    }
    maybe_shutdown(lp, d, s);
}

fn maybe_shutdown<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    let writes = st.reqs.as_ref().is_some_and(|r| !r.writes.is_empty());
    let shutdown = st.reqs.as_ref().is_some_and(|r| r.shutdown.is_some());
    if st.flags & (SHUTTING | SHUT | CONNECTING | CLOSING) != SHUTTING || writes || !shutdown {
        return;
    }
    st.flags |= SHUT;
    let res = st
        .sock
        .shutdown_write()
        .map_err(|e| Error::io("shutdown", e, None));
    tracing::trace!(stream = %s, ok = res.is_ok(), "shutdown");
    let ShutdownReq { cb, req } = st.reqs_mut().shutdown.take().expect("checked above");
    st.tidy();
    lp.req_done(req);
    lp.make_callback(d, "shutdown", |lp, d| cb(lp, d, res));
}

/// A connect that failed for good cancels the queued writes and the
/// shutdown (libuv's `uv__stream_connect` on error); runs their callbacks.
pub(super) fn cancel_after_connect<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream) {
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    if let Some(q) = st.reqs.as_deref_mut() {
        fail_all(q, &Error::canceled("write"));
    }
    run_completions(lp, d, s);
    if lp.is_unwinding() {
        return;
    }
    let Some(st) = get(lp, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    if let Some(sh) = st.reqs.as_deref_mut().and_then(|r| r.shutdown.take()) {
        st.flags |= SHUT;
        st.tidy();
        let ShutdownReq { cb, req } = sh;
        lp.req_done(req);
        lp.make_callback(d, "shutdown", |lp, d| {
            cb(lp, d, Err(Error::canceled("shutdown")))
        });
    }
}

fn shutdown_impl<D: 'static>(lp: &mut Loop<D>, s: Stream, cb: WriteCb<D>) -> Result<()> {
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
    let ready = st.flags & CONNECTING == 0 && st.reqs.as_ref().is_none_or(|r| r.writes.is_empty());
    let req = lp.req_start();
    get(lp, s).expect("live above").reqs_mut().shutdown = Some(ShutdownReq { cb, req });
    if ready {
        schedule_flush(lp, s);
    }
    Ok(())
}
