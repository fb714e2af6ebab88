//! Memory per idle connection: resident memory grown per accepted, idle
//! connection, at the libuv level and at the Node.js level (its own test
//! binary, so no other test moves the RSS). Prints the figures; asserts a
//! generous bound (issue 6 measures the echo server's target).

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{ListenOptions, Listener, ReadEvent, Server, ServerOptions};
use std::net::SocketAddr;
use std::sync::mpsc;

const N: usize = 4000;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Connects `N` std clients from a thread, holds them until told, then
/// drops them.
fn clients(addr: SocketAddr) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        let mut held = Vec::with_capacity(N);
        for _ in 0..N {
            held.push(std::net::TcpStream::connect(addr).unwrap());
        }
        let _ = rx.recv_timeout(std::time::Duration::from_secs(40));
        drop(held);
    });
    (tx, h)
}

#[derive(Default)]
struct St {
    accepted: usize,
    rss_half: usize,
    per_conn: usize,
    closed: usize,
}

fn record(st: &mut St, tx: &mpsc::Sender<()>) -> bool {
    st.accepted += 1;
    if st.accepted == N / 2 {
        st.rss_half = rss_bytes();
    }
    if st.accepted == N {
        st.per_conn = rss_bytes().saturating_sub(st.rss_half) / (N / 2);
        let _ = tx.send(());
        return true;
    }
    false
}

#[test]
fn idle_connection_memory() {
    raise_nofile(2 * N as u64 + 256);

    // libuv level: accepted streams reading into the loop's one buffer.
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 50_000);
    let opts = ListenOptions {
        backlog: 4096,
        ..ListenOptions::default()
    };
    let tx_cell: std::rc::Rc<std::cell::RefCell<Option<mpsc::Sender<()>>>> = Default::default();
    let txc = tx_cell.clone();
    let l = Listener::listen(&mut lp, any_port(), &opts, move |lp, st: &mut St, l, r| {
        r.unwrap();
        let s = l.accept(lp).unwrap();
        s.read_start(lp, |lp, st: &mut St, s, ev| {
            if let ReadEvent::Eof | ReadEvent::Error(_) = ev {
                st.closed += 1;
                s.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
        let tx = txc.borrow().clone().unwrap();
        if record(st, &tx) {
            l.close(lp, |_, _| {}).unwrap();
        }
    })
    .unwrap();
    let addr = l.local_addr(&lp).unwrap().as_inet().unwrap();
    let (tx, h) = clients(addr);
    *tx_cell.borrow_mut() = Some(tx);
    let mut st = St::default();
    lp.run(RunMode::Default, &mut st).unwrap();
    h.join().unwrap();
    assert_eq!(st.closed, N);
    let uv = st.per_conn;

    // Node.js level: sockets with a data handler.
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 50_000);
    let srv = Server::new(
        &mut lp,
        ServerOptions {
            backlog: 4096,
            ..ServerOptions::default()
        },
    );
    srv.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = srv.address(&lp).unwrap().as_inet().unwrap();
    let (tx, h) = clients(addr);
    srv.on_connection(&mut lp, move |lp, st: &mut St, sock| {
        sock.on_data(lp, |lp, _, sock, b| {
            sock.write(lp, b);
        });
        sock.on_close(lp, |_, st: &mut St, _, _| st.closed += 1);
        if record(st, &tx) {
            srv.close(lp);
        }
    });
    let mut st = St::default();
    lp.run(RunMode::Default, &mut st).unwrap();
    h.join().unwrap();
    assert_eq!(st.closed, N);
    let node = st.per_conn;

    println!("idle connection memory: libuv level {uv} B, Node.js level {node} B (RSS growth per connection, {N} connections)");
    assert!(
        uv < 2048 && node < 2048,
        "libuv level {uv} B, Node level {node} B"
    );
}
