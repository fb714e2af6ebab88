//! The crate's error: the operation, the file or pid it concerned, and the
//! errno, formatted as Node.js formats a `child_process` error.
//!
//! Invariants:
//! - every error names its operation (`spawn`, `kill`, `pidfd_open`…) and
//!   carries an errno value, even when std reported none (a NUL byte in an
//!   argument is `EINVAL`, as in libuv);
//! - the code is loop-core's ([`loop_core::errno::name`]), the workspace's
//!   one errno table: `ENOENT`, never `NotFound`;
//! - `Display` is Node.js's message: `spawn nope ENOENT` (what
//!   `child_process.spawn('nope')` emits), `kill ESRCH` (what
//!   `process.kill(pid)` throws); the pid is a field ([`Error::pid`]), as
//!   in Node, where it is not in the message either.

use std::fmt;
use std::io;

/// Why a process operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed.
    Sys {
        /// The operation: `"spawn"`, `"kill"`…
        op: &'static str,
        /// The program, for `spawn`.
        file: Option<String>,
        /// The process, once there is one.
        pid: Option<u32>,
        /// The errno value.
        errno: i32,
        /// The error as std or the system call gave it.
        source: io::Error,
    },
    /// The loop refused an operation on the process's handle (it is closed,
    /// or closing).
    Loop(loop_core::Error),
    /// A stream operation failed (opening a pipe as a loop-net stream).
    Net(loop_net::Error),
}

impl Error {
    /// An error of `op` from an `io::Error`; an error without an errno
    /// (std's own checks) counts as `EINVAL`.
    pub(crate) fn sys(
        op: &'static str,
        file: Option<&str>,
        pid: Option<u32>,
        source: io::Error,
    ) -> Error {
        Error::Sys {
            op,
            file: file.map(str::to_owned),
            pid,
            errno: source.raw_os_error().unwrap_or(libc::EINVAL),
            source,
        }
    }

    /// An error of `op` from an errno value.
    pub(crate) fn from_errno(
        op: &'static str,
        file: Option<&str>,
        pid: Option<u32>,
        errno: i32,
    ) -> Error {
        Error::sys(op, file, pid, io::Error::from_raw_os_error(errno))
    }

    /// The operation that failed.
    pub fn op(&self) -> &'static str {
        match self {
            Error::Sys { op, .. } => op,
            Error::Loop(_) => "loop",
            Error::Net(e) => e.op(),
        }
    }

    /// The errno value (`None` for [`Error::Loop`]).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Sys { errno, .. } => Some(*errno),
            Error::Loop(_) => None,
            Error::Net(e) => e.raw_os_error(),
        }
    }

    /// libuv's name of the errno: `"ENOENT"`, `"ESRCH"`… (`None` for
    /// [`Error::Loop`]).
    pub fn code(&self) -> Option<&'static str> {
        self.errno().map(loop_core::errno::name)
    }

    /// libuv's message for the errno: `"no such file or directory"`.
    pub fn message(&self) -> Option<&'static str> {
        self.errno().map(loop_core::errno::message)
    }

    /// The program the error concerns (for `spawn`).
    pub fn file(&self) -> Option<&str> {
        match self {
            Error::Sys { file, .. } => file.as_deref(),
            Error::Loop(_) | Error::Net(_) => None,
        }
    }

    /// The process the error concerns, once it had a pid.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Error::Sys { pid, .. } => *pid,
            Error::Loop(_) | Error::Net(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys {
                op, file, errno, ..
            } => {
                let code = loop_core::errno::name(*errno);
                match file {
                    Some(file) => write!(f, "{op} {file} {code}"),
                    None => write!(f, "{op} {code}"),
                }
            }
            Error::Loop(e) => write!(f, "process: {e}"),
            Error::Net(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sys { source, .. } => Some(source),
            Error::Loop(e) => Some(e),
            Error::Net(e) => Some(e),
        }
    }
}

impl From<loop_core::Error> for Error {
    fn from(e: loop_core::Error) -> Error {
        Error::Loop(e)
    }
}

impl From<loop_net::Error> for Error {
    fn from(e: loop_net::Error) -> Error {
        Error::Net(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Sys { source, .. } => source.kind(),
            Error::Loop(_) => io::ErrorKind::Other,
            Error::Net(e) => e.kind(),
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_shapes() {
        let e = Error::from_errno("spawn", Some("nope"), None, libc::ENOENT);
        assert_eq!(e.to_string(), "spawn nope ENOENT");
        assert_eq!(e.message(), Some("no such file or directory"));
        let e = Error::from_errno("kill", None, Some(77), libc::ESRCH);
        assert_eq!(e.to_string(), "kill ESRCH");
        assert_eq!(e.pid(), Some(77));
        let e = Error::sys(
            "spawn",
            Some("x"),
            None,
            io::Error::new(io::ErrorKind::InvalidInput, "nul byte"),
        );
        assert_eq!(e.code(), Some("EINVAL"));
    }
}
