//! IPC streams: fds over a Unix socket. Ports of the behaviours of libuv
//! 1.46's `test-ipc-send-recv.c` (pass a TCP connection, a listener,
//! several handles in a row), `test-pipe-sendmsg.c` (several fds, each
//! usable on arrival) and `test-ipc.c`'s zero-length writes, plus the
//! rules of this crate: the fd sent once when the write is split,
//! received fds close-on-exec, cancellation on close.

use loop_core::Loop;
use loop_net::{Server, ServerOptions, Socket};
use loop_process::{HandleType, Ipc, IpcEvent};
use loop_testkit::run_to_end;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

fn ipc_pair<D: 'static>(lp: &mut Loop<D>) -> (Ipc, Ipc) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    (
        Ipc::open(lp, a.into()).expect("open a"),
        Ipc::open(lp, b.into()).expect("open b"),
    )
}

#[derive(Default, Debug)]
struct Recv {
    bytes: Vec<u8>,
    reads: usize,
    fds: Vec<(HandleType, OwnedFd)>,
    writes_ok: usize,
    errors: Vec<String>,
    eof: bool,
}

/// Reads `h` to EOF, taking every pending fd as it arrives.
fn collect(lp: &mut Loop<Recv>, h: Ipc) {
    h.read_start(lp, |lp, r: &mut Recv, h, ev| match ev {
        IpcEvent::Data(b) => {
            r.reads += 1;
            r.bytes.extend_from_slice(b);
            while let Some(p) = h.take_handle(lp) {
                r.fds.push(p);
            }
        }
        IpcEvent::Eof => {
            r.eof = true;
            h.close(lp, |_, _| {}).expect("open");
        }
        IpcEvent::Error(e) => panic!("{e}"),
    })
    .expect("read_start");
}

fn count_ok(lp: &mut Loop<Recv>, h: Ipc, data: &[u8], fd: Option<OwnedFd>) {
    h.write(lp, data.to_vec(), fd, |_, r: &mut Recv, res| match res {
        Ok(()) => r.writes_ok += 1,
        Err(e) => r.errors.push(e.to_string()),
    })
    .expect("write");
}

/// Writes `data`, then closes `h` from the write callback (the peer sees
/// EOF after the data).
fn close_after(lp: &mut Loop<Recv>, h: Ipc, data: &[u8]) {
    h.write(lp, data.to_vec(), None, move |lp, r: &mut Recv, res| {
        res.expect("write");
        r.writes_ok += 1;
        h.close(lp, |_, _| {}).expect("open");
    })
    .expect("write");
}

/// test-ipc-send-recv's TCP case: a connection crosses the channel and
/// the receiver answers on it as a loop-net stream.
#[test]
fn pass_a_tcp_connection() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut client = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (conn, _) = l.accept().expect("accept");
    let mut lp: Loop<Recv> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    count_ok(&mut lp, a, b".", Some(conn.into()));
    b.read_start(&mut lp, |lp, r: &mut Recv, b, ev| {
        let IpcEvent::Data(d) = ev else { return };
        r.bytes.extend_from_slice(d);
        assert_eq!(b.pending_count(lp), 1);
        assert_eq!(b.pending_type(lp), Some(HandleType::TcpStream));
        let s = b.accept_stream(lp).expect("a connection");
        assert_eq!(b.pending_count(lp), 0);
        assert!(s.peer_addr(lp).is_ok(), "a TCP stream");
        s.write(lp, &b"hello from the receiver"[..]).expect("write");
        s.shutdown(lp, move |lp, _, r| {
            r.expect("shutdown");
            s.close(lp, |_, _| {}).expect("open");
        })
        .expect("shutdown");
        b.close(lp, |_, _| {}).expect("open");
    })
    .expect("read_start");
    let mut r = Recv::default();
    run_to_end(&mut lp, &mut r);
    a.close(&mut lp, |_, _| {}).expect("open");
    run_to_end(&mut lp, &mut r);
    assert_eq!(r.bytes, b".");
    assert_eq!(r.writes_ok, 1);
    let mut got = String::new();
    client.read_to_string(&mut got).expect("read");
    assert_eq!(got, "hello from the receiver");
}

#[derive(Default)]
struct Srv {
    echoed: Vec<u8>,
    listening: bool,
    server_closed: bool,
}

/// test-ipc-send-recv's listener case, at Node's level: a listening
/// socket crosses the channel and a Node `Server` listens on it
/// (`server.listen(handle)`); a client of the original address is
/// served by it.
#[test]
fn a_node_server_listens_on_a_received_listener() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let mut lp: Loop<Srv> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    a.write(&mut lp, b"S".to_vec(), Some(l.into()), move |lp, _, r| {
        r.expect("sent");
        a.close(lp, |_, _| {}).expect("open");
    })
    .expect("write");
    b.read_start(&mut lp, move |lp, _, b, ev| {
        let IpcEvent::Data(_) = ev else { return };
        assert_eq!(b.pending_type(lp), Some(HandleType::TcpListener));
        let e = b.accept_stream(lp).expect_err("a listener is no stream");
        assert_eq!(e.code(), Some("EINVAL"));
        let (t, fd) = b.take_handle(lp).expect("still pending");
        assert_eq!(t, HandleType::TcpListener);
        b.close(lp, |_, _| {}).expect("open");

        let srv = Server::new(lp, ServerOptions::default());
        srv.on_listening(lp, |_, s: &mut Srv| s.listening = true);
        srv.on_connection(lp, move |lp, _, sock| {
            sock.on_data(lp, |lp, _, sock, d| {
                sock.write(lp, d.to_vec());
            });
            srv.close(lp);
        });
        srv.on_close(lp, |_, s: &mut Srv| s.server_closed = true);
        srv.listen_fd(lp, fd).expect("listen on the received fd");
        assert_eq!(
            srv.address(lp).and_then(|a| a.as_inet()),
            Some(addr),
            "the server has the original address"
        );
        let c = Socket::connect(lp, addr).expect("connect");
        c.write(lp, &b"across processes"[..]);
        c.end(lp);
        c.on_data(lp, |_, s: &mut Srv, _, d| s.echoed.extend_from_slice(d));
    })
    .expect("read_start");
    let mut s = Srv::default();
    run_to_end(&mut lp, &mut s);
    assert!(s.listening);
    assert!(s.server_closed);
    assert_eq!(s.echoed, b"across processes");
}

/// test-pipe-sendmsg / "several handles in a row": three socket-pair ends
/// sent back to back, each in its own message; all arrive, in order, as
/// Unix streams, each usable.
#[test]
fn several_handles_in_a_row() {
    let mut lp: Loop<Recv> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    let mut keep = Vec::new();
    for i in 0..3u8 {
        let (mine, theirs) = UnixStream::pair().expect("pair");
        count_ok(&mut lp, a, &[b'0' + i], Some(theirs.into()));
        keep.push(mine);
    }
    close_after(&mut lp, a, b"end");
    collect(&mut lp, b);
    let mut r = Recv::default();
    run_to_end(&mut lp, &mut r);
    assert!(r.eof);
    assert_eq!(r.writes_ok, 4);
    assert_eq!(r.bytes, b"012end");
    assert_eq!(r.fds.len(), 3);
    assert!(r.fds.iter().all(|(t, _)| *t == HandleType::UnixStream));
    assert!(
        r.reads >= 3,
        "bytes never merge across fds: {} reads",
        r.reads
    );
    for (i, (mine, (_, got))) in keep.iter_mut().zip(r.fds).enumerate() {
        mine.write_all(&[b'a' + i as u8]).expect("write");
        let mut got = UnixStream::from(got);
        got.set_nonblocking(false).expect("blocking");
        let mut one = [0u8];
        got.read_exact(&mut one).expect("read");
        assert_eq!(one[0], b'a' + i as u8, "fd {i} is the i-th pair's end");
    }
}

/// An fd attached to a write the kernel cannot take at once (4 MiB) is
/// sent once: the receiver finds exactly one fd in all its reads, and the
/// bytes intact.
#[test]
fn the_fd_is_sent_once_when_the_write_is_split() {
    const TOTAL: usize = 4 << 20;
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 253) as u8).collect();
    let mut lp: Loop<Recv> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    let (_mine, theirs) = UnixStream::pair().expect("pair");
    count_ok(&mut lp, a, &data, Some(theirs.into()));
    assert!(
        a.write_queue_size(&lp) > 0,
        "the kernel took only part of 4 MiB"
    );
    close_after(&mut lp, a, b"!");
    collect(&mut lp, b);
    let mut r = Recv::default();
    run_to_end(&mut lp, &mut r);
    assert_eq!(r.writes_ok, 2);
    assert_eq!(r.fds.len(), 1, "one fd, sent once");
    assert!(r.reads > 1);
    assert_eq!(r.bytes.len(), TOTAL + 1);
    assert!(r.bytes[..TOTAL] == data[..]);
}

/// test-ipc.c's zero-length writes: they complete, in order with the
/// others, and send nothing; an fd needs at least one byte.
#[test]
fn zero_length_writes() {
    let mut lp: Loop<Recv> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    count_ok(&mut lp, a, b"", None);
    count_ok(&mut lp, a, b"x", None);
    count_ok(&mut lp, a, b"", None);
    let (_mine, theirs) = UnixStream::pair().expect("pair");
    let e = a
        .write(&mut lp, Vec::new(), Some(theirs.into()), |_, _, _| {
            panic!("not queued")
        })
        .expect_err("an fd with no byte");
    assert_eq!(e.code(), Some("EINVAL"));
    close_after(&mut lp, a, b"");
    collect(&mut lp, b);
    let mut r = Recv::default();
    run_to_end(&mut lp, &mut r);
    assert_eq!(r.writes_ok, 4);
    assert_eq!(r.bytes, b"x");
    assert!(r.eof);
}

/// Received fds are close-on-exec (`MSG_CMSG_CLOEXEC`): /proc's fdinfo
/// shows `O_CLOEXEC` (02000000) in their flags.
#[test]
fn received_fds_are_close_on_exec() {
    let mut lp: Loop<Recv> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    let f = std::fs::File::open("/dev/null").expect("open");
    // Close-on-exec is a flag of the fd, not of the file: it does not
    // travel; only the receiver's MSG_CMSG_CLOEXEC sets it there.
    count_ok(&mut lp, a, b"f", Some(f.into()));
    close_after(&mut lp, a, b"");
    collect(&mut lp, b);
    let mut r = Recv::default();
    run_to_end(&mut lp, &mut r);
    assert_eq!(r.fds.len(), 1);
    assert_eq!(r.fds[0].0, HandleType::Other);
    let fd = r.fds[0].1.as_raw_fd();
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).expect("fdinfo");
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).expect("octal"))
        .expect("a flags line");
    assert_ne!(flags & 0o2000000, 0, "O_CLOEXEC in {info}");
}

/// Closing a handle cancels its unwritten writes (`ECANCELED`, in the
/// close phase, before the close callback) and closes its pending fds.
#[test]
fn close_cancels_writes_and_drops_pending_fds() {
    #[derive(Default)]
    struct St(Vec<String>);
    let mut lp: Loop<St> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    // More than the socket buffers hold: the second write must wait.
    a.write(&mut lp, vec![0; 8 << 20], None, |_, s: &mut St, r| {
        s.0.push(format!(
            "w1 {}",
            r.map_or_else(|e| e.code().unwrap_or("?").to_string(), |_| "ok".into())
        ))
    })
    .expect("write");
    a.write(&mut lp, vec![1], None, |_, s: &mut St, r| {
        s.0.push(format!(
            "w2 {}",
            r.map_or_else(|e| e.code().unwrap_or("?").to_string(), |_| "ok".into())
        ))
    })
    .expect("write");
    a.close(&mut lp, |_, s: &mut St| s.0.push("close".into()))
        .expect("open");
    b.close(&mut lp, |_, _| {}).expect("open");
    let mut s = St::default();
    run_to_end(&mut lp, &mut s);
    assert_eq!(s.0, ["w1 ECANCELED", "w2 ECANCELED", "close"]);
}

#[derive(Default)]
struct Dg {
    got: Vec<(Vec<u8>, std::net::SocketAddr)>,
    sent: bool,
}

/// A bound UDP socket crosses the channel (libuv's `uv_write2` with a
/// `uv_udp_t`, `uv_pipe_pending_type` = `UV_UDP`, `uv_accept` into a
/// `uv_udp_t`): it is pending as [`HandleType::Udp`], no stream
/// (`EINVAL`, still pending), and accepted as a loop-net `Udp` bound to
/// the sender's address, which receives the datagrams sent there.
#[test]
fn pass_a_udp_socket() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = sock.local_addr().expect("addr");
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let peer_addr = peer.local_addr().expect("addr");
    let mut lp: Loop<Dg> = Loop::new().expect("loop");
    let (a, b) = ipc_pair(&mut lp);
    a.write(
        &mut lp,
        b"U".to_vec(),
        Some(sock.into()),
        move |lp, d, r| {
            r.expect("sent");
            d.sent = true;
            a.close(lp, |_, _| {}).expect("open");
        },
    )
    .expect("write");
    b.read_start(&mut lp, move |lp, _, b, ev| {
        let IpcEvent::Data(data) = ev else { return };
        assert_eq!(data, b"U");
        assert_eq!(b.pending_count(lp), 1);
        assert_eq!(b.pending_type(lp), Some(HandleType::Udp));
        let e = b.accept_stream(lp).expect_err("a UDP socket is no stream");
        assert_eq!(e.code(), Some("EINVAL"));
        let u = b.accept_udp(lp).expect("a UDP socket");
        assert_eq!(b.pending_count(lp), 0);
        assert_eq!(
            b.accept_udp(lp).expect_err("none left").code(),
            Some("EAGAIN")
        );
        b.close(lp, |_, _| {}).expect("open");
        assert_eq!(u.local_addr(lp).expect("bound"), addr);
        u.recv_start(lp, |lp, d: &mut Dg, u, r| {
            let dg = r.expect("a datagram");
            d.got.push((dg.data.to_vec(), dg.from));
            u.close(lp, |_, _| {}).expect("open");
        })
        .expect("recv_start");
        peer.send_to(b"through the passed socket", addr)
            .expect("send");
    })
    .expect("read_start");
    let mut d = Dg::default();
    run_to_end(&mut lp, &mut d);
    assert!(d.sent);
    assert_eq!(d.got, [(b"through the passed socket".to_vec(), peer_addr)]);
}
