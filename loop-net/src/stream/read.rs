//! Reading: `read_start`/`read_stop` (libuv's `uv_read_start` and
//! `uv_read_stop`) and the stream's readiness callback (`uv__stream_io`).
//!
//! Invariants:
//! - the read interest is in the epoll set exactly while reading (or
//!   connecting): `read_stop` takes it out, `read_start` puts it back, and
//!   epoll then reports data that arrived meanwhile;
//! - no `recv` starts while the loop is unwinding from a panic: every byte
//!   read was handed to a callback, and what is still in the kernel is
//!   reported again (the registration is renewed) on the next `run`;
//! - the read callback is taken out of the entry while it runs and put
//!   back unless it was replaced; a `read_start` with a callback of the
//!   same type overwrites it in place (no allocation per resume).

use super::connect::{connect_check, resolving};
use super::write::{needs_completion, run_completions, write_some};
use super::{
    get, get_k, live, rearm, update_interest, update_interest_or_log, ReadEvent, ReadFn, Stream,
    CLOSING, CONNECTED, CONNECTING, HINT_RDHUP, HINT_READ, MAX_READS, READABLE, READING, WRITABLE,
};
use crate::error::{Error, Result};
use crate::state::Net;
use loop_core::{ExtKey, Loop, Ready};
use std::io;

impl Stream {
    /// Starts reading (`uv_read_start`): `cb` gets data, EOF or an error,
    /// in the poll phase. `EALREADY` if reading already, `ENOTCONN` if not
    /// connected (yet) or after a read error.
    ///
    /// The callback is kept across `read_stop`; a `read_start` with a
    /// callback of the same type (the same closure, capturing new values
    /// or not) writes it over the old one: resuming allocates nothing.
    pub fn read_start<D: 'static, F>(self, lp: &mut Loop<D>, cb: F) -> Result<()>
    where
        F: FnMut(&mut Loop<D>, &mut D, Stream, ReadEvent<'_>) + 'static,
    {
        let st = live(lp, self, "read_start")?;
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
        let same = st
            .read_cb
            .as_mut()
            .and_then(|b| ReadFn::as_any(&mut **b).downcast_mut::<F>());
        match same {
            Some(slot) => *slot = cb,
            None => st.read_cb = Some(Box::new(cb)),
        }
        let (io, hint) = (st.io, st.flags & HINT_READ != 0);
        match update_interest(lp, self) {
            Ok(changed) => {
                let _ = lp.io_start(io);
                if !changed && hint {
                    // Registered already, and data (or EOF) may wait since
                    // the last edge: have epoll say so.
                    rearm(lp, self);
                }
                Ok(())
            }
            Err(e) => {
                if let Some(st) = get(lp, self) {
                    st.flags &= !READING;
                }
                Err(Error::io("read_start", e, None))
            }
        }
    }

    /// Stops reading (`uv_read_stop`); no read callback runs after it, and
    /// the read interest leaves the epoll set: the peer's data waits in the
    /// kernel (and its TCP window) without waking the loop. Stopping a
    /// stream that is not reading is fine.
    pub fn read_stop<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let st = live(lp, self, "read_stop")?;
        if st.flags & READING != 0 {
            st.flags &= !READING;
            let io = st.io;
            let _ = lp.io_stop(io);
            update_interest_or_log(lp, self);
        }
        Ok(())
    }
}

/// The stream's I/O callback (libuv's `uv__stream_io`): connect, then
/// read, then write.
pub(super) fn on_ready<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    k: ExtKey<Net<D>>,
    s: Stream,
    r: Ready,
) {
    let Some(st) = get_k(lp, k, s) else { return };
    if st.flags & CLOSING != 0 {
        return;
    }
    if st.flags & CONNECTING != 0 {
        if resolving(lp, s) {
            return;
        }
        if r.writable || r.error || r.write_closed || r.read_closed {
            connect_check(lp, d, s, r);
        }
        if lp.is_unwinding() {
            return;
        }
        match get_k(lp, k, s) {
            Some(st) if st.flags & (CONNECTED | CLOSING) == CONNECTED => {}
            _ => return,
        }
    }
    let st = get_k(lp, k, s).expect("checked above");
    if r.readable || r.read_closed || r.error {
        st.flags |= HINT_READ;
        if r.read_closed || r.error {
            st.flags |= HINT_RDHUP;
        }
        if st.flags & READING != 0 {
            do_read(lp, d, k, s);
            if lp.is_unwinding() {
                return; // the writes wait for the next run (still writable)
            }
        }
    }
    if r.writable || r.error || r.write_closed {
        let Some(st) = get_k(lp, k, s) else { return };
        if st.flags & CLOSING != 0 {
            return;
        }
        let unwritten = st.reqs.as_ref().is_some_and(|q| q.unwritten());
        if unwritten {
            write_some(lp, s);
        }
        if needs_completion(lp, s) {
            run_completions(lp, d, s);
        }
    }
}

/// Reads until `WouldBlock`, a short read, EOF, an error, `read_stop`, a
/// panic, or [`MAX_READS`] reads (then re-arms, to serve the rest next
/// poll).
fn do_read<D: 'static>(lp: &mut Loop<D>, d: &mut D, k: ExtKey<Net<D>>, s: Stream) {
    let Some(n) = lp.ext_mut(k) else { return };
    let mut buf = n.take_buf();
    let mut bounded = true;
    for _ in 0..MAX_READS {
        if lp.is_unwinding() {
            break; // no new read: what waits is reported again next run
        }
        let Some(st) = get_k(lp, k, s) else {
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
                deliver(lp, d, k, s, ReadEvent::Eof);
                bounded = false;
                break;
            }
            Ok(n) => {
                st.bytes_read += n as u64;
                let short = n < buf.len() && st.flags & HINT_RDHUP == 0;
                if short {
                    st.flags &= !HINT_READ;
                }
                let ok = deliver(lp, d, k, s, ReadEvent::Data(&buf[..n]));
                if short && ok {
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
                deliver(lp, d, k, s, ReadEvent::Error(Error::io("read", e, None)));
                bounded = false;
                break;
            }
        }
    }
    if let Some(n) = lp.ext_mut(k) {
        n.buf = buf;
    }
    if bounded {
        rearm(lp, s);
    }
}

/// Calls the read callback through [`Loop::make_callback`] (the nextTick
/// and microtask queues drain after it, as Node.js does after each
/// `onread`). Returns `false` if it panicked.
fn deliver<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    k: ExtKey<Net<D>>,
    s: Stream,
    ev: ReadEvent<'_>,
) -> bool {
    let Some(st) = get_k(lp, k, s) else {
        return true;
    };
    let Some(mut cb) = st.read_cb.take() else {
        return true;
    };
    let r = lp.make_callback(d, "read", |lp, d| cb(lp, d, s, ev));
    if let Some(st) = get_k(lp, k, s) {
        if st.read_cb.is_none() {
            st.read_cb = Some(cb);
        }
    }
    r.is_some()
}
