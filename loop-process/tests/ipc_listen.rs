//! Ports of libuv 1.46's `ipc_listen_before_write` and
//! `ipc_listen_after_write` (`test/test-ipc.c`) with a real child process:
//! this binary runs itself as the child (`--helper before|after`), as
//! libuv's runner does.
//!
//! The child binds a TCP socket, and listens on it either before or after
//! writing it to the parent over the IPC stream on its fd 0 (`hello\n`
//! with the fd). The parent takes the received socket, listens on it too
//! (`uv_accept` then `uv_listen`: a `listen` of its own, since the socket
//! may not be listening yet) and makes 10 connections to it. Both
//! processes now accept from one socket: each accepts one connection and
//! closes its copy; the child tells the parent with
//! `accepted_connection\n`, closes its channel and exits 0. The parent
//! checks that both accepted, that the child exited 0, and that no
//! zombie is left.
//!
//! No libtest harness (`harness = false`): `main` runs both checks, and
//! the child's argv is its own.

#[path = "common/mod.rs"]
mod common;

use loop_core::{Loop, RunMode};
use loop_net::{Address, Listener, Stream};
use loop_process::{spawn, Ipc, IpcEvent, SpawnOptions, Stdio};
use socket2::{Domain, Socket, Type};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};

const CONNECTIONS: usize = 10;
const BACKLOG: i32 = 128;

// ----- the child -----

#[derive(Default)]
struct Child {
    accepted: u32,
    closes: u32,
}

/// libuv's `ipc_helper(listen_after_write)`.
fn helper(listen_after_write: bool) -> i32 {
    let mut lp: Loop<Child> = Loop::new().expect("loop");
    loop_testkit::watchdog(&mut lp, 60_000);
    let fd0 = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .expect("dup fd 0");
    let channel = Ipc::open(&mut lp, fd0).expect("fd 0 is the channel");

    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    sock.bind(&addr.into()).expect("bind");
    let copy = OwnedFd::from(sock.try_clone().expect("dup"));

    let on_connection =
        move |lp: &mut Loop<Child>, c: &mut Child, l: Listener, r: loop_net::Result<()>| {
            if r.is_err() || c.accepted > 0 {
                return;
            }
            let conn = l.accept(lp).expect("a connection waits");
            c.accepted += 1;
            let _ = conn.close(lp, |_, c: &mut Child| c.closes += 1);
            channel
                .write(
                    lp,
                    b"accepted_connection\n".to_vec(),
                    None,
                    move |lp, _, r| {
                        r.expect("notified the parent");
                        let _ = l.close(lp, |_, c: &mut Child| c.closes += 1);
                        let _ = channel.close(lp, |_, c: &mut Child| c.closes += 1);
                    },
                )
                .expect("write");
        };
    let listen = |lp: &mut Loop<Child>, sock: Socket, cb| {
        sock.listen(BACKLOG).expect("listen");
        Listener::open(lp, OwnedFd::from(sock), cb).expect("open the listener");
    };
    let mut sock = Some(sock);
    let mut cb = Some(on_connection);
    if !listen_after_write {
        listen(
            &mut lp,
            sock.take().expect("once"),
            cb.take().expect("once"),
        );
    }
    channel
        .write(&mut lp, b"hello\n".to_vec(), Some(copy), |_, _, r| {
            r.expect("the listener went");
        })
        .expect("write2");
    if listen_after_write {
        listen(
            &mut lp,
            sock.take().expect("once"),
            cb.take().expect("once"),
        );
    }

    let mut c = Child::default();
    lp.run(RunMode::Default, &mut c).expect("run");
    i32::from(!(c.accepted == 1 && c.closes == 3))
}

// ----- the parent -----

#[derive(Default)]
struct Parent {
    buf: Vec<u8>,
    listening: bool,
    local_conn_accepted: bool,
    remote_conn_accepted: bool,
    connect_cbs: usize,
    exit: Option<(i64, i32)>,
}

fn on_connection(lp: &mut Loop<Parent>, p: &mut Parent, l: Listener, r: loop_net::Result<()>) {
    if r.is_err() || p.local_conn_accepted {
        return;
    }
    let conn = l.accept(lp).expect("a connection waits");
    let _ = conn.close(lp, |_, _| {});
    let _ = l.close(lp, |_, _| {});
    p.local_conn_accepted = true;
}

fn on_read(lp: &mut Loop<Parent>, p: &mut Parent, channel: Ipc, ev: IpcEvent<'_>) {
    let data = match ev {
        IpcEvent::Data(d) => d,
        IpcEvent::Eof | IpcEvent::Error(_) => {
            let _ = channel.close(lp, |_, _| {});
            return;
        }
    };
    p.buf.extend_from_slice(data);
    while let Some(at) = p.buf.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = p.buf.drain(..=at).collect();
        if !p.listening {
            assert_eq!(line, b"hello\n", "the data that came with the fd");
            assert_eq!(channel.pending_count(lp), 1, "one fd with hello");
            let (_, fd) = channel.take_handle(lp).expect("pending");
            // `uv_listen` on the received socket: it may not listen yet.
            let sock = Socket::from(fd);
            sock.listen(BACKLOG).expect("listen");
            let l = Listener::open(lp, OwnedFd::from(sock), on_connection).expect("listener");
            p.listening = true;
            let Ok(Address::Inet(addr)) = l.local_addr(lp) else {
                panic!("a TCP listener");
            };
            for _ in 0..CONNECTIONS {
                Stream::connect(lp, addr, |lp, p: &mut Parent, s, _r| {
                    p.connect_cbs += 1;
                    let _ = s.close(lp, |_, _| {});
                })
                .expect("connect");
            }
        } else {
            assert_eq!(line, b"accepted_connection\n");
            assert_eq!(channel.pending_count(lp), 0);
            p.remote_conn_accepted = true;
            let _ = channel.close(lp, |_, _| {});
            return;
        }
    }
}

fn check(mode: &str) {
    let mut lp: Loop<Parent> = Loop::new().expect("loop");
    loop_testkit::watchdog(&mut lp, 60_000);
    let me = std::env::current_exe().expect("current_exe");
    let opts = SpawnOptions::new(&me)
        .args(["--helper", mode])
        .stdio(0, Stdio::Pipe)
        .stdio(1, Stdio::Inherit)
        .stdio(2, Stdio::Inherit);
    let mut spawned = spawn(&mut lp, opts, |lp, p: &mut Parent, proc_, status, sig| {
        p.exit = Some((status, sig));
        proc_.close(lp, None).expect("open");
    })
    .expect("spawn the helper");
    let pid = spawned.process.pid();
    let channel = spawned
        .take_ipc(&mut lp, 0)
        .expect("fd 0 is a pipe")
        .expect("ipc");
    channel
        .read_start(&mut lp, move |lp, p, _, ev| on_read(lp, p, channel, ev))
        .expect("read");
    let mut p = Parent::default();
    lp.run(RunMode::Default, &mut p).expect("run");
    assert!(p.listening, "{mode}: the listener came");
    assert!(p.local_conn_accepted, "{mode}: the parent accepted one");
    assert!(p.remote_conn_accepted, "{mode}: the child accepted one");
    assert_eq!(p.connect_cbs, CONNECTIONS, "{mode}");
    assert_eq!(p.exit, Some((0, 0)), "{mode}: the child's checks passed");
    assert!(
        !common::children().iter().any(|&(c, _)| c == pid),
        "{mode}: child {pid} reaped"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--helper") {
        let code = match args.get(at + 1).map(String::as_str) {
            Some("before") => helper(false),
            Some("after") => helper(true),
            other => {
                eprintln!("unknown helper {other:?}");
                3
            }
        };
        std::process::exit(code);
    }
    let checks: [(&str, &str); 2] = [
        ("ipc_listen_before_write", "before"),
        ("ipc_listen_after_write", "after"),
    ];
    for (name, mode) in checks {
        check(mode);
        println!("test {name} ... ok");
    }
}
