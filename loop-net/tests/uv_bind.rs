//! Bind before listen or connect ([`TcpSocket`], [`UnixSocket`]) and the
//! unconnected [`Stream`]: libuv 1.46's test-tcp-bind-error.c,
//! test-tcp-bind6-error.c, test-pipe-bind-error.c and
//! test-tcp-connect-error.c, rewritten for this API (their asserted
//! results, not their code).

mod common;

use common::ports::{opts, run, run_log, sorted, L};
use common::{any_port, ipv6_loopback, watchdog};
use loop_core::{Loop, RunMode};
use loop_net::{Listener, ReadEvent, Stream, TcpSocket, UnixSocket};
use std::net::SocketAddr;

fn noop<D>(_: &mut Loop<D>, _: &mut D, _: Listener, _: loop_net::Result<()>) {}

/// `tcp_bind_error_addrinuse_listen`: two handles bind the same address
/// (both 0), the first listen succeeds, the second is `EADDRINUSE`.
#[test]
fn tcp_bind_error_addrinuse_listen() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    let mut a = TcpSocket::new();
    a.bind(any_port(), false).unwrap();
    let addr = a.local_addr().unwrap();
    let mut b = TcpSocket::new();
    b.bind(addr, false).unwrap();
    let l = a.listen(&mut lp, &opts(), noop).unwrap();
    let e = b.listen(&mut lp, &opts(), noop).unwrap_err();
    assert_eq!(e.code(), "EADDRINUSE");
    assert!(
        e.to_string()
            .starts_with(&format!("listen EADDRINUSE {addr}")),
        "{e}"
    );
    l.close(&mut lp, |_, log: &mut L| log.push("closed".into()))
        .unwrap();
    let log = run_log(&mut lp);
    assert_eq!(log, ["closed"]);
}

/// `tcp_bind_error_addrinuse_connect`: binding to a port that is
/// listened on returns 0; `getsockname` gives `EADDRINUSE`; the connect
/// callback gets `EADDRINUSE`, once, never from inside `connect`.
#[test]
fn tcp_bind_error_addrinuse_connect() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = Listener::listen(&mut lp, any_port(), &opts(), noop).unwrap();
    let busy = l.local_addr(&lp).unwrap().as_inet().unwrap();
    let mut s = TcpSocket::new();
    s.bind(busy, false).unwrap();
    assert_eq!(s.local_addr().unwrap_err().code(), "EADDRINUSE");
    let mut log = L::new();
    let c = s
        .connect(&mut lp, busy, move |lp, log: &mut L, c, r| {
            log.push(format!("connect {}", r.unwrap_err().code()));
            c.close(lp, |_, log: &mut L| log.push("closed".into()))
                .unwrap();
            l.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    assert!(c.is_connecting(&lp));
    log.push("returned".into());
    run(&mut lp, &mut log);
    assert_eq!(log, ["returned", "connect EADDRINUSE", "closed"]);
}

/// `tcp_bind_error_inval`: a second bind is `EINVAL`;
/// `tcp_bind_invalid_flags`: `IPV6ONLY` on an IPv4 address is `EINVAL`;
/// `tcp_bind_error_addrnotavail_2`: 4.4.4.4 is `EADDRNOTAVAIL`.
#[test]
fn tcp_bind_error_inval_flags_addrnotavail() {
    let mut s = TcpSocket::new();
    s.bind(any_port(), false).unwrap();
    let e = s.bind("127.0.0.1:0".parse().unwrap(), false).unwrap_err();
    assert_eq!(e.code(), "EINVAL", "{e}");
    let e = TcpSocket::new().bind(any_port(), true).unwrap_err();
    assert_eq!(e.code(), "EINVAL", "{e}");
    let e = TcpSocket::new()
        .bind("4.4.4.4:9123".parse().unwrap(), false)
        .unwrap_err();
    assert_eq!(e.code(), "EADDRNOTAVAIL", "{e}");
    assert!(
        e.to_string().starts_with("bind EADDRNOTAVAIL 4.4.4.4:9123"),
        "{e}"
    );
    // Before any bind there is no address.
    assert_eq!(TcpSocket::new().local_addr().unwrap_err().code(), "EBADF");
}

/// `tcp_listen_without_bind`: listen succeeds, on an ephemeral port of
/// 0.0.0.0, and takes connections there.
#[test]
fn tcp_listen_without_bind() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = TcpSocket::new()
        .listen(&mut lp, &opts(), |lp, log: &mut L, l, r| {
            r.unwrap();
            let s = l.accept(lp).unwrap();
            log.push("accepted".into());
            s.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    let at = l.local_addr(&lp).unwrap().as_inet().unwrap();
    assert!(
        at.ip().is_unspecified() && at.is_ipv4() && at.port() != 0,
        "{at}"
    );
    let peer = std::net::TcpStream::connect(("127.0.0.1", at.port())).unwrap();
    let mut log = L::new();
    run(&mut lp, &mut log);
    drop(peer);
    assert_eq!(log, ["accepted"]);
}

/// Bind, then connect: the connection leaves from the bound port (the
/// server sees it as the peer's, the stream as its own).
#[test]
fn tcp_bind_then_connect_uses_the_bound_port() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let mut s = TcpSocket::new();
    s.bind(any_port(), false).unwrap();
    let bound = s.local_addr().unwrap();
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &opts(),
        move |lp, log: &mut L, l, r| {
            r.unwrap();
            let a = l.accept(lp).unwrap();
            let peer = a.peer_addr(lp).unwrap().as_inet().unwrap();
            log.push(format!("server sees the bound port: {}", peer == bound));
            a.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        },
    )
    .unwrap();
    let to = l.local_addr(&lp).unwrap().as_inet().unwrap();
    s.connect(&mut lp, to, move |lp, log: &mut L, c, r| {
        r.unwrap();
        let local = c.local_addr(lp).unwrap().as_inet().unwrap();
        log.push(format!("connected from the bound port: {}", local == bound));
        c.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let log = sorted(run_log(&mut lp));
    assert_eq!(
        log,
        [
            "connected from the bound port: true",
            "server sees the bound port: true"
        ]
    );
}

/// test-tcp-bind6-error.c: the same on `::1` (addrinuse at listen, second
/// bind `EINVAL`, `4:4:4:4:4:4:4:4` not available, a v6 address on a
/// socket bound v4 `EINVAL`), and `IPV6ONLY` accepted on IPv6.
#[test]
fn tcp6_bind_errors() {
    assert!(ipv6_loopback(), "the test host has ::1");
    let mut lp: Loop<L> = Loop::new().unwrap();
    let v6: SocketAddr = "[::1]:0".parse().unwrap();
    let mut a = TcpSocket::new();
    a.bind(v6, true).unwrap();
    let addr = a.local_addr().unwrap();
    let mut b = TcpSocket::new();
    b.bind(addr, false).unwrap();
    let l = a.listen(&mut lp, &opts(), noop).unwrap();
    assert_eq!(
        b.listen(&mut lp, &opts(), noop).unwrap_err().code(),
        "EADDRINUSE"
    );
    let mut c = TcpSocket::new();
    c.bind(v6, false).unwrap();
    assert_eq!(c.bind(v6, false).unwrap_err().code(), "EINVAL");
    let e = TcpSocket::new()
        .bind("[4:4:4:4:4:4:4:4]:9123".parse().unwrap(), false)
        .unwrap_err();
    assert_eq!(e.code(), "EADDRNOTAVAIL");
    let mut d = TcpSocket::new();
    d.bind(any_port(), false).unwrap();
    assert_eq!(d.bind(v6, false).unwrap_err().code(), "EINVAL");
    l.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut L::new());
}

/// test-pipe-bind-error.c: `pipe_bind_error_addrinuse` (a second socket
/// on the path: `EADDRINUSE`, and it cannot listen: `EINVAL`),
/// `pipe_bind_error_addrnotavail` (missing directory: `EACCES`),
/// `pipe_bind_error_inval` (bound twice), `pipe_listen_without_bind`
/// (`EINVAL`); the socket file goes with the listener.
#[test]
fn pipe_bind_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    let mut a = UnixSocket::new();
    a.bind(&path).unwrap();
    let mut b = UnixSocket::new();
    assert_eq!(b.bind(&path).unwrap_err().code(), "EADDRINUSE");
    assert_eq!(
        b.listen(&mut lp, &opts(), noop).unwrap_err().code(),
        "EINVAL"
    );
    assert_eq!(
        a.bind(dir.path().join("q.sock")).unwrap_err().code(),
        "EINVAL"
    );
    let l = a.listen(&mut lp, &opts(), noop).unwrap();
    let e = UnixSocket::new()
        .bind("/path/to/unix/socket/that/really/should/not/be/there")
        .unwrap_err();
    assert_eq!(e.code(), "EACCES");
    let e = UnixSocket::new()
        .listen(&mut lp, &opts(), noop)
        .unwrap_err();
    assert_eq!(e.code(), "EINVAL");
    // An overlong path (libuv's pipe_overlong_path) is EINVAL too.
    let long = dir.path().join("x".repeat(200));
    assert_eq!(UnixSocket::new().bind(&long).unwrap_err().code(), "EINVAL");
    assert!(path.exists());
    l.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut L::new());
    assert!(!path.exists(), "removed with the listener");
    // Bound, never listened on: dropping it removes the file.
    let mut c = UnixSocket::new();
    c.bind(&path).unwrap();
    assert!(path.exists());
    drop(c);
    assert!(!path.exists());
}

/// `uv_pipe_bind` then `uv_pipe_connect`: the server sees the bound path
/// as the peer's address.
#[test]
fn pipe_bind_then_connect() {
    let dir = tempfile::tempdir().unwrap();
    let server_path = dir.path().join("server.sock");
    let client_path = dir.path().join("client.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let want = client_path.clone();
    Listener::listen_path(
        &mut lp,
        &server_path,
        &opts(),
        move |lp, log: &mut L, l, r| {
            r.unwrap();
            let a = l.accept(lp).unwrap();
            let peer = a.peer_addr(lp).unwrap();
            log.push(format!(
                "peer is the bound path: {}",
                peer.as_path() == Some(&*want)
            ));
            a.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        },
    )
    .unwrap();
    let mut c = UnixSocket::new();
    c.bind(&client_path).unwrap();
    c.connect(&mut lp, &server_path, |lp, log: &mut L, c, r| {
        r.unwrap();
        log.push("connected".into());
        c.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let log = sorted(run_log(&mut lp));
    assert_eq!(log, ["connected", "peer is the bound path: true"]);
    assert!(!client_path.exists() && !server_path.exists());
}

/// An unconnected stream (`uv_tcp_init`): not readable, `read_start` is
/// `ENOTCONN` (test-tcp-bind-error.c's `tcp_bind_writable_flags` for a
/// handle that is not connected), shutdown `ENOTCONN`; it keeps no loop
/// alive; `connect_to` twice is `EALREADY`; after `close_keep` the same id
/// connects again, counters from 0.
#[test]
fn unconnected_stream_connects_again_under_its_id() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    let s = Stream::new(&mut lp);
    assert!(s.is_unconnected(&lp) && !s.is_readable(&lp) && !s.is_writable(&lp));
    assert_eq!(
        s.read_start(&mut lp, |_, _, _, _| {}).unwrap_err().code(),
        "ENOTCONN"
    );
    assert_eq!(
        s.shutdown(&mut lp, |_, _, _| {}).unwrap_err().code(),
        "ENOTCONN"
    );
    let mut log = L::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap(), "not active");
    watchdog(&mut lp, 10_000);

    let l = Listener::listen(&mut lp, any_port(), &opts(), |lp, _, l, r| {
        r.unwrap();
        let a = l.accept(lp).unwrap();
        let _ = a.try_write(lp, b"hello");
        a.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let to = l.local_addr(&lp).unwrap().as_inet().unwrap();
    s.connect_to(&mut lp, to, on_connect).unwrap();
    let e = s.connect_to(&mut lp, to, on_connect).unwrap_err();
    assert_eq!(e.code(), "EALREADY");
    run_once_more(&mut lp, &mut log, s, to, l);
    assert_eq!(
        log,
        [
            "connected",
            "data 5",
            "eof after 5",
            "closed, unconnected true",
            "connected",
            "data 5",
            "eof after 5",
            "closed, unconnected true",
        ]
    );
}

/// Runs the loop until `s` is back unconnected, connects it again, runs,
/// then closes it and the listener for good.
fn run_once_more(lp: &mut Loop<L>, log: &mut L, s: Stream, to: SocketAddr, l: Listener) {
    // The listener keeps the loop alive: step until the stream is back.
    while !s.is_unconnected(lp) {
        lp.run(RunMode::Once, log).unwrap();
    }
    s.connect_to(lp, to, on_connect).unwrap();
    lp.run(RunMode::Once, log).unwrap();
    while !s.is_unconnected(lp) {
        lp.run(RunMode::Once, log).unwrap();
    }
    s.close(lp, |_, _| {}).unwrap();
    l.close(lp, |_, _| {}).unwrap();
    run(lp, log);
    assert!(!s.exists(lp), "closed for good");
}

/// The connect callback of the unconnected stream, each time: logs the
/// data and the EOF, then `close_keep`s it (back to unconnected).
fn on_connect(lp: &mut Loop<L>, log: &mut L, s: Stream, r: loop_net::Result<()>) {
    r.unwrap();
    log.push("connected".into());
    s.read_start(lp, |lp, log: &mut L, s, ev| match ev {
        ReadEvent::Data(b) => log.push(format!("data {}", b.len())),
        ReadEvent::Eof => {
            log.push(format!("eof after {}", s.bytes_read(lp)));
            s.close_keep(lp, move |lp, log: &mut L| {
                log.push(format!("closed, unconnected {}", s.is_unconnected(lp)));
            })
            .unwrap();
        }
        ReadEvent::Error(e) => panic!("{e}"),
    })
    .unwrap();
}

/// test-tcp-open.c: `tcp_open` (an unbound socket opened, then connect,
/// write, shutdown, close: each callback once), `tcp_open_bound` (a socket
/// bound outside, opened, then listen), and what `open` refuses: a
/// listening socket (`EINVAL`), a connected one (`EISCONN`), a datagram
/// socket (`EINVAL`).
#[test]
fn tcp_open_and_open_bound() {
    use socket2::{Domain, Socket, Type};
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    // tcp_open_bound
    let raw = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    raw.bind(&any_port().into()).unwrap();
    let bound = raw.local_addr().unwrap().as_socket().unwrap();
    let t = TcpSocket::open(raw.into()).unwrap();
    assert_eq!(t.local_addr().unwrap(), bound);
    let l = t
        .listen(&mut lp, &opts(), |lp, log: &mut L, l, r| {
            r.unwrap();
            let a = l.accept(lp).unwrap();
            log.push("accepted".into());
            a.read_start(lp, move |lp, log: &mut L, a, ev| match ev {
                ReadEvent::Data(b) => {
                    log.push(format!("server got {}", String::from_utf8_lossy(b)))
                }
                ReadEvent::Eof => {
                    a.close(lp, |_, _| {}).unwrap();
                    l.close(lp, |_, _| {}).unwrap();
                }
                ReadEvent::Error(e) => panic!("{e}"),
            })
            .unwrap();
        })
        .unwrap();
    assert_eq!(l.local_addr(&lp).unwrap().as_inet(), Some(bound));
    // tcp_open
    let raw = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let t = TcpSocket::open(raw.into()).unwrap();
    t.connect(&mut lp, bound, |lp, log: &mut L, c, r| {
        r.unwrap();
        log.push("connect".into());
        c.write_with(lp, &b"PING"[..], |_, log: &mut L, r| {
            r.unwrap();
            log.push("write".into());
        })
        .unwrap();
        c.shutdown(lp, move |lp, log: &mut L, r| {
            r.unwrap();
            log.push("shutdown".into());
            c.close(lp, |_, log: &mut L| log.push("close".into()))
                .unwrap();
        })
        .unwrap();
    })
    .unwrap();
    let log = sorted(run_log(&mut lp));
    assert_eq!(
        log,
        [
            "accepted",
            "close",
            "connect",
            "server got PING",
            "shutdown",
            "write"
        ]
    );
    // What open refuses.
    let listening = std::net::TcpListener::bind(any_port()).unwrap();
    let e = TcpSocket::open(listening.into()).unwrap_err();
    assert_eq!(e.code(), "EINVAL");
    let srv = std::net::TcpListener::bind(any_port()).unwrap();
    let connected = std::net::TcpStream::connect(srv.local_addr().unwrap()).unwrap();
    assert_eq!(
        TcpSocket::open(connected.into()).unwrap_err().code(),
        "EISCONN"
    );
    let udp = std::net::UdpSocket::bind(any_port()).unwrap();
    assert_eq!(TcpSocket::open(udp.into()).unwrap_err().code(), "EINVAL");
}
