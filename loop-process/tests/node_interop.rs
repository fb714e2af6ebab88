//! Interop with the installed Node.js, both ways: a Node.js parent and
//! the `ipc_echo` example as its child (messages, a `net.Server`, a
//! `net.Socket`, a `dgram.Socket`, disconnect), and a Rust parent with
//! `node child.js` as its child (messages, a server handle, disconnect)
//! and with `node dgram_child.js` (a bound `dgram.Socket`). The expected lines
//! of the first are what `echo_parent.js` prints with the example's
//! JavaScript twin (`echo_child.js`) as the child, run by node; the test
//! fails on any byte of difference.

use loop_core::Loop;
use loop_net::Socket;
use loop_process::{spawn, Channel, SendHandle, SpawnOptions};
use loop_testkit::{run_to_end, HangGuard};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

fn js(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/js")
        .join(name)
}

/// `cargo test` builds the examples beside the test binaries.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    dir.join("examples").join(name)
}

/// `node echo_parent.js CHILD…`: its lines, asserting it succeeded.
fn echo_parent(child: &[&std::ffi::OsStr]) -> Vec<String> {
    let out = std::process::Command::new("node")
        .arg(js("echo_parent.js"))
        .args(child)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{child:?}: {stdout}\n{stderr}");
    assert!(stderr.is_empty(), "{child:?}: {stderr}");
    stdout.lines().map(str::to_owned).collect()
}

/// What a Node.js parent sees of its child, event by event, is the same
/// for ipc_echo as for its JavaScript twin, run by node for the
/// expected lines.
#[test]
fn a_node_parent_and_the_ipc_echo_example() {
    let _guard = HangGuard::new("node echo_parent.js", Duration::from_secs(60));
    let bin = example("ipc_echo");
    assert!(bin.exists(), "{} (built by cargo test)", bin.display());
    let node = std::ffi::OsString::from("node");
    let twin = js("echo_child.js");
    let want = echo_parent(&[&node, twin.as_os_str()]);
    assert_eq!(want.len(), 9, "the JavaScript twin's run: {want:#?}");
    assert_eq!(want[8], "exit 0 null", "{want:?}");
    assert_eq!(
        want[6], "dgram echo through the dgram socket from-port=true",
        "{want:?}"
    );
    assert!(
        want[0].contains(r#"{"echo":{"hello":[1,"two"]}}"#),
        "{want:?}"
    );
    let got = echo_parent(&[bin.as_os_str()]);
    assert_eq!(got, want);
}

/// `node tests/js/SCRIPT` with its IPC channel on fd 3: its exit status
/// and signal go to `exit(parent)`, then the process is closed. The
/// channel.
fn node_child<P: 'static>(
    lp: &mut Loop<P>,
    script: &str,
    exit: fn(&mut P) -> &mut Option<(i64, i32)>,
) -> Channel {
    let opts = SpawnOptions::new("node").arg(js(script)).node_ipc(3);
    let mut child = spawn(lp, opts, move |lp, p: &mut P, proc_, st, sig| {
        *exit(p) = Some((st, sig));
        proc_.close(lp, None).expect("open");
    })
    .expect("spawn node");
    child.take_channel(lp, 3).expect("fd 3").expect("channel")
}

#[derive(Default)]
struct Parent {
    messages: Vec<Value>,
    served: String,
    disconnected: bool,
    exit: Option<(i64, i32)>,
}

#[test]
fn a_rust_parent_and_a_node_child() {
    let mut lp: Loop<Parent> = Loop::new().expect("loop");
    let ch = node_child(&mut lp, "child.js", |p: &mut Parent| &mut p.exit);
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    ch.on_message(&mut lp, move |lp, p: &mut Parent, ch, m, h| {
        assert!(h.is_none());
        p.messages.push(m.clone());
        if m.get("handle").is_some() {
            // The child listens on our socket now: our copy is closed
            // (after its ACK), so the child serves this one.
            let c = Socket::connect(lp, addr).expect("connect");
            c.on_data(lp, |_, p: &mut Parent, _, d| {
                p.served.push_str(&String::from_utf8_lossy(d))
            });
            c.on_close(lp, move |lp, _, _, _| {
                ch.send(lp, json!("bye")).expect("send");
            });
        }
    });
    ch.on_disconnect(&mut lp, |_, p: &mut Parent, _| p.disconnected = true);
    ch.send(&mut lp, json!({"n": 1, "s": "é\n\"x\""}))
        .expect("send");
    ch.send_handle(&mut lp, json!("srv"), SendHandle::Server(l.into()))
        .expect("send handle");
    // Queued behind the handle until its ACK.
    ch.send(&mut lp, json!([1, 2, 3])).expect("send");
    let mut p = Parent::default();
    run_to_end(&mut lp, &mut p);
    assert_eq!(
        p.messages,
        [
            json!({"got": {"n": 1, "s": "é\n\"x\""}}),
            json!({"got": "srv", "handle": "Server"}),
            json!({"got": [1, 2, 3]}),
            json!({"got": "bye"}),
        ]
    );
    assert_eq!(p.served, "from node child");
    assert!(p.disconnected);
    assert_eq!(p.exit, Some((0, 0)));
}

#[derive(Default)]
struct UdpParent {
    messages: Vec<Value>,
    echoed: Vec<(Vec<u8>, u16)>,
    disconnected: bool,
    exit: Option<(i64, i32)>,
}

/// A Rust parent sends a bound `DgramSocket` to `node dgram_child.js`
/// (an unbound one is refused first, as Node refuses it): the child gets
/// a `dgram.Socket` of the same type on the same port, and once the
/// parent closed its own copy, the child answers the datagrams sent to
/// that port.
#[test]
fn a_rust_parent_sends_a_dgram_socket_to_a_node_child() {
    use loop_net::{DgramOptions, DgramSocket, DgramType};
    let _guard = HangGuard::new("node dgram_child.js", Duration::from_secs(60));
    let mut lp: Loop<UdpParent> = Loop::new().expect("loop");
    let ch = node_child(&mut lp, "dgram_child.js", |p: &mut UdpParent| &mut p.exit);
    ch.on_disconnect(&mut lp, |_, p: &mut UdpParent, _| p.disconnected = true);
    let unbound = DgramSocket::create(&mut lp, DgramOptions::new(DgramType::Udp4));
    let e = unbound.try_clone_fd(&mut lp).expect_err("unbound");
    assert_eq!(e.node_message(), "write EBADF");
    unbound.close(&mut lp, None).expect("open");
    let sock = DgramSocket::create(&mut lp, DgramOptions::new(DgramType::Udp4));
    let on_bound = Box::new(
        move |lp: &mut Loop<UdpParent>, _: &mut UdpParent, s: DgramSocket| {
            let fd = s.try_clone_fd(lp).expect("bound");
            ch.send_handle(lp, json!("udp"), SendHandle::Dgram(fd))
                .expect("send handle");
        },
    );
    sock.bind(&mut lp, 0, Some("127.0.0.1"), Some(on_bound))
        .expect("bind");
    ch.on_message(&mut lp, move |lp, p: &mut UdpParent, _, m, h| {
        assert!(h.is_none());
        p.messages.push(m.clone());
        // The child has the socket: close ours, then talk to its port.
        let port = sock.address(lp).expect("bound").port();
        sock.close(lp, None).expect("open");
        let c = DgramSocket::create(lp, DgramOptions::new(DgramType::Udp4));
        c.on_message(lp, |lp, p: &mut UdpParent, c, d, from| {
            p.echoed.push((d.to_vec(), from.port));
            c.close(lp, None).expect("open");
        });
        c.send(
            lp,
            &[b"to the node child"],
            Some(port),
            Some("127.0.0.1"),
            None,
        )
        .expect("send");
    });
    let mut p = UdpParent::default();
    run_to_end(&mut lp, &mut p);
    let port = p.messages.first().and_then(|m| m["port"].as_u64());
    assert_eq!(
        p.messages,
        [json!({"got": "udp", "type": "udp4", "port": port})]
    );
    let port = port.expect("a port") as u16;
    assert_eq!(p.echoed, [(b"to the node child".to_vec(), port)]);
    assert!(p.disconnected);
    assert_eq!(p.exit, Some((0, 0)));
}
