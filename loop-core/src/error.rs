//! The loop's error type.
//!
//! Misuse of a handle (a closed one, a stale id, a second close) is an
//! [`Error`], never a panic: libuv asserts on some of these, but an embedder
//! driving the loop from a scripting language needs an error it can report.

use crate::handle::HandleId;
use std::fmt;
use std::io;

/// Result alias for loop operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a loop operation. Every variant names the operation.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The id does not name a live handle of this loop: it was closed (and
    /// its close callback ran), or it came from another loop.
    InvalidHandle {
        /// The operation, such as `"timer_start"`.
        op: &'static str,
        /// The id given.
        id: HandleId,
    },
    /// The handle is closing: only its close callback is still to come.
    Closing {
        /// The operation.
        op: &'static str,
        /// The id given.
        id: HandleId,
    },
    /// An argument is not acceptable (libuv's `EINVAL`).
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What was wrong with it.
        why: &'static str,
    },
    /// `run` was called from inside a callback of the same loop.
    Reentrant,
    /// The loop that an [`crate::AsyncSender`] points to has closed the
    /// handle or was dropped.
    Disconnected,
    /// An error nobody handled, reported by an extension with
    /// [`crate::Loop::report_unhandled`] (a `net.Server`'s failed `listen`
    /// with no `on_error`): returned by `run`.
    Unhandled {
        /// What had no handler (`"server.on_error"`).
        op: &'static str,
        /// The error, which names its own operation and address.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A system call failed.
    Io {
        /// The operation.
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidHandle { op, id } => write!(f, "{op}: invalid handle {id}"),
            Error::Closing { op, id } => write!(f, "{op}: handle {id} is closing"),
            Error::InvalidArgument { op, why } => write!(f, "{op}: invalid argument: {why}"),
            Error::Reentrant => write!(f, "run: called from inside a callback of the same loop"),
            Error::Disconnected => {
                write!(f, "async send: the handle was closed or its loop dropped")
            }
            Error::Io { op, source } => write!(f, "{op}: {source}"),
            Error::Unhandled { op, source } => write!(f, "unhandled error (no {op}): {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Unhandled { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Io { source, .. } => source.kind(),
            Error::InvalidArgument { .. } | Error::Reentrant => io::ErrorKind::InvalidInput,
            Error::Disconnected => io::ErrorKind::BrokenPipe,
            Error::InvalidHandle { .. } | Error::Closing { .. } => io::ErrorKind::NotFound,
            Error::Unhandled { source, .. } => source
                .downcast_ref::<io::Error>()
                .map_or(io::ErrorKind::Other, io::Error::kind),
        };
        io::Error::new(kind, e)
    }
}
