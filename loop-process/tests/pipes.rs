//! Pipes as loop-net streams: a child's stdout and stderr read to EOF on
//! the loop, its stdin written with backpressure, `Stream::open_fd` on a
//! real pipe (access mode, `EINVAL`/`ENOTCONN` for what is no stream),
//! `socketpair`, and the `EEXIST` rule for the process's stdio.

mod common;

use common::{new_loop, MODES};
use loop_core::Loop;
use loop_net::{ReadEvent, Stream};
use loop_process::{socketpair, spawn, stderr, stdin, stdout, SpawnOptions, Stdio};
use loop_testkit::run_to_end;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Default, Debug)]
struct Seen {
    out: Vec<u8>,
    err: Vec<u8>,
    events: Vec<String>,
    exit: Option<(i64, i32)>,
}

/// Reads `s` to EOF into `pick(seen)`, logging `"{name} end"`, then closes it.
fn read_to_end(
    lp: &mut Loop<Seen>,
    s: Stream,
    name: &'static str,
    pick: fn(&mut Seen) -> &mut Vec<u8>,
) {
    s.read_start(lp, move |lp, seen, s, ev| match ev {
        ReadEvent::Data(b) => pick(seen).extend_from_slice(b),
        ReadEvent::Eof => {
            seen.events.push(format!("{name} end"));
            s.close(lp, move |_, seen: &mut Seen| {
                seen.events.push(format!("{name} close"))
            })
            .expect("open");
        }
        ReadEvent::Error(e) => panic!("{name}: {e}"),
    })
    .expect("read_start");
}

#[test]
fn child_stdout_and_stderr_to_eof() {
    for mode in MODES {
        let mut lp = new_loop::<Seen>(mode);
        let opts = SpawnOptions::new("/bin/sh")
            .args(["-c", "echo out; echo err >&2; exit 3"])
            .stdio(1, Stdio::Pipe)
            .stdio(2, Stdio::Pipe);
        let mut child = spawn(&mut lp, opts, |lp, seen: &mut Seen, p, st, sig| {
            seen.exit = Some((st, sig));
            seen.events.push("exit".into());
            p.close(lp, None).expect("open");
        })
        .expect("spawn");
        assert!(child.take_stream(&mut lp, 0).is_none(), "fd 0 is /dev/null");
        let out = child.take_stream(&mut lp, 1).expect("pipe").expect("open");
        let err = child.take_stream(&mut lp, 2).expect("pipe").expect("open");
        assert!(child.take_stream(&mut lp, 1).is_none(), "taken already");
        assert!(out.is_readable(&lp) && out.is_writable(&lp));
        read_to_end(&mut lp, out, "stdout", |s| &mut s.out);
        read_to_end(&mut lp, err, "stderr", |s| &mut s.err);
        let mut seen = Seen::default();
        run_to_end(&mut lp, &mut seen);
        assert_eq!(seen.out, b"out\n", "{mode:?}");
        assert_eq!(seen.err, b"err\n", "{mode:?}");
        assert_eq!(seen.exit, Some((3, 0)), "{mode:?}");
        for e in ["stdout end", "stderr end", "exit", "stdout close"] {
            assert!(seen.events.iter().any(|x| x == e), "{mode:?}: {seen:?}");
        }
    }
}

#[derive(Default)]
struct Echo {
    back: Vec<u8>,
    max_queue: usize,
    write_done: usize,
    shut: bool,
    exit: Option<(i64, i32)>,
}

/// `cat` gets 4 MiB on its stdin from the loop and sends it back on its
/// stdout: the kernel's socket buffers hold far less, so the stream's
/// queue has to hold the rest (backpressure) until `cat` reads it, and
/// `shutdown` gives `cat` its EOF once the queue is flushed.
#[test]
fn child_stdin_with_backpressure() {
    const TOTAL: usize = 4 << 20;
    const CHUNK: usize = 64 << 10;
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    let mut lp = new_loop::<Echo>(MODES[0]);
    let opts = SpawnOptions::new("cat")
        .stdio(0, Stdio::Pipe)
        .stdio(1, Stdio::Pipe);
    let mut child = spawn(&mut lp, opts, |lp, e: &mut Echo, p, st, sig| {
        e.exit = Some((st, sig));
        p.close(lp, None).expect("open");
    })
    .expect("spawn cat");
    let stdin_s = child.take_stream(&mut lp, 0).expect("pipe").expect("open");
    let stdout_s = child.take_stream(&mut lp, 1).expect("pipe").expect("open");
    let mut max_queue = 0;
    for chunk in data.chunks(CHUNK) {
        stdin_s
            .write_with(&mut lp, chunk.to_vec(), |_, e: &mut Echo, r| {
                r.expect("write to cat");
                e.write_done += 1;
            })
            .expect("write");
        max_queue = max_queue.max(stdin_s.write_queue_size(&lp));
    }
    stdin_s
        .shutdown(&mut lp, move |lp, e: &mut Echo, r| {
            r.expect("shutdown");
            e.shut = true;
            stdin_s.close(lp, |_, _| {}).expect("open");
        })
        .expect("shutdown");
    stdout_s
        .read_start(&mut lp, |lp, e: &mut Echo, s, ev| match ev {
            ReadEvent::Data(b) => e.back.extend_from_slice(b),
            ReadEvent::Eof => s.close(lp, |_, _| {}).expect("open"),
            ReadEvent::Error(err) => panic!("stdout: {err}"),
        })
        .expect("read_start");
    let mut e = Echo {
        max_queue,
        ..Echo::default()
    };
    run_to_end(&mut lp, &mut e);
    assert_eq!(e.exit, Some((0, 0)));
    assert!(e.shut);
    assert_eq!(e.write_done, TOTAL / CHUNK);
    assert!(
        e.max_queue > TOTAL / 2,
        "the queue held most of the 4 MiB: {}",
        e.max_queue
    );
    assert_eq!(e.back.len(), TOTAL);
    assert!(e.back == data, "cat sent back what it got");
}

#[derive(Default)]
struct Got(Vec<u8>, bool);

#[test]
fn open_fd_on_a_pipe_follows_the_access_mode() {
    let (r, w) = std::io::pipe().expect("pipe");
    let mut lp: Loop<Got> = Loop::new().expect("loop");
    let r = Stream::open_fd(&mut lp, r.into()).expect("read end");
    let w = Stream::open_fd(&mut lp, w.into()).expect("write end");
    assert!(r.is_readable(&lp) && !r.is_writable(&lp));
    assert!(w.is_writable(&lp) && !w.is_readable(&lp));
    let e = w
        .read_start(&mut lp, |_, _, _, _| {})
        .expect_err("write end");
    assert!(e.raw_os_error().is_some(), "{e}");
    let e = r.write(&mut lp, &b"x"[..]).expect_err("read end");
    assert!(e.raw_os_error().is_some(), "{e}");
    assert!(r.peer_addr(&lp).is_err(), "a pipe has no address");
    // A pipe has no half-close: shutdown fails, closing gives EOF.
    w.write(&mut lp, &b"through a pipe"[..]).expect("write");
    w.close(&mut lp, |_, _| {}).expect("open");
    r.read_start(&mut lp, |lp, g: &mut Got, s, ev| match ev {
        ReadEvent::Data(b) => g.0.extend_from_slice(b),
        ReadEvent::Eof => {
            g.1 = true;
            s.close(lp, |_, _| {}).expect("open");
        }
        ReadEvent::Error(e) => panic!("{e}"),
    })
    .expect("read_start");
    let mut g = Got::default();
    run_to_end(&mut lp, &mut g);
    assert_eq!(g.0, b"through a pipe");
    assert!(g.1, "EOF once the write end closed");
}

#[test]
fn open_fd_refuses_what_is_not_a_stream() {
    let mut lp: Loop<()> = Loop::new().expect("loop");
    let file = tempfile::tempfile().expect("tempfile");
    let e = Stream::open_fd(&mut lp, file.into()).expect_err("a regular file");
    assert_eq!(e.code(), "EINVAL", "{e}");
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let e = Stream::open_fd(&mut lp, l.into()).expect_err("a listener");
    assert_eq!(e.code(), "ENOTCONN", "{e}");
    let u = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let e = Stream::open_fd(&mut lp, u.into()).expect_err("a datagram socket");
    assert_eq!(e.code(), "EINVAL", "{e}");
    let null = std::fs::File::open("/dev/null").expect("open");
    let e = Stream::open_fd(&mut lp, null.into()).expect_err("epoll refuses /dev/null");
    assert_eq!(e.code(), "EPERM", "{e}");
    let (a, b) = std::os::unix::net::UnixStream::pair().expect("pair");
    drop(b);
    let s = Stream::open_fd(&mut lp, a.into()).expect("a connected socket");
    assert!(s.is_readable(&lp) && s.is_writable(&lp));
    s.close(&mut lp, |_, _| {}).expect("open");
    run_to_end(&mut lp, &mut ());
}

#[test]
fn socketpair_streams_talk() {
    let mut lp: Loop<Got> = Loop::new().expect("loop");
    let (a, b) = socketpair(&mut lp).expect("socketpair");
    a.write(&mut lp, &b"ping"[..]).expect("write");
    a.shutdown(&mut lp, move |lp, _, r| {
        r.expect("shutdown");
        a.close(lp, |_, _| {}).expect("open");
    })
    .expect("shutdown");
    b.read_start(&mut lp, |lp, g: &mut Got, s, ev| match ev {
        ReadEvent::Data(d) => g.0.extend_from_slice(d),
        ReadEvent::Eof => {
            g.1 = true;
            s.close(lp, |_, _| {}).expect("open");
        }
        ReadEvent::Error(e) => panic!("{e}"),
    })
    .expect("read_start");
    let mut g = Got::default();
    run_to_end(&mut lp, &mut g);
    assert_eq!(g.0, b"ping");
    assert!(g.1);
}

type Open = fn(&mut Loop<()>) -> Result<Stream, loop_process::Error>;

/// A second stream on fd 0, 1 or 2 while the first exists is `EEXIST`;
/// once the first is closed, the fd can be opened again, and the
/// process's own fd stayed open. Checked on each of the three that is
/// watchable here; one that is not must be what epoll refuses.
#[test]
fn stdio_twice_is_eexist() {
    let opens: [(i32, Open); 3] = [(0, stdin), (1, stdout), (2, stderr)];
    let mut checked = 0;
    for (n, open) in opens {
        let mut lp: Loop<()> = Loop::new().expect("loop");
        let s = match open(&mut lp) {
            Ok(s) => s,
            Err(e) => {
                let path = format!("/proc/self/fd/{n}");
                let meta = std::fs::metadata(&path).expect("fd");
                let null =
                    std::fs::read_link(&path).is_ok_and(|p| p == std::path::Path::new("/dev/null"));
                assert!(meta.is_file() || meta.is_dir() || null, "fd {n}: {e}");
                assert!(matches!(e.code(), Some("EINVAL" | "EPERM")), "{e}");
                continue;
            }
        };
        let e = open(&mut lp).expect_err("a second stream");
        assert_eq!(e.code(), Some("EEXIST"), "fd {n}: {e}");
        let closed = Rc::new(RefCell::new(false));
        let flag = closed.clone();
        s.close(&mut lp, move |_, _| *flag.borrow_mut() = true)
            .expect("open");
        run_to_end(&mut lp, &mut ());
        assert!(*closed.borrow());
        let again = open(&mut lp).expect("once the first is closed");
        again.close(&mut lp, |_, _| {}).expect("open");
        run_to_end(&mut lp, &mut ());
        assert!(
            std::fs::metadata(format!("/proc/self/fd/{n}")).is_ok(),
            "closing the stream left fd {n} open"
        );
        checked += 1;
    }
    eprintln!("stdio_twice_is_eexist: {checked} of fds 0-2 watchable here");
}
