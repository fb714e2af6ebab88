//! Ports of libuv's `test/test-fs.c` cases listed in libuv-tests.md: the
//! behaviour, rewritten against this crate's API.

mod common;

use common::{code, store, sync};
use loop_core::{Loop, RunMode};
use loop_fs::fs::{self, blocking, DirentKind, Fd, OpenFlags};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

#[test]
fn fs_file_noent() {
    let p = Path::new("does_not_exist");
    let e = blocking::open(p, OpenFlags::RDONLY, 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(code(&e), "ENOENT");

    let mut lp: Loop<usize> = Loop::new().unwrap();
    fs::open(&mut lp, p, OpenFlags::RDONLY, 0, |_, calls, r| {
        *calls += 1;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            "ENOENT: no such file or directory, open 'does_not_exist'"
        );
    })
    .unwrap();
    let mut calls = 0;
    lp.run(RunMode::Default, &mut calls).unwrap();
    assert_eq!(calls, 1);
}

/// The chain of `fs_file_async`: each step starts the next from its
/// callback; the log records each callback once, by operation.
#[test]
fn fs_file_async() {
    struct St {
        dir: PathBuf,
        log: Vec<&'static str>,
        fd: Option<Fd>,
    }
    type L = Loop<St>;
    fn path(st: &St, name: &str) -> PathBuf {
        st.dir.join(name)
    }

    fn create(lp: &mut L, st: &mut St) {
        let p = path(st, "test_file");
        fs::open(lp, p, "w+".parse().unwrap(), 0o600, |lp, st: &mut St, r| {
            st.log.push("open");
            let fd = r.unwrap();
            st.fd = Some(fd.clone());
            fs::write(
                lp,
                &fd,
                b"test-buffer\n\0",
                Some(0),
                |lp, st: &mut St, r| {
                    st.log.push("write");
                    assert_eq!(r.unwrap(), 13);
                    let fd = st.fd.clone().unwrap();
                    fs::fdatasync(lp, &fd, |lp, st: &mut St, r| {
                        r.unwrap();
                        st.log.push("fdatasync");
                        let fd = st.fd.clone().unwrap();
                        fs::fsync(lp, &fd, |lp, st: &mut St, r| {
                            r.unwrap();
                            st.log.push("fsync");
                            let fd = st.fd.take().unwrap();
                            fs::close(lp, fd, |lp, st: &mut St, r| {
                                r.unwrap();
                                st.log.push("close");
                                rename(lp, st);
                            })
                            .unwrap();
                        })
                        .unwrap();
                    })
                    .unwrap();
                },
            )
            .unwrap();
        })
        .unwrap();
    }

    fn rename(lp: &mut L, st: &mut St) {
        let (from, to) = (path(st, "test_file"), path(st, "test_file2"));
        fs::rename(lp, from, to, |lp, st: &mut St, r| {
            r.unwrap();
            st.log.push("rename");
            truncate(lp, st);
        })
        .unwrap();
    }

    fn truncate(lp: &mut L, st: &mut St) {
        let p = path(st, "test_file2");
        fs::open(lp, p, OpenFlags::RDWR, 0, |lp, st: &mut St, r| {
            st.log.push("open");
            let fd = r.unwrap();
            st.fd = Some(fd.clone());
            fs::read(lp, &fd, vec![0; 32], None, |lp, st: &mut St, r| {
                st.log.push("read");
                assert_eq!(r.unwrap(), b"test-buffer\n\0");
                let fd = st.fd.clone().unwrap();
                fs::ftruncate(lp, &fd, 7, |lp, st: &mut St, r| {
                    r.unwrap();
                    st.log.push("ftruncate");
                    let fd = st.fd.take().unwrap();
                    fs::close(lp, fd, |lp, st: &mut St, r| {
                        r.unwrap();
                        st.log.push("close");
                        reread(lp, st);
                    })
                    .unwrap();
                })
                .unwrap();
            })
            .unwrap();
        })
        .unwrap();
    }

    fn reread(lp: &mut L, st: &mut St) {
        let p = path(st, "test_file2");
        fs::open(lp, p, OpenFlags::RDONLY, 0, |lp, st: &mut St, r| {
            st.log.push("open");
            let fd = r.unwrap();
            st.fd = Some(fd.clone());
            fs::read(lp, &fd, vec![0; 32], None, |lp, st: &mut St, r| {
                st.log.push("read");
                assert_eq!(r.unwrap(), b"test-bu");
                let fd = st.fd.take().unwrap();
                fs::close(lp, fd, |lp, st: &mut St, r| {
                    r.unwrap();
                    st.log.push("close");
                    let p = path(st, "test_file2");
                    fs::unlink(lp, p, |_, st: &mut St, r| {
                        r.unwrap();
                        st.log.push("unlink");
                    })
                    .unwrap();
                })
                .unwrap();
            })
            .unwrap();
        })
        .unwrap();
    }

    let d = tempfile::tempdir().unwrap();
    let mut lp: L = Loop::new().unwrap();
    let mut st = St {
        dir: d.path().to_path_buf(),
        log: Vec::new(),
        fd: None,
    };
    create(&mut lp, &mut st);
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(
        st.log,
        [
            "open",
            "write",
            "fdatasync",
            "fsync",
            "close",
            "rename",
            "open",
            "read",
            "ftruncate",
            "close",
            "open",
            "read",
            "close",
            "unlink"
        ]
    );
    assert!(std::fs::read_dir(d.path()).unwrap().next().is_none());
}

#[test]
fn fs_read_file_eof() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f");
    std::fs::write(&p, b"test-buffer\n\0").unwrap();
    let fd = blocking::open(&p, OpenFlags::RDONLY, 0).unwrap();
    let all = sync(|lp| fs::read(lp, &fd, vec![0; 64], None, store)).unwrap();
    assert_eq!(all.len(), 13);
    // At offset == size: 0 bytes, not an error.
    let none = sync(|lp| fs::read(lp, &fd, vec![0; 64], Some(13), store)).unwrap();
    assert!(none.is_empty());
    let none = sync(|lp| fs::read(lp, &fd, vec![0; 64], None, store)).unwrap();
    assert!(none.is_empty());
}

#[test]
fn fs_write_multiple_bufs() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f");
    let fd = blocking::open(&p, "w+".parse().unwrap(), 0o600).unwrap();
    let n =
        sync(|lp| fs::writev(lp, &fd, vec![&b"test-buffer\n"[..], b"\0"], Some(0), store)).unwrap();
    assert_eq!(n, 13);
    // Two buffers, both filled, from the file offset after a rewind.
    let fd = blocking::open(&p, OpenFlags::RDONLY, 0).unwrap();
    let bufs = sync(|lp| fs::readv(lp, &fd, vec![vec![0; 12], vec![0; 1]], None, store)).unwrap();
    assert_eq!(bufs, [b"test-buffer\n".to_vec(), b"\0".to_vec()]);
    // A further read returns 0.
    let more = sync(|lp| fs::readv(lp, &fd, vec![vec![0; 12], vec![0; 1]], None, store)).unwrap();
    assert!(more.iter().all(Vec::is_empty));
    // Positional read at offset 0 works regardless of the file offset.
    let bufs = sync(|lp| fs::readv(lp, &fd, vec![vec![0; 4], vec![0; 7]], Some(0), store)).unwrap();
    assert_eq!(bufs, [b"test".to_vec(), b"-buffer".to_vec()]);
}

#[test]
fn fs_stat_missing_path() {
    let e = blocking::stat("non_existent_file").unwrap_err();
    assert_eq!(code(&e), "ENOENT");
    assert_eq!(
        e.to_string(),
        "ENOENT: no such file or directory, stat 'non_existent_file'"
    );
}

#[test]
fn fs_async_dir() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("test_dir");
    sync(|lp| fs::mkdir(lp, &dir, 0o755, store)).unwrap();
    blocking::write_file(dir.join("file1"), b"").unwrap();
    blocking::write_file(dir.join("file2"), b"").unwrap();
    let list = sync(|lp| fs::readdir(lp, &dir, store)).unwrap();
    assert_eq!(list.len(), 2);
    for (e, name) in list.iter().zip(["file1", "file2"]) {
        assert_eq!(e.name, name);
        assert_eq!(e.kind, DirentKind::File);
    }
    let m = sync(|lp| fs::stat(lp, &dir, store)).unwrap();
    assert!(m.is_dir());
    let mut slash = dir.clone().into_os_string();
    slash.push("/");
    let m = sync(|lp| fs::stat(lp, &slash, store)).unwrap();
    assert!(m.is_dir());
    let m = sync(|lp| fs::lstat(lp, &slash, store)).unwrap();
    assert!(m.is_dir());
    sync(|lp| fs::unlink(lp, dir.join("file1"), store)).unwrap();
    sync(|lp| fs::unlink(lp, dir.join("file2"), store)).unwrap();
    sync(|lp| fs::rmdir(lp, &dir, store)).unwrap();
    assert!(!dir.exists());
}

#[test]
fn fs_rename_to_existing_file() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("test_file"), d.path().join("test_file2"));
    blocking::write_file(&a, b"test-buffer\n\0").unwrap();
    blocking::write_file(&b, b"something else entirely").unwrap();
    sync(|lp| fs::rename(lp, &a, &b, store)).unwrap();
    assert!(!a.exists());
    assert_eq!(
        sync(|lp| fs::read_file(lp, &b, store)).unwrap(),
        b"test-buffer\n\0"
    );
}
