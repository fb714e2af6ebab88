//! Echo servers against real sockets: byte-exact round trips from 1 B to
//! 64 MiB, 1,000 concurrent connections, Unix-domain sockets, and the
//! Node.js level with backpressure.

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions, Socket, Stream};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::rc::Rc;

/// Sizes of the round trips: around the 64 KiB read buffer and far past
/// the socket buffers.
const SIZES: [usize; 8] = [1, 100, 65_535, 65_536, 65_537, 1 << 20, 8 << 20, 64 << 20];

/// One round trip over a new connection: write all, shut down, read the
/// echo to EOF, compare every byte.
fn roundtrip_to_eof(addr: std::net::SocketAddr, len: usize) {
    let s = peer(addr);
    let data = pattern(len);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(&data).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let got = read_to_end(&s);
    writer.join().unwrap();
    assert_eq!(got.len(), len, "echoed length for {len} B");
    if let Some(i) = (0..len).find(|&i| got[i] != pattern_byte(i)) {
        panic!("byte {i} of {len} differs");
    }
}

#[test]
fn echo_round_trips_1b_to_64mib() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    watchdog(&mut lp, 50_000);
    let (_l, addr, stats) = echo_server(&mut lp, any_port());
    let client = std::thread::spawn(move || {
        for len in SIZES {
            let t0 = std::time::Instant::now();
            roundtrip_to_eof(addr, len);
            if len == 64 << 20 {
                let secs = t0.elapsed().as_secs_f64();
                eprintln!(
                    "64 MiB echoed in {secs:.3} s ({:.0} MiB/s each way)",
                    64.0 / secs
                );
            }
        }
        // `Q` closes the echo server; the loop then ends.
        let mut c = peer(addr);
        c.write_all(b"Q").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&c), b"Q");
    });
    lp.run(RunMode::Default, &mut ()).unwrap();
    client.join().unwrap();
    assert_eq!(stats.connections.get(), SIZES.len() + 1);
    assert_eq!(loop_net::stats(&lp).streams, 0);
}

/// The Node.js level echo: `write` returning false pauses the socket until
/// `on_drain` (how a Node echo server avoids buffering without bound).
fn node_echo_server<D: 'static>(
    lp: &mut Loop<D>,
    opts: ServerOptions,
) -> (Server, std::net::SocketAddr) {
    let server = Server::new(lp, opts);
    server.on_connection(lp, |lp, _, sock| {
        sock.on_data(lp, |lp, _, sock, bytes| {
            if !sock.write(lp, bytes) {
                sock.pause(lp);
            }
        });
        sock.on_drain(lp, |lp, _, sock| sock.resume(lp));
        sock.on_error(lp, |_, _, _, e| panic!("server socket error: {e}"));
    });
    server.listen(lp, 0, Some("127.0.0.1")).unwrap();
    let addr = server.address(lp).unwrap().as_inet().unwrap();
    (server, addr)
}

#[test]
fn node_echo_round_trips() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    watchdog(&mut lp, 50_000);
    let (server, addr) = node_echo_server(&mut lp, ServerOptions::default());
    let done = on_signal(&mut lp, move |lp, _| server.close(lp));
    let client = std::thread::spawn(move || {
        for len in [1, 65_537, 1 << 20, 16 << 20] {
            roundtrip_to_eof(addr, len);
        }
        done.send().unwrap();
    });
    lp.run(RunMode::Default, &mut ()).unwrap();
    client.join().unwrap();
    assert_eq!(server.connection_count(&lp), 0);
}

/// A slow reader: the echo's queue stays under the high-water mark plus
/// one read, while 8 MiB go through.
#[test]
fn node_echo_backpressure_bounds_memory() {
    const LEN: usize = 8 << 20;
    let mut lp: Loop<usize> = Loop::new().unwrap();
    watchdog(&mut lp, 50_000);
    let server = Server::new(&mut lp, ServerOptions::default());
    server.on_connection(&mut lp, |lp, _, sock| {
        sock.on_data(lp, |lp, max: &mut usize, sock, bytes| {
            let ok = sock.write(lp, bytes);
            *max = (*max).max(sock.writable_length(lp));
            if !ok {
                assert!(sock.needs_drain(lp));
                sock.pause(lp);
            }
        });
        sock.on_drain(lp, |lp, _, sock| {
            assert_eq!(sock.writable_length(lp), 0);
            sock.resume(lp)
        });
    });
    server.listen(&mut lp, 0, Some("127.0.0.1")).unwrap();
    let addr = server.address(&lp).unwrap().as_inet().unwrap();
    let done = on_signal(&mut lp, move |lp, _| server.close(lp));
    let client = std::thread::spawn(move || {
        let s = peer(addr);
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            w.write_all(&pattern(LEN)).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        // Read slowly: small reads with pauses at first.
        let mut got = Vec::with_capacity(LEN);
        let mut buf = [0u8; 4096];
        let mut reads = 0;
        loop {
            let n = (&s).read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            reads += 1;
            if reads < 200 && reads % 20 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        writer.join().unwrap();
        assert_eq!(got.len(), LEN);
        assert!(got.iter().enumerate().all(|(i, b)| *b == pattern_byte(i)));
        done.send().unwrap();
    });
    let mut max = 0;
    lp.run(RunMode::Default, &mut max).unwrap();
    client.join().unwrap();
    let bound = loop_net::DEFAULT_HIGH_WATER_MARK + loop_net::READ_BUF;
    assert!(max <= bound, "queued {max} bytes, more than {bound}");
}

/// 1,000 connections open at once, each echoing its own message.
#[test]
fn thousand_concurrent_connections() {
    const N: usize = 1000;
    raise_nofile(4 * N as u64 + 64);
    #[derive(Default)]
    struct St {
        got: Vec<Vec<u8>>,
        connected: usize,
        closed: usize,
        peak: usize,
    }
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 50_000);
    let opts = ServerOptions {
        backlog: 1024,
        ..ServerOptions::default()
    };
    let (server, addr) = node_echo_server(&mut lp, opts);
    let clients: Rc<RefCell<Vec<Socket>>> = Rc::default();
    for i in 0..N {
        let c = Socket::connect(&mut lp, addr).unwrap();
        c.on_connect(&mut lp, move |_, st: &mut St, _| {
            st.connected += 1;
            st.peak = st.peak.max(st.connected - st.closed);
        });
        let msg = format!("hello from client {i}\n");
        assert!(c.write(&mut lp, msg.as_bytes().to_vec()));
        c.on_data(&mut lp, move |lp, st: &mut St, c, b| {
            st.got[i].extend_from_slice(b);
            if st.got[i].len() == msg.len() {
                c.end(lp);
            }
        });
        c.on_error(&mut lp, |_, _, _, e| panic!("client: {e}"));
        c.on_close(&mut lp, move |lp, st: &mut St, _, had_error| {
            assert!(!had_error);
            st.closed += 1;
            if st.closed == N {
                server.close(lp);
            }
        });
        clients.borrow_mut().push(c);
    }
    let mut st = St {
        got: vec![Vec::new(); N],
        ..St::default()
    };
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.closed, N);
    for (i, g) in st.got.iter().enumerate() {
        assert_eq!(g, format!("hello from client {i}\n").as_bytes());
    }
    // Many were open at the same time.
    assert!(
        st.peak >= N / 2,
        "peak {} connections open at once",
        st.peak
    );
    assert_eq!(loop_net::stats(&lp).streams, 0);
}

/// The echo server on a Unix-domain socket, with std clients, then the
/// Node.js level over a path too.
#[test]
fn unix_socket_echo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let mut lp: Loop<Vec<u8>> = Loop::new().unwrap();
    watchdog(&mut lp, 30_000);
    let (l, stats) = echo_server_unix(&mut lp, &path);
    assert_eq!(l.local_addr(&lp).unwrap().as_path(), Some(path.as_path()));
    let p2 = path.clone();
    let client = std::thread::spawn(move || {
        for len in [1, 65_537, 4 << 20] {
            let s = std::os::unix::net::UnixStream::connect(&p2).unwrap();
            s.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
            let mut w = s.try_clone().unwrap();
            let writer = std::thread::spawn(move || {
                w.write_all(&pattern(len)).unwrap();
                w.shutdown(Shutdown::Write).unwrap();
            });
            let mut got = Vec::new();
            (&s).read_to_end(&mut got).unwrap();
            writer.join().unwrap();
            assert!(got == pattern(len), "unix echo of {len} B differs");
        }
        let mut c = std::os::unix::net::UnixStream::connect(&p2).unwrap();
        c.write_all(b"Q").unwrap();
    });
    lp.run(RunMode::Default, &mut Vec::new()).unwrap();
    client.join().unwrap();
    assert_eq!(stats.connections.get(), 4);
    assert!(!path.exists(), "the socket file is removed on close");

    // Node.js level: Server::listen_path and Socket::connect_path.
    let server = Server::new(&mut lp, ServerOptions::default());
    server.on_connection(&mut lp, |lp, _, sock| {
        sock.on_data(lp, |lp, _, sock, b| {
            sock.write(lp, b);
        });
    });
    server.listen_path(&mut lp, &path).unwrap();
    let c = Socket::connect_path(&mut lp, &path).unwrap();
    c.write(&mut lp, &b"over a path"[..]);
    c.end(&mut lp);
    c.on_data(&mut lp, |_, got: &mut Vec<u8>, _, b| {
        got.extend_from_slice(b)
    });
    c.on_close(&mut lp, move |lp, _, _, had_error| {
        assert!(!had_error);
        server.close(lp);
    });
    let mut got = Vec::new();
    lp.run(RunMode::Default, &mut got).unwrap();
    assert_eq!(got, b"over a path");
    // An unnamed client address.
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    assert_eq!(s.local_addr(&lp).unwrap().to_string(), "(unnamed)");
    s.close(&mut lp, |_, _| {}).unwrap();
    lp.run(RunMode::Default, &mut got).unwrap();
}
