//! libuv's UDP tests (`test/test-udp-*.c`, libuv 1.46), ported to
//! loop-net's [`Udp`]. Only 127.0.0.1, ::1 and the loopback interface.

mod common;

use common::watchdog;
use loop_core::{Loop, RunMode};
use loop_net::{BindFlags, Membership, Udp, MAX_DATAGRAM, MAX_RECVS};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::rc::Rc;
use std::time::Duration;

fn run<D: 'static>(lp: &mut Loop<D>, d: &mut D) {
    let alive = lp.run(RunMode::Default, d).expect("run");
    assert!(!alive, "the loop should end by itself");
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn bound<D: 'static>(lp: &mut Loop<D>, addr: SocketAddr) -> (Udp, SocketAddr) {
    let u = Udp::new(lp);
    u.bind(lp, addr, BindFlags::default()).unwrap();
    let a = u.local_addr(lp).unwrap();
    (u, a)
}

/// A loop under a 20 s watchdog, a server bound on 127.0.0.1 in it and
/// its address, and a std peer to send from.
fn server_and_peer<D: 'static>() -> (Loop<D>, Udp, SocketAddr, UdpSocket) {
    let mut lp: Loop<D> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    (lp, server, saddr, peer)
}

/// Receives `n` datagrams on `server` (each cut at `limit` bytes), keeps
/// `f(i, datagram)` of the `i`th, closes `server`, runs the loop to its
/// end: what was kept.
fn recv_n<T: 'static>(
    lp: &mut Loop<Vec<T>>,
    server: Udp,
    limit: usize,
    n: usize,
    mut f: impl FnMut(usize, &loop_net::Datagram<'_>) -> T + 'static,
) -> Vec<T> {
    server
        .recv_start_limit(lp, limit, move |lp, got: &mut Vec<T>, s, r| {
            let dg = r.unwrap();
            got.push(f(got.len(), &dg));
            if got.len() == n {
                s.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    let mut got = Vec::new();
    run(lp, &mut got);
    got
}

fn ipv6_loopback() -> bool {
    UdpSocket::bind("[::1]:0").is_ok()
}

/// udp_bind, udp_bind_reuseaddr: a second bind without reuse is
/// EADDRINUSE, with reuse on both it works; nonsense flags are EINVAL.
#[test]
fn udp_bind() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (a, addr) = bound(&mut lp, local());
    let b = Udp::new(&mut lp);
    let e = b.bind(&mut lp, addr, BindFlags::default()).unwrap_err();
    assert_eq!(e.code(), "EADDRINUSE", "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("bind EADDRINUSE {addr}")),
        "{e}"
    );
    // A second bind of the same handle, and ipv6_only with IPv4.
    assert_eq!(
        a.bind(&mut lp, local(), BindFlags::default())
            .unwrap_err()
            .code(),
        "EINVAL"
    );
    let v6only = BindFlags {
        ipv6_only: true,
        reuse_addr: false,
    };
    assert_eq!(
        b.bind(&mut lp, local(), v6only).unwrap_err().code(),
        "EINVAL"
    );

    let reuse = BindFlags {
        ipv6_only: false,
        reuse_addr: true,
    };
    let c = Udp::new(&mut lp);
    c.bind(&mut lp, local(), reuse).unwrap();
    let port_addr = c.local_addr(&lp).unwrap();
    let d = Udp::new(&mut lp);
    d.bind(&mut lp, port_addr, reuse).unwrap();
    assert_eq!(d.local_addr(&lp).unwrap(), port_addr);
    for u in [a, b, c, d] {
        u.close(&mut lp, |_, _| {}).unwrap();
    }
    assert_eq!(a.close(&mut lp, |_, _| {}).unwrap_err().code(), "EBADF");
    run(&mut lp, &mut ());
    assert!(!a.exists(&lp));
}

/// udp_send_and_recv: PING from a client, PONG back, with the sender's
/// address; no callback from inside `send`; the close callbacks after.
#[test]
fn udp_send_and_recv() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    let client = Udp::new(&mut lp);
    server
        .recv_start(&mut lp, move |lp, log: &mut Vec<String>, s, r| {
            let dg = r.unwrap();
            log.push(format!("server got {}", String::from_utf8_lossy(dg.data)));
            assert!(!dg.truncated);
            let from = dg.from;
            s.send(
                lp,
                &[b"PO", b"NG"],
                Some(from),
                |_, log: &mut Vec<String>, r| {
                    log.push(format!("server sent {}", r.unwrap()));
                },
            )
            .unwrap();
        })
        .unwrap();
    let in_call = Rc::new(Cell::new(true));
    let ic = in_call.clone();
    client
        .send(
            &mut lp,
            &[b"PING"],
            Some(saddr),
            move |_, log: &mut Vec<String>, r| {
                assert!(!ic.get(), "send callback from inside send()");
                log.push(format!("client sent {}", r.unwrap()));
            },
        )
        .unwrap();
    in_call.set(false);
    // The implicit bind: the client has an address now.
    let caddr = client.local_addr(&lp).unwrap();
    assert_eq!(caddr.ip(), Ipv4Addr::UNSPECIFIED);
    assert_ne!(caddr.port(), 0);
    client
        .recv_start(&mut lp, move |lp, log, c, r| {
            let dg = r.unwrap();
            assert_eq!(dg.from, saddr);
            log.push(format!("client got {}", String::from_utf8_lossy(dg.data)));
            c.close(lp, |_, log: &mut Vec<String>| {
                log.push("client closed".into())
            })
            .unwrap();
            server
                .close(lp, |_, log: &mut Vec<String>| {
                    log.push("server closed".into())
                })
                .unwrap();
        })
        .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(
        log,
        [
            "client sent 4",
            "server got PING",
            "server sent 4",
            "client got PONG",
            // The close phase runs last-closed first, as libuv's.
            "server closed",
            "client closed"
        ]
    );
}

/// udp_send_immediate: two sends in a row, both sent at once, called back
/// in order from the pending phase; queue counters.
#[test]
fn udp_send_immediate() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    let got = Rc::new(Cell::new(0));
    let g = got.clone();
    server
        .recv_start(&mut lp, move |lp, _, s, r| {
            assert_eq!(r.unwrap().data, b"HELLO");
            g.set(g.get() + 1);
            if g.get() == 2 {
                s.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    let client = Udp::new(&mut lp);
    for i in 0..2 {
        client
            .send(
                &mut lp,
                &[b"HEL", b"LO"],
                Some(saddr),
                move |lp, log: &mut Vec<String>, r| {
                    assert_eq!(r.unwrap(), 5);
                    log.push(format!("sent {i} in {:?}", lp.phase()));
                },
            )
            .unwrap();
    }
    assert_eq!(client.send_queue_count(&lp), 2);
    assert_eq!(client.send_queue_size(&lp), 0, "both went out at once");
    client.close(&mut lp, |_, _| {}).unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(got.get(), 2);
    assert_eq!(log.len(), 2);
    assert!(
        log[0].starts_with("sent 0") && log[1].starts_with("sent 1"),
        "{log:?}"
    );
}

/// udp_try_send: sent at once and counted; EMSGSIZE for too big; EAGAIN
/// while a send is queued.
#[test]
fn udp_try_send() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    server
        .recv_start(&mut lp, |lp, _, s, r| {
            assert_eq!(r.unwrap().data, b"EXIT");
            s.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    let client = Udp::new(&mut lp);
    let big = vec![0u8; MAX_DATAGRAM + 1];
    let e = client.try_send(&mut lp, &[&big], Some(saddr)).unwrap_err();
    assert_eq!(e.code(), "EMSGSIZE", "{e}");
    assert_eq!(
        client
            .try_send(&mut lp, &[b"EX", b"IT"], Some(saddr))
            .unwrap(),
        4
    );
    assert_eq!(client.send_queue_count(&lp), 0);
    client
        .send(&mut lp, &[b"x"], Some(local_unused()), |_, _, _| {})
        .unwrap();
    assert_eq!(
        client
            .try_send(&mut lp, &[b"x"], Some(saddr))
            .unwrap_err()
            .code(),
        "EAGAIN"
    );
    client.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut ());
}

/// A port on 127.0.0.1 where nothing listens.
fn local_unused() -> SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap()
}

/// udp_dgram_too_big: `send` accepts it, the callback gets EMSGSIZE.
#[test]
fn udp_dgram_too_big() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    let u = Udp::new(&mut lp);
    let big = vec![7u8; MAX_DATAGRAM + 1];
    u.send(
        &mut lp,
        &[&big],
        Some(local_unused()),
        |_, log: &mut Vec<String>, r| {
            log.push(r.unwrap_err().code().to_string());
        },
    )
    .unwrap();
    u.close(&mut lp, |_, log: &mut Vec<String>| {
        log.push("closed".into())
    })
    .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["EMSGSIZE", "closed"]);
}

/// udp_recv_in_a_row, with the zero-length datagram and the 65,507-byte
/// one: every datagram whole and in order; a zero-length one is a datagram.
#[test]
fn udp_recv_in_a_row_and_sizes() {
    let mut lp: Loop<Vec<usize>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    let sizes = [0usize, 1, 1000, MAX_DATAGRAM, 0, 17];
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let paddr = peer.local_addr().unwrap();
    for (i, &n) in sizes.iter().enumerate() {
        let b: Vec<u8> = (0..n).map(|j| (i * 31 + j) as u8).collect();
        assert_eq!(peer.send_to(&b, saddr).unwrap(), n);
    }
    // No limit of ours: `recv_start`'s own (the largest buffer).
    let got = recv_n(&mut lp, server, usize::MAX, sizes.len(), move |i, dg| {
        assert_eq!(dg.from, paddr);
        assert!(!dg.truncated);
        assert!(dg
            .data
            .iter()
            .enumerate()
            .all(|(j, &b)| b == (i * 31 + j) as u8));
        dg.data.len()
    });
    assert_eq!(got, sizes);
}

/// A datagram longer than the receive limit is cut and flagged
/// (`UV_UDP_PARTIAL`).
#[test]
fn udp_truncated() {
    let (mut lp, server, saddr, peer) = server_and_peer::<Vec<(Vec<u8>, bool)>>();
    peer.send_to(b"0123456789abcdef", saddr).unwrap();
    peer.send_to(b"short", saddr).unwrap();
    let got = recv_n(&mut lp, server, 10, 2, |_, dg| {
        (dg.data.to_vec(), dg.truncated)
    });
    assert_eq!(
        got,
        [(b"0123456789".to_vec(), true), (b"short".to_vec(), false)]
    );
}

/// One readable event serves at most MAX_RECVS datagrams: a check
/// callback (after each poll phase) sees the backlog served in batches.
#[test]
fn udp_recv_bounded_per_wakeup() {
    let (mut lp, server, saddr, peer) = server_and_peer::<Vec<usize>>();
    let total = MAX_RECVS * 3 + 5;
    for _ in 0..total {
        peer.send_to(b"d", saddr).unwrap();
    }
    let batch = Rc::new(Cell::new(0usize));
    let (b1, b2) = (batch.clone(), batch.clone());
    let count = Rc::new(Cell::new(0usize));
    server
        .recv_start(&mut lp, move |lp, _, s, r| {
            r.unwrap();
            b1.set(b1.get() + 1);
            count.set(count.get() + 1);
            if count.get() == total {
                s.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    let check = lp.check_init();
    lp.check_start(check, move |lp, batches: &mut Vec<usize>| {
        if b2.get() > 0 {
            batches.push(b2.replace(0));
        }
        if !server.exists(lp) {
            let _ = lp.close(check, None);
        }
    })
    .unwrap();
    lp.unref(check).unwrap();
    let mut batches = Vec::new();
    run(&mut lp, &mut batches);
    assert_eq!(batches.iter().sum::<usize>(), total);
    assert!(batches.iter().all(|&b| b <= MAX_RECVS), "{batches:?}");
    assert!(batches.len() >= 4, "{batches:?}");
}

/// udp_connect: connected sends need no address, an address is EISCONN;
/// peer address; disconnect; EDESTADDRREQ without an address after.
#[test]
fn udp_connect() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    let client = Udp::new(&mut lp);
    assert_eq!(client.peer_addr(&lp).unwrap_err().code(), "ENOTCONN");
    assert_eq!(client.disconnect(&mut lp).unwrap_err().code(), "ENOTCONN");
    client.connect(&mut lp, saddr).unwrap();
    assert_eq!(
        client.connect(&mut lp, saddr).unwrap_err().code(),
        "EISCONN"
    );
    assert_eq!(client.peer_addr(&lp).unwrap(), saddr);
    let e = client
        .send(&mut lp, &[b"x"], Some(saddr), |_, _, _| {})
        .unwrap_err();
    assert_eq!(e.code(), "EISCONN");
    assert_eq!(
        client
            .try_send(&mut lp, &[b"x"], Some(saddr))
            .unwrap_err()
            .code(),
        "EISCONN"
    );
    assert_eq!(client.try_send(&mut lp, &[b"one"], None).unwrap(), 3);
    client
        .send(&mut lp, &[b"two"], None, |_, log: &mut Vec<String>, r| {
            log.push(format!("sent {}", r.unwrap()))
        })
        .unwrap();
    client.disconnect(&mut lp).unwrap();
    assert_eq!(client.peer_addr(&lp).unwrap_err().code(), "ENOTCONN");
    let e = client
        .send(&mut lp, &[b"x"], None, |_, _, _| {})
        .unwrap_err();
    assert_eq!(e.code(), "EDESTADDRREQ");
    client
        .send(&mut lp, &[b"three"], Some(saddr), |_, _, _| {})
        .unwrap();
    server
        .recv_start(&mut lp, move |lp, log: &mut Vec<String>, s, r| {
            log.push(String::from_utf8_lossy(r.unwrap().data).into_owned());
            if log.iter().filter(|l| !l.starts_with("sent")).count() == 3 {
                s.close(lp, |_, _| {}).unwrap();
                client.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["sent 3", "one", "two", "three"]);
}

/// udp_open: an existing socket adopted, used; a second open is EBUSY.
#[test]
fn udp_open() {
    let mut lp: Loop<Vec<u8>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let std_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = std_sock.local_addr().unwrap();
    let u = Udp::new(&mut lp);
    u.open(&mut lp, std_sock).unwrap();
    assert_eq!(u.local_addr(&lp).unwrap(), addr);
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(u.open(&mut lp, other).unwrap_err().code(), "EBUSY");
    u.recv_start(&mut lp, |lp, got: &mut Vec<u8>, u, r| {
        got.extend_from_slice(r.unwrap().data);
        u.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    // It sends to itself.
    u.send(&mut lp, &[b"self"], Some(addr), |_, _, r| {
        r.unwrap();
    })
    .unwrap();
    let mut got = Vec::new();
    run(&mut lp, &mut got);
    assert_eq!(got, b"self");
}

/// udp_no_autobind: nothing makes a socket but bind, open, connect, send
/// and recv_start; options and addresses before that are EBADF.
#[test]
fn udp_no_autobind() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let u = Udp::new(&mut lp);
    assert_eq!(u.local_addr(&lp).unwrap_err().code(), "EBADF");
    assert_eq!(u.set_ttl(&lp, 1).unwrap_err().code(), "EBADF");
    assert_eq!(u.set_multicast_ttl(&lp, 1).unwrap_err().code(), "EBADF");
    assert_eq!(u.set_broadcast(&lp, true).unwrap_err().code(), "EBADF");
    assert_eq!(u.recv_buffer_size(&lp).unwrap_err().code(), "EBADF");
    u.recv_stop(&mut lp).unwrap();
    assert_eq!(u.local_addr(&lp).unwrap_err().code(), "EBADF");
    u.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut ());
}

/// udp_options: TTL bounds, broadcast, multicast TTL and loop, buffer
/// sizes (the kernel doubles what is set).
#[test]
fn udp_options() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (u, _) = bound(&mut lp, local());
    for ttl in [1, 128, 255] {
        u.set_ttl(&lp, ttl).unwrap();
        u.set_multicast_ttl(&lp, ttl).unwrap();
    }
    for ttl in [0, 256] {
        assert_eq!(u.set_ttl(&lp, ttl).unwrap_err().code(), "EINVAL");
        assert_eq!(u.set_multicast_ttl(&lp, ttl).unwrap_err().code(), "EINVAL");
    }
    u.set_broadcast(&lp, true).unwrap();
    u.set_broadcast(&lp, false).unwrap();
    u.set_multicast_loop(&lp, false).unwrap();
    u.set_multicast_loop(&lp, true).unwrap();
    u.set_recv_buffer_size(&lp, 8192).unwrap();
    assert_eq!(u.recv_buffer_size(&lp).unwrap(), 16384);
    u.set_send_buffer_size(&lp, 8192).unwrap();
    assert_eq!(u.send_buffer_size(&lp).unwrap(), 16384);
    assert_eq!(u.set_recv_buffer_size(&lp, 0).unwrap_err().code(), "EINVAL");
    if ipv6_loopback() {
        let (v6, _) = bound(&mut lp, "[::1]:0".parse().unwrap());
        v6.set_ttl(&lp, 64).unwrap();
        v6.set_multicast_ttl(&lp, 64).unwrap();
        v6.set_multicast_loop(&lp, true).unwrap();
        v6.close(&mut lp, |_, _| {}).unwrap();
    }
    u.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut ());
}

/// udp_multicast_join, udp_multicast_ttl, udp_multicast_interface: a
/// datagram sent to a group joined on the loopback interface comes back.
#[test]
fn udp_multicast_join() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let group: Ipv4Addr = "239.255.0.1".parse().unwrap();
    let lo = Ipv4Addr::LOCALHOST;
    let server = Udp::new(&mut lp);
    let reuse = BindFlags {
        ipv6_only: false,
        reuse_addr: true,
    };
    server
        .bind(&mut lp, "0.0.0.0:0".parse().unwrap(), reuse)
        .unwrap();
    let port = server.local_addr(&lp).unwrap().port();
    server
        .set_membership_v4(&lp, group, lo, Membership::Join)
        .unwrap();
    // Joining twice is the kernel's EADDRINUSE.
    let e = server
        .set_membership_v4(&lp, group, lo, Membership::Join)
        .unwrap_err();
    assert_eq!(e.code(), "EADDRINUSE", "{e}");
    server
        .recv_start(&mut lp, move |lp, log: &mut Vec<String>, s, r| {
            log.push(String::from_utf8_lossy(r.unwrap().data).into_owned());
            s.set_membership_v4(lp, group, lo, Membership::Leave)
                .unwrap();
            s.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    let client = Udp::new(&mut lp);
    client.bind(&mut lp, local(), BindFlags::default()).unwrap();
    client.set_multicast_interface_v4(&lp, lo).unwrap();
    client.set_multicast_ttl(&lp, 1).unwrap();
    client.set_multicast_loop(&lp, true).unwrap();
    client
        .send(
            &mut lp,
            &[b"PING"],
            Some((group, port).into()),
            move |lp, log, r| {
                log.push(format!("sent {}", r.unwrap()));
                client.close(lp, |_, _| {}).unwrap();
            },
        )
        .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["sent 4", "PING"]);
}

/// udp_multicast_join with a source (source-specific membership): from
/// 127.0.0.1 it is received; an IPv6 group is ENOTSUP here.
#[test]
fn udp_multicast_source_membership() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let group: Ipv4Addr = "232.1.1.1".parse().unwrap();
    let lo = Ipv4Addr::LOCALHOST;
    let server = Udp::new(&mut lp);
    server
        .bind(&mut lp, "0.0.0.0:0".parse().unwrap(), BindFlags::default())
        .unwrap();
    let port = server.local_addr(&lp).unwrap().port();
    let src = lo.into();
    server
        .set_source_membership(&lp, group.into(), lo, src, Membership::Join)
        .unwrap();
    let v6g = "ff3e::1234".parse().unwrap();
    let e = server.set_source_membership(&lp, v6g, lo, "::1".parse().unwrap(), Membership::Join);
    assert_eq!(e.unwrap_err().code(), "ENOTSUP");
    server
        .recv_start(&mut lp, move |lp, log: &mut Vec<String>, s, r| {
            log.push(String::from_utf8_lossy(r.unwrap().data).into_owned());
            s.set_source_membership(lp, group.into(), lo, src, Membership::Leave)
                .unwrap();
            s.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    let client = Udp::new(&mut lp);
    client.bind(&mut lp, local(), BindFlags::default()).unwrap();
    client.set_multicast_interface_v4(&lp, lo).unwrap();
    client
        .send(
            &mut lp,
            &[b"SSM"],
            Some((group, port).into()),
            move |lp, _, r| {
                r.unwrap();
                client.close(lp, |_, _| {}).unwrap();
            },
        )
        .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["SSM"]);
}

/// udp_multicast_join6: an IPv6 group on the loopback interface.
#[test]
fn udp_multicast_join6() {
    if !ipv6_loopback() {
        // No IPv6 at all: binding ::1 must then fail with the kernel's
        // answer for a missing address family or address.
        let e = UdpSocket::bind("[::1]:0").unwrap_err();
        assert!(
            matches!(
                e.raw_os_error(),
                Some(libc::EADDRNOTAVAIL) | Some(libc::EAFNOSUPPORT)
            ),
            "{e}"
        );
        return;
    }
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let group = "ff02::1:2345".parse().unwrap();
    let lo_index = 1; // "lo" is interface 1 on Linux.
    let server = Udp::new(&mut lp);
    server
        .bind(&mut lp, "[::]:0".parse().unwrap(), BindFlags::default())
        .unwrap();
    let port = server.local_addr(&lp).unwrap().port();
    server
        .set_membership_v6(&lp, group, lo_index, Membership::Join)
        .unwrap();
    server
        .recv_start(&mut lp, move |lp, log: &mut Vec<String>, s, r| {
            log.push(String::from_utf8_lossy(r.unwrap().data).into_owned());
            s.set_membership_v6(lp, group, lo_index, Membership::Leave)
                .unwrap();
            s.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    let client = Udp::new(&mut lp);
    client
        .bind(&mut lp, "[::1]:0".parse().unwrap(), BindFlags::default())
        .unwrap();
    client.set_multicast_interface_v6(&lp, lo_index).unwrap();
    let dest = SocketAddr::V6(std::net::SocketAddrV6::new(group, port, 0, lo_index));
    client
        .send(&mut lp, &[b"PING6"], Some(dest), move |lp, log, r| {
            client.close(lp, |_, _| {}).unwrap();
            if let Err(e) = r {
                // A host (this sandbox) whose loopback has no IPv6
                // multicast route: the kernel's answer is ENETUNREACH.
                assert_eq!(e.code(), "ENETUNREACH", "{e}");
                log.push(e.code().into());
                server.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert!(log == ["PING6"] || log == ["ENETUNREACH"], "{log:?}");
}

/// udp_dual_stack and udp_ipv6_only: `[::]` receives IPv4 datagrams
/// (from `::ffff:127.0.0.1`) unless ipv6_only.
fn dual_stack(ipv6_only: bool) -> Vec<String> {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let server = Udp::new(&mut lp);
    let flags = BindFlags {
        ipv6_only,
        reuse_addr: false,
    };
    server
        .bind(&mut lp, "[::]:0".parse().unwrap(), flags)
        .unwrap();
    let port = server.local_addr(&lp).unwrap().port();
    server
        .recv_start(&mut lp, move |lp, log: &mut Vec<String>, s, r| {
            let dg = r.unwrap();
            log.push(format!(
                "{} from {}",
                String::from_utf8_lossy(dg.data),
                dg.from.ip()
            ));
            s.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"v4", ("127.0.0.1", port)).unwrap();
    // A timer ends an ipv6_only run: nothing comes.
    let t = lp.add_timer(200, 0, move |lp, _| {
        if server.exists(lp) && !server.is_closing(lp) {
            server
                .close(lp, |_, log: &mut Vec<String>| log.push("nothing".into()))
                .unwrap();
        }
    });
    lp.unref(t).unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    log
}

#[test]
fn udp_dual_stack() {
    if !ipv6_loopback() {
        return assert_eq!(
            UdpSocket::bind("[::]:0").unwrap_err().raw_os_error(),
            Some(libc::EAFNOSUPPORT)
        );
    }
    assert_eq!(dual_stack(false), ["v4 from ::ffff:127.0.0.1"]);
}

#[test]
fn udp_ipv6_only() {
    if !ipv6_loopback() {
        return assert_eq!(
            UdpSocket::bind("[::]:0").unwrap_err().raw_os_error(),
            Some(libc::EAFNOSUPPORT)
        );
    }
    assert_eq!(dual_stack(true), ["nothing"]);
}

/// udp_ref, udp_ref2, udp_ref3: an unreferenced receiving handle does not
/// keep the loop alive; a queued send does, until its callback.
#[test]
fn udp_ref() {
    // udp_ref: a handle never started.
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    let u = Udp::new(&mut lp);
    u.unref(&mut lp).unwrap();
    assert!(!lp.run(RunMode::Default, &mut Vec::new()).unwrap());

    // udp_ref2: receiving, unreferenced.
    let (v, _) = bound(&mut lp, local());
    v.recv_start(&mut lp, |_, _, _, _| panic!("nothing is sent"))
        .unwrap();
    v.unref(&mut lp).unwrap();
    assert!(!lp.run(RunMode::Default, &mut Vec::new()).unwrap());
    // Referenced again, it keeps a loop alive: one NoWait pass says so.
    v.ref_handle(&mut lp).unwrap();
    assert!(lp.run(RunMode::NoWait, &mut Vec::new()).unwrap());
    v.unref(&mut lp).unwrap();

    // udp_ref3: a send on an unreferenced handle still calls back.
    let w = Udp::new(&mut lp);
    w.send(
        &mut lp,
        &[b"x"],
        Some(local_unused()),
        |_, log: &mut Vec<String>, r| {
            log.push(format!("sent {}", r.unwrap()));
        },
    )
    .unwrap();
    w.unref(&mut lp).unwrap();
    let mut log = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["sent 1"]);
    for h in [u, v, w] {
        h.close(&mut lp, |_, _| {}).unwrap();
    }
    run(&mut lp, &mut Vec::new());
}

/// Close: a send's callback comes before the close callback, in the close
/// phase; a handle closed from its own receive callback gets no more.
#[test]
fn udp_close_order() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    let u = Udp::new(&mut lp);
    u.send(
        &mut lp,
        &[b"x"],
        Some(local_unused()),
        |lp, log: &mut Vec<String>, r| {
            log.push(format!(
                "send {:?} {:?}",
                r.map_err(|e| e.code()),
                lp.phase()
            ));
        },
    )
    .unwrap();
    u.close(&mut lp, |lp, log: &mut Vec<String>| {
        log.push(format!("close {:?}", lp.phase()))
    })
    .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].starts_with("send Ok(1)"), "{log:?}");
    assert!(log[1].starts_with("close"), "{log:?}");
    assert!(!u.exists(&lp));
}

/// A flood at a handle that does not read: the kernel's buffer bounds it
/// (datagrams are dropped, not queued in the process), and the handle
/// serves what fits once it reads, with nothing allocated per datagram.
#[test]
fn udp_flood_slow_reader() {
    let mut lp: Loop<usize> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (server, saddr) = bound(&mut lp, local());
    server.set_recv_buffer_size(&lp, 64 * 1024).unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let payload = [0x5a; 1000];
    for _ in 0..20_000 {
        let _ = peer.send_to(&payload, saddr);
    }
    // Reading from now on: what the kernel kept, then an end marker.
    server
        .recv_start(&mut lp, |lp, n: &mut usize, s, r| {
            let dg = r.unwrap();
            if dg.data == b"END" {
                s.close(lp, |_, _| {}).unwrap();
                return;
            }
            assert_eq!(dg.data, &[0x5a; 1000][..]);
            *n += 1;
        })
        .unwrap();
    lp.run(RunMode::NoWait, &mut 0).unwrap();
    peer.send_to(b"END", saddr).unwrap();
    let mut n = 0;
    run(&mut lp, &mut n);
    // 20 MB were sent; at most what 128 KiB of socket buffer holds came.
    assert!(n < 1000, "{n} datagrams kept");
}

/// The fds registered in the loop's epoll set (`/proc/self/fdinfo` of the
/// epoll fd lists one `tfd:` line per registration).
fn epoll_fds<D: 'static>(lp: &Loop<D>) -> Vec<i32> {
    use std::os::fd::AsRawFd;
    let ep = lp.registry().as_raw_fd();
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{ep}")).unwrap();
    info.lines()
        .filter_map(|l| l.strip_prefix("tfd:"))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// A copy of the fd (to pass over IPC) is the same socket: it receives
/// what is sent to the handle's address; the handle needs a socket
/// (`EBADF` before any bind); closing a handle whose fd was copied takes
/// the socket out of the epoll set although the copy keeps it open
/// (closing the fd alone would not).
#[test]
fn udp_fd_copy_and_close() {
    let mut lp: Loop<Vec<u8>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let unbound = Udp::new(&mut lp);
    assert_eq!(unbound.try_clone_fd(&mut lp).unwrap_err().code(), "EBADF");
    unbound.close(&mut lp, |_, _| {}).unwrap();
    let (u, addr) = bound(&mut lp, local());
    u.recv_start(&mut lp, |_, _, _, _| panic!("closed before anything came"))
        .unwrap();
    let copy = UdpSocket::from(u.try_clone_fd(&mut lp).unwrap());
    assert_eq!(copy.local_addr().unwrap(), addr);
    let before = epoll_fds(&lp);
    u.close(&mut lp, |_, _| {}).unwrap();
    let after = epoll_fds(&lp);
    assert_eq!(after.len() + 1, before.len(), "{before:?} -> {after:?}");
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"to the copy", addr).unwrap();
    let mut got = Vec::new();
    run(&mut lp, &mut got);
    copy.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = copy.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"to the copy");
    assert_eq!(from, peer.local_addr().unwrap());
}

/// Datagrams `0..n`, each its index as 4 bytes, sent at `to`.
fn numbered(peer: &UdpSocket, to: SocketAddr, n: u32) {
    for i in 0..n {
        peer.send_to(&i.to_be_bytes(), to).unwrap();
    }
}

fn number(data: &[u8]) -> u32 {
    u32::from_be_bytes(data.try_into().unwrap())
}

/// One `recvmmsg` takes a whole batch from the kernel; a `recv_stop` in
/// the middle of it loses none of the rest: a later `recv_start` delivers
/// them first, in order, then what came after (libuv's recvmmsg mode drops
/// them).
#[test]
fn udp_recv_stop_in_a_batch_loses_nothing() {
    let (mut lp, server, saddr, peer) = server_and_peer::<Vec<u32>>();
    numbered(&peer, saddr, 10);
    let on_dgram = |lp: &mut Loop<Vec<u32>>,
                    got: &mut Vec<u32>,
                    s: Udp,
                    r: loop_net::Result<loop_net::Datagram<'_>>| {
        got.push(number(r.unwrap().data));
        if got.len() % 3 == 0 {
            s.recv_stop(lp).unwrap();
        }
    };
    server.recv_start(&mut lp, on_dgram).unwrap();
    let mut got = Vec::new();
    run(&mut lp, &mut got);
    assert_eq!(got, [0, 1, 2]);
    for _ in 0..2 {
        server.recv_start(&mut lp, on_dgram).unwrap();
        run(&mut lp, &mut got);
    }
    assert_eq!(got, (0..9).collect::<Vec<_>>());
    // Two more behind the stashed one: the stash first, then the socket.
    let tail = [10u32, 11];
    for i in tail {
        peer.send_to(&i.to_be_bytes(), saddr).unwrap();
    }
    server.recv_start(&mut lp, on_dgram).unwrap();
    run(&mut lp, &mut got);
    assert_eq!(got, (0..12).collect::<Vec<_>>());
    server.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut got);
}

/// A receive callback that panics in the middle of a batch: the panic
/// comes out of `run`; the next `run` delivers the rest of the batch, in
/// order, none twice and none lost.
#[test]
fn udp_panic_in_a_batch_loses_nothing() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let (mut lp, server, saddr, peer) = server_and_peer::<Vec<u32>>();
    numbered(&peer, saddr, 8);
    server
        .recv_start(&mut lp, |lp, got: &mut Vec<u32>, s, r| {
            got.push(number(r.unwrap().data));
            if got.len() == 3 {
                panic!("boom");
            }
            if got.len() == 8 {
                s.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    let mut got = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut got)));
    assert!(r.is_err(), "the panic comes out of run");
    assert_eq!(got, [0, 1, 2]);
    run(&mut lp, &mut got);
    assert_eq!(got, (0..8).collect::<Vec<_>>());
}

/// In one batch, each datagram has its own truncation flag and length
/// (the kernel's `MSG_TRUNC` per message), zero-length ones included.
#[test]
fn udp_truncation_per_datagram_in_a_batch() {
    let (mut lp, server, saddr, peer) = server_and_peer::<Vec<(usize, bool)>>();
    let sizes = [5usize, 100, 0, 64, 65, MAX_DATAGRAM, 1];
    for n in sizes {
        peer.send_to(&vec![7u8; n], saddr).unwrap();
    }
    let got = recv_n(&mut lp, server, 64, sizes.len(), |_, dg| {
        assert!(dg.data.iter().all(|&b| b == 7));
        (dg.data.len(), dg.truncated)
    });
    assert_eq!(
        got,
        [
            (5, false),
            (64, true),
            (0, false),
            (64, false),
            (64, true),
            (64, true),
            (1, false)
        ]
    );
}

/// udp_send_unreachable on a connected handle: the kernel's ICMP port
/// unreachable becomes one receive error (`ECONNREFUSED`, what `recvmmsg`
/// returns before any datagram), then receiving goes on: a datagram from
/// the peer that appears later on that port arrives.
#[test]
fn udp_connected_recv_error_then_data() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let gone = local_unused();
    let u = Udp::new(&mut lp);
    u.connect(&mut lp, gone).unwrap();
    let me = u.local_addr(&lp).unwrap();
    u.recv_start(&mut lp, move |lp, log: &mut Vec<String>, u, r| match r {
        Err(e) => {
            log.push(format!("recv error {}", e.code()));
            // The peer shows up on that port and answers.
            let peer = UdpSocket::bind(gone).unwrap();
            peer.send_to(b"late", me).unwrap();
        }
        Ok(dg) => {
            log.push(format!("recv {}", String::from_utf8_lossy(dg.data)));
            u.close(lp, |_, _| {}).unwrap();
        }
    })
    .unwrap();
    u.send(&mut lp, &[b"x"], None, |_, log: &mut Vec<String>, r| {
        log.push(format!("sent {}", r.unwrap()))
    })
    .unwrap();
    let mut log = Vec::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["sent 1", "recv error ECONNREFUSED", "recv late"]);
}
