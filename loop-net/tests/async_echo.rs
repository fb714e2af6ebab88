//! `examples/async_echo.rs` (included here for its `spawn_server`) against
//! std clients on threads: a large random payload comes back byte-exact,
//! sent and read at once, and the half-close holds (the client shuts its
//! writing side first and still gets every byte, then EOF); several
//! clients at once.

#[path = "../examples/async_echo.rs"]
mod async_echo;
mod common;

use common::ports::random_bytes;
use loop_core::{Loop, RunMode};
use loop_testkit::{watchdog, HangGuard};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Writes `data` from one thread while reading from another, half-closes
/// after the last byte, reads to EOF.
fn client(addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let s = TcpStream::connect(addr).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(&data).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    (&s).read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    got
}

#[test]
fn async_echo_is_byte_exact_with_half_close() {
    const CLIENTS: usize = 4;
    let mut lp: Loop<()> = Loop::new().unwrap();
    let local = async_echo::spawn_server(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr: SocketAddr = local.parse().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let _g = HangGuard::new("the async_echo clients", Duration::from_secs(60));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let len = [1, 65_537, 1 << 20, 8 << 20][i];
                let data = random_bytes(len, i as u64 + 1);
                let got = client(addr, data.clone());
                done.fetch_add(1, Ordering::AcqRel);
                (len, got == data)
            })
        })
        .collect();
    // The server never ends by itself: a poll timer stops the loop once
    // every client is through.
    let d = Arc::clone(&done);
    let t = lp.add_timer(5, 5, move |lp, _| {
        if d.load(Ordering::Acquire) == CLIENTS {
            lp.stop();
        }
    });
    lp.unref(t).unwrap();
    watchdog(&mut lp, 60_000);
    lp.run(RunMode::Default, &mut ()).unwrap();
    for c in clients {
        let (len, same) = c.join().unwrap();
        assert!(same, "the echo of {len} bytes differs");
    }
    assert_eq!(loop_net::stats(&lp).streams, 0, "every connection closed");
}
