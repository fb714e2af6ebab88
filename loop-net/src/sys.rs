//! Sockets: creation and options through socket2, both families behind one
//! enum, and the few calls whose flags std does not pass.
//!
//! Invariants:
//! - every socket is created non-blocking and close-on-exec (`socket(…,
//!   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`), and accepted ones come
//!   from `accept4(…, SOCK_NONBLOCK | SOCK_CLOEXEC)` (mio's `accept`);
//! - sends pass `MSG_NOSIGNAL`: a write to a reset connection is an `EPIPE`
//!   error, never a `SIGPIPE`, whatever the embedder did with that signal
//!   (std's `write_vectored` is `writev`, which cannot take the flag, so
//!   vectored writes go through `sendmsg`);
//! - fds are never duplicated, so closing one also removes it from the
//!   epoll set: a closed socket needs no `epoll_ctl(DEL)`;
//! - a stream opened on an fd that is not a socket (a pipe, a FIFO, a
//!   character device: [`Sock::Pipe`]) reads with `read` and writes with
//!   `write`/`writev`, which cannot take `MSG_NOSIGNAL`: a write to a pipe
//!   with no reader raises `SIGPIPE` unless it is ignored (Rust programs
//!   ignore it from `main` on), as with libuv;
//! - datagrams are received with `recvmmsg` into a [`RecvBatch`] made once
//!   per loop: this file holds the crate's only `unsafe` (that call, the
//!   zeroed C headers it takes, and reading the sender addresses it
//!   wrote), each block with its `SAFETY` line.

use crate::error::Address;
use socket2::{Domain, SockAddr, SockRef, Socket, TcpKeepalive, Type};
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::Duration;

/// A connected (or connecting) stream socket, TCP or Unix.
pub(crate) enum Sock {
    /// No socket: closed, or a host name is still being resolved.
    None,
    Tcp(mio::net::TcpStream),
    Unix(mio::net::UnixStream),
    /// Not a socket: a pipe, a FIFO or a character device, opened with
    /// [`open_fd`].
    Pipe(File),
}

fn enotsock() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOTSOCK)
}

impl Sock {
    pub(crate) fn fd(&self) -> Option<RawFd> {
        match self {
            Sock::None => None,
            Sock::Tcp(s) => Some(s.as_raw_fd()),
            Sock::Unix(s) => Some(s.as_raw_fd()),
            Sock::Pipe(f) => Some(f.as_raw_fd()),
        }
    }

    fn sockref(&self) -> io::Result<SockRef<'_>> {
        match self {
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            Sock::Tcp(s) => Ok(SockRef::from(s)),
            Sock::Unix(s) => Ok(SockRef::from(s)),
            Sock::Pipe(_) => Err(enotsock()),
        }
    }

    pub(crate) fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            Sock::Tcp(s) => (&*s).read(buf),
            Sock::Unix(s) => (&*s).read(buf),
            Sock::Pipe(f) => (&*f).read(buf),
        }
    }

    pub(crate) fn send(&self, buf: &[u8]) -> io::Result<usize> {
        if let Sock::Pipe(f) = self {
            return (&*f).write(buf);
        }
        self.sockref()?.send_with_flags(buf, libc::MSG_NOSIGNAL)
    }

    pub(crate) fn send_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if let [one] = bufs {
            return self.send(one);
        }
        if let Sock::Pipe(f) = self {
            return (&*f).write_vectored(bufs);
        }
        self.sockref()?
            .send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            Sock::Tcp(s) => s.shutdown(Shutdown::Write),
            Sock::Unix(s) => s.shutdown(Shutdown::Write),
            // libuv's `shutdown(2)` on a pipe fails the same way: a pipe's
            // reader sees EOF when the writing end is closed.
            Sock::Pipe(_) => Err(enotsock()),
        }
    }

    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            Sock::Tcp(s) => s.take_error(),
            Sock::Unix(s) => s.take_error(),
            Sock::Pipe(_) => Ok(None),
        }
    }

    pub(crate) fn peer_addr(&self) -> io::Result<Address> {
        match self {
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            Sock::Tcp(s) => s.peer_addr().map(Address::Inet),
            Sock::Unix(s) => s.peer_addr().map(|a| Address::from_unix(&a)),
            Sock::Pipe(_) => Err(enotsock()),
        }
    }

    pub(crate) fn local_addr(&self) -> io::Result<Address> {
        match self {
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            Sock::Tcp(s) => s.local_addr().map(Address::Inet),
            Sock::Unix(s) => s.local_addr().map(|a| Address::from_unix(&a)),
            Sock::Pipe(_) => Err(enotsock()),
        }
    }

    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match self {
            Sock::Tcp(s) => s.set_nodelay(on),
            // libuv: a no-op on pipes.
            Sock::Unix(_) | Sock::Pipe(_) => Ok(()),
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }

    /// `TCP_NODELAY` as set (false on a Unix socket).
    pub(crate) fn nodelay(&self) -> io::Result<bool> {
        match self {
            Sock::Tcp(s) => s.nodelay(),
            Sock::Unix(_) | Sock::Pipe(_) => Ok(false),
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }

    /// `SO_KEEPALIVE` as set (false on a Unix socket).
    pub(crate) fn keepalive(&self) -> io::Result<bool> {
        match self {
            Sock::Tcp(s) => SockRef::from(s).keepalive(),
            Sock::Unix(_) | Sock::Pipe(_) => Ok(false),
            Sock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }

    /// `SO_KEEPALIVE`, and when on, libuv 1.46's `TCP_KEEPIDLE` = `delay`
    /// seconds, `TCP_KEEPINTVL` = 1 s, `TCP_KEEPCNT` = 10.
    pub(crate) fn set_keepalive(&self, on: bool, delay: Option<u32>) -> io::Result<()> {
        let s = match self {
            Sock::Tcp(s) => SockRef::from(s),
            Sock::Unix(_) | Sock::Pipe(_) => return Ok(()),
            Sock::None => return Err(io::Error::from_raw_os_error(libc::EBADF)),
        };
        if on {
            if let Some(delay) = delay {
                let ka = TcpKeepalive::new()
                    .with_time(Duration::from_secs(delay.into()))
                    .with_interval(Duration::from_secs(1))
                    .with_retries(10);
                s.set_tcp_keepalive(&ka)?;
            }
        }
        s.set_keepalive(on)
    }

    /// `SO_LINGER` {on, 0}: the next `close` sends RST instead of FIN.
    pub(crate) fn set_linger_zero(&self) -> io::Result<()> {
        self.sockref()?.set_linger(Some(Duration::ZERO))
    }
}

/// An fd opened as a stream: what it is, and whether it may be read and
/// written (its access mode; a socket is both).
pub(crate) struct Opened {
    pub(crate) sock: Sock,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
}

/// Makes a stream of an fd (`uv_pipe_open`, `uv_tcp_open`): a connected
/// TCP or Unix stream socket becomes [`Sock::Tcp`] or [`Sock::Unix`], a
/// pipe, FIFO or character device [`Sock::Pipe`]; the fd is made
/// non-blocking. `EINVAL` for a regular file, a directory, or a socket that
/// is not a stream; `ENOTCONN` for a listening socket. The fd is closed
/// on error.
pub(crate) fn open_fd(fd: OwnedFd) -> io::Result<Opened> {
    let mode = rustix::fs::fcntl_getfl(&fd)?;
    let acc = mode & rustix::fs::OFlags::RWMODE;
    let readable = acc == rustix::fs::OFlags::RDONLY || acc == rustix::fs::OFlags::RDWR;
    let writable = acc == rustix::fs::OFlags::WRONLY || acc == rustix::fs::OFlags::RDWR;
    let ft = rustix::fs::fstat(&fd)?;
    let kind = rustix::fs::FileType::from_raw_mode(ft.st_mode);
    let einval = || io::Error::from_raw_os_error(libc::EINVAL);
    let sock = match kind {
        rustix::fs::FileType::Socket => {
            let s = SockRef::from(&fd);
            if s.r#type()? != Type::STREAM {
                return Err(einval());
            }
            if s.is_listener()? {
                return Err(io::Error::from_raw_os_error(libc::ENOTCONN));
            }
            s.set_nonblocking(true)?;
            match s.domain()? {
                Domain::UNIX => Sock::Unix(mio::net::UnixStream::from_std(fd.into())),
                Domain::IPV4 | Domain::IPV6 => Sock::Tcp(mio::net::TcpStream::from_std(fd.into())),
                _ => return Err(einval()),
            }
        }
        rustix::fs::FileType::Fifo | rustix::fs::FileType::CharacterDevice => {
            rustix::fs::fcntl_setfl(&fd, mode | rustix::fs::OFlags::NONBLOCK)?;
            Sock::Pipe(File::from(fd))
        }
        _ => return Err(einval()),
    };
    Ok(Opened {
        sock,
        readable,
        writable,
    })
}

/// A listening socket, TCP or Unix.
pub(crate) enum ListenSock {
    None,
    Tcp(mio::net::TcpListener),
    Unix(mio::net::UnixListener),
}

impl ListenSock {
    pub(crate) fn fd(&self) -> Option<RawFd> {
        match self {
            ListenSock::None => None,
            ListenSock::Tcp(s) => Some(s.as_raw_fd()),
            ListenSock::Unix(s) => Some(s.as_raw_fd()),
        }
    }

    /// `accept4(fd, …, SOCK_NONBLOCK | SOCK_CLOEXEC)`.
    pub(crate) fn accept(&self) -> io::Result<Sock> {
        match self {
            ListenSock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            ListenSock::Tcp(l) => l.accept().map(|(s, _)| Sock::Tcp(s)),
            ListenSock::Unix(l) => l.accept().map(|(s, _)| Sock::Unix(s)),
        }
    }

    pub(crate) fn local_addr(&self) -> io::Result<Address> {
        match self {
            ListenSock::None => Err(io::Error::from_raw_os_error(libc::EBADF)),
            ListenSock::Tcp(l) => l.local_addr().map(Address::Inet),
            ListenSock::Unix(l) => l.local_addr().map(|a| Address::from_unix(&a)),
        }
    }
}

/// Makes a listener of a listening socket's fd (a listener received over
/// IPC, `listen({fd})`), made non-blocking. `EINVAL` if it is not a
/// listening TCP or Unix stream socket. The fd is closed on error.
pub(crate) fn open_listener(fd: OwnedFd) -> io::Result<ListenSock> {
    let s = SockRef::from(&fd);
    if s.r#type()? != Type::STREAM || !s.is_listener()? {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    s.set_nonblocking(true)?;
    match s.domain()? {
        Domain::UNIX => Ok(ListenSock::Unix(mio::net::UnixListener::from_std(
            fd.into(),
        ))),
        Domain::IPV4 | Domain::IPV6 => {
            Ok(ListenSock::Tcp(mio::net::TcpListener::from_std(fd.into())))
        }
        _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
    }
}

fn stream_socket(domain: Domain) -> io::Result<Socket> {
    Socket::new(domain, Type::STREAM.nonblocking().cloexec(), None)
}

/// What a listening socket is made with.
pub(crate) struct ListenParams {
    pub(crate) backlog: i32,
    pub(crate) reuse_port: bool,
    pub(crate) ipv6_only: bool,
}

/// `socket`, `SO_REUSEADDR` (as libuv sets on every TCP bind),
/// `SO_REUSEPORT` if asked, `IPV6_V6ONLY` on IPv6, `bind`, `listen`.
pub(crate) fn listen_tcp(addr: SocketAddr, p: &ListenParams) -> io::Result<mio::net::TcpListener> {
    let s = stream_socket(Domain::for_address(addr))?;
    s.set_reuse_address(true)?;
    if p.reuse_port {
        s.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        s.set_only_v6(p.ipv6_only)?;
    }
    s.bind(&addr.into())?;
    s.listen(p.backlog)?;
    Ok(mio::net::TcpListener::from_std(s.into()))
}

/// `socket(AF_UNIX)`, `bind(path)`, `listen`.
pub(crate) fn listen_unix(path: &Path, p: &ListenParams) -> io::Result<mio::net::UnixListener> {
    let s = stream_socket(Domain::UNIX)?;
    s.bind(&SockAddr::unix(path)?)?;
    s.listen(p.backlog)?;
    Ok(mio::net::UnixListener::from_std(s.into()))
}

/// A non-blocking `connect`: the socket, and whether it is connected
/// already (`false`: `EINPROGRESS`, the outcome comes as writability).
pub(crate) fn connect_tcp(addr: SocketAddr) -> io::Result<(Sock, bool)> {
    connect_tcp_on(stream_socket(Domain::for_address(addr))?, addr)
}

/// [`connect_tcp`] from a socket made (and maybe bound) already.
pub(crate) fn connect_tcp_on(s: Socket, addr: SocketAddr) -> io::Result<(Sock, bool)> {
    let done = started(s.connect(&addr.into()))?;
    Ok((Sock::Tcp(mio::net::TcpStream::from_std(s.into())), done))
}

/// A non-blocking `connect` to a Unix-socket path (on Linux it completes at
/// once, or fails with `EAGAIN` when the listener's backlog is full).
pub(crate) fn connect_unix(path: &Path) -> io::Result<(Sock, bool)> {
    connect_unix_on(stream_socket(Domain::UNIX)?, path)
}

/// [`connect_unix`] from a socket made (and maybe bound) already.
pub(crate) fn connect_unix_on(s: Socket, path: &Path) -> io::Result<(Sock, bool)> {
    let done = started(s.connect(&SockAddr::unix(path)?))?;
    Ok((Sock::Unix(mio::net::UnixStream::from_std(s.into())), done))
}

/// A TCP socket for `bind` (`uv_tcp_bind`'s `maybe_new_socket`):
/// `SO_REUSEADDR` as libuv sets it, and `IPV6_V6ONLY` as asked on IPv6.
pub(crate) fn tcp_for_bind(addr: SocketAddr, ipv6_only: bool) -> io::Result<Socket> {
    let s = stream_socket(Domain::for_address(addr))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(ipv6_only)?;
    }
    Ok(s)
}

/// A TCP socket adopted before it listens or connects (`uv_tcp_open` on
/// an fd that is bound or not): made non-blocking. `EINVAL` if it is not
/// a TCP stream socket, or listens already; `EISCONN` if connected. The
/// fd is closed on error.
pub(crate) fn open_unconnected_tcp(fd: OwnedFd) -> io::Result<Socket> {
    let s = Socket::from(fd);
    let einval = || io::Error::from_raw_os_error(libc::EINVAL);
    if s.r#type()? != Type::STREAM || s.is_listener()? {
        return Err(einval());
    }
    if !matches!(s.domain()?, Domain::IPV4 | Domain::IPV6) {
        return Err(einval());
    }
    if s.peer_addr().is_ok() {
        return Err(io::Error::from_raw_os_error(libc::EISCONN));
    }
    s.set_nonblocking(true)?;
    s.set_cloexec(true)?;
    Ok(s)
}

/// A bare stream socket of `domain` (libuv's `uv__socket`).
pub(crate) fn new_stream_socket(domain: Domain) -> io::Result<Socket> {
    stream_socket(domain)
}

/// `listen` on a socket made (and maybe bound) already.
pub(crate) fn listen_on(s: Socket, backlog: i32) -> io::Result<ListenSock> {
    s.listen(backlog)?;
    Ok(match s.domain()? {
        Domain::UNIX => ListenSock::Unix(mio::net::UnixListener::from_std(s.into())),
        _ => ListenSock::Tcp(mio::net::TcpListener::from_std(s.into())),
    })
}

fn started(r: io::Result<()>) -> io::Result<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `e`, from creating or binding an IPv6 socket, means this host
/// has no usable IPv6 (Node.js then listens on `0.0.0.0`).
pub(crate) fn ipv6_unavailable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAFNOSUPPORT) | Some(libc::EADDRNOTAVAIL) | Some(libc::EPROTONOSUPPORT)
    )
}

/// Datagrams one [`RecvBatch::recv`] takes at most: libuv's 32 per
/// readable event, in one `recvmmsg`.
pub(crate) const BATCH: usize = 32;

/// Bytes of one slot of a [`RecvBatch`]: the largest datagram.
pub(crate) const SLOT: usize = 64 * 1024;

/// What one `recvmmsg` filled: [`BATCH`] slots of [`SLOT`] bytes, each
/// with its sender, length and truncation flag. Made once per loop (the
/// slots' pages are only touched as datagrams fill them) with its message
/// headers built once, pointing into its own heap buffers (which never
/// move: nothing is pushed to them after `new`); a call resets only the
/// headers the previous call used. Nothing is allocated per datagram or
/// per call.
pub(crate) struct RecvBatch {
    buf: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    /// The `iov_len` of every slot.
    limit: usize,
    /// Headers the last call filled (their `msg_namelen` was overwritten).
    used: usize,
}

const STORAGE_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_storage>() as _;

#[allow(unsafe_code)]
impl RecvBatch {
    /// A batch: [`BATCH`] × [`SLOT`] zeroed bytes (untouched pages until
    /// the kernel writes datagrams there) and the headers addressing them.
    pub(crate) fn new() -> RecvBatch {
        let mut buf = vec![0u8; BATCH * SLOT];
        // SAFETY: `sockaddr_storage` is a plain C struct of integers, for
        // which all zero bytes is a valid value.
        let mut addrs = vec![unsafe { std::mem::zeroed::<libc::sockaddr_storage>() }; BATCH];
        let base = buf.as_mut_ptr();
        let mut iov: Vec<libc::iovec> = (0..BATCH)
            .map(|i| libc::iovec {
                iov_base: base.wrapping_add(i * SLOT).cast(),
                iov_len: SLOT,
            })
            .collect();
        let (names, iovs) = (addrs.as_mut_ptr(), iov.as_mut_ptr());
        let hdrs = (0..BATCH)
            .map(|i| {
                // SAFETY: `mmsghdr` is a plain C struct of integers and
                // pointers, for which all zero bytes (null pointers) is
                // a valid value.
                let mut h = unsafe { std::mem::zeroed::<libc::mmsghdr>() };
                h.msg_hdr.msg_name = names.wrapping_add(i).cast();
                h.msg_hdr.msg_namelen = STORAGE_LEN;
                h.msg_hdr.msg_iov = iovs.wrapping_add(i);
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        RecvBatch {
            buf,
            addrs,
            iov,
            hdrs,
            limit: SLOT,
            used: 0,
        }
    }

    /// `recvmmsg(fd, …, max, MSG_DONTWAIT)`: at most `max` (≤ [`BATCH`])
    /// datagrams, each cut to `limit` (≤ [`SLOT`]) bytes; the count
    /// received (at least 1), or the error of the first (`EAGAIN` when
    /// none waits).
    pub(crate) fn recv(&mut self, fd: RawFd, max: usize, limit: usize) -> io::Result<usize> {
        let max = max.min(BATCH);
        let limit = limit.min(SLOT);
        if limit != self.limit {
            for v in &mut self.iov {
                v.iov_len = limit;
            }
            self.limit = limit;
        }
        for h in &mut self.hdrs[..self.used] {
            h.msg_hdr.msg_namelen = STORAGE_LEN;
        }
        self.used = 0;
        let n = loop {
            // SAFETY: `self.hdrs[..max]` are initialized headers whose
            // name and iovec pointers address `self.addrs[i]` and
            // `self.iov[i]`, whose base addresses slot `i` of `self.buf`
            // for `limit` ≤ SLOT bytes: heap buffers allocated in `new`,
            // never reallocated, alive and exclusively borrowed
            // (`&mut self`) for the call; the kernel writes only within
            // those lengths. A null timeout is allowed.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    self.hdrs.as_mut_ptr(),
                    max as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        };
        self.used = n;
        Ok(n)
    }

    /// Datagram `i` of the last call: its bytes, sender and truncation
    /// flag (`MSG_TRUNC`: longer than the slot's `limit`).
    pub(crate) fn get(&self, i: usize) -> (&[u8], SocketAddr, bool) {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(self.limit);
        let cut = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        let from = sockaddr_to_std(&self.addrs[i])
            .unwrap_or_else(|| (std::net::Ipv4Addr::UNSPECIFIED, 0).into());
        (&self.buf[i * SLOT..i * SLOT + len], from, cut)
    }
}

/// A sender's address as the kernel wrote it.
#[allow(unsafe_code)]
fn sockaddr_to_std(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match ss.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`;
            // `sockaddr_storage` is large and aligned enough for any
            // socket address.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for a `sockaddr_in6`.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                u32::from_be(sin6.sin6_flowinfo),
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_fallback_errors() {
        for n in [
            libc::EAFNOSUPPORT,
            libc::EADDRNOTAVAIL,
            libc::EPROTONOSUPPORT,
        ] {
            assert!(ipv6_unavailable(&io::Error::from_raw_os_error(n)));
        }
        assert!(!ipv6_unavailable(&io::Error::from_raw_os_error(
            libc::EADDRINUSE
        )));
        assert!(!ipv6_unavailable(&io::Error::from_raw_os_error(
            libc::EACCES
        )));
    }
}
