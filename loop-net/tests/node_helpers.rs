//! The helpers a new user reached for (issue 16): the line reader, the
//! per-socket user data, the reads-only idle timeout, `end_with_deadline`,
//! `destroy_soon`, and `write` taking text and bytes alike.

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions, Socket};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

type Log = Vec<String>;

fn run_ok<D: 'static>(lp: &mut Loop<D>, d: &mut D) {
    let alive = lp.run(RunMode::Default, d).expect("run");
    assert!(!alive);
}

fn listen<D: 'static>(lp: &mut Loop<D>) -> (Server, SocketAddr) {
    let srv = Server::new(lp, ServerOptions::default());
    srv.listen(lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(lp).unwrap().as_inet().unwrap();
    (srv, addr)
}

/// Lines split on `\n` and `\r\n` across reads, the unterminated last line
/// before `on_end`, and the user's data found from the socket.
#[test]
fn lines_and_user_data() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = listen(&mut lp);
    struct Nick(String);
    srv.on_connection(&mut lp, move |lp, _, s| {
        s.set_data(lp, Nick("ada".into()));
        s.on_data(lp, |_, _, _, _| panic!("on_line replaces on_data"));
        s.on_line(lp, 64, |lp, log: &mut Log, s, line| {
            let nick = &s.data::<Nick, _>(lp).unwrap().0;
            log.push(format!("{nick}: {}", String::from_utf8_lossy(line)));
            s.data_mut::<Nick, _>(lp).unwrap().0.push('!');
        });
        s.on_end(lp, |_, log: &mut Log, _| log.push("end".into()));
        s.on_close(lp, move |lp, log: &mut Log, s, _| {
            // Still there for 'close' (to find the client's record), gone
            // after.
            assert_eq!(s.data::<Nick, _>(lp).unwrap().0, "ada!!!!");
            lp.set_immediate(move |lp, _| {
                assert!(s.data::<Nick, _>(lp).is_none(), "gone with the socket");
            });
            log.push("close".into());
            srv.close(lp);
        });
    });
    let mut c = peer(addr);
    let t = std::thread::spawn(move || {
        for chunk in [&b"hel"[..], b"lo\r\nwor", b"ld\n\n", b"last"] {
            c.write_all(chunk).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
    });
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    t.join().unwrap();
    assert_eq!(
        log,
        [
            "ada: hello",
            "ada!: world",
            "ada!!: ",
            "ada!!!: last",
            "end",
            "close"
        ]
    );
}

/// A line longer than the maximum destroys the socket with
/// `ERR_LINE_TOO_LONG`; the lines before it were delivered.
#[test]
fn line_too_long() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = listen(&mut lp);
    srv.on_connection(&mut lp, move |lp, _, s| {
        s.on_line(lp, 8, |_, log: &mut Log, _, line| {
            log.push(String::from_utf8_lossy(line).into_owned())
        });
        s.on_error(lp, |_, log: &mut Log, _, e| log.push(e.code().into()));
        s.on_close(lp, move |lp, log: &mut Log, _, had_error| {
            log.push(format!("close {had_error}"));
            srv.close(lp);
        });
    });
    let mut c = peer(addr);
    c.write_all(b"short\nthis one is far too long").unwrap();
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["short", "ERR_LINE_TOO_LONG", "close true"]);
}

/// `set_read_timeout` fires although the socket keeps writing (Node's
/// `set_timeout` would be re-armed by every write).
#[test]
fn read_timeout_ignores_writes() {
    const MS: u32 = 200;
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = listen(&mut lp);
    srv.on_connection(&mut lp, move |lp, _, s| {
        s.set_read_timeout(lp, MS);
        let started = Instant::now();
        // A write every 20 ms: a broadcast the silent client receives.
        let tick = lp.set_interval(20, move |lp, _, _| {
            s.write(lp, "news\n");
        });
        s.on_timeout(lp, move |lp, log: &mut Log, s| {
            let idle = started.elapsed();
            assert!(idle >= Duration::from_millis(MS as u64 - 5), "{idle:?}");
            log.push("timeout".into());
            lp.clear_timeout(tick);
            s.destroy(lp);
            srv.close(lp);
        });
    });
    let c = peer(addr);
    let t = std::thread::spawn(move || {
        let mut got = Vec::new();
        let _ = (&c).read_to_end(&mut got);
        got.len()
    });
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["timeout"]);
    assert!(t.join().unwrap() >= 5, "the writes went out meanwhile");
}

/// `end_with_deadline`: a peer that never sends its FIN is destroyed after
/// the deadline; `destroy_soon` destroys once our FIN is out, without the
/// peer's.
#[test]
fn end_with_deadline_and_destroy_soon() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = listen(&mut lp);
    let started = Instant::now();
    let mut n = 0;
    srv.on_connection(&mut lp, move |lp, _, s| {
        n += 1;
        let name = if n == 1 { "deadline" } else { "soon" };
        if n == 1 {
            s.end_with_deadline(lp, 150);
        } else {
            s.write(lp, String::from("bye\n"));
            s.destroy_soon(lp);
        }
        s.on_close(lp, move |lp, log: &mut Log, _, had_error| {
            let late = started.elapsed() >= Duration::from_millis(145);
            log.push(format!("{name} closed, error {had_error}, late {late}"));
            if log.len() == 2 {
                srv.close(lp);
            }
        });
    });
    let a = peer(addr);
    std::thread::sleep(Duration::from_millis(50));
    let b = peer(addr);
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    log.sort();
    assert_eq!(
        log,
        [
            "deadline closed, error false, late true",
            "soon closed, error false, late false"
        ]
    );
    assert_eq!(read_to_end(&b), b"bye\n");
    assert_eq!(read_to_end(&a), b"");
}

/// `write` and `end_with` take `&str`, `String`, `&[u8]`, `b"…"`, `Vec<u8>`
/// and `&Vec<u8>` as they are.
#[test]
fn write_takes_text_and_bytes() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = listen(&mut lp);
    srv.on_connection(&mut lp, move |lp, _, s: Socket| {
        let owned = vec![b'4'];
        s.write(lp, "1");
        s.write(lp, String::from("2"));
        s.write(lp, &b"3"[..]);
        s.write(lp, &owned);
        s.write(lp, owned);
        s.write(lp, b"5");
        s.end_with(lp, format!("{}", 6));
        srv.close(lp);
    });
    let c = peer(addr);
    // Reads to our FIN, then closes: the server socket sees EOF and ends.
    let t = std::thread::spawn(move || read_to_end(&c));
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(t.join().unwrap(), b"1234456");
}

/// `'finish'` after our FIN is out, before `'end'` and `'close'`. Node 20:
/// `c.on('finish'); c.on('end'); c.on('close'); c.end('x')` against a
/// server that reads and ends prints `finish`, `end`, `close`.
#[test]
fn finish_event() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = listen(&mut lp);
    srv.on_connection(&mut lp, |lp, _, s| s.on_data(lp, |_, _, _, _| {}));
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_connect(&mut lp, |lp, _, c| c.end_with(lp, "x"));
    c.on_finish(&mut lp, |_, log: &mut Log, _| log.push("finish".into()));
    c.on_end(&mut lp, |_, log: &mut Log, _| log.push("end".into()));
    c.on_close(&mut lp, move |lp, log: &mut Log, _, _| {
        log.push("close".into());
        srv.close(lp);
    });
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["finish", "end", "close"]);
}

/// `on_close_first` (for a layer built on sockets) runs before the
/// `on_close` handler, in the same close callback, whichever was set
/// first, and setting `on_close` again does not replace it.
#[test]
fn close_first_runs_before_on_close() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = loop_net::Stream::open_unix(&mut lp, a).unwrap();
    let sock = Socket::from_stream(&mut lp, s, true).unwrap();
    sock.on_close(&mut lp, |_, log: &mut Log, _, _| {
        log.push("replaced".into())
    });
    sock.on_close_first(&mut lp, |lp, log: &mut Log, _, had_error| {
        log.push(format!("first {had_error}"));
        lp.next_tick(|_, log| log.push("tick of first".into()));
    });
    sock.on_close(&mut lp, |_, log: &mut Log, _, had_error| {
        log.push(format!("close {had_error}"))
    });
    sock.destroy(&mut lp);
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["first false", "tick of first", "close false"]);
}

/// A write-only socket (a child's stdin): it never reads what the peer
/// sends, and it closes once its `end()` is flushed; a write after
/// `end()` is `ERR_STREAM_WRITE_AFTER_END`.
#[test]
fn a_write_only_socket_closes_after_its_end() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    b.write_all(b"never read").unwrap();
    let s = loop_net::Stream::open_unix(&mut lp, a).unwrap();
    let sock = Socket::from_stream_write_only(&mut lp, s).unwrap();
    sock.on_data(&mut lp, |_, _, _, _| panic!("a write-only socket reads"));
    sock.on_end(&mut lp, |_, _, _| panic!("a write-only socket ends"));
    sock.on_finish(&mut lp, |_, log: &mut Log, _| log.push("finish".into()));
    sock.on_close(&mut lp, |_, log: &mut Log, _, had_error| {
        log.push(format!("close {had_error}"))
    });
    sock.on_error(&mut lp, |_, log: &mut Log, _, e| {
        log.push(format!("error {}", e.code()))
    });
    sock.resume(&mut lp);
    assert!(sock.write(&mut lp, "hello"));
    let mut got = [0u8; 5];
    b.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"hello");
    sock.end(&mut lp);
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    // (b's next read is ECONNRESET, not EOF: the socket closed with
    // unread bytes, which a Unix socket reports so.)
    assert_eq!(log, ["finish", "close false"]);

    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = loop_net::Stream::open_unix(&mut lp, a).unwrap();
    let sock = Socket::from_stream_write_only(&mut lp, s).unwrap();
    sock.on_error(&mut lp, |_, log: &mut Log, _, e| {
        log.push(format!("error {}", e.code()))
    });
    sock.end(&mut lp);
    let e = sock.send(&mut lp, "late").unwrap_err();
    assert_eq!(e.code(), "ERR_STREAM_WRITE_AFTER_END");
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["error ERR_STREAM_WRITE_AFTER_END"]);
}
