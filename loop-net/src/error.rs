//! Errors and addresses.
//!
//! Every [`Error`] names the operation (`connect`, `listen`, `write`…), the
//! error code as libuv and Node.js spell it (`ECONNREFUSED`, or a Node.js
//! code such as `ERR_STREAM_WRITE_AFTER_END`), and the address when one is
//! known, so the message alone says what failed where:
//!
//! ```text
//! connect ECONNREFUSED 127.0.0.1:9: Connection refused (os error 111)
//! listen EADDRINUSE 127.0.0.1:8080: Address in use (os error 98)
//! ```
//!
//! Misuse of a handle (writing after `shutdown`, a second `read_start`, a
//! closed handle) is an `Error` with libuv's code for it (`EPIPE`,
//! `EALREADY`, `EBADF`…), never a panic.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Result alias for loop-net operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A socket address: an IP address and port, or a Unix-socket path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 or IPv6 address with a port.
    Inet(SocketAddr),
    /// A Unix-socket path; empty for an unnamed socket (the client end of a
    /// connection usually is).
    Unix(PathBuf),
}

impl Address {
    /// The IP address and port, for a TCP socket.
    pub fn as_inet(&self) -> Option<SocketAddr> {
        match self {
            Address::Inet(a) => Some(*a),
            Address::Unix(_) => None,
        }
    }

    /// The path, for a named Unix socket.
    pub fn as_path(&self) -> Option<&Path> {
        match self {
            Address::Unix(p) if !p.as_os_str().is_empty() => Some(p),
            _ => None,
        }
    }

    /// The port, for a TCP socket.
    pub fn port(&self) -> Option<u16> {
        self.as_inet().map(|a| a.port())
    }

    pub(crate) fn from_unix(a: &std::os::unix::net::SocketAddr) -> Address {
        Address::Unix(a.as_pathname().map(Path::to_path_buf).unwrap_or_default())
    }
}

impl From<SocketAddr> for Address {
    fn from(a: SocketAddr) -> Address {
        Address::Inet(a)
    }
}

impl fmt::Display for Address {
    /// `127.0.0.1:80`, `[::1]:80`, a path, or `(unnamed)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(a) => write!(f, "{a}"),
            Address::Unix(p) if p.as_os_str().is_empty() => f.write_str("(unnamed)"),
            Address::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What went wrong in a network operation.
///
/// Displays as `OP CODE [ADDRESS]: DESCRIPTION`, for example
/// `connect ECONNREFUSED 127.0.0.1:9: Connection refused (os error 111)`.
/// Shared inside (an `Arc`), so a `Result<(), Error>` is one word and a
/// clone allocates nothing: a failed stream hands the same error to every
/// write queued behind the failure, and `try_write`'s `EAGAIN` is made once.
pub struct Error(Arc<Inner>);

struct Inner {
    op: &'static str,
    code: &'static str,
    errno: Option<i32>,
    addr: Option<Box<str>>,
    source: io::Error,
}

impl Error {
    /// An OS error from `op`, at `addr` if given.
    pub(crate) fn io(
        op: &'static str,
        source: io::Error,
        addr: Option<&dyn fmt::Display>,
    ) -> Error {
        let errno = source.raw_os_error();
        let code = match errno {
            Some(n) => errno_name(n),
            None if source.kind() == io::ErrorKind::WouldBlock => "EAGAIN",
            None if source.kind() == io::ErrorKind::InvalidInput => "EINVAL",
            None => "UNKNOWN",
        };
        Error(Arc::new(Inner {
            op,
            code,
            errno,
            addr: addr.map(|a| a.to_string().into_boxed_str()),
            source,
        }))
    }

    /// The OS error `errno` from `op`.
    pub(crate) fn errno(op: &'static str, errno: i32, addr: Option<&dyn fmt::Display>) -> Error {
        Error::io(op, io::Error::from_raw_os_error(errno), addr)
    }

    /// Misuse of a handle: libuv's code `errno` for it, with a plain-words
    /// description instead of `strerror`'s.
    pub(crate) fn misuse(op: &'static str, errno: i32, why: &'static str) -> Error {
        let kind = io::Error::from_raw_os_error(errno).kind();
        Error(Arc::new(Inner {
            op,
            code: errno_name(errno),
            errno: Some(errno),
            addr: None,
            source: io::Error::new(kind, why),
        }))
    }

    /// An error with a Node.js code (`ERR_…`) and no errno.
    pub(crate) fn node(
        op: &'static str,
        code: &'static str,
        kind: io::ErrorKind,
        why: &'static str,
    ) -> Error {
        Error(Arc::new(Inner {
            op,
            code,
            errno: None,
            addr: None,
            source: io::Error::new(kind, why),
        }))
    }

    /// `ECANCELED` for a request cut short by `close`.
    pub(crate) fn canceled(op: &'static str) -> Error {
        Error::misuse(op, libc::ECANCELED, "canceled: the handle was closed")
    }

    /// A misuse error made once per process (in `cell`) and shared after:
    /// an expected outcome on a hot path (`try_write`'s `EAGAIN` on a full
    /// socket) costs no allocation.
    pub(crate) fn shared(
        cell: &'static OnceLock<Error>,
        op: &'static str,
        errno: i32,
        why: &'static str,
    ) -> Error {
        cell.get_or_init(|| Error::misuse(op, errno, why)).clone()
    }

    /// The same error, reported by another operation.
    pub(crate) fn with_op(self, op: &'static str) -> Error {
        if self.0.op == op {
            return self;
        }
        let s = &self.0.source;
        let source = match s.raw_os_error() {
            Some(n) => io::Error::from_raw_os_error(n),
            None => io::Error::new(s.kind(), s.to_string()),
        };
        Error(Arc::new(Inner {
            op,
            code: self.0.code,
            errno: self.0.errno,
            addr: self.0.addr.clone(),
            source,
        }))
    }

    /// The operation: `connect`, `listen`, `accept`, `read`, `write`,
    /// `shutdown`, `read_start`, `getaddrinfo`…
    pub fn op(&self) -> &'static str {
        self.0.op
    }

    /// The code, as libuv and Node.js name it: `ECONNREFUSED`, `EPIPE`,
    /// `ECANCELED`, or a Node.js code such as `ERR_STREAM_WRITE_AFTER_END`.
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The address involved, as text (`127.0.0.1:9`, a path, a host name),
    /// when known.
    pub fn address(&self) -> Option<&str> {
        self.0.addr.as_deref()
    }

    /// The OS error number, if the error has one.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.0.errno
    }

    /// The `io::ErrorKind` of the error.
    pub fn kind(&self) -> io::ErrorKind {
        self.0.source.kind()
    }

    /// The underlying `io::Error`.
    pub fn io_error(&self) -> &io::Error {
        &self.0.source
    }

    /// The message Node.js gives this error (`err.message`): `OP CODE
    /// ADDRESS` for a system error (`bind EADDRINUSE 127.0.0.1:41234`),
    /// the description for a Node.js code (`Socket is already bound`).
    pub fn node_message(&self) -> String {
        if self.0.code.starts_with("ERR_") {
            return self.0.source.to_string();
        }
        match &self.0.addr {
            Some(a) => format!("{} {} {a}", self.0.op, self.0.code),
            None => format!("{} {}", self.0.op, self.0.code),
        }
    }

    /// Whether the request was canceled by closing its handle (`ECANCELED`).
    pub fn is_canceled(&self) -> bool {
        self.0.code == "ECANCELED"
    }
}

impl Clone for Error {
    /// The same error, shared (no allocation).
    fn clone(&self) -> Error {
        Error(Arc::clone(&self.0))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.op, self.0.code)?;
        if let Some(a) = &self.0.addr {
            write!(f, " {a}")?;
        }
        write!(f, ": {}", self.0.source)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({self})")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.source)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

/// libuv's name for an errno value (`UV_ECONNREFUSED` → `ECONNREFUSED`),
/// from the workspace's one table in loop-core.
pub(crate) fn errno_name(n: i32) -> &'static str {
    loop_core::errno::name(n)
}

/// The error for an id that names no live handle (closed, or never was).
pub(crate) fn bad_handle(op: &'static str) -> Error {
    Error::misuse(op, libc::EBADF, "the handle is closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_op_code_and_address() {
        let a: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let e = Error::errno("connect", libc::ECONNREFUSED, Some(&a));
        let s = e.to_string();
        assert!(s.starts_with("connect ECONNREFUSED 127.0.0.1:9: "), "{s}");
        assert_eq!(e.code(), "ECONNREFUSED");
        assert_eq!(e.address(), Some("127.0.0.1:9"));
        assert_eq!(e.raw_os_error(), Some(libc::ECONNREFUSED));
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        let c = e.clone();
        assert_eq!(c.to_string(), s);
        let io: io::Error = e.into();
        assert!(io.to_string().contains("ECONNREFUSED 127.0.0.1:9"));
    }

    #[test]
    fn misuse_has_code_and_words() {
        let e = Error::misuse("read_start", libc::EALREADY, "already reading");
        assert_eq!(e.to_string(), "read_start EALREADY: already reading");
        assert_eq!(e.raw_os_error(), Some(libc::EALREADY));
        assert!(Error::canceled("write").is_canceled());
    }

    #[test]
    fn addresses_display() {
        assert_eq!(
            Address::Inet("[::1]:80".parse().unwrap()).to_string(),
            "[::1]:80"
        );
        assert_eq!(Address::Unix(PathBuf::new()).to_string(), "(unnamed)");
        assert_eq!(Address::Unix("/tmp/s".into()).to_string(), "/tmp/s");
        assert_eq!(Address::Unix(PathBuf::new()).as_path(), None);
    }
}
