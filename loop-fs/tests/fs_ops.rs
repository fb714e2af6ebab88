//! Every file-system operation, its success and its error path, through
//! the loop (and a few through `fs::blocking`).

mod common;

use common::{code, store, sync};
use loop_core::{Loop, RunMode};
use loop_fs::fs::{self, blocking, AccessMode, CopyFlags, DirentKind, Fd, OpenFlags};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn file_with(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn open(p: &Path, flags: &str) -> Fd {
    blocking::open(p, flags.parse().unwrap(), 0o644).unwrap()
}

/// `CODE: message, syscall 'path'`, as Node prints it.
fn msg(code_and_text: &str, syscall: &str, path: &Path) -> String {
    format!("{code_and_text}, {syscall} '{}'", path.display())
}

const ENOENT: &str = "ENOENT: no such file or directory";

#[test]
fn open_success_and_errors() {
    let d = tmp();
    let p = d.path().join("new");
    let fd = sync(|lp| fs::open(lp, &p, "wx".parse().unwrap(), 0o600, store)).unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    blocking::write(&fd, b"abc", None).unwrap();
    drop(fd);

    let e = sync(|lp| fs::open(lp, &p, "wx".parse().unwrap(), 0o600, store)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_eq!(
        e.to_string(),
        msg("EEXIST: file already exists", "open", &p)
    );

    let missing = d.path().join("missing");
    let e = sync(|lp| fs::open(lp, &missing, OpenFlags::RDONLY, 0, store)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.to_string(), msg(ENOENT, "open", &missing));
    let s = loop_fs::sys_error(&e).unwrap();
    assert_eq!(
        (s.errno(), s.syscall(), s.path()),
        (Some(libc::ENOENT), "open", Some(&*missing))
    );

    let e = sync(|lp| fs::open(lp, d.path(), OpenFlags::WRONLY, 0, store)).unwrap_err();
    assert_eq!(code(&e), "EISDIR");

    // Raw flags: O_RDWR | O_APPEND appends.
    let fd = sync(|lp| fs::open(lp, &p, OpenFlags::RDWR | OpenFlags::APPEND, 0, store)).unwrap();
    blocking::write(&fd, b"def", None).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"abcdef");
    // O_TRUNC on a write open empties the file; O_DIRECTORY refuses a file.
    let _ = sync(|lp| fs::open(lp, &p, OpenFlags::WRONLY | OpenFlags::TRUNC, 0, store)).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"");
    let e = sync(|lp| fs::open(lp, &p, OpenFlags::DIRECTORY, 0, store)).unwrap_err();
    assert_eq!(code(&e), "ENOTDIR");
}

#[test]
fn node_flag_strings() {
    use libc::{O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY};
    let cases = [
        ("r", O_RDONLY),
        ("rs+", O_RDWR | O_SYNC),
        ("w+", O_TRUNC | O_CREAT | O_RDWR),
        ("xw", O_TRUNC | O_CREAT | O_WRONLY | O_EXCL),
        ("a", O_APPEND | O_CREAT | O_WRONLY),
        ("sa+", O_APPEND | O_CREAT | O_RDWR | O_SYNC),
    ];
    for (s, bits) in cases {
        assert_eq!(s.parse::<OpenFlags>().unwrap().bits(), bits, "{s}");
    }
    assert_eq!(
        "rw".parse::<OpenFlags>().unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

/// Whether descriptor `raw` of this process is open on `path` (another
/// test may reuse the number meanwhile, but not for this test's file).
fn open_on(raw: i32, path: &Path) -> bool {
    std::fs::read_link(format!("/proc/self/fd/{raw}")).is_ok_and(|p| p == path)
}

#[test]
fn close_success_and_shared_handles() {
    use std::os::fd::AsRawFd;
    let d = tmp();
    let p = file_with(d.path(), "f", b"x");
    let fd = open(&p, "r");
    let raw = fd.as_raw_fd();
    assert!(open_on(raw, &p));
    sync(|lp| fs::close(lp, fd, store)).unwrap();
    assert!(!open_on(raw, &p), "the descriptor was closed");

    // With another clone alive, close drops this one; the descriptor stays
    // usable through the other clone until it is dropped.
    let fd = open(&p, "r");
    let raw = fd.as_raw_fd();
    let other = fd.clone();
    sync(|lp| fs::close(lp, fd, store)).unwrap();
    assert!(open_on(raw, &p));
    assert_eq!(blocking::read(&other, vec![0; 1], Some(0)).unwrap(), b"x");
    drop(other);
    assert!(!open_on(raw, &p));
    // (close(2) errors — EIO on some file systems — cannot be provoked here:
    // an `Fd` always owns a valid descriptor.)
}

#[test]
fn read_positional_current_offset_eof_and_errors() {
    let d = tmp();
    let p = file_with(d.path(), "f", b"hello world");
    let fd = open(&p, "r");
    let b = sync(|lp| fs::read(lp, &fd, vec![0; 5], Some(6), store)).unwrap();
    assert_eq!(b, b"world");
    // Current offset: advances.
    let b = sync(|lp| fs::read(lp, &fd, vec![0; 5], None, store)).unwrap();
    assert_eq!(b, b"hello");
    let b = sync(|lp| fs::read(lp, &fd, vec![0; 100], None, store)).unwrap();
    assert_eq!(b, b" world");
    let b = sync(|lp| fs::read(lp, &fd, vec![0; 100], None, store)).unwrap();
    assert!(b.is_empty(), "EOF is an empty read, not an error");
    // Read on a write-only descriptor.
    let w = open(&p, "a");
    let e = sync(|lp| fs::read(lp, &w, vec![0; 4], None, store)).unwrap_err();
    assert_eq!(e.to_string(), "EBADF: bad file descriptor, read");
    // Read on a directory.
    let dfd = blocking::open(d.path(), OpenFlags::RDONLY, 0).unwrap();
    let e = sync(|lp| fs::read(lp, &dfd, vec![0; 4], Some(0), store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "EISDIR: illegal operation on a directory, read"
    );
}

#[test]
fn readv_and_writev() {
    let d = tmp();
    let p = d.path().join("v");
    let fd = open(&p, "w+");
    let n = sync(|lp| fs::writev(lp, &fd, vec![&b"abc"[..], b"", b"defg"], None, store)).unwrap();
    assert_eq!(n, 7);
    let n = sync(|lp| fs::writev(lp, &fd, vec![b"XY".to_vec(), b"Z".to_vec()], Some(1), store))
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(std::fs::read(&p).unwrap(), b"aXYZefg");
    let bufs = sync(|lp| {
        fs::readv(
            lp,
            &fd,
            vec![vec![0; 2], vec![0; 3], vec![0; 9]],
            Some(1),
            store,
        )
    })
    .unwrap();
    assert_eq!(bufs, [b"XY".to_vec(), b"Zef".to_vec(), b"g".to_vec()]);
    // Empty lists are EINVAL, as in libuv.
    let e = sync(|lp| fs::readv(lp, &fd, vec![], None, store)).unwrap_err();
    assert_eq!(code(&e), "EINVAL");
    let e = sync(|lp| fs::writev(lp, &fd, Vec::<Vec<u8>>::new(), None, store)).unwrap_err();
    assert_eq!(code(&e), "EINVAL");
    // Wrong direction.
    let r = open(&p, "r");
    let e = sync(|lp| fs::writev(lp, &r, vec![b"x".to_vec()], Some(0), store)).unwrap_err();
    assert_eq!(e.to_string(), "EBADF: bad file descriptor, write");
    let w = open(&p, "a");
    let e = sync(|lp| fs::readv(lp, &w, vec![vec![0; 1]], Some(0), store)).unwrap_err();
    assert_eq!(code(&e), "EBADF");
}

/// `write_buf` hands the buffer back on error as on success (issue 16:
/// `write` dropped it with the error).
#[test]
fn write_buf_hands_the_buffer_back() {
    let d = tmp();
    let p = d.path().join("wb");
    std::fs::write(&p, "").unwrap();
    let r = open(&p, "r");
    let mut lp: Loop<Option<(Vec<u8>, std::io::Result<usize>)>> = Loop::new().unwrap();
    fs::write_buf(
        &mut lp,
        &r,
        b"keep me".to_vec(),
        None,
        |_, out, buf, res| *out = Some((buf, res)),
    )
    .unwrap();
    let mut out = None;
    lp.run(RunMode::Default, &mut out).unwrap();
    let (buf, res) = out.unwrap();
    assert_eq!(buf, b"keep me");
    assert_eq!(code(&res.unwrap_err()), "EBADF");
}

#[test]
fn write_positional_current_offset_and_errors() {
    let d = tmp();
    let p = d.path().join("w");
    let fd = open(&p, "w+");
    assert_eq!(
        sync(|lp| fs::write(lp, &fd, "hello", None, store)).unwrap(),
        5
    );
    assert_eq!(
        sync(|lp| fs::write(lp, &fd, b"J".to_vec(), Some(0), store)).unwrap(),
        1
    );
    assert_eq!(sync(|lp| fs::write(lp, &fd, "!", None, store)).unwrap(), 1);
    assert_eq!(std::fs::read(&p).unwrap(), b"Jello!");
    let r = open(&p, "r");
    let e = sync(|lp| fs::write(lp, &r, "x", None, store)).unwrap_err();
    // No stable ErrorKind names EBADF: the kind is whatever std gives it.
    assert_eq!(
        e.kind(),
        std::io::Error::from_raw_os_error(libc::EBADF).kind()
    );
    assert_eq!(e.to_string(), "EBADF: bad file descriptor, write");
    assert_eq!(loop_fs::sys_error(&e).unwrap().errno(), Some(libc::EBADF));
}

#[test]
fn stat_lstat_fstat() {
    let d = tmp();
    let p = file_with(d.path(), "f", b"12345");
    let l = d.path().join("link");
    std::os::unix::fs::symlink(&p, &l).unwrap();
    assert_eq!(sync(|lp| fs::stat(lp, &l, store)).unwrap().len(), 5);
    assert!(sync(|lp| fs::lstat(lp, &l, store))
        .unwrap()
        .file_type()
        .is_symlink());
    let fd = open(&p, "r");
    let m = sync(|lp| fs::fstat(lp, &fd, store)).unwrap();
    assert_eq!(
        (m.len(), m.ino()),
        (5, std::fs::metadata(&p).unwrap().ino())
    );

    let missing = d.path().join("nope");
    let e = sync(|lp| fs::stat(lp, &missing, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "stat", &missing));
    let e = sync(|lp| fs::lstat(lp, &missing, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "lstat", &missing));
    // A file used as a directory.
    let e = sync(|lp| fs::stat(lp, p.join("x"), store)).unwrap_err();
    assert_eq!(code(&e), "ENOTDIR");
}

/// A descriptor that is not a file: fsync and friends fail on it.
fn socket_fd() -> Fd {
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    Fd::from(std::fs::File::from(std::os::fd::OwnedFd::from(a)))
}

#[test]
fn fsync_fdatasync_ftruncate() {
    let d = tmp();
    let p = file_with(d.path(), "f", b"0123456789");
    let fd = open(&p, "r+");
    sync(|lp| fs::fsync(lp, &fd, store)).unwrap();
    sync(|lp| fs::fdatasync(lp, &fd, store)).unwrap();
    sync(|lp| fs::ftruncate(lp, &fd, 4, store)).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"0123");
    sync(|lp| fs::ftruncate(lp, &fd, 6, store)).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"0123\0\0");

    let s = socket_fd();
    assert_eq!(
        sync(|lp| fs::fsync(lp, &s, store)).unwrap_err().to_string(),
        "EINVAL: invalid argument, fsync"
    );
    assert_eq!(
        code(&sync(|lp| fs::fdatasync(lp, &s, store)).unwrap_err()),
        "EINVAL"
    );
    let r = open(&p, "r");
    let e = sync(|lp| fs::ftruncate(lp, &r, 0, store)).unwrap_err();
    assert!(e.to_string().ends_with(", ftruncate"), "{e}");
    assert!(matches!(code(&e), "EINVAL" | "EBADF"));
}

#[test]
fn unlink_rename_link_symlink_readlink() {
    let d = tmp();
    let a = file_with(d.path(), "a", b"A");
    let b = d.path().join("b");
    sync(|lp| fs::rename(lp, &a, &b, store)).unwrap();
    assert!(!a.exists() && b.exists());
    let e = sync(|lp| fs::rename(lp, &a, &b, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{ENOENT}, rename '{}' -> '{}'", a.display(), b.display())
    );

    let h = d.path().join("hard");
    sync(|lp| fs::link(lp, &b, &h, store)).unwrap();
    assert_eq!(std::fs::metadata(&b).unwrap().nlink(), 2);
    let e = sync(|lp| fs::link(lp, &b, &h, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "EEXIST: file already exists, link '{}' -> '{}'",
            b.display(),
            h.display()
        )
    );

    let s = d.path().join("sym");
    sync(|lp| fs::symlink(lp, "b", &s, store)).unwrap();
    assert_eq!(
        sync(|lp| fs::readlink(lp, &s, store)).unwrap(),
        Path::new("b")
    );
    let e = sync(|lp| fs::symlink(lp, "b", &s, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "EEXIST: file already exists, symlink 'b' -> '{}'",
            s.display()
        )
    );
    let e = sync(|lp| fs::readlink(lp, &b, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        msg("EINVAL: invalid argument", "readlink", &b)
    );

    sync(|lp| fs::unlink(lp, &h, store)).unwrap();
    assert!(!h.exists());
    let e = sync(|lp| fs::unlink(lp, &h, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "unlink", &h));
    let e = sync(|lp| fs::unlink(lp, d.path(), store)).unwrap_err();
    assert_eq!(code(&e), "EISDIR");
}

#[test]
fn mkdir_mkdir_all_rmdir() {
    let d = tmp();
    let x = d.path().join("x");
    sync(|lp| fs::mkdir(lp, &x, 0o700, store)).unwrap();
    assert_eq!(
        std::fs::metadata(&x).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let e = sync(|lp| fs::mkdir(lp, &x, 0o700, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        msg("EEXIST: file already exists", "mkdir", &x)
    );
    let deep = x.join("a/b/c");
    let e = sync(|lp| fs::mkdir(lp, &deep, 0o755, store)).unwrap_err();
    assert_eq!(code(&e), "ENOENT");
    sync(|lp| fs::mkdir_all(lp, &deep, 0o755, store)).unwrap();
    assert!(deep.is_dir());
    sync(|lp| fs::mkdir_all(lp, &deep, 0o755, store)).unwrap(); // exists: fine
    let f = file_with(d.path(), "file", b"");
    let e = sync(|lp| fs::mkdir_all(lp, f.join("sub"), 0o755, store)).unwrap_err();
    assert_eq!(code(&e), "ENOTDIR");

    let e = sync(|lp| fs::rmdir(lp, &x, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        msg("ENOTEMPTY: directory not empty", "rmdir", &x)
    );
    sync(|lp| fs::rmdir(lp, &deep, store)).unwrap();
    assert!(!deep.exists());
    let e = sync(|lp| fs::rmdir(lp, &deep, store)).unwrap_err();
    assert_eq!(code(&e), "ENOENT");
}

#[test]
fn readdir_lists_sorted_entries_with_kinds() {
    let d = tmp();
    file_with(d.path(), "b-file", b"");
    std::fs::create_dir(d.path().join("a-dir")).unwrap();
    std::os::unix::fs::symlink("b-file", d.path().join("c-link")).unwrap();
    let list = sync(|lp| fs::readdir(lp, d.path(), store)).unwrap();
    let got: Vec<_> = list
        .iter()
        .map(|e| (e.name.to_str().unwrap(), e.kind))
        .collect();
    assert_eq!(
        got,
        [
            ("a-dir", DirentKind::Dir),
            ("b-file", DirentKind::File),
            ("c-link", DirentKind::Symlink)
        ]
    );
    let missing = d.path().join("missing");
    let e = sync(|lp| fs::readdir(lp, &missing, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "scandir", &missing));
    let e = sync(|lp| fs::readdir(lp, d.path().join("b-file"), store)).unwrap_err();
    assert_eq!(code(&e), "ENOTDIR");
}

#[test]
fn opendir_streams_in_batches() {
    let d = tmp();
    for i in 0..5 {
        file_with(d.path(), &format!("f{i}"), b"");
    }
    // Read 2 at a time until the stream is exhausted, then close: a chain.
    struct St {
        names: Vec<String>,
        batches: usize,
        closed: bool,
    }
    fn next(lp: &mut Loop<St>, st: &mut St, dir: fs::Dir) {
        fs::dir_read(lp, &dir.clone(), 2, move |lp, st: &mut St, r| {
            let batch = r.unwrap();
            assert!(batch.len() <= 2);
            if batch.is_empty() {
                fs::dir_close(lp, dir, |_, st: &mut St, r| {
                    r.unwrap();
                    st.closed = true;
                })
                .unwrap();
                return;
            }
            st.batches += 1;
            st.names
                .extend(batch.into_iter().map(|e| e.name.into_string().unwrap()));
            next(lp, st, dir);
        })
        .unwrap();
        let _ = st;
    }
    let mut lp: Loop<St> = Loop::new().unwrap();
    fs::opendir(&mut lp, d.path(), |lp, st: &mut St, r| {
        next(lp, st, r.unwrap())
    })
    .unwrap();
    let mut st = St {
        names: vec![],
        batches: 0,
        closed: false,
    };
    lp.run(RunMode::Default, &mut st).unwrap();
    st.names.sort();
    assert_eq!(st.names, ["f0", "f1", "f2", "f3", "f4"]);
    assert_eq!(st.batches, 3);
    assert!(st.closed);

    // Errors: missing directory, reading or closing a closed stream, max 0.
    let missing = d.path().join("missing");
    let e = sync(|lp| fs::opendir(lp, &missing, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "opendir", &missing));
    let dir = sync(|lp| fs::opendir(lp, d.path(), store)).unwrap();
    assert_eq!(dir.path(), d.path());
    let e = sync(|lp| fs::dir_read(lp, &dir, 0, store)).unwrap_err();
    assert_eq!(code(&e), "EINVAL");
    sync(|lp| fs::dir_close(lp, dir.clone(), store)).unwrap();
    let e = sync(|lp| fs::dir_read(lp, &dir, 1, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        msg("EBADF: bad file descriptor", "readdir", d.path())
    );
    let e = sync(|lp| fs::dir_close(lp, dir, store)).unwrap_err();
    assert_eq!(code(&e), "EBADF");
}

#[test]
fn chmod_fchmod_chown_fchown_lchown() {
    let d = tmp();
    let p = file_with(d.path(), "f", b"");
    sync(|lp| fs::chmod(lp, &p, 0o640, store)).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
    let fd = open(&p, "r");
    sync(|lp| fs::fchmod(lp, &fd, 0o604, store)).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o604);
    let missing = d.path().join("missing");
    let e = sync(|lp| fs::chmod(lp, &missing, 0o600, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "chmod", &missing));

    // Giving a file to its own owner always works; None keeps an id.
    let m = std::fs::metadata(&p).unwrap();
    sync(|lp| fs::chown(lp, &p, Some(m.uid()), Some(m.gid()), store)).unwrap();
    sync(|lp| fs::fchown(lp, &fd, None, Some(m.gid()), store)).unwrap();
    let l = d.path().join("l");
    std::os::unix::fs::symlink("f", &l).unwrap();
    sync(|lp| fs::lchown(lp, &l, Some(m.uid()), None, store)).unwrap();
    let e = sync(|lp| fs::chown(lp, &missing, None, None, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "chown", &missing));
    let e = sync(|lp| fs::lchown(lp, &missing, None, None, store)).unwrap_err();
    assert_eq!(code(&e), "ENOENT");
    // fchmod/fchown have no error to provoke through a valid descriptor
    // (EBADF is what they would say, and an `Fd` is always valid).
}

#[test]
fn utime_futime_lutime() {
    let d = tmp();
    let p = file_with(d.path(), "f", b"");
    let l = d.path().join("l");
    std::os::unix::fs::symlink("f", &l).unwrap();
    let t1 = UNIX_EPOCH + Duration::new(1_000_000_000, 500_000_000);
    let t2 = UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    sync(|lp| fs::utime(lp, &p, t1, t2, store)).unwrap();
    let m = std::fs::metadata(&p).unwrap();
    assert_eq!((m.accessed().unwrap(), m.modified().unwrap()), (t1, t2));
    let fd = open(&p, "r");
    sync(|lp| fs::futime(lp, &fd, t2, t1, store)).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), t1);
    // lutime changes the link, not its target.
    let before = std::fs::metadata(&p).unwrap().modified().unwrap();
    sync(|lp| fs::lutime(lp, &l, t2, t2, store)).unwrap();
    assert_eq!(
        std::fs::symlink_metadata(&l).unwrap().modified().unwrap(),
        t2
    );
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
    // Times before 1970 work too.
    let old = UNIX_EPOCH - Duration::new(10, 250_000_000);
    sync(|lp| fs::utime(lp, &p, old, old, store)).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), old);

    let missing = d.path().join("missing");
    let e = sync(|lp| fs::utime(lp, &missing, t1, t1, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "utime", &missing));
    let e = sync(|lp| fs::lutime(lp, &missing, t1, t1, store)).unwrap_err();
    assert_eq!(code(&e), "ENOENT");
}

#[test]
fn copy_file_replace_excl_and_errors() {
    let d = tmp();
    let src = file_with(d.path(), "src", b"content");
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640)).unwrap();
    let dst = file_with(d.path(), "dst", b"old old old");
    sync(|lp| fs::copy_file(lp, &src, &dst, CopyFlags::NONE, store)).unwrap();
    assert_eq!(std::fs::read(&dst).unwrap(), b"content");
    let e = sync(|lp| fs::copy_file(lp, &src, &dst, CopyFlags::EXCL, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "EEXIST: file already exists, copyfile '{}' -> '{}'",
            src.display(),
            dst.display()
        )
    );
    let fresh = d.path().join("fresh");
    sync(|lp| fs::copy_file(lp, &src, &fresh, CopyFlags::EXCL, store)).unwrap();
    assert_eq!(std::fs::read(&fresh).unwrap(), b"content");
    assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o640);
    let missing = d.path().join("missing");
    let e = sync(|lp| fs::copy_file(lp, &missing, &fresh, CopyFlags::NONE, store)).unwrap_err();
    assert_eq!(code(&e), "ENOENT");
    assert_eq!(loop_fs::sys_error(&e).unwrap().dest(), Some(&*fresh));
}

/// libuv 1.46 `uv__fs_copyfile` returns at once when source and
/// destination are the same inode; Node 20's `fs.copyFileSync('f', 'f')`
/// (and through a symlink) leaves `f` whole, with `COPYFILE_EXCL` it is
/// `EEXIST`. A copy onto itself used to truncate the file to 0 bytes.
#[test]
fn copy_file_onto_itself_keeps_the_content() {
    let d = tmp();
    let src = file_with(d.path(), "src", b"content");
    sync(|lp| fs::copy_file(lp, &src, &src, CopyFlags::NONE, store)).unwrap();
    assert_eq!(std::fs::read(&src).unwrap(), b"content");
    let link = d.path().join("link");
    std::os::unix::fs::symlink(&src, &link).unwrap();
    sync(|lp| fs::copy_file(lp, &src, &link, CopyFlags::NONE, store)).unwrap();
    assert_eq!(std::fs::read(&src).unwrap(), b"content");
    let e = sync(|lp| fs::copy_file(lp, &src, &src, CopyFlags::EXCL, store)).unwrap_err();
    assert_eq!(code(&e), "EEXIST");
    assert_eq!(std::fs::read(&src).unwrap(), b"content");
}

#[test]
fn mkdtemp_and_realpath() {
    let d = tmp();
    let prefix = d.path().join("tmp-");
    let made = sync(|lp| fs::mkdtemp(lp, &prefix, store)).unwrap();
    assert!(made.is_dir());
    let name = made.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("tmp-") && name.len() == 10, "{name}");
    let other = sync(|lp| fs::mkdtemp(lp, &prefix, store)).unwrap();
    assert_ne!(made, other);
    let bad = d.path().join("missing/tmp-");
    let e = sync(|lp| fs::mkdtemp(lp, &bad, store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{ENOENT}, mkdtemp '{}XXXXXX'", bad.display())
    );

    let link = d.path().join("link");
    std::os::unix::fs::symlink(&made, &link).unwrap();
    let real = sync(|lp| fs::realpath(lp, link.join("."), store)).unwrap();
    assert_eq!(real, made.canonicalize().unwrap());
    let missing = d.path().join("missing");
    let e = sync(|lp| fs::realpath(lp, &missing, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "realpath", &missing));
}

#[test]
fn access_modes() {
    let d = tmp();
    let p = file_with(d.path(), "f", b"");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    sync(|lp| fs::access(lp, &p, AccessMode::EXISTS, store)).unwrap();
    sync(|lp| fs::access(lp, &p, AccessMode::READ | AccessMode::WRITE, store)).unwrap();
    // No execute bit for anyone: refused even to root.
    let e = sync(|lp| fs::access(lp, &p, AccessMode::EXECUTE, store)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        e.to_string(),
        msg("EACCES: permission denied", "access", &p)
    );
    let missing = d.path().join("missing");
    let e = sync(|lp| fs::access(lp, &missing, AccessMode::EXISTS, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "access", &missing));
}

#[test]
fn read_write_append_whole_files() {
    let d = tmp();
    let p = d.path().join("whole");
    sync(|lp| fs::write_file(lp, &p, "first", store)).unwrap();
    sync(|lp| fs::write_file(lp, &p, b"second".to_vec(), store)).unwrap();
    sync(|lp| fs::append_file(lp, &p, " + more", store)).unwrap();
    assert_eq!(
        sync(|lp| fs::read_file(lp, &p, store)).unwrap(),
        b"second + more"
    );
    let q = d.path().join("appended");
    sync(|lp| fs::append_file(lp, &q, "new", store)).unwrap();
    assert_eq!(std::fs::read(&q).unwrap(), b"new");

    let missing = d.path().join("missing/file");
    let e = sync(|lp| fs::read_file(lp, &missing, store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "open", &missing));
    let e = sync(|lp| fs::write_file(lp, &missing, "x", store)).unwrap_err();
    assert_eq!(e.to_string(), msg(ENOENT, "open", &missing));
    let e = sync(|lp| fs::append_file(lp, &missing, "x", store)).unwrap_err();
    assert_eq!(code(&e), "ENOENT");
    // Node prints exactly this for fs.readFile of a directory.
    let e = sync(|lp| fs::read_file(lp, d.path(), store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "EISDIR: illegal operation on a directory, read"
    );
    let e = sync(|lp| fs::write_file(lp, d.path(), "x", store)).unwrap_err();
    assert_eq!(
        e.to_string(),
        msg("EISDIR: illegal operation on a directory", "open", d.path())
    );
}

#[test]
fn paths_with_nul_bytes_are_einval() {
    let bad = Path::new("a\0b");
    let e = sync(|lp| fs::stat(lp, bad, store)).unwrap_err();
    assert_eq!(code(&e), "EINVAL");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = sync(|lp| fs::access(lp, bad, AccessMode::EXISTS, store)).unwrap_err();
    assert_eq!(code(&e), "EINVAL");
    let e = sync(|lp| fs::mkdtemp(lp, bad, store)).unwrap_err();
    assert_eq!(code(&e), "EINVAL");
}
