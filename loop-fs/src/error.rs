//! Errors: the pool's own ([`Error`], [`CancelError`], [`WorkError`]) and
//! system errors formatted as Node.js prints them ([`SysError`]).
//!
//! Invariants:
//! - every `io::Error` an operation of this crate hands to a callback wraps
//!   a [`SysError`] naming the system call and the path(s), and keeps the
//!   original error's [`io::ErrorKind`]; the original error (with its raw
//!   OS error) stays reachable through [`SysError::source_error`];
//! - codes and messages are libuv's (`uv_err_name`, `uv_strerror`), which
//!   is what Node.js prints: `ENOENT: no such file or directory, open '/x'`.

use std::any::Any;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why the pool could not be set up or a request not be queued.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The pool size is not a whole number from 1 to 1024.
    PoolSize {
        /// Where it came from: `"LOOP_THREADPOOL_SIZE"` or `"PoolBuilder::size"`.
        setting: &'static str,
        /// The value given.
        value: String,
    },
    /// A worker thread could not be started.
    Spawn(io::Error),
    /// [`crate::PoolBuilder::install`] on a loop whose pool already runs.
    AlreadyStarted,
    /// The loop refused the async handle the pool completes through.
    Loop(loop_core::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::PoolSize { setting, value } => write!(
                f,
                "thread pool size {setting}={value:?}: must be a whole number from 1 to {}",
                crate::MAX_POOL_SIZE
            ),
            Error::Spawn(e) => write!(f, "thread pool: cannot start a worker thread: {e}"),
            Error::AlreadyStarted => {
                write!(f, "thread pool: already started on this loop")
            }
            Error::Loop(e) => write!(f, "thread pool: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Spawn(e) => Some(e),
            Error::Loop(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Spawn(s) => s.kind(),
            Error::PoolSize { .. } | Error::AlreadyStarted => io::ErrorKind::InvalidInput,
            Error::Loop(_) => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// Why [`crate::cancel`] did not cancel (libuv's `uv_cancel` says `EBUSY`
/// or `EINVAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelError {
    /// A worker has started it (it cannot be interrupted), or it finished and
    /// its callback has not run yet.
    Busy,
    /// It was canceled already; its callback has not run yet.
    AlreadyCanceled,
    /// No such pending request on this loop: its callback already ran.
    NotPending,
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelError::Busy => "cancel: the request is executing or finished (EBUSY)",
            CancelError::AlreadyCanceled => "cancel: the request is already canceled",
            CancelError::NotPending => "cancel: no such pending request",
        })
    }
}

impl std::error::Error for CancelError {}

/// How a [`crate::queue_work`] request ended without a value.
#[derive(Debug)]
pub enum WorkError {
    /// Canceled by [`crate::cancel`] before a worker took it: the work
    /// never ran.
    Canceled,
    /// The work panicked on its worker (which survives).
    Panicked(Panic),
}

impl WorkError {
    /// Whether this is [`WorkError::Canceled`].
    pub fn is_canceled(&self) -> bool {
        matches!(self, WorkError::Canceled)
    }
}

impl fmt::Display for WorkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkError::Canceled => f.write_str("work canceled"),
            WorkError::Panicked(p) => write!(f, "work panicked: {}", p.message()),
        }
    }
}

impl std::error::Error for WorkError {}

/// The payload of a panic caught on a worker.
pub struct Panic {
    payload: Box<dyn Any + Send>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        Self { payload }
    }

    /// The panic message, when the payload is a string (as `panic!` makes).
    pub fn message(&self) -> &str {
        if let Some(s) = self.payload.downcast_ref::<&'static str>() {
            s
        } else if let Some(s) = self.payload.downcast_ref::<String>() {
            s
        } else {
            "(non-string panic payload)"
        }
    }

    /// The payload, to re-raise the panic on the loop thread with
    /// [`std::panic::resume_unwind`].
    pub fn into_payload(self) -> Box<dyn Any + Send> {
        self.payload
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Panic").field(&self.message()).finish()
    }
}

/// How a [`SysError`] is laid out when printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `CODE: message, syscall 'path' -> 'dest'` (Node's `uvException`).
    Fs,
    /// `syscall CODE host` (Node's `dnsException`).
    Dns,
}

/// A failed system call as Node.js reports it: `err.code`, `err.errno`,
/// `err.syscall`, `err.path`, `err.dest`. Carried inside the
/// `io::Error`s this crate returns; get it back with [`sys_error`].
///
/// ```text
/// ENOENT: no such file or directory, open '/x/y'
/// EEXIST: file already exists, link '/a' -> '/b'
/// EBADF: bad file descriptor, read
/// getaddrinfo ENOTFOUND nonexistent.invalid
/// ```
#[derive(Debug)]
pub struct SysError {
    code: &'static str,
    message: String,
    syscall: &'static str,
    path: Option<PathBuf>,
    dest: Option<PathBuf>,
    layout: Layout,
    source: io::Error,
}

impl SysError {
    /// The error code, as libuv names it: `"ENOENT"`, `"ECANCELED"`…
    /// (`"UNKNOWN"` for errors without one).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// libuv's description of the code (`"no such file or directory"`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The raw OS error number, if the system gave one.
    pub fn errno(&self) -> Option<i32> {
        self.source.raw_os_error()
    }

    /// The system call, as Node names it: `"open"`, `"stat"`, `"copyfile"`…
    pub fn syscall(&self) -> &'static str {
        self.syscall
    }

    /// The path the call was given, if any (fd-based calls have none); for
    /// a name lookup, the host name.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The second path, for `rename`, `link`, `symlink` and `copyfile`.
    pub fn dest(&self) -> Option<&Path> {
        self.dest.as_deref()
    }

    /// The error the system call returned, untouched.
    pub fn source_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.layout == Layout::Dns {
            write!(f, "{} {}", self.syscall, self.code)?;
            match &self.path {
                Some(host) if !host.as_os_str().is_empty() => write!(f, " {}", host.display())?,
                _ => {}
            }
            return Ok(());
        }
        write!(f, "{}: {}, {}", self.code, self.message, self.syscall)?;
        if let Some(p) = &self.path {
            write!(f, " '{}'", p.display())?;
        }
        if let Some(d) = &self.dest {
            write!(f, " -> '{}'", d.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for SysError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The [`SysError`] inside an `io::Error` returned by this crate.
pub fn sys_error(e: &io::Error) -> Option<&SysError> {
    e.get_ref()?.downcast_ref::<SysError>()
}

/// Whether `e` reports a canceled request (`ECANCELED`).
pub fn is_canceled(e: &io::Error) -> bool {
    sys_error(e).map_or(e.raw_os_error() == Some(libc::ECANCELED), |s| {
        s.code == "ECANCELED"
    })
}

/// libuv's name and description of an errno value (the workspace's one
/// table, in loop-core).
pub(crate) fn errno_name(errno: i32) -> Option<(&'static str, &'static str)> {
    loop_core::errno::lookup(errno)
}

/// A code for errors std made up without an errno.
fn kind_code(kind: io::ErrorKind) -> &'static str {
    match kind {
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::AlreadyExists => "EEXIST",
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => "EINVAL",
        io::ErrorKind::UnexpectedEof => "EOF",
        io::ErrorKind::Interrupted => "EINTR",
        io::ErrorKind::OutOfMemory => "ENOMEM",
        _ => "UNKNOWN",
    }
}

/// Names `path` in an error of an operation on an open file (which
/// names none), so that a file write stream's errors say which file.
pub(crate) fn with_path(e: io::Error, path: &Path) -> io::Error {
    let kind = e.kind();
    if sys_error(&e).is_none_or(|se| se.path.is_some()) {
        return if sys_error(&e).is_some() {
            e
        } else {
            wrap(e, "write", Some(path), None)
        };
    }
    match e.into_inner().map(|inner| inner.downcast::<SysError>()) {
        Some(Ok(mut se)) => {
            se.path = Some(path.to_path_buf());
            io::Error::new(kind, *se)
        }
        Some(Err(other)) => io::Error::new(kind, other),
        None => io::Error::from(kind),
    }
}

/// Wraps `source`, the error of `syscall` on `path` (and `dest`), into
/// an `io::Error` of the same kind that prints as Node.js would.
pub(crate) fn wrap(
    source: io::Error,
    syscall: &'static str,
    path: Option<&Path>,
    dest: Option<&Path>,
) -> io::Error {
    if sys_error(&source).is_some() {
        // Already wrapped by a lower layer: keep the innermost description.
        return source;
    }
    let (code, message) = match source.raw_os_error().and_then(errno_name) {
        Some((c, m)) => (c, m.to_string()),
        None => (kind_code(source.kind()), source.to_string()),
    };
    io::Error::new(
        source.kind(),
        SysError {
            code,
            message,
            syscall,
            path: path.map(Path::to_path_buf),
            dest: dest.map(Path::to_path_buf),
            layout: Layout::Fs,
            source,
        },
    )
}

/// The error a canceled file-system request completes with.
pub(crate) fn canceled(
    syscall: &'static str,
    path: Option<&Path>,
    dest: Option<&Path>,
) -> io::Error {
    wrap(
        io::Error::from_raw_os_error(libc::ECANCELED),
        syscall,
        path,
        dest,
    )
}

/// The error of a request whose operation panicked on its worker.
pub(crate) fn panicked(syscall: &'static str, panic: &Panic) -> io::Error {
    wrap(
        io::Error::other(format!("panicked on a pool thread: {}", panic.message())),
        syscall,
        None,
        None,
    )
}

/// A name-lookup error, laid out as Node's `getaddrinfo ENOTFOUND host`.
pub(crate) fn dns(source: io::Error, code: &'static str, host: &str) -> io::Error {
    let message = source.to_string();
    io::Error::new(
        source.kind(),
        SysError {
            code,
            message,
            syscall: "getaddrinfo",
            path: Some(PathBuf::from(host)),
            dest: None,
            layout: Layout::Dns,
            source,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_node() {
        let e = wrap(
            io::Error::from_raw_os_error(libc::ENOENT),
            "open",
            Some(Path::new("/x/y")),
            None,
        );
        assert_eq!(
            e.to_string(),
            "ENOENT: no such file or directory, open '/x/y'"
        );
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let s = sys_error(&e).unwrap();
        assert_eq!(
            (s.code(), s.errno(), s.syscall()),
            ("ENOENT", Some(libc::ENOENT), "open")
        );

        let e = wrap(
            io::Error::from_raw_os_error(libc::EEXIST),
            "link",
            Some(Path::new("/a")),
            Some(Path::new("/b")),
        );
        assert_eq!(
            e.to_string(),
            "EEXIST: file already exists, link '/a' -> '/b'"
        );

        let e = wrap(
            io::Error::from_raw_os_error(libc::EBADF),
            "read",
            None,
            None,
        );
        assert_eq!(e.to_string(), "EBADF: bad file descriptor, read");
    }

    #[test]
    fn wrapping_twice_keeps_the_first() {
        let e = wrap(
            io::Error::from_raw_os_error(libc::EACCES),
            "open",
            Some(Path::new("/p")),
            None,
        );
        let e = wrap(e, "read", None, None);
        assert_eq!(e.to_string(), "EACCES: permission denied, open '/p'");
    }

    #[test]
    fn canceled_and_unknown() {
        let e = canceled("stat", Some(Path::new("/s")), None);
        assert!(is_canceled(&e));
        assert_eq!(e.to_string(), "ECANCELED: operation canceled, stat '/s'");
        let e = wrap(io::Error::other("odd"), "read", None, None);
        assert_eq!(e.to_string(), "UNKNOWN: odd, read");
        let e = wrap(
            io::Error::new(io::ErrorKind::InvalidInput, "bad"),
            "open",
            None,
            None,
        );
        assert_eq!(sys_error(&e).unwrap().code(), "EINVAL");
    }
}
