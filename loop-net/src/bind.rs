//! Bind before listen or connect: libuv's `uv_tcp_bind` and `uv_pipe_bind`
//! on a handle that then listens or connects ([`TcpSocket`],
//! [`UnixSocket`]).
//!
//! Invariants:
//! - a bound [`UnixSocket`] removes its socket file when dropped, unless a
//!   listener took it over (which removes it on close);
//! - a socket value owns at most one fd, created by the first `bind`
//!   (libuv's `maybe_new_socket`), closed when the value is dropped;
//!   `listen` and `connect` consume the value and hand the fd to a
//!   [`Listener`] or a [`Stream`]: an fd is never used by two handles;
//! - it is not a loop handle: no callback, no epoll registration and no
//!   loop liveness until `listen`/`connect`;
//! - a TCP bind that fails with `EADDRINUSE` succeeds and keeps the error
//!   for later (libuv's `delayed_error`): `local_addr` returns it,
//!   `listen` fails with it, `connect` calls back with it; every other bind
//!   error is returned by `bind`.

use crate::error::{Address, Error, Result};
use crate::listener::{self, ListenOptions, Listener};
use crate::stream::{connect_prepared, Stream};
use crate::sys;
use loop_core::Loop;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A TCP socket to bind before it listens or connects (`uv_tcp_t` between
/// `uv_tcp_init` and `uv_listen`/`uv_tcp_connect`).
///
/// ```
/// use loop_core::{Loop, RunMode};
/// use loop_net::{ListenOptions, TcpSocket};
///
/// let mut lp: Loop<()> = Loop::new()?;
/// let mut a = TcpSocket::new();
/// a.bind("127.0.0.1:0".parse()?, false)?;
/// let addr = a.local_addr()?;
/// // Binding twice is EINVAL, as libuv.
/// assert_eq!(a.bind(addr, false).unwrap_err().code(), "EINVAL");
/// let l = a.listen(&mut lp, &ListenOptions::default(), |_, _, _, _| {})?;
/// // A second socket binds the same address (SO_REUSEADDR) but cannot listen.
/// let mut b = TcpSocket::new();
/// b.bind(addr, false)?;
/// let err = b.listen(&mut lp, &ListenOptions::default(), |_, _, _, _| {}).unwrap_err();
/// assert_eq!(err.code(), "EADDRINUSE");
/// l.close(&mut lp, |_, _| {})?;
/// lp.run(RunMode::Default, &mut ())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct TcpSocket {
    sock: Option<socket2::Socket>,
    /// The address of a bind that failed with `EADDRINUSE`, and its error.
    delayed: Option<(SocketAddr, i32)>,
}

impl TcpSocket {
    /// A socket with no fd yet (`uv_tcp_init`): the first `bind` creates
    /// it with the address's family.
    pub fn new() -> TcpSocket {
        TcpSocket::default()
    }

    /// Adopts a TCP socket that neither listens nor is connected, bound
    /// or not (`uv_tcp_open` before `uv_listen`/`uv_tcp_connect`: one
    /// inherited, or made with options this crate does not set); it is
    /// made non-blocking and close-on-exec. `EINVAL` if it is not a TCP
    /// stream socket or listens already ([`Listener::open`] takes those),
    /// `EISCONN` if connected ([`Stream::open_fd`]). The fd is closed on
    /// error. `listen` and `connect` then say `EEXIST` if the loop watches
    /// that fd already.
    pub fn open(fd: std::os::fd::OwnedFd) -> Result<TcpSocket> {
        let s = sys::open_unconnected_tcp(fd).map_err(|e| Error::io("open", e, None))?;
        Ok(TcpSocket {
            sock: Some(s),
            delayed: None,
        })
    }

    /// Binds to `addr` (`uv_tcp_bind`), with `SO_REUSEADDR` as libuv sets
    /// it and, for an IPv6 address, `IPV6_V6ONLY` as `ipv6_only` says.
    /// `EINVAL` for `ipv6_only` with an IPv4 address, for a second bind
    /// (the kernel's answer) and for an address of the other family;
    /// `EADDRNOTAVAIL` for an address that is not this host's. An address
    /// in use is **not** an error here (see the module docs): it comes
    /// from `local_addr`, `listen` or `connect`.
    pub fn bind(&mut self, addr: SocketAddr, ipv6_only: bool) -> Result<()> {
        let err = |e: io::Error| Error::io("bind", e, Some(&addr));
        if ipv6_only && !addr.is_ipv6() {
            return Err(Error::errno("bind", libc::EINVAL, Some(&addr)));
        }
        if self.sock.is_none() {
            self.sock = Some(sys::tcp_for_bind(addr, ipv6_only).map_err(err)?);
        }
        let s = self.sock.as_ref().expect("made above");
        match s.bind(&addr.into()) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                self.delayed = Some((addr, libc::EADDRINUSE));
                Ok(())
            }
            // libuv maps EAFNOSUPPORT (an address of the other family) to
            // EINVAL.
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
                Err(Error::errno("bind", libc::EINVAL, Some(&addr)))
            }
            Err(e) => Err(err(e)),
        }
    }

    /// The bound address (`uv_tcp_getsockname`): the bind's deferred
    /// `EADDRINUSE` if it had one; `EBADF` before any bind.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        if let Some((addr, n)) = self.delayed {
            return Err(Error::errno("getsockname", n, Some(&addr)));
        }
        let s = self
            .sock
            .as_ref()
            .ok_or_else(|| Error::misuse("getsockname", libc::EBADF, "not bound"))?;
        s.local_addr()
            .map_err(|e| Error::io("getsockname", e, None))?
            .as_socket()
            .ok_or_else(|| Error::misuse("getsockname", libc::EINVAL, "not an IP socket"))
    }

    /// Listens (`uv_listen`) with `opts.backlog` (the bind options of
    /// `opts` do not apply: the socket is bound already). Unbound, it
    /// listens on an ephemeral port of `0.0.0.0`, as libuv's
    /// `tcp_listen_without_bind`. A second listener on an address that is
    /// listened on fails here with `EADDRINUSE`, as does a bind that
    /// deferred it.
    pub fn listen<D: 'static>(
        self,
        lp: &mut Loop<D>,
        opts: &ListenOptions,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static,
    ) -> Result<Listener> {
        if let Some((addr, n)) = self.delayed {
            return Err(Error::errno("listen", n, Some(&addr)));
        }
        let sock = match self.sock {
            Some(s) => s,
            None => sys::new_stream_socket(socket2::Domain::IPV4)
                .map_err(|e| Error::io("listen", e, None))?,
        };
        check_unwatched(lp, &sock)?;
        let at = sock.local_addr().ok().and_then(|a| a.as_socket());
        let backlog = opts.backlog.min(i32::MAX as u32) as i32;
        let ls = sys::listen_on(sock, backlog).map_err(|e| match at {
            Some(a) => Error::io("listen", e, Some(&a)),
            None => Error::io("listen", e, None),
        })?;
        listener::insert(lp, ls, None, Box::new(on_connection))
    }

    /// Connects from the bound address (`uv_tcp_connect` after
    /// `uv_tcp_bind`): the connection's local address is the one bound.
    /// As [`Stream::connect`]: `cb` runs once, never from inside this
    /// call; a bind's deferred `EADDRINUSE` comes to `cb` too. Unbound, it
    /// is [`Stream::connect`].
    pub fn connect<D: 'static>(
        self,
        lp: &mut Loop<D>,
        addr: SocketAddr,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<Stream> {
        if let Some(s) = &self.sock {
            check_unwatched(lp, s)?;
        }
        let r = match (self.delayed, self.sock) {
            (Some((_, n)), _) => Err(io::Error::from_raw_os_error(n)),
            (None, Some(s)) => sys::connect_tcp_on(s, addr),
            (None, None) => sys::connect_tcp(addr),
        };
        connect_prepared(lp, Address::Inet(addr), r, Box::new(cb))
    }
}

/// `EEXIST` if the loop has a stream or listener on `s`'s fd number.
fn check_unwatched<D: 'static>(lp: &Loop<D>, s: &socket2::Socket) -> Result<()> {
    use std::os::fd::AsRawFd;
    crate::stream::check_unwatched_raw(lp, s.as_raw_fd())
}

/// A Unix-domain stream socket to bind before it listens or connects
/// (`uv_pipe_t` between `uv_pipe_init` and `uv_listen`/`uv_pipe_connect`).
///
/// ```
/// use loop_core::{Loop, RunMode};
/// use loop_net::{ListenOptions, UnixSocket};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("s.sock");
/// let mut lp: Loop<()> = Loop::new()?;
/// let mut a = UnixSocket::new();
/// a.bind(&path)?;
/// // Bound already: EINVAL (libuv's pipe_bind_error_inval).
/// assert_eq!(a.bind(&path).unwrap_err().code(), "EINVAL");
/// // Another socket cannot bind the path (pipe_bind_error_addrinuse).
/// assert_eq!(UnixSocket::new().bind(&path).unwrap_err().code(), "EADDRINUSE");
/// let l = a.listen(&mut lp, &ListenOptions::default(), |_, _, _, _| {})?;
/// l.close(&mut lp, |_, _| {})?;
/// lp.run(RunMode::Default, &mut ())?;
/// assert!(!path.exists(), "the socket file goes with the listener");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct UnixSocket {
    sock: Option<socket2::Socket>,
    path: Option<PathBuf>,
}

impl UnixSocket {
    /// A socket with no fd yet (`uv_pipe_init`).
    pub fn new() -> UnixSocket {
        UnixSocket::default()
    }

    /// Binds to `path` (`uv_pipe_bind`): `EINVAL` if bound already or
    /// for an empty path or one too long for a socket address,
    /// `EADDRINUSE` if the path exists, `EACCES` where the directory is
    /// missing (libuv turns `ENOENT` into `EACCES`, as Windows says).
    pub fn bind(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let at = path.display();
        if self.sock.is_some() {
            return Err(Error::misuse("bind", libc::EINVAL, "bound already"));
        }
        if path.as_os_str().is_empty() {
            return Err(Error::misuse("bind", libc::EINVAL, "empty path"));
        }
        let sa = socket2::SockAddr::unix(path).map_err(|e| Error::io("bind", e, Some(&at)))?;
        let s = sys::new_stream_socket(socket2::Domain::UNIX)
            .map_err(|e| Error::io("bind", e, Some(&at)))?;
        match s.bind(&sa) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Err(Error::errno("bind", libc::EACCES, Some(&at)));
            }
            Err(e) => return Err(Error::io("bind", e, Some(&at))),
        }
        self.sock = Some(s);
        self.path = Some(path.to_path_buf());
        Ok(())
    }

    /// Listens (`uv_listen`); `EINVAL` if not bound (libuv's
    /// `pipe_listen_without_bind`). The socket file is removed when the
    /// listener closes, as libuv does. On error the socket is dropped and
    /// its file removed.
    pub fn listen<D: 'static>(
        mut self,
        lp: &mut Loop<D>,
        opts: &ListenOptions,
        on_connection: impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static,
    ) -> Result<Listener> {
        let (Some(sock), Some(path)) = (self.sock.take(), self.path.take()) else {
            return Err(Error::misuse("listen", libc::EINVAL, "not bound"));
        };
        let backlog = opts.backlog.min(i32::MAX as u32) as i32;
        match sys::listen_on(sock, backlog) {
            Ok(ls) => listener::insert(lp, ls, Some(path), Box::new(on_connection)),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(Error::io("listen", e, Some(&path.display())))
            }
        }
    }

    /// Connects to `path` from the bound one (`uv_pipe_connect` after
    /// `uv_pipe_bind`: the peer sees this path as its peer's address); as
    /// [`Stream::connect_path`]. Unbound, it is [`Stream::connect_path`].
    /// The bound path's file is removed when this returns (libuv removes
    /// it when the handle closes; the connection does not need it).
    pub fn connect<D: 'static>(
        mut self,
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Stream, Result<()>) + 'static,
    ) -> Result<Stream> {
        let path = path.as_ref();
        let Some(sock) = self.sock.take() else {
            return Stream::connect_path(lp, path, cb);
        };
        socket2::SockAddr::unix(path)
            .map_err(|e| Error::io("connect", e, Some(&path.display())))?;
        let r = sys::connect_unix_on(sock, path);
        if let Some(bound) = self.path.take() {
            let _ = std::fs::remove_file(bound);
        }
        connect_prepared(lp, Address::Unix(path.to_path_buf()), r, Box::new(cb))
    }
}

impl Drop for UnixSocket {
    /// A socket bound and never listened on takes its socket file with it
    /// (libuv unlinks a bound pipe's path on close).
    fn drop(&mut self) {
        if let (Some(_), Some(path)) = (self.sock.take(), self.path.take()) {
            let _ = std::fs::remove_file(path);
        }
    }
}
