//! The Node.js level of UDP ([`DgramSocket`]) against Node.js itself: the
//! same calls as `tests/dgram/NAME.js`, whose output (`NAME.expected`)
//! comes from running `node`; when `node` is on the PATH the test runs it
//! again and compares too.

mod common;

use common::watchdog;
use loop_core::{Loop, RunMode};
use loop_net::{DgramOptions, DgramSocket, DgramType};
use std::path::Path;

type L = Vec<String>;

fn opts() -> DgramOptions {
    DgramOptions::new(DgramType::Udp4)
}

fn res(r: &loop_net::Result<usize>) -> String {
    match r {
        Ok(n) => format!("null {n}"),
        Err(e) => format!("{} undefined", e.node_message()),
    }
}

fn rust_side() -> Vec<String> {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let server = DgramSocket::create(&mut lp, opts());
    let client = DgramSocket::create(&mut lp, opts());
    server.on_message(&mut lp, move |lp, log: &mut L, s, msg, rinfo| {
        let cport = client.address(lp).unwrap().port();
        log.push(format!(
            "server message {} {} {} size={} from-client={}",
            String::from_utf8_lossy(msg),
            rinfo.family,
            rinfo.address,
            rinfo.size,
            rinfo.port == cport
        ));
        lp.next_tick(|_, log| log.push("tick after message".into()));
        let to = rinfo.address.to_string();
        s.send(
            lp,
            &[msg],
            Some(rinfo.port),
            Some(&to),
            Some(Box::new(|_, log: &mut L, r| {
                log.push(format!("server sent {}", res(&r)))
            })),
        )
        .unwrap();
    });
    server.on_listening(&mut lp, |_, log, _| log.push("server listening".into()));
    server
        .bind(
            &mut lp,
            0,
            Some("127.0.0.1"),
            Some(Box::new(move |lp, log: &mut L, server| {
                log.push("server bind cb".into());
                let port = server.address(lp).unwrap().port();
                client.on_listening(lp, |_, log, _| log.push("client listening".into()));
                client
                    .send(
                        lp,
                        &[b"ping"],
                        Some(port),
                        Some("127.0.0.1"),
                        Some(Box::new(|_, log: &mut L, r| {
                            log.push(format!("client sent {}", res(&r)))
                        })),
                    )
                    .unwrap();
                log.push("after client send".into());
                client.on_message(lp, move |lp, log, client, msg, _| {
                    log.push(format!("client message {}", String::from_utf8_lossy(msg)));
                    client
                        .close(
                            lp,
                            Some(Box::new(|_, log: &mut L, _| {
                                log.push("client close cb".into())
                            })),
                        )
                        .unwrap();
                    server
                        .close(
                            lp,
                            Some(Box::new(|_, log: &mut L, _| {
                                log.push("server close cb".into())
                            })),
                        )
                        .unwrap();
                    log.push("after close".into());
                    let im = lp.set_immediate(|_, log: &mut L| log.push("immediate".into()));
                    let _ = im;
                });
            })),
        )
        .unwrap();
    let mut log = L::new();
    if let Err(e) = server.bind(&mut lp, 0, None, None) {
        log.push(format!("bind again: {} {}", e.code(), e.node_message()));
    }
    log.push("after bind".into());
    lp.next_tick(|_, log| log.push("tick 1".into()));
    let other = DgramSocket::create(&mut lp, opts());
    other.on_error(&mut lp, |lp, log: &mut L, o, e| {
        let m = e.node_message();
        let m = match m.rfind(':') {
            Some(i) => format!("{}:PORT", &m[..i]),
            None => m,
        };
        log.push(format!("other error: {} {m}", e.code()));
        o.close(lp, None).unwrap();
    });
    other.on_close(&mut lp, |_, log, _| log.push("other close".into()));
    server.on_listening(&mut lp, move |lp, _, server| {
        let port = server.address(lp).unwrap().port();
        other.bind(lp, port, Some("127.0.0.1"), None).unwrap();
    });
    let alive = lp.run(RunMode::Default, &mut log).unwrap();
    assert!(!alive);
    log
}

/// Compares `got` with `NAME.expected`, and that file with `node NAME.js`.
fn check_against_node(name: &str, got: Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dgram");
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap();
    let want: Vec<&str> = expected.lines().collect();
    assert_eq!(got, want);
    // The expected file is node's own output: check it still is.
    let script = dir.join(format!("{name}.js"));
    if let Ok(out) = std::process::Command::new("node").arg(script).output() {
        if out.status.success() {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                expected,
                "{name}.expected is stale"
            );
        }
    }
}

#[test]
fn ordering_matches_node() {
    check_against_node("order", rust_side());
}

fn connect_side() -> Vec<String> {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let server = DgramSocket::create(&mut lp, opts());
    let on_bound = move |lp: &mut Loop<L>, log: &mut L, server: DgramSocket| {
        let port = server.address(lp).unwrap().port();
        let c = DgramSocket::create(lp, opts());
        if let Err(e) = c.remote_address(lp) {
            log.push(format!("remoteAddress: {} {}", e.code(), e.node_message()));
        }
        if let Err(e) = c.disconnect(lp) {
            log.push(format!("disconnect: {} {}", e.code(), e.node_message()));
        }
        c.on_listening(lp, |_, log, _| log.push("client listening".into()));
        let on_connect = move |lp: &mut Loop<L>, log: &mut L, c: DgramSocket| {
            let remote = c.remote_address(lp).unwrap().port() == port;
            log.push(format!("connect cb remote={remote}"));
            if let Err(e) = c.send(lp, &[b"x"], Some(port), Some("127.0.0.1"), None) {
                log.push(format!(
                    "send with address: {} {}",
                    e.code(),
                    e.node_message()
                ));
            }
            let cb =
                Box::new(|_: &mut Loop<L>, log: &mut L, r| log.push(format!("sent {}", res(&r))));
            c.send(lp, &[b"hello"], None, None, Some(cb)).unwrap();
        };
        c.connect(lp, port, Some("127.0.0.1"), Some(Box::new(on_connect)))
            .unwrap();
        if let Err(e) = c.connect(lp, port, None, None) {
            log.push(format!("connect again: {} {}", e.code(), e.node_message()));
        }
        log.push("after connect".into());
        server.on_message(lp, move |lp, log, server, msg, _| {
            log.push(format!("server got {}", String::from_utf8_lossy(msg)));
            c.disconnect(lp).unwrap();
            if let Err(e) = c.remote_address(lp) {
                log.push(format!("after disconnect: {}", e.code()));
            }
            let closed =
                Box::new(|_: &mut Loop<L>, log: &mut L, _| log.push("client closed".into()));
            c.close(lp, Some(closed)).unwrap();
            if let Err(e) = c.close(lp, None) {
                log.push(format!("close again: {} {}", e.code(), e.node_message()));
            }
            let closed =
                Box::new(|_: &mut Loop<L>, log: &mut L, _| log.push("server closed".into()));
            server.close(lp, Some(closed)).unwrap();
        });
    };
    server
        .bind(&mut lp, 0, Some("127.0.0.1"), Some(Box::new(on_bound)))
        .unwrap();
    let early = DgramSocket::create(&mut lp, opts());
    let listening = Box::new(|_: &mut Loop<L>, log: &mut L, _| log.push("early listening".into()));
    early
        .bind(&mut lp, 0, Some("127.0.0.1"), Some(listening))
        .unwrap();
    let closed = Box::new(|_: &mut Loop<L>, log: &mut L, _| log.push("early closed".into()));
    early.close(&mut lp, Some(closed)).unwrap();
    let mut log = L::new();
    log.push("main done".into());
    let alive = lp.run(RunMode::Default, &mut log).unwrap();
    assert!(!alive);
    log
}

#[test]
fn connect_matches_node() {
    check_against_node("connect", connect_side());
}

/// A bind of a taken address with no `on_error`: Node throws
/// (`Error: bind EADDRINUSE 127.0.0.1:PORT`); here `run` returns it as
/// the unhandled error, naming the operation and address, and the loop
/// is still usable (the sockets close on the next `run`).
#[test]
fn unhandled_dgram_error_is_returned_by_run() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let s = DgramSocket::create(&mut lp, opts());
    s.on_listening(&mut lp, |_, log, _| log.push("listening".into()));
    s.bind(&mut lp, port, Some("127.0.0.1"), None).unwrap();
    lp.set_timeout(50, |_, log: &mut L| log.push("timer".into()));
    let mut log = L::new();
    let e = lp.run(RunMode::Default, &mut log).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            loop_core::Error::Unhandled {
                op: "dgram.on_error",
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("bind EADDRINUSE 127.0.0.1:{port}")),
        "names op and address: {msg}"
    );
    assert!(log.is_empty(), "run returned before the timer: {log:?}");
    // Still usable: the socket is unbound, it can be closed; the timer runs.
    s.close(&mut lp, None).unwrap();
    let alive = lp.run(RunMode::Default, &mut log).unwrap();
    assert!(!alive);
    assert_eq!(log, ["timer"]);
}
