//! Listeners, libuv level: a listening TCP or Unix socket (`uv_listen` on a
//! `uv_tcp_t` / `uv_pipe_t`) and `uv_accept`.
//!
//! # Accepting
//!
//! On a readable event the listener accepts in a loop until `accept4`
//! says `EAGAIN`, calling the connection callback once per connection,
//! which takes it with [`Listener::accept`]. Two bounds keep this fair:
//!
//! - **[`ACCEPT_BATCH`] accepts per poll.** Past that, the listener's
//!   registration is renewed (`epoll_ctl(MOD)`), so the next poll reports
//!   it again, after the other ready handles had their turn.
//! - **A callback that does not accept pauses the listener** (libuv: the
//!   listener stops polling until `uv_accept`): the connection stays
//!   pending, nothing more is accepted, and `accept` later (from a timer,
//!   say) takes it and resumes.
//!
//! libuv 1.46 (Node.js 20) accepts **one** connection per readable event
//! and relies on level-triggered epoll to be called again; libuv ≤ 1.44
//! looped until `EAGAIN` without a bound. Here: the loop, with a bound.
//!
//! # Out of file descriptors
//!
//! When `accept4` fails with `EMFILE` or `ENFILE`, the listener uses
//! libuv's reserve fd: it closes the spare fd it keeps open (`/`), accepts
//! and closes pending connections until `EAGAIN` (their clients see a
//! connection closed at once instead of a hang), then re-opens the spare.
//! The connection callback is not called for them. A `tracing` warning
//! says how many were shed. If the spare is gone (another thread took the
//! fd), the listener retries every [`RETRY_MS`] ms from an unreferenced
//! timer instead of polling: no busy loop, and accepting resumes by itself
//! once fds are free. Other accept errors go to the connection callback
//! (as libuv ≤ 1.44; 1.46 drops them) and are retried the same way;
//! `ECONNABORTED`, `EINTR` and `EPROTO` are skipped.
//!
//! # Callbacks
//!
//! The connection callback runs through [`Loop::make_callback`] (the
//! nextTick and microtask queues drain after it). If it panics, the
//! accept round ends at once and the registration is renewed: the
//! connections still in the backlog are reported on the next `run`.

use crate::error::{bad_handle, Address, Error, Result};
use crate::state::{ensure_reserve, net, net_mut, net_ref};
use crate::stream::{self, CloseCb, Stream, CONNECTED, READABLE, WRITABLE};
use crate::sys::{self, ListenParams, ListenSock, Sock};
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::slots::Key;
use loop_core::{IoId, Loop, TimerId};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// Most connections accepted per readable event (see the module docs).
pub const ACCEPT_BATCH: usize = 64;

/// Retry period, in ms, when accepting cannot make progress (out of fds
/// with no spare fd, or an unexpected accept error).
pub const RETRY_MS: u64 = 100;

/// Default `listen` backlog, as Node.js and libuv's tests use.
pub const DEFAULT_BACKLOG: u32 = 511;

/// A listening socket. A small `Copy` id; invalid once closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listener {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listener #{}.{}", self.index, self.gen)
    }
}

impl Listener {
    /// The id's [`Key`] in its table.
    #[inline]
    pub(crate) fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

/// Options for a listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenOptions {
    /// The `listen` backlog (default [`DEFAULT_BACKLOG`], 511).
    pub backlog: u32,
    /// `SO_REUSEPORT`: several listeners, in this process or others, share
    /// the port and the kernel balances connections (default off).
    pub reuse_port: bool,
    /// `IPV6_V6ONLY` for an IPv6 address: off (the default) accepts IPv4
    /// clients too on `::`.
    pub ipv6_only: bool,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
            ipv6_only: false,
        }
    }
}

impl ListenOptions {
    fn params(&self) -> ListenParams {
        ListenParams {
            backlog: self.backlog.min(i32::MAX as u32) as i32,
            reuse_port: self.reuse_port,
            ipv6_only: self.ipv6_only,
        }
    }
}

/// A connection callback: `(loop, data, listener, status)`. `Ok` means a
/// connection waits for [`Listener::accept`].
pub type ConnectionCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Listener, Result<()>)>;

const CLOSING: u8 = 1;
/// A connection waits for `accept` and the accept loop stopped for it.
const PAUSED: u8 = 2;
/// Out of fds: log when accepting works again.
const STARVED: u8 = 4;

pub(crate) struct ListenerState<D> {
    flags: u8,
    io: IoId,
    sock: ListenSock,
    addr: Address,
    /// The socket file to unlink on close (a Unix listener's own path).
    unlink: Option<PathBuf>,
    cb: Option<ConnectionCb<D>>,
    /// An accepted connection not yet taken by `accept`.
    pending: Option<Sock>,
    retry: Option<TimerId>,
    /// Connections shed while out of fds, over the listener's life.
    shed: u64,
}

impl<D> ListenerState<D> {
    /// The listening socket's fd, for [`Stream::open_fd`]'s `EEXIST` check.
    pub(crate) fn fd(&self) -> Option<std::os::fd::RawFd> {
        self.sock.fd()
    }
}

fn get<D: 'static>(lp: &mut Loop<D>, l: Listener) -> Option<&mut ListenerState<D>> {
    net_mut(lp)?.listeners.get_mut(l.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, l: Listener) -> Option<&ListenerState<D>> {
    net_ref(lp)?.listeners.get(l.key())
}

fn live<'a, D: 'static>(
    lp: &'a mut Loop<D>,
    l: Listener,
    op: &'static str,
) -> Result<&'a mut ListenerState<D>> {
    match get(lp, l) {
        Some(st) if st.flags & CLOSING == 0 => Ok(st),
        _ => Err(bad_handle(op)),
    }
}

fn register<D: 'static>(lp: &mut Loop<D>, io: IoId, fd: i32, again: bool) -> io::Result<()> {
    let t = lp.io_token(io).map_err(io::Error::from)?;
    if again {
        lp.registry()
            .reregister(&mut SourceFd(&fd), t, Interest::READABLE)
    } else {
        lp.registry()
            .register(&mut SourceFd(&fd), t, Interest::READABLE)
    }
}

/// Renews the registration: epoll reports the listener again if
/// connections are still waiting.
fn rearm<D: 'static>(lp: &mut Loop<D>, l: Listener) {
    let Some(st) = get(lp, l) else { return };
    let (io, fd) = (st.io, st.sock.fd());
    if let Some(fd) = fd {
        if let Err(e) = register(lp, io, fd, true) {
            tracing::warn!(listener = %l, error = %e, "epoll_ctl(MOD) failed");
        }
    }
}

impl Listener {
    /// Binds and listens on `addr` (`uv_tcp_bind` + `uv_listen`), with
    /// `SO_REUSEADDR` as libuv sets it. Bind errors surface here, naming
    /// the address: `listen EADDRINUSE 127.0.0.1:8080: Address in use (os
    /// error 98)`. `on_connection` runs in the poll phase for each
    /// connection; it should call [`Listener::accept`].
    ///
    /// Port 0 picks a free port: see [`Listener::local_addr`].
    pub fn listen<D: 'static>(
        lp: &mut Loop<D>,
        addr: SocketAddr,
        opts: &ListenOptions,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static,
    ) -> Result<Listener> {
        let sock = sys::listen_tcp(addr, &opts.params())
            .map_err(|e| Error::io("listen", e, Some(&addr)))?;
        insert(lp, ListenSock::Tcp(sock), None, Box::new(on_connection))
    }

    /// Listens on `port` on every address, as Node.js does for a server
    /// given no host: `::` dual-stack (IPv4 clients too), or `0.0.0.0`
    /// when the host has no IPv6.
    pub fn listen_any<D: 'static>(
        lp: &mut Loop<D>,
        port: u16,
        opts: &ListenOptions,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static,
    ) -> Result<Listener> {
        let sock = listen_unspecified(port, opts)?;
        insert(lp, ListenSock::Tcp(sock), None, Box::new(on_connection))
    }

    /// Binds and listens on a Unix-socket path (`uv_pipe_bind` +
    /// `uv_listen`). The socket file is removed on close, as libuv does.
    /// `EADDRINUSE` if the path exists.
    pub fn listen_path<D: 'static>(
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
        opts: &ListenOptions,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static,
    ) -> Result<Listener> {
        let path = path.as_ref();
        let sock = sys::listen_unix(path, &opts.params())
            .map_err(|e| Error::io("listen", e, Some(&path.display())))?;
        insert(
            lp,
            ListenSock::Unix(sock),
            Some(path.to_path_buf()),
            Box::new(on_connection),
        )
    }

    /// Adopts a socket that is listening already (`uv_tcp_open` or
    /// `uv_pipe_open`, then `uv_listen`): one received over IPC, or
    /// inherited. `EINVAL` if it is not a listening stream socket,
    /// `EEXIST` if this loop watches that fd already; the fd is closed on
    /// error. A Unix listener opened this way does not remove its socket
    /// file on close (its owner does).
    pub fn open<D: 'static>(
        lp: &mut Loop<D>,
        fd: std::os::fd::OwnedFd,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static,
    ) -> Result<Listener> {
        stream::check_unwatched(lp, &fd)?;
        let sock = sys::open_listener(fd).map_err(|e| Error::io("listen", e, None))?;
        insert(lp, sock, None, Box::new(on_connection))
    }

    /// Takes the connection waiting since the connection callback
    /// (`uv_accept`), as a [`Stream`] ready to read and write. `EAGAIN` if
    /// none waits. Called after the callback returned (later, from a timer
    /// say), it also resumes the paused accept loop.
    pub fn accept<D: 'static>(self, lp: &mut Loop<D>) -> Result<Stream> {
        let st = live(lp, self, "accept")?;
        let Some(sock) = st.pending.take() else {
            return Err(Error::misuse(
                "accept",
                libc::EAGAIN,
                "no connection is waiting",
            ));
        };
        let paused = st.flags & PAUSED != 0;
        st.flags &= !PAUSED;
        let s = stream::insert(lp, sock, CONNECTED | READABLE | WRITABLE);
        if paused {
            rearm(lp, self);
        }
        Ok(s)
    }

    /// The address listened on (port 0 resolved).
    pub fn local_addr<D: 'static>(self, lp: &Loop<D>) -> Result<Address> {
        get_ref(lp, self)
            .filter(|st| st.flags & CLOSING == 0)
            .map(|st| st.addr.clone())
            .ok_or_else(|| bad_handle("getsockname"))
    }

    /// Connections accepted and closed at once while out of fds.
    pub fn shed_count<D: 'static>(self, lp: &Loop<D>) -> u64 {
        get_ref(lp, self).map_or(0, |st| st.shed)
    }

    /// Stops listening and closes the socket now (`uv_close`); `cb` runs in
    /// the close phase. A connection accepted but not taken is closed.
    pub fn close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        close_impl(lp, self, Box::new(cb))
    }

    /// The listener's loop handle.
    pub fn io_id<D: 'static>(self, lp: &Loop<D>) -> Option<IoId> {
        get_ref(lp, self).map(|st| st.io)
    }

    /// References the listener (`uv_ref`).
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = get(lp, self).ok_or_else(|| bad_handle("ref"))?.io;
        lp.ref_handle(io).map_err(|_| bad_handle("ref"))
    }

    /// Unreferences the listener (`uv_unref`, Node's `server.unref()`): it
    /// no longer keeps the loop alive.
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let io = get(lp, self).ok_or_else(|| bad_handle("unref"))?.io;
        lp.unref(io).map_err(|_| bad_handle("unref"))
    }

    /// Whether the listener is closing.
    pub fn is_closing<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.flags & CLOSING != 0)
    }
}

/// `::` dual-stack, else `0.0.0.0` (Node.js's `listen(port)`).
fn listen_unspecified(port: u16, opts: &ListenOptions) -> Result<loop_core::mio::net::TcpListener> {
    let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    let mut p = opts.params();
    p.ipv6_only = false;
    match sys::listen_tcp(v6, &p) {
        Ok(s) => Ok(s),
        Err(e) if sys::ipv6_unavailable(&e) => {
            tracing::debug!(error = %e, "no IPv6: listening on 0.0.0.0");
            let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            sys::listen_tcp(v4, &p).map_err(|e| Error::io("listen", e, Some(&v4)))
        }
        Err(e) => Err(Error::io("listen", e, Some(&v6))),
    }
}

/// Makes a listener of a listening socket (also [`crate::TcpSocket`]'s
/// and [`crate::UnixSocket`]'s `listen`); `unlink` is the socket file to
/// remove on close.
pub(crate) fn insert<D: 'static>(
    lp: &mut Loop<D>,
    sock: ListenSock,
    unlink: Option<PathBuf>,
    cb: ConnectionCb<D>,
) -> Result<Listener> {
    let addr = sock
        .local_addr()
        .map_err(|e| Error::io("getsockname", e, None))?;
    let n = net(lp);
    let Key { index, gen } = n.listeners.vacant_key();
    let l = Listener { index, gen };
    let io = lp.io_init(move |lp, d, _| accept_round(lp, d, l));
    let fd = sock.fd().expect("a listening socket");
    if let Err(e) = register(lp, io, fd, false) {
        let _ = lp.close(io, None);
        return Err(Error::io("epoll_ctl", e, Some(&addr)));
    }
    let _ = lp.io_start(io);
    tracing::debug!(listener = %l, %addr, "listening");
    let key = net(lp).listeners.insert(ListenerState {
        flags: 0,
        io,
        sock,
        addr,
        unlink,
        cb: Some(cb),
        pending: None,
        retry: None,
        shed: 0,
    });
    debug_assert_eq!(key, l.key());
    ensure_reserve(lp);
    Ok(l)
}

/// Whether an accept error only concerns the one connection (skip it).
fn transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED) | Some(libc::EINTR) | Some(libc::EPROTO)
    ) || e.kind() == io::ErrorKind::Interrupted
}

fn out_of_fds(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// One round of accepting (the listener's I/O callback, and the retry
/// timer's).
fn accept_round<D: 'static>(lp: &mut Loop<D>, d: &mut D, l: Listener) {
    ensure_reserve(lp);
    for _ in 0..ACCEPT_BATCH {
        let Some(st) = get(lp, l) else { return };
        if st.flags & CLOSING != 0 {
            return;
        }
        if st.pending.is_some() {
            // The callback did not accept: wait for `accept`.
            st.flags |= PAUSED;
            return;
        }
        match st.sock.accept() {
            Ok(sock) => {
                if st.flags & STARVED != 0 {
                    st.flags &= !STARVED;
                    tracing::info!(listener = %l, shed = st.shed, "accepting again");
                }
                st.pending = Some(sock);
                if !call(lp, d, l, Ok(())) {
                    // It panicked: the backlog is reported again next run.
                    rearm(lp, l);
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if transient(&e) => {}
            Err(e) if out_of_fds(&e) => {
                // At the limit, accept4 fails even with nothing waiting (the
                // kernel takes the fd before looking at the queue).
                let (drained, count) = shed(lp, l, &e);
                if count > 0 || !drained {
                    if let Some(st) = get(lp, l) {
                        st.flags |= STARVED;
                    }
                }
                if !drained {
                    arm_retry(lp, l);
                }
                return;
            }
            Err(e) => {
                let err = Error::io("accept", e, Some(&st.addr));
                tracing::warn!(listener = %l, error = %err, "accept failed");
                call(lp, d, l, Err(err));
                if lp.is_unwinding() {
                    return;
                }
                arm_retry(lp, l);
                return;
            }
        }
    }
    // The batch is used up: let the other handles run, come back next poll.
    rearm(lp, l);
}

/// Runs the connection callback through [`Loop::make_callback`]; `false`
/// if it panicked.
fn call<D: 'static>(lp: &mut Loop<D>, d: &mut D, l: Listener, r: Result<()>) -> bool {
    let Some(mut cb) = get(lp, l).and_then(|st| st.cb.take()) else {
        return true;
    };
    let ok = lp
        .make_callback(d, "connection", |lp, d| cb(lp, d, l, r))
        .is_some();
    if let Some(st) = get(lp, l) {
        if st.cb.is_none() {
            st.cb = Some(cb);
        }
    }
    ok
}

/// libuv's `uv__emfile_trick`: close the spare fd, accept and close what
/// waits, re-open the spare. Returns whether the backlog was emptied, and
/// how many connections were shed.
fn shed<D: 'static>(lp: &mut Loop<D>, l: Listener, cause: &io::Error) -> (bool, u64) {
    let n = net(lp);
    let Some(spare) = n.reserve.take() else {
        tracing::warn!(listener = %l, error = %cause, "accept: out of file descriptors and no spare fd; retrying in {RETRY_MS} ms");
        return (false, 0);
    };
    drop(spare);
    let Some(st) = n.listeners.get_mut(l.key()) else {
        return (false, 0);
    };
    let mut count = 0u64;
    let mut drained = false;
    for _ in 0..1024 {
        match st.sock.accept() {
            Ok(sock) => {
                drop(sock);
                count += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                drained = true;
                break;
            }
            Err(e) if transient(&e) => {}
            Err(_) => break,
        }
    }
    st.shed += count;
    n.reserve = std::fs::File::open("/").ok();
    if count > 0 || !drained {
        tracing::warn!(
            listener = %l,
            error = %cause,
            shed = count,
            spare_reopened = n.reserve.is_some(),
            "accept: out of file descriptors: closed waiting connections through the spare fd"
        );
    } else {
        tracing::debug!(listener = %l, "accept: at the fd limit, no connection waiting");
    }
    (drained, count)
}

/// Tries accepting again in [`RETRY_MS`] ms (an unreferenced timer).
fn arm_retry<D: 'static>(lp: &mut Loop<D>, l: Listener) {
    let Some(st) = get(lp, l) else { return };
    let t = match st.retry {
        Some(t) => t,
        None => {
            let t = lp.timer_init();
            let _ = lp.unref(t);
            if let Some(st) = get(lp, l) {
                st.retry = Some(t);
            }
            t
        }
    };
    let _ = lp.timer_start(t, RETRY_MS, 0, move |lp, d| accept_round(lp, d, l));
}

fn close_impl<D: 'static>(lp: &mut Loop<D>, l: Listener, cb: CloseCb<D>) -> Result<()> {
    let st = live(lp, l, "close")?;
    st.flags |= CLOSING;
    st.sock = ListenSock::None;
    st.pending = None;
    if let Some(path) = st.unlink.take() {
        let _ = std::fs::remove_file(path);
    }
    let (io, retry) = (st.io, st.retry.take());
    if let Some(t) = retry {
        let _ = lp.close(t, None);
    }
    tracing::debug!(listener = %l, "close");
    lp.close(
        io,
        Some(Box::new(move |lp, d| {
            lp.make_callback(d, "close", cb);
            if let Some(n) = net_mut(lp) {
                n.listeners.remove(l.key());
            }
        })),
    )
    .map_err(|_| bad_handle("close"))
}
