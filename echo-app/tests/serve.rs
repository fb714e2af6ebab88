//! The server, run as the real binary on 127.0.0.1: the listening line,
//! echo, many clients, backpressure, half-close, errors, shutdown,
//! workers, idle timeout, connection limit, statistics.

mod common;

use common::*;
use rustix::process::Signal;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn listening_line_shows_the_real_port() {
    let (_app, addr) = App::serve(&[]);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);

    // No subcommand: `serve`, on 0.0.0.0 by default.
    let mut app = App::spawn(&["--port", "0"]);
    let line = app.line(WAIT).expect("a listening line");
    let port: u16 = line
        .strip_prefix("listening on 0.0.0.0:")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .parse()
        .expect("a port");
    assert_ne!(port, 0);
    let mut c = connect(([127, 0, 0, 1], port).into());
    assert_eq!(echo(&mut c, b"default\n"), b"default\n");
}

#[test]
fn echoes_through_a_plain_tcp_client() {
    let (_app, addr) = App::serve(&[]);
    let mut c = connect(addr);
    assert_eq!(echo(&mut c, b"hello\n"), b"hello\n");
    let all: Vec<u8> = (0..=255u8).collect();
    assert_eq!(echo(&mut c, &all), all);
    let big = pattern(60_000);
    assert_eq!(echo(&mut c, &big), big);
}

#[test]
fn serves_100_clients_at_once() {
    let (_app, addr) = App::serve(&[]);
    let mut conns: Vec<_> = (0..100).map(|_| connect(addr)).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.write_all(format!("client {i}\n").as_bytes()).unwrap();
    }
    for (i, c) in conns.iter_mut().enumerate() {
        let want = format!("client {i}\n");
        let mut got = vec![0; want.len()];
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, want.as_bytes());
    }
}

#[test]
fn half_close_gets_every_byte_then_eof() {
    let (_app, addr) = App::serve(&[]);
    for len in [0usize, 1, 65_537, 4 << 20] {
        let data = pattern(len);
        let got = half_close_echo(&connect(addr), &data);
        assert_eq!(got.len(), len, "echoed length for {len} B");
        assert!(got == data, "echoed bytes differ for {len} B");
    }
}

#[test]
fn a_client_that_never_reads_is_bounded_and_others_are_served() {
    let (app, addr) = App::serve(&[]);
    let mut other = connect(addr);
    assert_eq!(echo(&mut other, b"warm up"), b"warm up");
    let rss0 = app.rss_kib();

    let hog = connect(addr);
    hog.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = pattern(1 << 20);
        let mut sent = 0usize;
        while sent < 200 << 20 {
            match (&hog).write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break, // blocked for 2 s: the server stopped reading
            }
        }
        (sent, hog)
    });
    // Meanwhile another client keeps its latency.
    let msg = pattern(1024);
    let mut worst = Duration::ZERO;
    let end = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < end {
        let t = Instant::now();
        assert_eq!(echo(&mut other, &msg), msg);
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(5));
    }
    let (sent, _hog) = writer.join().unwrap();
    let rss1 = app.rss_kib();
    assert!(
        worst < Duration::from_millis(500),
        "worst echo latency {worst:?}"
    );
    assert!(sent < 100 << 20, "the hog wrote {sent} B: no backpressure");
    assert!(
        rss1 < rss0 + 32 * 1024,
        "server RSS grew from {rss0} KiB to {rss1} KiB"
    );
}

#[test]
fn port_in_use_is_one_line_and_exit_1() {
    let (_app, addr) = App::serve(&[]);
    let port = addr.port().to_string();
    let mut second = App::spawn(&["serve", "--host", "127.0.0.1", "--port", &port]);
    let st = second.wait_exit(WAIT);
    assert_eq!(st.code(), Some(1));
    assert_eq!(
        second.stderr(),
        format!("error: listen 127.0.0.1:{port}: address already in use\n")
    );
    assert!(second.rest_of_stdout().is_empty());
}

#[test]
fn sigint_refuses_new_connections_and_lets_open_ones_finish() {
    let (mut app, addr) = App::serve(&[]);
    let mut a = connect(addr);
    let b = connect(addr);
    assert_eq!(echo(&mut a, b"before"), b"before");
    app.signal(Signal::INT);
    assert!(app.wait_stderr("SIGINT: listener closed", WAIT));
    open_clients_finish(addr, a, b);
    let last = exit_0_summary(&mut app, Duration::from_secs(10));
    assert!(last.starts_with("shutdown complete: "), "{last}");
    assert!(last.contains(" open=0 "), "{last}");
}

#[test]
fn second_sigint_stops_at_once_with_non_zero_status() {
    let (mut app, addr) = App::serve(&[]);
    let mut c = connect(addr);
    assert_eq!(echo(&mut c, b"x"), b"x");
    app.signal(Signal::INT);
    assert!(app.wait_stderr("SIGINT: listener closed", WAIT));
    app.signal(Signal::INT);
    let st = app.wait_exit(Duration::from_secs(5));
    assert_eq!(st.code(), Some(130));
    assert!(
        app.stderr().contains("error: second SIGINT"),
        "{}",
        app.stderr()
    );
}

#[test]
fn sigterm_drains_and_shutdown_timeout_ends_it() {
    let (mut app, addr) = App::serve(&["--shutdown-timeout", "0.5"]);
    let mut c = connect(addr);
    assert_eq!(echo(&mut c, b"x"), b"x");
    let t = Instant::now();
    app.signal(Signal::TERM);
    let st = app.wait_exit(Duration::from_secs(10));
    assert_eq!(st.code(), Some(1));
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert!(
        app.stderr().contains("shutdown timeout"),
        "{}",
        app.stderr()
    );
}

#[test]
fn sigint_with_no_client_exits_0_at_once() {
    let (mut app, _addr) = App::serve(&[]);
    app.signal(Signal::INT);
    let st = app.wait_exit(Duration::from_secs(10));
    assert_eq!(st.code(), Some(0));
    let out = app.rest_of_stdout();
    assert!(out
        .last()
        .unwrap()
        .starts_with("shutdown complete: connections=0 "));
}

#[test]
fn two_workers_serve() {
    let (app, addr) = App::serve(&["--workers", "2"]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", app.pid())).unwrap();
    let threads: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        threads >= 3,
        "{threads} threads: control + 2 workers expected"
    );
    let mut conns: Vec<_> = (0..40).map(|_| connect(addr)).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        let msg = format!("worker test {i}\n");
        assert_eq!(echo(c, msg.as_bytes()), msg.as_bytes());
    }
}

#[test]
fn idle_connections_are_closed_and_busy_ones_kept() {
    let (_app, addr) = App::serve(&["--idle-timeout", "0.4"]);
    let mut idle = connect(addr);
    let mut busy = connect(addr);
    assert_eq!(echo(&mut idle, b"x"), b"x");
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(1200) {
        assert_eq!(echo(&mut busy, b"ping"), b"ping");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut buf = [0u8; 1];
    let n = idle.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the idle connection should be closed");
    assert_eq!(echo(&mut busy, b"still"), b"still");
}

#[test]
fn max_connections_closes_the_extra_one() {
    let (_app, addr) = App::serve(&["--max-connections", "2"]);
    let mut a = connect(addr);
    let mut b = connect(addr);
    assert_eq!(echo(&mut a, b"a"), b"a");
    assert_eq!(echo(&mut b, b"b"), b"b");
    let mut c = connect(addr);
    let _ = c.write_all(b"c");
    let mut buf = [0u8; 1];
    assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)), "third served");
    drop(a);
    // A slot is free again once the server saw the close.
    assert!(eventually(Duration::from_secs(5), || {
        let mut d = connect(addr);
        d.write_all(b"d").is_ok() && matches!(d.read(&mut buf), Ok(1))
    }));
}

#[test]
fn stats_line_appears() {
    let (mut app, addr) = App::serve(&["--stats", "0.2"]);
    let mut c = connect(addr);
    assert_eq!(echo(&mut c, b"count me"), b"count me");
    let line = app.line(WAIT).expect("a stats line");
    assert!(line.starts_with("stats: conns="), "{line}");
    assert!(line.contains("loop_idle="), "{line}");
}

#[test]
fn bad_option_is_an_error_without_panic() {
    let mut app = App::spawn(&["serve", "--idle-timeout", "abc"]);
    let st = app.wait_exit(WAIT);
    assert_eq!(st.code(), Some(2)); // a usage error
    let err = app.stderr();
    assert!(err.starts_with("error: invalid value 'abc'"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let mut app = App::spawn(&[
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log",
        "=bad==",
    ]);
    let st = app.wait_exit(WAIT);
    assert_eq!(st.code(), Some(1));
    assert!(app.stderr().starts_with("error: --log"), "{}", app.stderr());
}
