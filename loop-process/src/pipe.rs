//! Pipes as loop-net streams (libuv's `uv_pipe_t` over an existing fd):
//! a socket pair, the current process's stdin/stdout/stderr, and the
//! parent's ends of a child's [`crate::Stdio::Pipe`]s.
//!
//! Invariants:
//! - every fd made here is close-on-exec: a socket pair from
//!   `socketpair(…, SOCK_CLOEXEC)`, stdio as an `F_DUPFD_CLOEXEC` copy;
//! - the streams of fds 0 to 2 are copies, so closing one never closes the
//!   process's own fd 0, 1 or 2 (libuv's `uv__stream_close` refuses to
//!   close them for the same reason); the copy shares the open file
//!   description, so it is made non-blocking for fd 0, 1 or 2 too, as
//!   libuv's `uv_pipe_open` does;
//! - a loop has at most one open stream per stdio fd: a second `stdin`
//!   while the first stream exists is `EEXIST`, as libuv's second
//!   `uv_pipe_open(0)` is.

use crate::Error;
use loop_core::Loop;
use loop_net::Stream;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

/// The streams this loop opened on fds 0 to 2 (to refuse a second one).
#[derive(Default)]
struct StdioStreams([Option<Stream>; 3]);

/// A connected pair of Unix-domain stream sockets (`socketpair(AF_UNIX,
/// SOCK_STREAM)`, close-on-exec), both opened as streams of `lp`.
pub fn socketpair<D: 'static>(lp: &mut Loop<D>) -> Result<(Stream, Stream), Error> {
    let (a, b) = UnixStream::pair().map_err(|e| Error::sys("socketpair", None, None, e))?;
    let a = Stream::open_unix(lp, a)?;
    let b = match Stream::open_unix(lp, b) {
        Ok(b) => b,
        Err(e) => {
            // `a` was opened just above: closing it cannot fail.
            let _ = a.close(lp, |_, _| {});
            return Err(e.into());
        }
    };
    Ok((a, b))
}

/// The process's stdin as a stream (readable, and writable only if fd 0
/// was opened read-write, as a terminal or a socket is).
pub fn stdin<D: 'static>(lp: &mut Loop<D>) -> Result<Stream, Error> {
    open_stdio(lp, 0, std::io::stdin().as_fd())
}

/// The process's stdout as a stream.
pub fn stdout<D: 'static>(lp: &mut Loop<D>) -> Result<Stream, Error> {
    open_stdio(lp, 1, std::io::stdout().as_fd())
}

/// The process's stderr as a stream.
pub fn stderr<D: 'static>(lp: &mut Loop<D>) -> Result<Stream, Error> {
    open_stdio(lp, 2, std::io::stderr().as_fd())
}

fn open_stdio<D: 'static>(
    lp: &mut Loop<D>,
    n: usize,
    fd: std::os::fd::BorrowedFd<'_>,
) -> Result<Stream, Error> {
    let prev = lp
        .extension::<StdioStreams>()
        .and_then(|t| t.0[n])
        .filter(|s| s.exists(lp) && !s.is_closing(lp));
    if prev.is_some() {
        return Err(Error::from_errno("open", None, None, libc::EEXIST));
    }
    let copy = fd
        .try_clone_to_owned()
        .map_err(|e| Error::sys("open", None, None, e))?;
    let s = Stream::open_fd(lp, copy)?;
    lp.extension_or_insert_with(|_| StdioStreams::default()).0[n] = Some(s);
    Ok(s)
}
