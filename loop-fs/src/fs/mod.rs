//! File-system requests, callback style (libuv's `uv_fs_*`, Node.js's `fs`).
//!
//! Each function queues one request on the loop's pool and returns its
//! [`ReqId`] (for [`crate::cancel`]); the callback runs later on the loop
//! thread with an `io::Result`. The blocking operations the pool runs are
//! public too, in [`blocking`].
//!
//! # Ordering guarantees
//!
//! - A callback never runs from inside the call that queued it: always in
//!   the poll phase of a later iteration, followed by the nextTick and
//!   microtask drain. So an immediate queued in it runs before any timer,
//!   as in Node.js.
//! - Each request keeps the loop alive until its callback has run.
//! - Requests run in parallel (the pool has several workers): callbacks
//!   come in completion order, not submission order. Chain requests (queue
//!   the next from the callback) when order matters, as with Node.js.
//! - A canceled request ([`crate::cancel`]) calls back with an `ECANCELED`
//!   error naming its operation and path ([`crate::is_canceled`]).
//!
//! # Errors
//!
//! Every error prints as Node.js prints it and keeps its `io::ErrorKind`;
//! [`crate::sys_error`] gives the code, errno, syscall and paths:
//!
//! ```text
//! ENOENT: no such file or directory, open '/x/y'
//! ```
//!
//! # Differences from libuv and Node.js
//!
//! - Files are [`Fd`] handles, not integers: a descriptor closes once
//!   [`close`]d *and* no request in flight uses it, so a request can never
//!   touch a closed (or reused) descriptor.
//! - [`read`] and [`readv`] take their buffers by value and hand them back
//!   truncated to the bytes read (empty at end of file).
//! - `mkdir` with `{ recursive: true }` is [`mkdir_all`]; it does not return
//!   the first directory it made.
//!
//! # Contents
//!
//! - open and close: [`open`], [`close`];
//! - data: [`read`], [`readv`], [`write()`], [`write_buf`], [`writev`] (positional with
//!   `Some(position)`, at the file offset with `None`), [`ftruncate`],
//!   [`fsync`], [`fdatasync`];
//! - metadata: [`stat`], [`lstat`], [`fstat`], [`access`], [`chmod`],
//!   [`fchmod`], [`chown`], [`fchown`], [`lchown`], [`utime`], [`futime`],
//!   [`lutime`];
//! - names: [`unlink`], [`rename`], [`link`], [`symlink`], [`readlink`],
//!   [`realpath`], [`copy_file`];
//! - directories: [`mkdir`], [`mkdir_all`], [`mkdtemp`], [`rmdir`],
//!   [`readdir`] (all entries), [`opendir`], [`dir_read`], [`dir_close`]
//!   (streaming);
//! - whole files: [`read_file`], [`write_file`], [`append_file`].

pub mod blocking;
mod types;

pub use types::{AccessMode, CopyFlags, Dir, Dirent, DirentKind, Fd, OpenFlags};

use crate::error::{canceled, panicked, Error, Panic};
use crate::pool::WorkKind;
use crate::work::{submit, Fate, ReqId};
use loop_core::Loop;
use std::fs::Metadata;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Queues a file-system operation on `paths` (one or two). The paths go
/// back to the loop thread with the result and are freed there, where they
/// were allocated: freed on a worker, they would feed the allocator's
/// cross-thread path (with glibc, fastbins of the loop thread's arena that
/// its next large allocation must consolidate), which costs more than the
/// copy of the path itself. A panic in `op` (a bug) becomes an error, on
/// the worker: so the loop-side closure captures only `cb` (and allocates
/// nothing when `cb` captures nothing).
fn fs_submit<D, T, P, C>(
    lp: &mut Loop<D>,
    syscall: &'static str,
    paths: P,
    op: impl FnOnce(&P) -> io::Result<T> + Send + 'static,
    cancel_err: fn(&'static str, &P) -> io::Error,
    cb: C,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    P: Send + 'static,
    C: FnOnce(&mut Loop<D>, &mut D, io::Result<T>) + 'static,
{
    submit(
        lp,
        WorkKind::FastIo,
        "loop-fs:fs",
        move |fate| {
            let r = match fate {
                Fate::Run => catch_unwind(AssertUnwindSafe(|| op(&paths)))
                    .unwrap_or_else(|p| Err(panicked(syscall, &Panic::new(p)))),
                Fate::Cancel => Err(cancel_err(syscall, &paths)),
            };
            (r, paths)
        },
        move |lp, data, r: std::thread::Result<(io::Result<T>, P)>| {
            let r = match r {
                Ok((r, paths)) => {
                    drop(paths);
                    r
                }
                // Only a panic in building the cancel error gets here.
                Err(p) => Err(panicked("fs", &Panic::new(p))),
            };
            cb(lp, data, r)
        },
    )
}

/// A request on an open file (its errors name no path, as in Node.js).
fn on_fd<D, T, C>(
    lp: &mut Loop<D>,
    syscall: &'static str,
    op: impl FnOnce() -> io::Result<T> + Send + 'static,
    cb: C,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    C: FnOnce(&mut Loop<D>, &mut D, io::Result<T>) + 'static,
{
    fs_submit(
        lp,
        syscall,
        (),
        move |()| op(),
        |s, ()| canceled(s, None, None),
        cb,
    )
}

/// A request on one path.
fn on_path<D, T, C>(
    lp: &mut Loop<D>,
    syscall: &'static str,
    path: PathBuf,
    op: impl FnOnce(&Path) -> io::Result<T> + Send + 'static,
    cb: C,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    C: FnOnce(&mut Loop<D>, &mut D, io::Result<T>) + 'static,
{
    fs_submit(
        lp,
        syscall,
        path,
        move |p: &PathBuf| op(p),
        |s, p| canceled(s, Some(p), None),
        cb,
    )
}

/// A request on two paths (`rename`, `link`, `symlink`, `copyfile`).
fn on_paths<D, T, C>(
    lp: &mut Loop<D>,
    syscall: &'static str,
    a: PathBuf,
    b: PathBuf,
    op: impl FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
    cb: C,
) -> Result<ReqId, Error>
where
    D: 'static,
    T: Send + 'static,
    C: FnOnce(&mut Loop<D>, &mut D, io::Result<T>) + 'static,
{
    fs_submit(
        lp,
        syscall,
        (a, b),
        move |(a, b): &(PathBuf, PathBuf)| op(a, b),
        |s, (a, b)| canceled(s, Some(a), Some(b)),
        cb,
    )
}

/// Opens `path` (`uv_fs_open`); `flags` are `open(2)`'s (or parsed from
/// Node's strings: `"r"`, `"w"`, `"a+"`…), `mode` applies to a created file.
///
/// ```
/// use loop_core::{Loop, RunMode};
/// use loop_fs::fs::{self, OpenFlags};
///
/// let mut lp: Loop<Option<String>> = Loop::new()?;
/// fs::open(&mut lp, "/no/such/file", OpenFlags::RDONLY, 0, |_, out, r| {
///     *out = Some(r.unwrap_err().to_string());
/// })?;
/// let mut out = None;
/// lp.run(RunMode::Default, &mut out)?;
/// assert_eq!(out.unwrap(), "ENOENT: no such file or directory, open '/no/such/file'");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    flags: OpenFlags,
    mode: u32,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Fd>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(
        lp,
        "open",
        path,
        move |p| blocking::open(p, flags, mode),
        cb,
    )
}

/// Closes `fd` (`uv_fs_close`): at once if this is its last clone (with
/// `close(2)`'s error, if any), else when the last clone is dropped.
pub fn close<D: 'static>(
    lp: &mut Loop<D>,
    fd: Fd,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    on_fd(lp, "close", move || blocking::close(fd), cb)
}

/// Reads up to `buf.len()` bytes (`uv_fs_read`) at `position`, or at the
/// file offset when `None`; `cb` gets `buf` back truncated to the bytes
/// read (empty at end of file).
pub fn read<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    buf: Vec<u8>,
    position: Option<u64>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Vec<u8>>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "read", move || blocking::read(&fd, buf, position), cb)
}

/// Vectored [`read`]: fills `bufs` in order; `cb` gets each back truncated
/// to what it received.
pub fn readv<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    bufs: Vec<Vec<u8>>,
    position: Option<u64>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Vec<Vec<u8>>>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "read", move || blocking::readv(&fd, bufs, position), cb)
}

/// Writes `data` (`uv_fs_write`) at `position`, or at the file offset when
/// `None`; `cb` gets the bytes written (one system call: may be short).
pub fn write<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    data: B,
    position: Option<u64>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<usize>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(
        lp,
        "write",
        move || blocking::write(&fd, data, position),
        cb,
    )
}

/// [`write()`] that hands `data` back with the result, on success (to
/// reuse the buffer, or write the rest after a short write) and on error
/// (to retry, or keep what was not written), as [`read`] hands its buffer
/// back.
///
/// ```
/// use loop_core::{Loop, RunMode};
/// use loop_fs::fs::{self, OpenFlags};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("log");
/// let f = loop_fs::fs::blocking::open(&path, OpenFlags::WRONLY | OpenFlags::CREAT, 0o644)?;
/// let mut lp: Loop<Option<(Vec<u8>, usize)>> = Loop::new()?;
/// fs::write_buf(&mut lp, &f, b"line\n".to_vec(), None, |_, out, buf, r| {
///     *out = Some((buf, r.unwrap()));
/// })?;
/// let mut out = None;
/// lp.run(RunMode::Default, &mut out)?;
/// let (buf, n) = out.unwrap();
/// assert_eq!((&buf[..], n), (&b"line\n"[..], 5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_buf<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    data: B,
    position: Option<u64>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, B, io::Result<usize>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    submit(
        lp,
        WorkKind::FastIo,
        "loop-fs:fs",
        move |fate| {
            // The write's own panic (a bug) is caught here, so the buffer
            // always comes back.
            let r = match fate {
                Fate::Run => {
                    catch_unwind(AssertUnwindSafe(|| blocking::write(&fd, &data, position)))
                        .unwrap_or_else(|p| Err(panicked("write", &Panic::new(p))))
                }
                Fate::Cancel => Err(canceled("write", None, None)),
            };
            (r, data)
        },
        move |lp, d, r: std::thread::Result<(io::Result<usize>, B)>| match r {
            Ok((r, data)) => cb(lp, d, data, r),
            // Unreachable: the closure above catches the write's panic and
            // building the cancel error does not panic. Without the
            // buffer there is nothing to hand back: propagate the bug.
            Err(p) => std::panic::resume_unwind(p),
        },
    )
}

/// Vectored [`write()`]: writes `bufs` in order.
pub fn writev<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    bufs: Vec<B>,
    position: Option<u64>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<usize>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(
        lp,
        "write",
        move || blocking::writev(&fd, &bufs, position),
        cb,
    )
}

/// `stat(2)` (`uv_fs_stat`).
pub fn stat<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Metadata>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "stat",
        path.as_ref().to_path_buf(),
        |p| blocking::stat(p),
        cb,
    )
}

/// `lstat(2)` (`uv_fs_lstat`): a symbolic link itself.
pub fn lstat<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Metadata>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "lstat",
        path.as_ref().to_path_buf(),
        |p| blocking::lstat(p),
        cb,
    )
}

/// `fstat(2)` (`uv_fs_fstat`).
pub fn fstat<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Metadata>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "fstat", move || blocking::fstat(&fd), cb)
}

/// `fsync(2)` (`uv_fs_fsync`).
pub fn fsync<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "fsync", move || blocking::fsync(&fd), cb)
}

/// `fdatasync(2)` (`uv_fs_fdatasync`).
pub fn fdatasync<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "fdatasync", move || blocking::fdatasync(&fd), cb)
}

/// `ftruncate(2)` (`uv_fs_ftruncate`).
pub fn ftruncate<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    len: u64,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "ftruncate", move || blocking::ftruncate(&fd, len), cb)
}

/// `unlink(2)` (`uv_fs_unlink`).
pub fn unlink<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "unlink",
        path.as_ref().to_path_buf(),
        |p| blocking::unlink(p),
        cb,
    )
}

/// `mkdir(2)` (`uv_fs_mkdir`) with `mode` (less the umask).
pub fn mkdir<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    mode: u32,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(lp, "mkdir", path, move |p| blocking::mkdir(p, mode), cb)
}

/// `mkdir -p` (Node's `mkdir` with `{ recursive: true }`): missing parents
/// are made too; an existing directory is not an error.
pub fn mkdir_all<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    mode: u32,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(lp, "mkdir", path, move |p| blocking::mkdir_all(p, mode), cb)
}

/// `rmdir(2)` (`uv_fs_rmdir`).
pub fn rmdir<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "rmdir",
        path.as_ref().to_path_buf(),
        |p| blocking::rmdir(p),
        cb,
    )
}

/// `rename(2)` (`uv_fs_rename`): replaces `to` if it exists.
pub fn rename<D: 'static>(
    lp: &mut Loop<D>,
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let (a, b) = (from.as_ref().to_path_buf(), to.as_ref().to_path_buf());
    on_paths(lp, "rename", a, b, |a, b| blocking::rename(a, b), cb)
}

/// Every entry of a directory, sorted by name (`uv_fs_scandir`, Node's
/// `fs.readdir`).
pub fn readdir<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Vec<Dirent>>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "scandir",
        path.as_ref().to_path_buf(),
        |p| blocking::readdir(p),
        cb,
    )
}

/// Opens a directory stream (`uv_fs_opendir`, Node's `fs.opendir`).
pub fn opendir<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Dir>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "opendir",
        path.as_ref().to_path_buf(),
        |p| blocking::opendir(p),
        cb,
    )
}

/// The next entries of `dir`, at most `max` (`uv_fs_readdir`, Node's
/// `dir.read`); an empty list once the stream is exhausted.
pub fn dir_read<D: 'static>(
    lp: &mut Loop<D>,
    dir: &Dir,
    max: usize,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Vec<Dirent>>) + 'static,
) -> Result<ReqId, Error> {
    let dir = dir.clone();
    let path = dir.path().to_path_buf();
    on_path(
        lp,
        "readdir",
        path,
        move |_| blocking::dir_read(&dir, max),
        cb,
    )
}

/// Closes a directory stream (`uv_fs_closedir`).
pub fn dir_close<D: 'static>(
    lp: &mut Loop<D>,
    dir: Dir,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = dir.path().to_path_buf();
    on_path(lp, "closedir", path, move |_| blocking::dir_close(&dir), cb)
}

/// `readlink(2)` (`uv_fs_readlink`).
pub fn readlink<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<PathBuf>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "readlink",
        path.as_ref().to_path_buf(),
        |p| blocking::readlink(p),
        cb,
    )
}

/// `symlink(2)` (`uv_fs_symlink`): makes `path` a link to `target`.
pub fn symlink<D: 'static>(
    lp: &mut Loop<D>,
    target: impl AsRef<Path>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let (a, b) = (target.as_ref().to_path_buf(), path.as_ref().to_path_buf());
    on_paths(lp, "symlink", a, b, |a, b| blocking::symlink(a, b), cb)
}

/// `link(2)` (`uv_fs_link`): makes `new` a hard link to `existing`.
pub fn link<D: 'static>(
    lp: &mut Loop<D>,
    existing: impl AsRef<Path>,
    new: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let (a, b) = (existing.as_ref().to_path_buf(), new.as_ref().to_path_buf());
    on_paths(lp, "link", a, b, |a, b| blocking::link(a, b), cb)
}

/// `chmod(2)` (`uv_fs_chmod`).
pub fn chmod<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    mode: u32,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(lp, "chmod", path, move |p| blocking::chmod(p, mode), cb)
}

/// `fchmod(2)` (`uv_fs_fchmod`).
pub fn fchmod<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    mode: u32,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "fchmod", move || blocking::fchmod(&fd, mode), cb)
}

/// `chown(2)` (`uv_fs_chown`); `None` keeps the owner or group.
pub fn chown<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    uid: Option<u32>,
    gid: Option<u32>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(lp, "chown", path, move |p| blocking::chown(p, uid, gid), cb)
}

/// `lchown(2)` (`uv_fs_lchown`).
pub fn lchown<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    uid: Option<u32>,
    gid: Option<u32>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(
        lp,
        "lchown",
        path,
        move |p| blocking::lchown(p, uid, gid),
        cb,
    )
}

/// `fchown(2)` (`uv_fs_fchown`).
pub fn fchown<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    uid: Option<u32>,
    gid: Option<u32>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(lp, "fchown", move || blocking::fchown(&fd, uid, gid), cb)
}

/// Sets access and modification times (`uv_fs_utime`).
pub fn utime<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    atime: SystemTime,
    mtime: SystemTime,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(
        lp,
        "utime",
        path,
        move |p| blocking::utime(p, atime, mtime),
        cb,
    )
}

/// Sets the times of a symbolic link itself (`uv_fs_lutime`).
pub fn lutime<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    atime: SystemTime,
    mtime: SystemTime,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(
        lp,
        "lutime",
        path,
        move |p| blocking::lutime(p, atime, mtime),
        cb,
    )
}

/// Sets the times of an open file (`uv_fs_futime`).
pub fn futime<D: 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    atime: SystemTime,
    mtime: SystemTime,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let fd = fd.clone();
    on_fd(
        lp,
        "futime",
        move || blocking::futime(&fd, atime, mtime),
        cb,
    )
}

/// Copies a file (`uv_fs_copyfile`): content and permission bits; replaces
/// `dest` unless [`CopyFlags::EXCL`].
pub fn copy_file<D: 'static>(
    lp: &mut Loop<D>,
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    flags: CopyFlags,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let (a, b) = (src.as_ref().to_path_buf(), dest.as_ref().to_path_buf());
    on_paths(
        lp,
        "copyfile",
        a,
        b,
        move |a, b| blocking::copy_file(a, b, flags),
        cb,
    )
}

/// Makes a unique directory `prefix` + six random characters
/// (`uv_fs_mkdtemp`, Node's `fs.mkdtemp`); `cb` gets its path.
pub fn mkdtemp<D: 'static>(
    lp: &mut Loop<D>,
    prefix: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<PathBuf>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "mkdtemp",
        prefix.as_ref().to_path_buf(),
        |p| blocking::mkdtemp(p),
        cb,
    )
}

/// The canonical absolute path (`uv_fs_realpath`).
pub fn realpath<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<PathBuf>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "realpath",
        path.as_ref().to_path_buf(),
        |p| blocking::realpath(p),
        cb,
    )
}

/// Checks the process's access to `path` (`uv_fs_access`).
pub fn access<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    mode: AccessMode,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(lp, "access", path, move |p| blocking::access(p, mode), cb)
}

/// The whole content of a file, in one request (Node's `fs.readFile`
/// makes several; the result is the same).
pub fn read_file<D: 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Vec<u8>>) + 'static,
) -> Result<ReqId, Error> {
    on_path(
        lp,
        "open",
        path.as_ref().to_path_buf(),
        |p| blocking::read_file(p),
        cb,
    )
}

/// Replaces (or creates) a file with `data` (Node's `fs.writeFile`).
pub fn write_file<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    data: B,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(lp, "open", path, move |p| blocking::write_file(p, data), cb)
}

/// Appends `data` to a file, creating it if missing (Node's `fs.appendFile`).
pub fn append_file<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    data: B,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<()>) + 'static,
) -> Result<ReqId, Error> {
    let path = path.as_ref().to_path_buf();
    on_path(
        lp,
        "open",
        path,
        move |p| blocking::append_file(p, data),
        cb,
    )
}
