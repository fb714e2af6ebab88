//! Defects and divergences from Node.js 20 found by a new user (issue 16)
//! and by tests ported from Node's `test/parallel/test-net-*`: each test
//! failed before its fix. Expected behaviour checked by running `node` v20
//! (the script is in each test's comment).

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions, Socket};
use std::time::{Duration, Instant};

type Log = Vec<String>;

fn run_ok<D: 'static>(lp: &mut Loop<D>, d: &mut D) {
    let alive = lp.run(RunMode::Default, d).expect("run");
    assert!(!alive);
}

/// A failed `listen` with no `on_error`: `run` returns it, naming the
/// operation and address; the loop is still usable (Node throws).
#[test]
fn unhandled_server_error_is_returned_by_run() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let first = Server::new(&mut lp, ServerOptions::default());
    first.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = first.address(&lp).unwrap().as_inet().unwrap();
    let second = Server::new(&mut lp, ServerOptions::default());
    second
        .listen(&mut lp, addr.port(), Some("127.0.0.1"))
        .unwrap();
    let mut log = Log::new();
    let e = lp.run(RunMode::Default, &mut log).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            loop_core::Error::Unhandled {
                op: "server.on_error",
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("listen EADDRINUSE {addr}")),
        "names op and address: {msg}"
    );
    // Still usable: close the first server and run to the end.
    first.close(&mut lp);
    run_ok(&mut lp, &mut log);
}

/// A socket error (connection refused) with no `on_error`: `run` returns
/// it; `on_close(true)` still runs on the next `run`.
#[test]
fn unhandled_socket_error_is_returned_by_run() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let addr = refused_addr();
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_close(&mut lp, |_, log: &mut Log, _, had_error| {
        log.push(format!("close {had_error}"))
    });
    let mut log = Log::new();
    let e = lp.run(RunMode::Default, &mut log).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("connect ECONNREFUSED {addr}")),
        "{msg}"
    );
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["close true"]);
}

/// After `destroy`, `writable_length` is 0 (the queue is dropped) and a
/// write reports the destroyed socket (`send`), and `write_with` calls
/// back with `ERR_STREAM_DESTROYED`, before and after the close phase.
#[test]
fn write_after_destroy() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(&lp).unwrap().as_inet().unwrap();
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_connect(&mut lp, move |lp, log: &mut Log, c| {
        // Far more than the socket buffers take: some stays queued.
        c.write(lp, vec![7u8; 64 << 20]);
        assert!(c.writable_length(lp) > 0);
        c.destroy(lp);
        log.push(format!("length {}", c.writable_length(lp)));
        match c.send(lp, &b"x"[..]) {
            Err(e) => log.push(format!("send {}", e.code())),
            Ok(ok) => log.push(format!("send ok {ok}")),
        }
        c.write_with(lp, &b"y"[..], |_, log: &mut Log, r| {
            log.push(format!("cb {}", r.unwrap_err().code()))
        });
    });
    c.on_close(&mut lp, move |lp, log: &mut Log, c, _| {
        c.write_with(lp, &b"z"[..], |lp, log: &mut Log, r| {
            log.push(format!("cb after close {}", r.unwrap_err().code()));
            let _ = lp;
        });
        log.push("close".into());
        srv.close(lp);
    });
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(
        log,
        [
            "length 0",
            "send ERR_STREAM_DESTROYED",
            "cb ERR_STREAM_DESTROYED",
            "close",
            "cb after close ERR_STREAM_DESTROYED"
        ]
    );
}

/// Node 20: `c = net.connect(port); c.write('x', cb); c.destroy()` →
/// `'close'` (false), `cb(ERR_SOCKET_CLOSED_BEFORE_CONNECTION)`, no
/// `'error'`.
#[test]
fn write_while_connecting_then_destroy() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(&lp).unwrap().as_inet().unwrap();
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_error(&mut lp, |_, log: &mut Log, _, e| {
        log.push(format!("error {}", e.code()))
    });
    c.on_close(&mut lp, move |lp, log: &mut Log, _, had_error| {
        log.push(format!("close {had_error}"));
        srv.close(lp);
    });
    assert!(c.is_connecting(&lp));
    c.write_with(&mut lp, &b"x"[..], |_, log: &mut Log, r| {
        log.push(format!("cb {}", r.unwrap_err().code()))
    });
    c.destroy(&mut lp);
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    log.sort();
    assert_eq!(
        log,
        ["cb ERR_SOCKET_CLOSED_BEFORE_CONNECTION", "close false"]
    );
}

/// Node 20: `s.listen(0); s.close(cb)`: `cb` runs, `'listening'` never.
#[test]
fn listen_then_close_emits_no_listening() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let s = Server::new(&mut lp, ServerOptions::default());
    s.on_listening(&mut lp, |_, log: &mut Log| log.push("listening".into()));
    s.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    s.close_with(&mut lp, |_, log: &mut Log, r| {
        r.unwrap();
        log.push("closed".into());
    });
    let mut log = Log::new();
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["closed"]);
}

/// Node 20: `s.unref(); s.listen(0, cb)`: `'listening'`, then the loop
/// ends (the unref is kept until there is a handle).
#[test]
fn unref_before_listen_is_kept() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let s = Server::new(&mut lp, ServerOptions::default());
    s.unref(&mut lp).unwrap();
    s.on_listening(&mut lp, |_, log: &mut Log| log.push("listening".into()));
    s.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let mut log = Log::new();
    let t0 = Instant::now();
    // The watchdog is unref'd: only the listener could keep the loop.
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["listening"]);
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(s.is_listening(&lp));
    // ref() again before a second listen is kept too.
    s.ref_handle(&mut lp).unwrap();
    assert!(lp.is_alive());
    s.close(&mut lp);
    run_ok(&mut lp, &mut log);
}

/// A socket destroyed while paused: `on_close` runs before `run` returns.
/// A paused, idle socket alone does not keep the loop alive.
#[test]
fn paused_socket_and_close() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(&lp).unwrap().as_inet().unwrap();
    srv.on_connection(&mut lp, move |lp, _, s| {
        s.pause(lp);
        srv.close(lp);
    });
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_connect(&mut lp, |lp, _, c| c.pause(lp));
    c.on_close(&mut lp, |_, log: &mut Log, _, _| log.push("close".into()));
    let mut log = Log::new();
    // Everything paused, the server closing: the loop ends with c open.
    lp.run(RunMode::Default, &mut log).unwrap();
    assert!(log.is_empty());
    assert!(!c.is_destroyed(&lp));
    c.destroy(&mut lp);
    run_ok(&mut lp, &mut log);
    assert_eq!(log, ["close"]);
}

/// Node 20: two writes queued on a connected socket (a peer that does not
/// read), then `destroy()`: `cb1(null)` (the write in flight), `cb2
/// (ERR_STREAM_DESTROYED)`, then `'close'`; no `'error'`. They got
/// `ECANCELED` before.
#[test]
fn queued_writes_then_destroy() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let srv = Server::new(&mut lp, ServerOptions::default());
    srv.on_connection(&mut lp, |lp, _, s| s.pause(lp));
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(&lp).unwrap().as_inet().unwrap();
    let c = Socket::connect(&mut lp, addr).unwrap();
    c.on_error(&mut lp, |_, log: &mut Log, _, e| {
        log.push(format!("error {}", e.code()))
    });
    c.on_connect(&mut lp, |lp, _, c| {
        c.write_with(lp, vec![0u8; 64 << 20], |_, log: &mut Log, r| {
            log.push(format!("cb1 {:?}", r.err().map(|e| e.code())))
        });
        c.write_with(lp, "x", |_, log: &mut Log, r| {
            log.push(format!("cb2 {:?}", r.err().map(|e| e.code())))
        });
        c.destroy(lp);
    });
    c.on_close(&mut lp, move |lp, log: &mut Log, _, _| {
        log.push("close".into());
        srv.close(lp);
    });
    let mut log = Log::new();
    // The server's accepted socket stays paused: the loop ends once the
    // server closes (its socket does not keep the loop alive).
    let _ = lp.run(RunMode::Default, &mut log).expect("run");
    assert_eq!(
        log,
        ["cb1 None", "cb2 Some(\"ERR_STREAM_DESTROYED\")", "close"]
    );
}
