//! Allocations of UDP receiving, counted by a global allocator (its own
//! test binary): datagrams are read into the loop's one buffer and lent to
//! the callback, so a flood of them allocates nothing per datagram, and a
//! handle's memory stays flat however many arrive.

use loop_core::{Loop, RunMode};
use loop_net::{BindFlags, Udp};
use std::net::UdpSocket;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocs, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn receiving_datagrams_allocates_nothing() {
    let mut lp: Loop<u64> = Loop::new().unwrap();
    let u = Udp::new(&mut lp);
    u.bind(
        &mut lp,
        "127.0.0.1:0".parse().unwrap(),
        BindFlags::default(),
    )
    .unwrap();
    let addr = u.local_addr(&lp).unwrap();
    u.recv_start(&mut lp, |_, got: &mut u64, _, r| {
        *got += r.map_or(0, |d| d.data.len() as u64 + 1);
    })
    .unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"warm up", addr).unwrap();
    let mut got = 0;
    while got < 8 {
        lp.run(RunMode::Once, &mut got).unwrap();
    }
    for round in 0..20 {
        for _ in 0..50 {
            peer.send_to(&[1u8; 512], addr).unwrap();
        }
        let want = got + 50 * 513;
        let n = allocs(|| {
            while got < want {
                lp.run(RunMode::Once, &mut got).unwrap();
            }
        });
        assert_eq!(n, 0, "receiving 50 datagrams allocated (round {round})");
    }
    u.close(&mut lp, |_, _| {}).unwrap();
    lp.run(RunMode::Default, &mut got).unwrap();
}

#[test]
fn a_send_allocates_only_its_request() {
    let mut lp: Loop<u64> = Loop::new().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap();
    let u = Udp::new(&mut lp);
    u.send(&mut lp, &[b"warm"], Some(addr), |_, _, _| {})
        .unwrap();
    lp.run(RunMode::Default, &mut 0).unwrap();
    // A send costs a constant few allocations (the copy of the bytes, the
    // pending-phase job that calls back, the callback's box), whatever its
    // size, and nothing is kept once it called back.
    let mut counts = Vec::new();
    for size in [4usize, 60_000] {
        let data = vec![9u8; size];
        let n = allocs(|| {
            u.send(&mut lp, &[&data], Some(addr), |_, _, _| {}).unwrap();
        });
        counts.push(n);
        lp.run(RunMode::Default, &mut 0).unwrap();
        assert_eq!(u.send_queue_count(&lp), 0);
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert!(counts[0] <= 3, "{counts:?}");
    u.close(&mut lp, |_, _| {}).unwrap();
    lp.run(RunMode::Default, &mut 0).unwrap();
}
