//! The Node.js level (`Server`, `Socket`): half-close both ways, errors,
//! draining close, max_connections, idle timeout, write after end,
//! pause_on_connect, name lookups.

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions, Socket, Stream};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

type Log = Vec<String>;

fn run<D: 'static>(lp: &mut Loop<D>, d: &mut D) {
    let alive = lp.run(RunMode::Default, d).expect("run");
    assert!(!alive);
}

fn server<D: 'static>(lp: &mut Loop<D>, opts: ServerOptions) -> (Server, SocketAddr) {
    let srv = Server::new(lp, opts);
    srv.listen(lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(lp).unwrap().as_inet().unwrap();
    (srv, addr)
}

/// The client ends first; the server (allow_half_open) still writes after
/// reading its FIN, then ends; the client reads that after its own end.
#[test]
fn half_close_client_first() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(
        &mut lp,
        ServerOptions {
            allow_half_open: true,
            ..ServerOptions::default()
        },
    );
    srv.on_connection(&mut lp, |lp, _, sock| {
        sock.on_data(lp, |_, log: &mut Log, _, b| {
            log.push(format!("server data {}", String::from_utf8_lossy(b)))
        });
        sock.on_end(lp, |lp, log: &mut Log, sock| {
            log.push("server end".into());
            assert!(
                sock.write(lp, &b"bye"[..]),
                "still writable after the peer's FIN"
            );
            sock.end(lp);
        });
        sock.on_close(lp, |_, log: &mut Log, _, e| {
            log.push(format!("server close {e}"))
        });
    });
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.set_allow_half_open(&mut lp, true);
    c.write(&mut lp, &b"hello"[..]);
    c.end(&mut lp);
    c.on_data(&mut lp, |_, log: &mut Log, _, b| {
        log.push(format!("client data {}", String::from_utf8_lossy(b)))
    });
    c.on_end(&mut lp, |_, log: &mut Log, _| log.push("client end".into()));
    c.on_close(&mut lp, move |lp, log: &mut Log, _, e| {
        log.push(format!("client close {e}"));
        srv.close(lp);
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    let pos = |what: &str| {
        log.iter()
            .position(|e| e == what)
            .unwrap_or_else(|| panic!("no {what} in {log:?}"))
    };
    assert!(pos("server data hello") < pos("server end"));
    assert!(pos("server end") < pos("client data bye"));
    assert!(pos("client data bye") < pos("client end"));
    assert!(pos("client end") < pos("client close false"));
    pos("server close false");
}

/// The server ends first; the client (allow_half_open) reads the end,
/// answers, and ends; the server reads the answer after its own end.
#[test]
fn half_close_server_first() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, |lp, _, sock| {
        sock.end_with(lp, &b"welcome"[..]);
        assert!(sock.is_ended(lp));
        sock.on_data(lp, |_, log: &mut Log, _, b| {
            log.push(format!("server data {}", String::from_utf8_lossy(b)))
        });
        sock.on_end(lp, |_, log: &mut Log, _| log.push("server end".into()));
        sock.on_close(lp, |_, log: &mut Log, _, e| {
            log.push(format!("server close {e}"))
        });
    });
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.set_allow_half_open(&mut lp, true);
    c.on_data(&mut lp, |_, log: &mut Log, _, b| {
        log.push(format!("client data {}", String::from_utf8_lossy(b)))
    });
    c.on_end(&mut lp, |lp, log: &mut Log, c| {
        log.push("client end".into());
        c.end_with(lp, &b"thanks"[..]);
    });
    c.on_close(&mut lp, move |lp, log: &mut Log, _, e| {
        log.push(format!("client close {e}"));
        srv.close(lp);
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    let pos = |what: &str| {
        log.iter()
            .position(|e| e == what)
            .unwrap_or_else(|| panic!("no {what} in {log:?}"))
    };
    assert!(pos("client data welcome") < pos("client end"));
    assert!(pos("client end") < pos("server data thanks"));
    assert!(pos("server data thanks") < pos("server end"));
    assert!(pos("server end") < pos("server close false"));
    pos("client close false");
}

/// Without allow_half_open, the peer's FIN ends our side too (after the
/// queued writes): a std client that shuts down gets everything, then EOF.
#[test]
fn fin_ends_our_side_without_half_open() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, |lp, _, sock| {
        sock.on_data(lp, |lp, _, sock, b| {
            sock.write(lp, b.to_vec());
            sock.write(lp, &b"!"[..]);
        });
        sock.on_end(lp, |_, log: &mut Log, _| log.push("end".into()));
        sock.on_close(lp, |_, log: &mut Log, _, e| log.push(format!("close {e}")));
    });
    let done = on_signal(&mut lp, move |lp, _| srv.close(lp));
    let client = std::thread::spawn(move || {
        let mut c = peer(addr);
        c.write_all(b"abc").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let got = read_to_end(&c);
        done.send().unwrap();
        got
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(client.join().unwrap(), b"abc!");
    assert_eq!(log, ["end", "close false"]);
}

/// The peer resets the connection while we write a lot: the writer gets
/// `on_error` (ECONNRESET or EPIPE), then `on_close(true)`; no panic.
#[test]
fn peer_rst_mid_write() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, move |lp, _, sock| {
        sock.on_error(lp, |_, log: &mut Log, _, e| {
            log.push(format!("error {}", e.code()))
        });
        sock.on_close(lp, move |lp, log: &mut Log, _, had_error| {
            log.push(format!("close {had_error}"));
            srv.close(lp);
        });
        // Write until the queue is deep, and keep writing on drain.
        fn fill<D: 'static>(lp: &mut Loop<D>, sock: Socket) {
            for _ in 0..64 {
                if !sock.write(lp, vec![b'x'; 64 * 1024]) {
                    break;
                }
            }
        }
        fill(lp, sock);
        sock.on_drain(lp, |lp, _, sock| fill(lp, sock));
    });
    let client = std::thread::spawn(move || {
        let c = peer(addr);
        let mut buf = [0u8; 4096];
        (&c).read_exact(&mut buf).unwrap();
        // SO_LINGER 0: close sends RST.
        socket2::SockRef::from(&c)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(c);
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    client.join().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log[0] == "error ECONNRESET" || log[0] == "error EPIPE",
        "{log:?}"
    );
    assert_eq!(log[1], "close true");
}

/// Connect refused: `on_error` names the address, then `on_close(true)`;
/// no `on_connect`.
#[test]
fn connect_refused() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let addr = refused_addr();
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_connect(&mut lp, |_, _, _| panic!("connected to a closed port"));
    c.on_error(&mut lp, |_, log: &mut Log, _, e| log.push(e.to_string()));
    c.on_close(&mut lp, |_, log: &mut Log, _, e| {
        log.push(format!("close {e}"))
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log.len(), 2);
    assert!(
        log[0].starts_with(&format!("connect ECONNREFUSED {addr}: ")),
        "{}",
        log[0]
    );
    assert_eq!(log[1], "close true");
}

/// listen on a port in use: `on_error` on the next tick, with a clear
/// message; `listen` itself succeeds; a second listen is refused.
#[test]
fn listen_eaddrinuse() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let (first, addr) = server(&mut lp, ServerOptions::default());
    assert!(first.is_listening(&lp));
    let e = first.listen(&mut lp, 0, Some("127.0.0.1")).unwrap_err();
    assert_eq!(e.code(), "ERR_SERVER_ALREADY_LISTEN");
    let second = Server::new(&mut lp, ServerOptions::default());
    second.on_listening(&mut lp, |_, _| panic!("listening on a port in use"));
    second.on_error(&mut lp, move |lp, log: &mut Log, e| {
        log.push(e.to_string());
        first.close(lp);
    });
    second
        .listen(&mut lp, addr.port(), Some("127.0.0.1"))
        .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log.len(), 1);
    assert!(
        log[0].starts_with(&format!("listen EADDRINUSE {addr}: Address")),
        "{}",
        log[0]
    );
}

/// server.close(cb) with open connections: no new connection is accepted,
/// and cb runs once, only after every connection ended.
#[test]
fn server_close_drains() {
    const N: usize = 3;
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, move |lp, _, sock| {
        sock.on_close(lp, |_, log: &mut Log, _, _| {
            log.push("server socket closed".into())
        });
        if srv.connection_count(lp) == N {
            srv.close_with(lp, move |lp, log: &mut Log, r| {
                r.unwrap();
                assert_eq!(srv.connection_count(lp), 0);
                log.push("server closed".into());
            });
            assert!(!srv.is_listening(lp));
            // Refused at once: the listening socket is closed.
            let e = std::net::TcpStream::connect(addr).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
            // End the clients one by one.
            for i in 0..N {
                lp.add_timer(20 * (i as u64 + 1), 0, move |_, log: &mut Log| {
                    log.push(format!("client {i} ends"));
                });
            }
        }
    });
    let clients: Vec<Socket> = (0..N)
        .map(|_| Socket::connect(&mut lp, addr).unwrap())
        .collect();
    for (i, c) in clients.iter().enumerate() {
        let c = *c;
        lp.add_timer(20 * (i as u64 + 1) + 100, 0, move |lp, _| c.end(lp));
    }
    let mut log = Log::new();
    run(&mut lp, &mut log);
    let closed_at = log
        .iter()
        .position(|e| e == "server closed")
        .expect("close callback ran");
    assert_eq!(log.iter().filter(|e| *e == "server closed").count(), 1);
    let sockets_before = log[..closed_at]
        .iter()
        .filter(|e| *e == "server socket closed")
        .count();
    // The callback runs on the tick after the last socket is destroyed,
    // before that socket's own close event (as Node.js).
    assert!(sockets_before >= N - 1, "{log:?}");
    assert!(
        log[..closed_at]
            .iter()
            .filter(|e| e.ends_with("ends"))
            .count()
            == N,
        "{log:?}"
    );
    // Closing a closed server: ERR_SERVER_NOT_RUNNING.
    srv.close_with(&mut lp, |_, log: &mut Log, r| {
        log.push(r.unwrap_err().code().into())
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["ERR_SERVER_NOT_RUNNING"]);
}

/// max_connections: connections past it are closed right after accept.
#[test]
fn max_connections() {
    let mut lp: Loop<usize> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    srv.set_max_connections(&mut lp, Some(2));
    srv.on_connection(&mut lp, |lp, served: &mut usize, sock| {
        *served += 1;
        sock.on_data(lp, |lp, _, sock, b| {
            sock.write(lp, b.to_vec());
        });
    });
    let done = on_signal(&mut lp, move |lp, _| srv.close(lp));
    let client = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for _ in 0..2 {
            let mut c = peer(addr);
            c.write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            c.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ping");
            kept.push(c);
        }
        let mut refused = 0;
        for _ in 0..2 {
            let mut c = peer(addr);
            let _ = c.write_all(b"ping");
            let mut buf = Vec::new();
            match c.read_to_end(&mut buf) {
                Ok(_) => assert!(buf.is_empty(), "a dropped connection was served"),
                Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
            }
            refused += 1;
        }
        drop(kept);
        done.send().unwrap();
        refused
    });
    let mut served = 0;
    run(&mut lp, &mut served);
    assert_eq!(client.join().unwrap(), 2);
    assert_eq!(served, 2);
    assert_eq!(srv.dropped_count(&lp), 2);
}

/// Idle timeout: `on_timeout` once the socket was idle for the delay
/// (not before, not while data flows), and the socket stays usable.
#[test]
fn idle_timeout() {
    struct St {
        log: Log,
        last_data: Option<Instant>,
    }
    const IDLE_MS: u32 = 400;
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 15_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, |lp, _, sock| {
        sock.set_timeout(lp, IDLE_MS);
        sock.on_data(lp, |_, st: &mut St, _, _| {
            st.last_data = Some(Instant::now())
        });
        sock.on_timeout(lp, |lp, st: &mut St, sock| {
            let idle = st.last_data.expect("data came first").elapsed();
            assert!(
                idle >= Duration::from_millis(IDLE_MS as u64 - 5),
                "fired after {idle:?} idle"
            );
            assert!(idle < Duration::from_secs(10));
            st.log.push("timeout".into());
            // Not closed by the timeout: still writable.
            assert!(!sock.is_destroyed(lp));
            assert!(sock.write(lp, &b"still here"[..]));
            sock.end(lp);
        });
        sock.on_close(lp, |_, st: &mut St, _, e| st.log.push(format!("close {e}")));
    });
    let done = on_signal(&mut lp, move |lp, _| srv.close(lp));
    let client = std::thread::spawn(move || {
        let mut c = peer(addr);
        // Activity every 20 ms for 300 ms: no timeout meanwhile.
        for _ in 0..15 {
            c.write_all(b".").unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let t0 = Instant::now();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        done.send().unwrap();
        (got, t0.elapsed())
    });
    let mut st = St {
        log: Log::new(),
        last_data: None,
    };
    run(&mut lp, &mut st);
    let (got, waited) = client.join().unwrap();
    assert_eq!(got, b"still here");
    assert!(
        waited >= Duration::from_millis(IDLE_MS as u64 - 50),
        "{waited:?}"
    );
    assert_eq!(st.log, ["timeout", "close false"]);
}

/// write after end: `false`, the callback and `on_error` get
/// ERR_STREAM_WRITE_AFTER_END, the socket closes with had_error; a write
/// after destroy does nothing. At the stream level it is EPIPE.
#[test]
fn write_after_end_is_an_error() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(&mut lp, ServerOptions::default());
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_connect(&mut lp, |lp, log: &mut Log, c| {
        log.push("connect".into());
        c.end(lp);
        let ok = c.write_with(lp, &b"late"[..], |_, log: &mut Log, r| {
            log.push(format!("write cb {}", r.unwrap_err().code()))
        });
        assert!(!ok);
    });
    c.on_error(&mut lp, |_, log: &mut Log, _, e| {
        log.push(format!("error {}", e.code()))
    });
    c.on_close(&mut lp, move |lp, log: &mut Log, c, had_error| {
        log.push(format!("close {had_error}"));
        assert!(!c.write(lp, &b"after destroy"[..]));
        srv.close(lp);
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(
        log,
        [
            "connect",
            "write cb ERR_STREAM_WRITE_AFTER_END",
            "error ERR_STREAM_WRITE_AFTER_END",
            "close true"
        ]
    );
    // The libuv level: EPIPE from the call, no panic.
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.shutdown(&mut lp, |_, _, _| {}).unwrap();
    let e = s.write(&mut lp, &b"x"[..]).unwrap_err();
    assert_eq!((e.op(), e.code()), ("write", "EPIPE"));
    s.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut Log::new());
}

/// pause_on_connect: no data until resume.
#[test]
fn pause_on_connect() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(
        &mut lp,
        ServerOptions {
            pause_on_connect: true,
            ..ServerOptions::default()
        },
    );
    srv.on_connection(&mut lp, move |lp, log: &mut Log, sock| {
        assert!(sock.is_paused(lp));
        log.push("connection".into());
        sock.on_data(lp, move |lp, log: &mut Log, sock, b| {
            log.push(format!("data {}", String::from_utf8_lossy(b)));
            sock.destroy(lp);
            srv.close(lp);
        });
        lp.add_timer(100, 0, move |lp, log: &mut Log| {
            log.push("resume".into());
            sock.resume(lp);
        });
    });
    let mut c = peer(addr);
    c.write_all(b"early").unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["connection", "resume", "data early"]);
}

/// Destroy during a pending connect: `on_close(false)`, no connect, no
/// error; the same during a name lookup.
#[test]
fn destroy_while_connecting() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = l.local_addr().unwrap();
    let a = Socket::connect(&mut lp, addr).unwrap();
    let b = Socket::connect_host(&mut lp, "localhost", addr.port()).unwrap();
    for (name, c) in [("a", a), ("b", b)] {
        c.on_connect(&mut lp, |_, _, _| panic!("connected after destroy"));
        c.on_error(&mut lp, |_, _, _, e| panic!("error after destroy: {e}"));
        c.on_close(&mut lp, move |_, log: &mut Log, _, e| {
            log.push(format!("{name} close {e}"))
        });
        assert!(c.is_connecting(&lp));
        c.destroy(&mut lp);
    }
    let mut log = Log::new();
    run(&mut lp, &mut log);
    // Close callbacks run in reverse order of close (libuv).
    assert_eq!(log, ["b close false", "a close false"]);
}

/// Connect and listen by host name (loop-fs's lookup): "localhost" may
/// give ::1 first where nothing listens; the next address is tried.
#[test]
fn connect_and_listen_by_name() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, |lp, _, sock| {
        sock.on_data(lp, |lp, _, sock, b| {
            sock.write(lp, b.to_vec());
        });
    });
    srv.on_listening(&mut lp, move |lp, log: &mut Log| {
        let a = srv.address(lp).unwrap().as_inet().unwrap();
        assert!(a.ip().is_loopback(), "{a}");
        log.push("listening".into());
        // A server on 127.0.0.1 only: if localhost is ::1 first, that
        // address is refused and 127.0.0.1 is tried next.
        let c = Socket::connect_host(lp, "localhost", a.port()).unwrap();
        c.write(lp, &b"by name"[..]);
        c.on_data(lp, |lp, log: &mut Log, c, b| {
            log.push(format!("data {}", String::from_utf8_lossy(b)));
            c.end(lp);
        });
        c.on_error(lp, |_, _, _, e| panic!("{e}"));
        c.on_close(lp, move |lp, _, _, _| srv.close(lp));
    });
    srv.on_error(&mut lp, |_, _, e| panic!("{e}"));
    // Node.js resolves the listen host too; bind to the IPv4 loopback.
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["listening", "data by name"]);

    // listen("localhost"): resolved, then listening on a loopback address.
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.on_listening(&mut lp, move |lp, log: &mut Log| {
        let a = srv.address(lp).unwrap().as_inet().unwrap();
        log.push(format!("listening loopback={}", a.ip().is_loopback()));
        srv.close(lp);
    });
    srv.on_error(&mut lp, |_, _, e| panic!("{e}"));
    srv.listen(&mut lp, 0, Some("localhost")).unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["listening loopback=true"]);
}

/// Socket options and addresses at the Node level.
#[test]
fn socket_options_and_addresses() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (srv, addr) = server(
        &mut lp,
        ServerOptions {
            no_delay: true,
            keep_alive: Some(30_000),
            ..ServerOptions::default()
        },
    );
    srv.on_connection(&mut lp, move |lp, log: &mut Log, sock| {
        let remote = sock.remote_address(lp).unwrap();
        let local = sock.local_address(lp).unwrap();
        assert_eq!(local.as_inet().unwrap(), addr);
        log.push(format!(
            "remote loopback={}",
            remote.as_inet().unwrap().ip().is_loopback()
        ));
        sock.set_keep_alive(lp, true, 500).unwrap(); // < 1 s: system default idle
        sock.set_keep_alive(lp, false, 0).unwrap();
        sock.set_no_delay(lp, false).unwrap();
        sock.destroy(lp);
        srv.close(lp);
    });
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_close(&mut lp, |lp, log: &mut Log, c, _| {
        log.push(format!(
            "client read {} wrote {}",
            c.bytes_read(lp),
            c.bytes_written(lp)
        ));
    });
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["remote loopback=true", "client read 0 wrote 0"]);
}
