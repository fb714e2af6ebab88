//! Connecting: to an address (`uv_tcp_connect`), a path
//! (`uv_pipe_connect`), or a host name resolved on loop-fs's pool first.
//!
//! Invariants:
//! - a connect starts only on an unconnected stream (`UNCONNECTED`: made
//!   by [`Stream::new`], or made unconnected again by `close_keep`); the
//!   constructors (`Stream::connect`…) are `Stream::new` + `connect_to`;
//! - a connecting stream has a `ConnectReq` until its callback runs (or
//!   the close phase cancels it);
//! - outcomes known during the call (an immediate success or error) are
//!   fed to the pending phase; a late outcome that meets an earlier one
//!   finds the request gone and does nothing;
//! - while connecting, the fd is registered readable and writable.

use super::write::{cancel_after_connect, run_completions, write_some};
use super::{
    get, insert, live, token, ConnectCb, Stream, CLOSING, CONNECTED, CONNECTING, IN_CLOSE_CB,
    READABLE, REG_READ, REG_WRITE, UNCONNECTED, WRITABLE,
};
use crate::error::{Address, Error, Result};
use crate::sys::{self, Sock};
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::{ActiveRequest, Loop, Ready};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

pub(super) struct ConnectReq<D> {
    cb: ConnectCb<D>,
    req: ActiveRequest,
    /// The address being connected to (or the host name being resolved),
    /// for errors.
    addr: Target,
    /// Further addresses to try if this one fails (connect by host name).
    rest: Vec<SocketAddr>,
    /// The name lookup, while it runs.
    pub(super) lookup: Option<loop_fs::ReqId>,
}

impl<D> ConnectReq<D> {
    /// The close phase's `ECANCELED`: (callback, request, error).
    pub(super) fn cancel(self) -> (ConnectCb<D>, ActiveRequest, Error) {
        let err = Error::errno("connect", libc::ECANCELED, Some(&self.addr));
        (self.cb, self.req, err)
    }
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

/// A connecting stream with its request.
fn start<D: 'static>(lp: &mut Loop<D>, cb: ConnectCb<D>, addr: Target) -> Result<Stream> {
    let s = insert(lp, Sock::None, UNCONNECTED);
    begin(lp, s, cb, addr)?;
    Ok(s)
}

/// Makes the unconnected stream `s` a connecting one, with its request.
/// `EALREADY` while connecting, `EISCONN` once connected (or after a
/// failed connect: the socket is spent), `EBADF` when closed or closing.
fn begin<D: 'static>(lp: &mut Loop<D>, s: Stream, cb: ConnectCb<D>, addr: Target) -> Result<()> {
    let in_close_cb = get(lp, s).is_some_and(|st| st.flags & IN_CLOSE_CB != 0);
    if in_close_cb {
        // From its own close callback: unconnected again under its id.
        super::close::reinit(lp, s);
    }
    let st = live(lp, s, "connect")?;
    if st.flags & UNCONNECTED == 0 {
        return Err(if st.flags & CONNECTING != 0 {
            Error::misuse("connect", libc::EALREADY, "a connect is in progress")
        } else {
            Error::misuse(
                "connect",
                libc::EISCONN,
                "connected already (or the connect failed): close the stream",
            )
        });
    }
    st.flags = (st.flags & !UNCONNECTED) | CONNECTING | WRITABLE;
    st.bytes_read = 0;
    st.bytes_written = 0;
    let req = lp.req_start();
    live(lp, s, "connect")?.reqs_mut().connect = Some(ConnectReq {
        cb,
        req,
        addr,
        rest: Vec::new(),
        lookup: None,
    });
    Ok(())
}

/// A connect from a socket made (and bound) beforehand ([`crate::TcpSocket`],
/// [`crate::UnixSocket`]): `r` is what its `connect()` call gave, or the
/// error its bind deferred (libuv's `delayed_error`), which `cb` gets in
/// the pending phase.
pub(crate) fn connect_prepared<D: 'static>(
    lp: &mut Loop<D>,
    addr: Address,
    r: io::Result<(Sock, bool)>,
    cb: ConnectCb<D>,
) -> Result<Stream> {
    let s = start(lp, cb, Target::Addr(addr))?;
    opened(lp, s, r);
    Ok(s)
}

impl Stream {
    /// An unconnected stream (`uv_tcp_init`, Node's `new net.Socket()`
    /// before `connect`): no socket yet, not active (it keeps no loop
    /// alive), closed with [`Stream::close`] like any other. Connect it
    /// with [`Stream::connect_to`] (or `connect_to_path`,
    /// `connect_to_host`); [`Stream::close_keep`] makes it unconnected
    /// again, so it can connect again under the same id.
    ///
    /// ```
    /// # use loop_core::{Loop, RunMode};
    /// # use loop_net::Stream;
    /// let mut lp: Loop<()> = Loop::new()?;
    /// let s = Stream::new(&mut lp);
    /// assert!(!s.is_connecting(&lp) && !s.is_readable(&lp));
    /// // Reading needs a connection.
    /// assert_eq!(s.read_start(&mut lp, |_, _, _, _| {}).unwrap_err().code(), "ENOTCONN");
    /// s.close(&mut lp, |_, _| {})?;
    /// lp.run(RunMode::Default, &mut ())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new<D: 'static>(lp: &mut Loop<D>) -> Stream {
        insert(lp, Sock::None, UNCONNECTED)
    }

    /// Connects an unconnected stream ([`Stream::new`]) to `addr`
    /// (`uv_tcp_connect` on an initialised handle); as
    /// [`Stream::connect`] otherwise. `EALREADY` while a connect is in
    /// progress, `EISCONN` once connected, `EBADF` while closing.
    ///
    /// Called from the stream's own close callback, it connects the
    /// closed stream again under the same id (what `uv_tcp_init` on the
    /// handle's memory then `uv_tcp_connect` does in a C close callback),
    /// and the stream lives on.
    pub fn connect_to<D: 'static>(
        self,
        lp: &mut Loop<D>,
        addr: SocketAddr,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<()> {
        begin(lp, self, Box::new(cb), Target::Addr(Address::Inet(addr)))?;
        start_connect(lp, self, addr);
        Ok(())
    }

    /// [`Stream::connect_to`] a Unix socket's path (`uv_pipe_connect`).
    pub fn connect_to_path<D: 'static>(
        self,
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<()> {
        let path = path.as_ref();
        // A path that cannot be a socket address (too long) is EINVAL now.
        socket2::SockAddr::unix(path)
            .map_err(|e| Error::io("connect", e, Some(&path.display())))?;
        let target = Target::Addr(Address::Unix(path.to_path_buf()));
        begin(lp, self, Box::new(cb), target)?;
        let r = sys::connect_unix(path);
        opened(lp, self, r);
        Ok(())
    }

    /// [`Stream::connect_to`] a host name, resolved first, as
    /// [`Stream::connect_host`].
    pub fn connect_to_host<D: 'static>(
        self,
        lp: &mut Loop<D>,
        host: &str,
        port: u16,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<()> {
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return self.connect_to(lp, SocketAddr::new(ip, port), cb);
        }
        begin(lp, self, Box::new(cb), Target::Host(host.to_string()))?;
        resolve(lp, self, host, port);
        Ok(())
    }

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
        let s = start(lp, Box::new(cb), Target::Addr(Address::Inet(addr)))?;
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
        // A path that cannot be a socket address (too long) is EINVAL now,
        // before there is a stream to close.
        socket2::SockAddr::unix(path)
            .map_err(|e| Error::io("connect", e, Some(&path.display())))?;
        let s = Stream::new(lp);
        s.connect_to_path(lp, path, cb)?;
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
        let s = start(lp, Box::new(cb), Target::Host(host.to_string()))?;
        resolve(lp, s, host, port);
        Ok(s)
    }
}

/// Starts the name lookup of a connect by host name.
fn resolve<D: 'static>(lp: &mut Loop<D>, s: Stream, host: &str, port: u16) {
    let lookup = loop_fs::dns::lookup(lp, host, port, move |lp, d, r| {
        resolved(lp, d, s, r);
    });
    match lookup {
        Ok(id) => {
            if let Some(c) = get(lp, s).and_then(|st| st.reqs_mut().connect.as_mut()) {
                c.lookup = Some(id);
            }
        }
        Err(e) => {
            let err = Error::io("getaddrinfo", io::Error::other(e), Some(&host));
            lp.defer(move |lp, d| connect_failed(lp, d, s, err));
        }
    }
}

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
            st.flags &= !(REG_READ | REG_WRITE);
            if let Some(fd) = fd {
                let interest = Interest::READABLE | Interest::WRITABLE;
                let r = token(lp, io)
                    .and_then(|t| lp.registry().register(&mut SourceFd(&fd), t, interest));
                if let Err(e) = r {
                    lp.defer(move |lp, d| connect_finish(lp, d, s, Err(e)));
                    return;
                }
                if let Some(st) = get(lp, s) {
                    st.flags |= REG_READ | REG_WRITE;
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
    let Some(c) = st.reqs.as_deref_mut().and_then(|r| r.connect.as_mut()) else {
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

/// Whether a name lookup is still running for the stream's connect.
pub(super) fn resolving<D: 'static>(lp: &mut Loop<D>, s: Stream) -> bool {
    get(lp, s).is_some_and(|st| {
        st.reqs
            .as_ref()
            .and_then(|r| r.connect.as_ref())
            .is_some_and(|c| c.lookup.is_some())
    })
}

/// In the poll phase: has the pending connect completed?
pub(super) fn connect_check<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: Stream, r: Ready) {
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
    let pending = st.reqs.as_ref().is_some_and(|r| r.connect.is_some());
    if st.flags & (CONNECTING | CLOSING) != CONNECTING || !pending {
        return; // finished already (a deferred outcome met an earlier event)
    }
    match res {
        Ok(()) => {
            st.flags &= !CONNECTING;
            st.flags |= CONNECTED | READABLE;
            let c = st.reqs_mut().connect.take().expect("checked above");
            st.tidy();
            tracing::trace!(stream = %s, addr = %c.addr, "connected");
            let ConnectReq { cb, req, .. } = c;
            lp.req_done(req);
            let ok = lp
                .make_callback(d, "connect", |lp, d| cb(lp, d, s, Ok(())))
                .is_some();
            if get(lp, s).is_some_and(|st| st.flags & CLOSING == 0) {
                // The writes queued while connecting go out (no callback).
                write_some(lp, s);
                if ok {
                    run_completions(lp, d, s);
                } else if super::write::needs_completion(lp, s) {
                    super::write::schedule_flush(lp, s);
                }
            }
        }
        Err(e) => {
            let c = st
                .reqs
                .as_deref_mut()
                .and_then(|r| r.connect.as_mut())
                .expect("checked above");
            let err = Error::io("connect", e, Some(&c.addr));
            if let Some(next) = c.rest.pop() {
                tracing::debug!(stream = %s, error = %err, next = %next, "connect failed, trying the next address");
                c.addr = Target::Addr(Address::Inet(next));
                st.sock = Sock::None;
                st.flags &= !(REG_READ | REG_WRITE);
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
    let Some(c) = st.reqs.as_deref_mut().and_then(|r| r.connect.take()) else {
        return;
    };
    st.flags &= !(CONNECTING | READABLE | WRITABLE);
    st.tidy();
    tracing::debug!(stream = %s, error = %err, "connect failed");
    let ConnectReq { cb, req, .. } = c;
    lp.req_done(req);
    if lp
        .make_callback(d, "connect", |lp, d| cb(lp, d, s, Err(err)))
        .is_none()
    {
        // Put the queue in order: the writes are canceled, and their
        // callbacks wait for the next pending phase.
        if let Some(q) = get(lp, s).and_then(|st| st.reqs.as_deref_mut()) {
            super::write::fail_all(q, &Error::canceled("write"));
        }
        super::write::schedule_flush(lp, s);
        return;
    }
    cancel_after_connect(lp, d, s);
}
