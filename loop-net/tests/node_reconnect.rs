//! `new net.Socket()` and `connect` again after `'close'`: the events of
//! [`Socket::new`] against Node.js's own, its JS twin (`tests/net/*.js`)
//! run under `node` at test time.

mod common;

use common::{node, refused_addr, watchdog};
use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions, Socket};
use std::net::SocketAddr;

type L = Vec<String>;

fn reconnect_side(refused: SocketAddr) -> L {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, |lp, _, c| c.end_with(lp, "hi"));
    srv.on_close(&mut lp, |_, log: &mut L| log.push("server closed".into()));
    srv.on_listening(&mut lp, move |lp, log: &mut L| {
        let addr = srv.address(lp).unwrap().as_inet().unwrap();
        let s = Socket::new(lp);
        log.push(format!(
            "new destroyed={} connecting={}",
            s.is_destroyed(lp),
            s.is_connecting(lp)
        ));
        s.set_data(lp, 0u32);
        let round = |lp: &Loop<L>, s: Socket| *s.data::<u32, _>(lp).unwrap();
        s.on_connect(lp, move |lp, log: &mut L, s| {
            log.push(format!("connect {}", round(lp, s)))
        });
        s.on_data(lp, move |lp, log: &mut L, s, b| {
            log.push(format!(
                "data {} {}",
                round(lp, s),
                String::from_utf8_lossy(b)
            ))
        });
        s.on_end(lp, move |lp, log: &mut L, s| {
            log.push(format!("end {}", round(lp, s)))
        });
        s.on_finish(lp, move |lp, log: &mut L, s| {
            log.push(format!("finish {}", round(lp, s)))
        });
        s.on_error(lp, move |lp, log: &mut L, s, e| {
            log.push(format!("error {} {}", round(lp, s), e.code()))
        });
        s.on_close(lp, move |lp, log: &mut L, s, had_error| {
            let r = round(lp, s);
            log.push(format!(
                "close {r} {had_error} destroyed={} bytesRead={}",
                s.is_destroyed(lp),
                s.bytes_read(lp)
            ));
            *s.data_mut::<u32, _>(lp).unwrap() += 1;
            match r {
                0 => {
                    s.connect_to(lp, addr).unwrap();
                    log.push(format!(
                        "again connecting={} destroyed={}",
                        s.is_connecting(lp),
                        s.is_destroyed(lp)
                    ));
                }
                1 => s.connect_to(lp, refused).unwrap(),
                _ => {
                    s.release(lp);
                    srv.close(lp);
                }
            }
        });
        s.connect_to(lp, addr).unwrap();
        log.push(format!("connecting={}", s.is_connecting(lp)));
    });
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let mut log = L::new();
    let alive = lp.run(RunMode::Default, &mut log).unwrap();
    assert!(!alive);
    assert!(lp.handles().is_empty(), "released: nothing left");
    log
}

/// Connect, `'close'`, connect again from `'close'` on the same socket,
/// then a refused connect: Node's events, in Node's order.
#[test]
fn reconnect_matches_node() {
    let refused = refused_addr();
    let got = reconnect_side(refused);
    assert_eq!(got, node("reconnect", &[refused.port().to_string()]));
}

fn unconnected_side() -> L {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let events = |lp: &mut Loop<L>, name: &'static str, s: Socket| {
        s.on_error(lp, move |_, log: &mut L, _, e| {
            log.push(format!("{name} error {}", e.code()))
        });
        s.on_close(lp, move |lp, log: &mut L, s, h| {
            log.push(format!("{name} close {h} destroyed={}", s.is_destroyed(lp)));
            s.release(lp);
        });
        s.on_finish(lp, move |_, log: &mut L, _| {
            log.push(format!("{name} finish"))
        });
    };
    let mut log = L::new();
    let w = Socket::new(&mut lp);
    events(&mut lp, "w", w);
    let ok = w.write_with(&mut lp, "x", |_, log: &mut L, r| {
        log.push(format!("w write cb {}", r.unwrap_err().code()))
    });
    log.push(format!(
        "w write returned {ok} destroyed={}",
        w.is_destroyed(&lp)
    ));
    let d = Socket::new(&mut lp);
    events(&mut lp, "d", d);
    d.destroy(&mut lp);
    log.push(format!("d destroyed={}", d.is_destroyed(&lp)));
    lp.next_tick(|_, log: &mut L| log.push("tick".into()));
    lp.set_immediate(|_, log: &mut L| log.push("immediate".into()));
    let alive = lp.run(RunMode::Default, &mut log).unwrap();
    assert!(!alive);
    assert!(lp.handles().is_empty(), "released: nothing left");
    log
}

/// A write on a socket that never connected, and a destroy of one:
/// `ERR_SOCKET_CLOSED` and `'close'` on next ticks, as Node's.
#[test]
fn unconnected_matches_node() {
    // The JS twin prints `'close'`'s argument, which Node leaves out here.
    let got: L = unconnected_side()
        .into_iter()
        .map(|l| l.replace("close false", "close undefined"))
        .collect();
    assert_eq!(got, node("unconnected", &[]));
}

fn reconnect_error_side(refused: SocketAddr) -> L {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let c = Socket::connect(&mut lp, refused).unwrap();
    c.set_data(&mut lp, 0u32);
    c.on_connect(&mut lp, |_, log: &mut L, _| log.push("connect".into()));
    c.on_error(&mut lp, |_, log: &mut L, _, e| {
        log.push(format!("error {}", e.code()))
    });
    c.on_close(&mut lp, move |lp, log: &mut L, c, had_error| {
        log.push(format!("close {had_error} {}", c.is_destroyed(lp)));
        let closes = c.data_mut::<u32, _>(lp).unwrap();
        *closes += 1;
        if *closes <= 20 {
            c.connect_to(lp, refused).unwrap();
            log.push(format!("again {}", c.is_connecting(lp)));
        } else {
            log.push(format!("exit closes={closes}"));
        }
    });
    let mut log = L::new();
    let alive = lp.run(RunMode::Default, &mut log).unwrap();
    assert!(!alive);
    assert!(lp.handles().is_empty(), "gone after its last 'close'");
    assert!(c.is_destroyed(&lp) && c.connect_to(&mut lp, refused).is_err());
    log
}

/// Node's test-net-reconnect-error.js: a socket of `Socket::connect`
/// (`net.createConnection`) connects again from its `'close'` handler, 20
/// times; each attempt is refused: `'error'` then `'close'(true)`.
#[test]
fn reconnect_error_matches_node() {
    let refused = refused_addr();
    let got = reconnect_error_side(refused);
    assert_eq!(got, node("reconnect_error", &[refused.port().to_string()]));
}

/// A kept socket is an open handle (`uv_loop_close` says `EBUSY`, as for
/// a `uv_tcp_init`'d handle) until released; a bound `TcpSocket` is no
/// handle at all.
#[test]
fn kept_socket_keeps_try_close_busy_until_released() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    let mut bound = loop_net::TcpSocket::new();
    bound.bind("127.0.0.1:0".parse().unwrap(), false).unwrap();
    lp.try_close().unwrap();
    let s = Socket::new(&mut lp);
    let e = lp.try_close().unwrap_err().to_string();
    assert!(e.starts_with("loop_close"), "{e}");
    let mut log = L::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap(), "not active");
    assert!(lp.try_close().is_err(), "still open");
    s.release(&mut lp);
    assert!(
        lp.try_close().is_err(),
        "closing until its close callback ran"
    );
    lp.run(RunMode::Default, &mut log).unwrap();
    lp.try_close().unwrap();
    assert!(s.is_destroyed(&lp), "names nothing");
    drop(bound);
}
