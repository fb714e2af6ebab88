//! Helpers shared by the loop-net tests: a watchdog, addresses on
//! 127.0.0.1 only, an in-process port of libuv's `test/echo-server.c`, std
//! peers with timeouts, a pattern to verify bytes, a stderr subscriber
//! for `tracing`, and the runner of the Node.js twins in `tests/net/`.

#![allow(dead_code)]

pub mod ports;

use loop_core::Loop;
use loop_net::{ListenOptions, Listener, ReadEvent, Stream};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::Duration;

/// Every wait in a test is bounded by this (std peers' socket timeouts).
pub const PEER_TIMEOUT: Duration = Duration::from_secs(20);

/// The workspace's test kit: the watchdog (an unreferenced timer that
/// fails the test if the loop still runs after `ms` ms) and the stderr
/// `tracing` subscriber.
#[allow(unused_imports)]
pub use loop_testkit::{watchdog, StderrSubscriber};

/// 127.0.0.1 with an ephemeral port.
pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// An address on 127.0.0.1 where nothing listens: a port bound and freed.
pub fn refused_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

/// Whether the host has a usable `::1`.
pub fn ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// A std client with read and write timeouts.
pub fn peer(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(PEER_TIMEOUT)).unwrap();
    s
}

/// Byte `i` of the test pattern (not periodic in any power of two, and
/// never `Q`, which the echo server takes as a command).
pub fn pattern_byte(i: usize) -> u8 {
    match ((i % 251) as u8) ^ ((i / 251 % 256) as u8) {
        b'Q' => b'q',
        b => b,
    }
}

pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(pattern_byte).collect()
}

/// Reads until EOF (bounded by the socket's timeout).
pub fn read_to_end(mut s: &TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

/// Writes `data` and reads back `data.len()` bytes, concurrently (a
/// writer thread), then returns what was read.
pub fn roundtrip(s: TcpStream, data: Vec<u8>) -> Vec<u8> {
    let mut w = s.try_clone().unwrap();
    let len = data.len();
    let writer = std::thread::spawn(move || {
        w.write_all(&data).unwrap();
    });
    let mut got = vec![0; len];
    (&s).read_exact(&mut got).unwrap();
    writer.join().unwrap();
    got
}

/// What the echo server saw, for tests to assert on.
#[derive(Default)]
pub struct EchoStats {
    pub connections: Cell<usize>,
    pub closed: Cell<usize>,
    pub server_closed: Cell<bool>,
}

/// libuv's `test/echo-server.c`, in the test's loop: echoes bytes; `Q`
/// closes the listening server; `QS` closes this connection, `QSS` shuts
/// it down, `QSH` close-resets it; on EOF it shuts down its side, then
/// closes.
pub fn echo_server<D: 'static>(
    lp: &mut Loop<D>,
    addr: SocketAddr,
) -> (Listener, SocketAddr, Rc<EchoStats>) {
    let stats = Rc::new(EchoStats::default());
    let me: Rc<Cell<Option<Listener>>> = Rc::new(Cell::new(None));
    let (st, me2) = (stats.clone(), me.clone());
    let l = Listener::listen(lp, addr, &ListenOptions::default(), move |lp, _, l, r| {
        r.expect("connection");
        let s = l.accept(lp).expect("accept");
        st.connections.set(st.connections.get() + 1);
        let (st, me) = (st.clone(), me2.clone());
        s.read_start(lp, move |lp, _, s, ev| echo_read(lp, s, ev, &st, &me))
            .expect("read_start");
    })
    .expect("echo server listen");
    me.set(Some(l));
    let a = l.local_addr(lp).unwrap().as_inet().unwrap();
    (l, a, stats)
}

/// The same server on a Unix-socket path.
pub fn echo_server_unix<D: 'static>(
    lp: &mut Loop<D>,
    path: &std::path::Path,
) -> (Listener, Rc<EchoStats>) {
    let stats = Rc::new(EchoStats::default());
    let me: Rc<Cell<Option<Listener>>> = Rc::new(Cell::new(None));
    let (st, me2) = (stats.clone(), me.clone());
    let l = Listener::listen_path(lp, path, &ListenOptions::default(), move |lp, _, l, r| {
        r.expect("connection");
        let s = l.accept(lp).expect("accept");
        st.connections.set(st.connections.get() + 1);
        let (st, me) = (st.clone(), me2.clone());
        s.read_start(lp, move |lp, _, s, ev| echo_read(lp, s, ev, &st, &me))
            .expect("read_start");
    })
    .expect("echo server listen");
    me.set(Some(l));
    (l, stats)
}

fn echo_read<D: 'static>(
    lp: &mut Loop<D>,
    s: Stream,
    ev: ReadEvent<'_>,
    st: &Rc<EchoStats>,
    me: &Rc<Cell<Option<Listener>>>,
) {
    let closed = {
        let st = st.clone();
        move |_: &mut Loop<D>, _: &mut D| st.closed.set(st.closed.get() + 1)
    };
    match ev {
        ReadEvent::Data(b) => {
            if !st.server_closed.get() {
                for i in 0..b.len() {
                    if b[i] != b'Q' {
                        continue;
                    }
                    if b.get(i + 1) == Some(&b'S') {
                        match b.get(i + 2) {
                            Some(b'S') => {
                                s.shutdown(lp, move |lp, _, _| {
                                    if s.exists(lp) && !s.is_closing(lp) {
                                        s.close(lp, closed).unwrap();
                                    }
                                })
                                .unwrap();
                            }
                            Some(b'H') => s.close_reset(lp, closed).unwrap(),
                            _ => s.close(lp, closed).unwrap(),
                        }
                        return;
                    }
                    if let Some(l) = me.get() {
                        l.close(lp, |_, _| {}).unwrap();
                    }
                    st.server_closed.set(true);
                }
            }
            s.write(lp, b).expect("echo write");
        }
        ReadEvent::Eof => {
            let r = s.shutdown(lp, move |lp, _, _| {
                if s.exists(lp) && !s.is_closing(lp) {
                    s.close(lp, closed).unwrap();
                }
            });
            if r.is_err() && !s.is_closing(lp) {
                // Shut down already (QSS): just close.
                s.close(lp, |_, _| {}).unwrap();
            }
        }
        ReadEvent::Error(_) => {
            if !s.is_closing(lp) {
                s.close(lp, closed).unwrap();
            }
        }
    }
}

/// An async handle whose first wake-up runs `f` and closes the handle: how
/// a std peer thread tells the loop it is done.
pub fn on_signal<D: 'static>(
    lp: &mut Loop<D>,
    f: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
) -> loop_core::AsyncSender {
    let me: Rc<Cell<Option<loop_core::AsyncId>>> = Rc::new(Cell::new(None));
    let me2 = me.clone();
    let mut f = Some(f);
    let id = lp
        .async_init(move |lp, d| {
            if let Some(f) = f.take() {
                f(lp, d);
            }
            if let Some(id) = me2.take() {
                let _ = lp.close(id, None);
            }
        })
        .unwrap();
    me.set(Some(id));
    lp.async_sender(id).unwrap()
}

/// Raises the soft fd limit to at least `n` if the hard limit allows
/// (never lowers it: that is done in child processes only).
pub fn raise_nofile(n: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    if l.current.is_some_and(|c| c < n) {
        l.current = Some(l.maximum.map_or(n, |m| m.min(n)));
        let _ = setrlimit(Resource::Nofile, l);
    }
}

/// The output of the JS twin `node tests/net/NAME.js ARGS…` (Node v20, the
/// oracle), one entry a line; fails the test if node fails.
pub fn node(name: &str, args: &[String]) -> Vec<String> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/net/{name}.js"));
    let out = std::process::Command::new("node")
        .arg(&script)
        .args(args)
        .output()
        .expect("node (v20) runs the JS twin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
