//! UDP echo (RFC 862) on the server's TCP port, as the real binary on
//! 127.0.0.1: datagrams back whole to their sender on every worker, 0 and
//! 65,507 bytes, `--no-udp`, and `bench --mode udp`.

mod common;

use common::*;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

fn udp_peer() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Sends `msg` to `addr` and returns the echo and who sent it.
fn udp_echo(s: &UdpSocket, addr: SocketAddr, msg: &[u8]) -> (Vec<u8>, SocketAddr) {
    s.send_to(msg, addr).unwrap();
    let mut buf = vec![0u8; 65_536];
    let (n, from) = s.recv_from(&mut buf).expect("an echo");
    buf.truncate(n);
    (buf, from)
}

#[test]
fn every_worker_echoes_datagrams_whole_to_their_sender() {
    let (_app, addr) = App::serve(&["--workers", "3"]);
    // Many senders: SO_REUSEPORT spreads them across the workers.
    for i in 0..30 {
        let s = udp_peer();
        let msg = format!("datagram {i}");
        assert_eq!(udp_echo(&s, addr, msg.as_bytes()), (msg.into_bytes(), addr));
    }
    let s = udp_peer();
    for len in [0usize, 1, 1472, 65_507] {
        let msg = pattern(len);
        let (got, from) = udp_echo(&s, addr, &msg);
        assert_eq!(from, addr);
        assert_eq!(got.len(), len);
        assert!(got == msg, "echoed bytes differ for {len} B");
    }
}

#[test]
fn no_udp_leaves_the_port_free() {
    let (_app, addr) = App::serve(&[]);
    let e = UdpSocket::bind(addr).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE), "{e}");

    let (_app, addr) = App::serve(&["--no-udp"]);
    // Nobody has the UDP port: we can take it.
    let s = UdpSocket::bind(addr).expect("the UDP port is free with --no-udp");
    drop(s);
    // TCP still echoes.
    let mut c = connect(addr);
    assert_eq!(echo(&mut c, b"tcp\n"), b"tcp\n");
}

#[test]
fn bench_udp_reports_zero_errors() {
    let (_server, addr) = App::serve(&["--workers", "2"]);
    let a = addr.to_string();
    let args = [
        "bench",
        "--addr",
        &a,
        "--duration",
        "1",
        "--mode",
        "udp",
        "--conns",
        "4",
        "--pipeline",
        "4",
        "--size",
        "200",
    ];
    let mut b = App::spawn(&args);
    let st = b.wait_exit(Duration::from_secs(30));
    let out = b.rest_of_stdout();
    assert_eq!(st.code(), Some(0), "{out:?} {}", b.stderr());
    let line = &out[0];
    assert!(line.starts_with("mode=udp conns=4 "), "{line}");
    assert!(line.contains(" mismatches=0 errors=0"), "{line}");
    let msgs: u64 = line
        .split(' ')
        .find_map(|kv| kv.strip_prefix("msgs="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(msgs > 0, "{line}");
}
