//! The calls std does not offer, straight to libc: the crate's only `unsafe`.
//!
//! Invariants:
//! - every function here is safe to call with any argument: pointers handed
//!   to libc come from live Rust values that outlive the call, and buffers
//!   libc writes to are owned, writable and at least as long as said;
//! - every failing call returns `io::Error::last_os_error()` (or the errno
//!   the call returned), untouched: the caller adds the operation and path;
//! - `EINTR` is retried here where the call can be restarted safely.

#![allow(unsafe_code)]

use std::ffi::{CStr, CString, OsString};
use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Most buffers one vectored call takes (Linux's `UIO_MAXIOV`, as libuv's
/// `uv__getiovmax`); a longer list is served in part, like a short read.
const IOV_MAX: usize = libc::UIO_MAXIOV as usize;

fn cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "path contains an interior NUL byte",
        )
    })
}

/// Retries `f` while it fails with `EINTR`; `f` returns -1 on error.
fn retry<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        let r = f();
        if r != T::from(-1) {
            return Ok(r);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `preadv(2)`: fills `bufs` in order from `offset`; returns the bytes read.
pub(crate) fn preadv(file: &File, bufs: &mut [IoSliceMut<'_>], offset: u64) -> io::Result<usize> {
    let offset = i64::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let n = bufs.len().min(IOV_MAX) as libc::c_int;
    let r = retry(|| {
        // SAFETY: `IoSliceMut` is ABI-compatible with `iovec` on Unix (std
        // guarantees it); `bufs` holds at least `n` live, writable slices
        // borrowed mutably for the whole call; the fd is open while `file`
        // is borrowed.
        unsafe {
            libc::preadv(
                file.as_raw_fd(),
                bufs.as_mut_ptr().cast::<libc::iovec>(),
                n,
                offset,
            )
        }
    })?;
    Ok(r as usize)
}

/// `pwritev(2)`: writes `bufs` in order at `offset`; returns the bytes written.
pub(crate) fn pwritev(file: &File, bufs: &[IoSlice<'_>], offset: u64) -> io::Result<usize> {
    let offset = i64::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let n = bufs.len().min(IOV_MAX) as libc::c_int;
    let r = retry(|| {
        // SAFETY: `IoSlice` is ABI-compatible with `iovec` on Unix; `bufs`
        // holds at least `n` live slices borrowed for the whole call, which
        // libc only reads; the fd is open while `file` is borrowed.
        unsafe {
            libc::pwritev(
                file.as_raw_fd(),
                bufs.as_ptr().cast::<libc::iovec>(),
                n,
                offset,
            )
        }
    })?;
    Ok(r as usize)
}

/// `close(2)`, reporting its error (dropping a `File` ignores it). An
/// `EINTR` counts as closed: on Linux the descriptor is released anyway, and
/// libuv treats it so too.
pub(crate) fn close(file: File) -> io::Result<()> {
    let fd = file.into_raw_fd();
    // SAFETY: `into_raw_fd` gave us sole ownership of `fd`, which nothing
    // else will use or close after this call.
    let r = unsafe { libc::close(fd) };
    if r == -1 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// `mkdtemp(3)` on `prefix` followed by `XXXXXX`; returns the new directory.
pub(crate) fn mkdtemp(prefix: &Path) -> io::Result<PathBuf> {
    let mut template = prefix.as_os_str().as_bytes().to_vec();
    template.extend_from_slice(b"XXXXXX");
    let template = CString::new(template).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "path contains an interior NUL byte",
        )
    })?;
    let mut buf = template.into_bytes_with_nul();
    // SAFETY: `buf` is an owned, writable, NUL-terminated buffer; mkdtemp
    // rewrites only the six `X` before the NUL and returns either NULL or
    // `buf`'s own address.
    let r = unsafe { libc::mkdtemp(buf.as_mut_ptr().cast::<libc::c_char>()) };
    if r.is_null() {
        return Err(io::Error::last_os_error());
    }
    buf.pop(); // the NUL
    Ok(PathBuf::from(OsString::from_vec(buf)))
}

/// What `access(2)` checks, as its `mode` argument.
pub(crate) fn access(path: &Path, mode: i32) -> io::Result<()> {
    let c = cstr(path)?;
    // SAFETY: `c` is a NUL-terminated string alive for the whole call.
    retry(|| unsafe { libc::access(c.as_ptr(), mode) })?;
    Ok(())
}

fn timespec(t: SystemTime) -> libc::timespec {
    let (sec, nsec) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos() as i64),
        Err(e) => {
            // Before 1970: whole seconds down, nanoseconds up.
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos() as i64);
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    };
    libc::timespec {
        tv_sec: sec as libc::time_t,
        tv_nsec: nsec as _,
    }
}

/// `utimensat(2)` relative to the working directory; `follow` false sets
/// the times of a symbolic link itself (`lutimes`).
pub(crate) fn utimens(
    path: &Path,
    atime: SystemTime,
    mtime: SystemTime,
    follow: bool,
) -> io::Result<()> {
    let c = cstr(path)?;
    let times = [timespec(atime), timespec(mtime)];
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    // SAFETY: `c` is a NUL-terminated string and `times` an array of two
    // timespecs, both alive for the whole call, which only reads them.
    retry(|| unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), flags) })?;
    Ok(())
}

/// `gai_strerror(3)`: glibc's text for a `getaddrinfo` error code.
pub(crate) fn gai_strerror(code: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static, NUL-terminated
    // string for any code (an "unknown error" text for unknown ones).
    let p = unsafe { libc::gai_strerror(code) };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null, NUL-terminated and static, per the above.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}
