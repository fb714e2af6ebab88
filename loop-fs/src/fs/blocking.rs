//! The operations themselves, blocking the calling thread (Node's `*Sync`
//! functions, libuv's `uv_fs_*` without a callback). The pool runs exactly
//! these; call them directly where blocking is fine.
//!
//! Invariants:
//! - each function is one system call, or the few that one libuv request
//!   makes (`copy_file`, the `*_file` conveniences), mostly through std;
//! - every error is wrapped ([`crate::SysError`]) with the system call's
//!   Node.js name and the path(s), and keeps its `io::ErrorKind`; fd-based
//!   calls name no path, as in Node.js;
//! - a call interrupted by a signal (`EINTR`) is retried, as libuv does.

use super::types::{AccessMode, CopyFlags, Dir, DirInner, Dirent, Fd, OpenFlags};
use crate::error::wrap;
use crate::sys;
use parking_lot::Mutex;
use std::fs::{self, File, FileTimes, Metadata, OpenOptions, Permissions};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// Retries `f` while it fails with `EINTR`.
fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn at<'a>(syscall: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |e| wrap(e, syscall, Some(path), None)
}

fn at2<'a>(
    syscall: &'static str,
    path: &'a Path,
    dest: &'a Path,
) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |e| wrap(e, syscall, Some(path), Some(dest))
}

fn on_fd(syscall: &'static str) -> impl FnOnce(io::Error) -> io::Error {
    move |e| wrap(e, syscall, None, None)
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

/// Opens `path` (`open(2)`): `flags` as `O_*` bits, `mode` for a created
/// file (less the umask). The descriptor is close-on-exec.
pub fn open(path: impl AsRef<Path>, flags: OpenFlags, mode: u32) -> io::Result<Fd> {
    let path = path.as_ref();
    let bits = flags.bits();
    let access = bits & libc::O_ACCMODE;
    let mut o = OpenOptions::new();
    o.read(access == libc::O_RDONLY || access == libc::O_RDWR)
        .write(access == libc::O_WRONLY || access == libc::O_RDWR)
        .append(bits & libc::O_APPEND != 0)
        .truncate(bits & libc::O_TRUNC != 0)
        .mode(mode);
    if bits & libc::O_CREAT != 0 {
        if bits & libc::O_EXCL != 0 {
            o.create_new(true);
        } else {
            o.create(true);
        }
    }
    let handled = libc::O_ACCMODE | libc::O_APPEND | libc::O_TRUNC | libc::O_CREAT;
    let rest = if bits & libc::O_CREAT != 0 {
        bits & !(handled | libc::O_EXCL)
    } else {
        bits & !handled
    };
    o.custom_flags(rest);
    retry(|| o.open(path))
        .map(Fd::from)
        .map_err(at("open", path))
}

/// Closes `fd` if this is its last clone, reporting `close(2)`'s error;
/// otherwise drops this clone (the descriptor closes with the last one).
pub fn close(fd: Fd) -> io::Result<()> {
    match Arc::into_inner(fd.0) {
        Some(file) => sys::close(file).map_err(on_fd("close")),
        None => Ok(()),
    }
}

/// Reads into `buf` (up to `buf.len()` bytes) at `position`, or at the
/// file offset (advancing it) when `None`; returns `buf` truncated to the
/// bytes read: empty at end of file.
pub fn read(fd: &Fd, mut buf: Vec<u8>, position: Option<u64>) -> io::Result<Vec<u8>> {
    let n = retry(|| match position {
        Some(p) => fd.0.read_at(&mut buf, p),
        None => (&*fd.0).read(&mut buf),
    })
    .map_err(on_fd("read"))?;
    buf.truncate(n);
    Ok(buf)
}

/// Reads into `bufs`, filled in order (`preadv(2)` / `readv(2)`); returns
/// them each truncated to what it received. `EINVAL` without buffers.
pub fn readv(fd: &Fd, mut bufs: Vec<Vec<u8>>, position: Option<u64>) -> io::Result<Vec<Vec<u8>>> {
    if bufs.is_empty() {
        return Err(wrap(einval(), "read", None, None));
    }
    let n = {
        let mut slices: Vec<IoSliceMut<'_>> = bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
        retry(|| match position {
            Some(p) => sys::preadv(&fd.0, &mut slices, p),
            None => (&*fd.0).read_vectored(&mut slices),
        })
        .map_err(on_fd("read"))?
    };
    let mut left = n;
    for b in &mut bufs {
        let k = b.len().min(left);
        b.truncate(k);
        left -= k;
    }
    Ok(bufs)
}

/// Writes `data` at `position`, or at the file offset (advancing it) when
/// `None`; one `write(2)`/`pwrite(2)`: returns the bytes written, which may
/// be fewer than given.
pub fn write(fd: &Fd, data: impl AsRef<[u8]>, position: Option<u64>) -> io::Result<usize> {
    let data = data.as_ref();
    retry(|| match position {
        Some(p) => fd.0.write_at(data, p),
        None => (&*fd.0).write(data),
    })
    .map_err(on_fd("write"))
}

/// Writes `bufs` in order (`pwritev(2)` / `writev(2)`); returns the bytes
/// written. `EINVAL` without buffers.
pub fn writev<B: AsRef<[u8]>>(fd: &Fd, bufs: &[B], position: Option<u64>) -> io::Result<usize> {
    if bufs.is_empty() {
        return Err(wrap(einval(), "write", None, None));
    }
    let slices: Vec<IoSlice<'_>> = bufs.iter().map(|b| IoSlice::new(b.as_ref())).collect();
    retry(|| match position {
        Some(p) => sys::pwritev(&fd.0, &slices, p),
        None => (&*fd.0).write_vectored(&slices),
    })
    .map_err(on_fd("write"))
}

/// `stat(2)`: follows symbolic links.
pub fn stat(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref();
    retry(|| fs::metadata(path)).map_err(at("stat", path))
}

/// `lstat(2)`: a symbolic link itself.
pub fn lstat(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref();
    retry(|| fs::symlink_metadata(path)).map_err(at("lstat", path))
}

/// `fstat(2)`.
pub fn fstat(fd: &Fd) -> io::Result<Metadata> {
    retry(|| fd.0.metadata()).map_err(on_fd("fstat"))
}

/// `fsync(2)`: data and metadata reach the device.
pub fn fsync(fd: &Fd) -> io::Result<()> {
    retry(|| fd.0.sync_all()).map_err(on_fd("fsync"))
}

/// `fdatasync(2)`: data (and the metadata needed to read it) reach the device.
pub fn fdatasync(fd: &Fd) -> io::Result<()> {
    retry(|| fd.0.sync_data()).map_err(on_fd("fdatasync"))
}

/// `ftruncate(2)`: sets the length, cutting or zero-extending.
pub fn ftruncate(fd: &Fd, len: u64) -> io::Result<()> {
    retry(|| fd.0.set_len(len)).map_err(on_fd("ftruncate"))
}

/// `unlink(2)`.
pub fn unlink(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| fs::remove_file(path)).map_err(at("unlink", path))
}

/// `mkdir(2)` with `mode` (less the umask).
pub fn mkdir(path: impl AsRef<Path>, mode: u32) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| fs::DirBuilder::new().mode(mode).create(path)).map_err(at("mkdir", path))
}

/// `mkdir -p`: creates the missing parents too; an existing directory is
/// not an error (Node's `{ recursive: true }`).
pub fn mkdir_all(path: impl AsRef<Path>, mode: u32) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(path)
    })
    .map_err(at("mkdir", path))
}

/// `rmdir(2)`: the directory must be empty.
pub fn rmdir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| fs::remove_dir(path)).map_err(at("rmdir", path))
}

/// `rename(2)`: replaces `to` if it exists.
pub fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    retry(|| fs::rename(from, to)).map_err(at2("rename", from, to))
}

/// Every entry of a directory, sorted by name (libuv's `uv_fs_scandir`,
/// Node's `fs.readdir` with `withFileTypes`).
pub fn readdir(path: impl AsRef<Path>) -> io::Result<Vec<Dirent>> {
    let path = path.as_ref();
    let mut out = Vec::new();
    for e in retry(|| fs::read_dir(path)).map_err(at("scandir", path))? {
        out.push(Dirent::from_entry(&e.map_err(at("scandir", path))?));
    }
    out.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Opens a directory stream (`opendir(3)`).
pub fn opendir(path: impl AsRef<Path>) -> io::Result<Dir> {
    let path = path.as_ref();
    let rd = retry(|| fs::read_dir(path)).map_err(at("opendir", path))?;
    Ok(Dir(Arc::new(DirInner {
        path: path.to_path_buf(),
        stream: Mutex::new(Some(rd)),
    })))
}

/// The next entries of `dir`, at most `max` (at least 1) in directory
/// order; empty once the stream is exhausted. `EBADF` once closed.
pub fn dir_read(dir: &Dir, max: usize) -> io::Result<Vec<Dirent>> {
    if max == 0 {
        return Err(wrap(einval(), "readdir", Some(dir.path()), None));
    }
    let mut stream = dir.0.stream.lock();
    let Some(rd) = stream.as_mut() else {
        return Err(wrap(
            io::Error::from_raw_os_error(libc::EBADF),
            "readdir",
            Some(dir.path()),
            None,
        ));
    };
    let mut out = Vec::new();
    for e in rd.by_ref().take(max) {
        out.push(Dirent::from_entry(&e.map_err(at("readdir", dir.path()))?));
    }
    Ok(out)
}

/// Closes the stream (for every clone of `dir`). `EBADF` if already closed.
pub fn dir_close(dir: &Dir) -> io::Result<()> {
    match dir.0.stream.lock().take() {
        Some(rd) => {
            drop(rd);
            Ok(())
        }
        None => Err(wrap(
            io::Error::from_raw_os_error(libc::EBADF),
            "closedir",
            Some(dir.path()),
            None,
        )),
    }
}

/// `readlink(2)`: the target of a symbolic link, unresolved.
pub fn readlink(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref();
    retry(|| fs::read_link(path)).map_err(at("readlink", path))
}

/// `symlink(2)`: makes `path` a symbolic link to `target`.
pub fn symlink(target: impl AsRef<Path>, path: impl AsRef<Path>) -> io::Result<()> {
    let (target, path) = (target.as_ref(), path.as_ref());
    retry(|| std::os::unix::fs::symlink(target, path)).map_err(at2("symlink", target, path))
}

/// `link(2)`: makes `new` a hard link to `existing`.
pub fn link(existing: impl AsRef<Path>, new: impl AsRef<Path>) -> io::Result<()> {
    let (existing, new) = (existing.as_ref(), new.as_ref());
    retry(|| fs::hard_link(existing, new)).map_err(at2("link", existing, new))
}

/// `chmod(2)`: sets the permission bits (e.g. `0o644`).
pub fn chmod(path: impl AsRef<Path>, mode: u32) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| fs::set_permissions(path, Permissions::from_mode(mode))).map_err(at("chmod", path))
}

/// `fchmod(2)`.
pub fn fchmod(fd: &Fd, mode: u32) -> io::Result<()> {
    retry(|| fd.0.set_permissions(Permissions::from_mode(mode))).map_err(on_fd("fchmod"))
}

/// `chown(2)`; `None` leaves the owner or group as it is.
pub fn chown(path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| std::os::unix::fs::chown(path, uid, gid)).map_err(at("chown", path))
}

/// `lchown(2)`: a symbolic link itself.
pub fn lchown(path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let path = path.as_ref();
    retry(|| std::os::unix::fs::lchown(path, uid, gid)).map_err(at("lchown", path))
}

/// `fchown(2)`.
pub fn fchown(fd: &Fd, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    retry(|| std::os::unix::fs::fchown(&*fd.0, uid, gid)).map_err(on_fd("fchown"))
}

/// Sets access and modification times (`utimensat(2)`), following links.
pub fn utime(path: impl AsRef<Path>, atime: SystemTime, mtime: SystemTime) -> io::Result<()> {
    let path = path.as_ref();
    sys::utimens(path, atime, mtime, true).map_err(at("utime", path))
}

/// Sets the times of a symbolic link itself.
pub fn lutime(path: impl AsRef<Path>, atime: SystemTime, mtime: SystemTime) -> io::Result<()> {
    let path = path.as_ref();
    sys::utimens(path, atime, mtime, false).map_err(at("lutime", path))
}

/// `futimens(2)`.
pub fn futime(fd: &Fd, atime: SystemTime, mtime: SystemTime) -> io::Result<()> {
    let times = FileTimes::new().set_accessed(atime).set_modified(mtime);
    retry(|| fd.0.set_times(times)).map_err(on_fd("futime"))
}

/// Copies `src`'s content and permission bits to `dest` (in the kernel
/// where it can: `copy_file_range(2)`); replaces `dest` unless
/// [`CopyFlags::EXCL`]. A `dest` that is `src` itself (the same inode, by
/// a link or the same path) is left as it is, as libuv's
/// `uv_fs_copyfile` does: opening it with `O_TRUNC` would empty the
/// source.
pub fn copy_file(
    src: impl AsRef<Path>,
    dest: impl AsRef<Path>,
    flags: CopyFlags,
) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (src, dest) = (src.as_ref(), dest.as_ref());
    let err = at2("copyfile", src, dest);
    (|| {
        let mut from = retry(|| File::open(src))?;
        let meta = from.metadata()?;
        let mode = meta.permissions().mode();
        let mut o = OpenOptions::new();
        o.write(true).mode(mode);
        if flags.contains(CopyFlags::EXCL) {
            o.create_new(true);
        } else {
            // No O_TRUNC: the destination may be the source.
            o.create(true);
        }
        let mut to = retry(|| o.open(dest))?;
        let dmeta = to.metadata()?;
        if dmeta.dev() == meta.dev() && dmeta.ino() == meta.ino() {
            return Ok(());
        }
        to.set_len(0)?;
        // std copies in the kernel between two files (copy_file_range).
        io::copy(&mut from, &mut to)?;
        // The umask applied at creation: set the source's mode exactly, as
        // libuv's uv_fs_copyfile does (fchmod).
        to.set_permissions(Permissions::from_mode(mode))?;
        Ok(())
    })()
    .map_err(err)
}

/// Makes a new directory named `prefix` followed by six random characters
/// (`mkdtemp(3)`, Node's `fs.mkdtemp`); returns its path.
pub fn mkdtemp(prefix: impl AsRef<Path>) -> io::Result<PathBuf> {
    let prefix = prefix.as_ref();
    sys::mkdtemp(prefix).map_err(|e| {
        let mut template = prefix.as_os_str().to_owned();
        template.push("XXXXXX");
        wrap(e, "mkdtemp", Some(Path::new(&template)), None)
    })
}

/// `realpath(3)`: the absolute path with every link and `.`/`..` resolved.
pub fn realpath(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref();
    retry(|| fs::canonicalize(path)).map_err(at("realpath", path))
}

/// `access(2)`: whether the calling process may use `path` as `mode` says
/// (with its real ids); an error (`ENOENT`, `EACCES`…) when not.
pub fn access(path: impl AsRef<Path>, mode: AccessMode) -> io::Result<()> {
    let path = path.as_ref();
    sys::access(path, mode.bits()).map_err(at("access", path))
}

/// The whole content of a file (Node's `fs.readFile`).
pub fn read_file(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    let mut f = retry(|| File::open(path)).map_err(at("open", path))?;
    let mut out = Vec::new();
    // read_to_end retries EINTR itself.
    f.read_to_end(&mut out).map_err(on_fd("read"))?;
    Ok(out)
}

fn write_with(path: &Path, data: &[u8], append: bool) -> io::Result<()> {
    let mut o = OpenOptions::new();
    o.create(true).mode(0o666);
    if append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    let mut f = retry(|| o.open(path)).map_err(at("open", path))?;
    f.write_all(data).map_err(on_fd("write"))
}

/// Replaces (or creates, mode `0o666` less the umask) a file with `data`
/// (Node's `fs.writeFile`).
pub fn write_file(path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> io::Result<()> {
    write_with(path.as_ref(), data.as_ref(), false)
}

/// Appends `data` to a file, creating it if missing (Node's `fs.appendFile`).
pub fn append_file(path: impl AsRef<Path>, data: impl AsRef<[u8]>) -> io::Result<()> {
    write_with(path.as_ref(), data.as_ref(), true)
}
