//! Node.js's channel protocol seen from a raw IPC peer: the lines a
//! `Channel` writes, the NACK it answers to a `NODE_HANDLE` that came
//! without its fd, retransmission after a NACK (with a new fd each time)
//! and the queue held behind the handle in flight until its ACK; a
//! receiver that takes handles raw (`on_handle`).

use loop_core::Loop;
use loop_process::{Channel, HandleType, Ipc, IpcEvent, SendHandle};
use loop_testkit::run_to_end;
use serde_json::json;
use std::os::unix::net::UnixStream;

#[derive(Default)]
struct Peer {
    lines: Vec<String>,
    fds: Vec<HandleType>,
    messages: Vec<serde_json::Value>,
}

fn pair(lp: &mut Loop<Peer>) -> (Channel, Ipc) {
    let (a, b) = UnixStream::pair().expect("pair");
    let a = Ipc::open(lp, a.into()).expect("ipc");
    let ch = Channel::open(lp, a).expect("channel");
    (ch, Ipc::open(lp, b.into()).expect("ipc"))
}

/// The raw peer: records each line and the fds, and answers each
/// `NODE_HANDLE` with `reply(n)` for the n-th one (0-based).
fn peer(lp: &mut Loop<Peer>, raw: Ipc, reply: fn(usize) -> &'static str, stop_after: usize) {
    let mut buf = Vec::new();
    let mut handles = 0;
    raw.read_start(lp, move |lp, p: &mut Peer, raw, ev| {
        let IpcEvent::Data(d) = ev else {
            let _ = raw.close(lp, |_, _| {});
            return;
        };
        while let Some((t, _fd)) = raw.take_handle(lp) {
            p.fds.push(t);
        }
        buf.extend_from_slice(d);
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            let line = String::from_utf8(line).expect("utf-8");
            let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
            p.lines.push(line.trim_end().to_owned());
            if v["cmd"] == "NODE_HANDLE" {
                let cmd = reply(handles);
                handles += 1;
                let ack = format!("{{\"cmd\":\"{cmd}\"}}\n").into_bytes();
                raw.write(lp, ack, None, |_, _, r| r.expect("ack"))
                    .expect("write");
            }
            if p.lines.len() == stop_after {
                let _ = raw.close(lp, |_, _| {});
                return;
            }
        }
    })
    .expect("read_start");
}

#[test]
fn one_handle_in_flight_nack_and_retransmit() {
    let mut lp: Loop<Peer> = Loop::new().expect("loop");
    let (ch, raw) = pair(&mut lp);
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    ch.send(&mut lp, json!({"a": 1})).expect("send");
    // The bytes of Node's own JSON.stringify({cmd, type, msg}).
    ch.send_handle(&mut lp, json!("srv"), SendHandle::Server(l.into()))
        .expect("send");
    ch.send(&mut lp, json!("after"))
        .expect("queued behind the handle");
    // NACK twice, then ACK: three NODE_HANDLE lines, then "after".
    peer(
        &mut lp,
        raw,
        |n| {
            if n < 2 {
                "NODE_HANDLE_NACK"
            } else {
                "NODE_HANDLE_ACK"
            }
        },
        5,
    );
    let mut p = Peer::default();
    run_to_end(&mut lp, &mut p);
    let handle_line = r#"{"cmd":"NODE_HANDLE","type":"net.Server","msg":"srv"}"#;
    assert_eq!(
        p.lines,
        [
            r#"{"a":1}"#,
            handle_line,
            handle_line,
            handle_line,
            r#""after""#
        ]
    );
    assert_eq!(p.fds, [HandleType::TcpListener; 3], "a new fd each time");
}

#[test]
fn a_handle_line_without_its_fd_is_nacked() {
    let mut lp: Loop<Peer> = Loop::new().expect("loop");
    let (ch, raw) = pair(&mut lp);
    ch.on_message(&mut lp, |_, p: &mut Peer, _, m, h| {
        assert!(h.is_none());
        p.messages.push(m);
    });
    // Internal messages never reach on_message; a user message does.
    let lines = concat!(
        r#"{"cmd":"NODE_HANDLE","type":"net.Server","msg":"x"}"#,
        "\n",
        r#"{"cmd":"NODE_SOMETHING"}"#,
        "\n",
        r#"{"cmd":"NODE_"}"#,
        "\n",
        r#"{"cmd":"NOD","user":true}"#,
        "\n"
    );
    raw.write(&mut lp, lines.as_bytes().to_vec(), None, |_, _, r| {
        r.expect("write")
    })
    .expect("write");
    peer(
        &mut lp,
        raw,
        |_| unreachable!("the channel sends no handle"),
        1,
    );
    let mut p = Peer::default();
    lp.run(loop_core::RunMode::Once, &mut p).expect("run");
    run_to_end_after_disconnect(&mut lp, ch, &mut p);
    assert_eq!(p.lines, [r#"{"cmd":"NODE_HANDLE_NACK"}"#]);
    // "NODE_" alone is internal too (Node: longer than 4 characters and
    // starting with NODE_); "NOD" is a user's.
    assert_eq!(p.messages, [json!({"cmd": "NOD", "user": true})]);
}

fn run_to_end_after_disconnect(lp: &mut Loop<Peer>, ch: Channel, p: &mut Peer) {
    if ch.is_connected(lp) {
        let _ = ch.disconnect(lp);
    }
    run_to_end(lp, p);
}

#[test]
fn on_handle_gets_the_fd_raw_and_acks_it() {
    let mut lp: Loop<Peer> = Loop::new().expect("loop");
    let (a, b) = UnixStream::pair().expect("pair");
    let (a, b) = (Ipc::open(&mut lp, a.into()), Ipc::open(&mut lp, b.into()));
    let a = Channel::open(&mut lp, a.expect("ipc")).expect("channel");
    let b = Channel::open(&mut lp, b.expect("ipc")).expect("channel");
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    b.on_handle(&mut lp, move |_, p: &mut Peer, _, m, ty, fd| {
        p.messages.push(m);
        p.fds.push(ty);
        // The very socket: a connect to its address is accepted on it.
        let l = std::net::TcpListener::from(fd);
        assert_eq!(l.local_addr().expect("addr"), addr);
        let _c = std::net::TcpStream::connect(addr).expect("connect");
        l.accept().expect("accept on the received fd");
    });
    b.on_message(&mut lp, |lp, p: &mut Peer, b, m, h| {
        assert!(h.is_none(), "a handle went to on_message");
        p.messages.push(m);
        if p.messages.len() == 3 {
            let _ = b.disconnect(lp);
        }
    });
    a.send(&mut lp, json!("plain")).expect("send");
    a.send_handle(
        &mut lp,
        json!({"cmd": "listen"}),
        SendHandle::Server(l.into()),
    )
    .expect("send");
    // Held back until the handle's ACK: it arrives only if b acknowledged.
    a.send(&mut lp, json!("after")).expect("send");
    let mut p = Peer::default();
    run_to_end(&mut lp, &mut p);
    assert_eq!(
        p.messages,
        [json!("plain"), json!({"cmd": "listen"}), json!("after")]
    );
    assert_eq!(p.fds, [HandleType::TcpListener]);
}

/// A `dgram.Socket` goes as Node v20 writes it (bytes taken from a node
/// parent's `sendmsg`: `dgramType` after `msg`, the socket's family), its
/// fd a UDP socket; an unbound UDP socket is refused as Node refuses it
/// (`write EBADF`), and an fd that is no UDP socket is `EINVAL`.
#[test]
fn a_dgram_socket_line_is_nodes() {
    let mut lp: Loop<Peer> = Loop::new().expect("loop");
    let (ch, raw) = pair(&mut lp);
    let unbound =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).expect("socket");
    let e = ch
        .send_handle(&mut lp, json!("x"), SendHandle::Dgram(unbound.into()))
        .expect_err("unbound");
    assert_eq!(e.to_string(), "write EBADF");
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let e = ch
        .send_handle(&mut lp, json!("x"), SendHandle::Dgram(tcp.into()))
        .expect_err("not UDP");
    assert_eq!(e.code(), Some("EINVAL"));
    let v4 = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    ch.send_handle(&mut lp, json!({"m": "bound"}), SendHandle::Dgram(v4.into()))
        .expect("send");
    let v6 = std::net::UdpSocket::bind("[::1]:0").ok();
    let lines = if let Some(v6) = v6 {
        ch.send_handle(&mut lp, json!({"m": "bound"}), SendHandle::Dgram(v6.into()))
            .expect("send");
        2
    } else {
        1
    };
    peer(&mut lp, raw, |_| "NODE_HANDLE_ACK", lines);
    let mut p = Peer::default();
    run_to_end(&mut lp, &mut p);
    let mut want = vec![
        r#"{"cmd":"NODE_HANDLE","type":"dgram.Socket","msg":{"m":"bound"},"dgramType":"udp4"}"#,
    ];
    if lines == 2 {
        want.push(
            r#"{"cmd":"NODE_HANDLE","type":"dgram.Socket","msg":{"m":"bound"},"dgramType":"udp6"}"#,
        );
    }
    assert_eq!(p.lines, want);
    assert_eq!(p.fds, vec![HandleType::Udp; lines]);
}
