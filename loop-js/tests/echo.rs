//! `examples/echo.js` (`net.createServer(c => c.pipe(c))`, a SIGINT
//! handler that closes the server) under `node` and under `loop-js`: the
//! same bytes back for the same bytes sent (text, binary, 1 MiB with a
//! half-close), the same stdout, the same exit status after SIGINT.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Server {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(program: &Path, port: u16) -> (Server, String) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/echo.js");
    let mut child = Command::new(program)
        .arg(&example)
        .env("ECHO_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("the listening line");
    (Server { child, out }, line)
}

/// Sends `data`, half-closes, reads everything back.
fn echo(port: u16, data: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let writer = {
        let mut w = s.try_clone().expect("clone");
        let data = data.to_vec();
        std::thread::spawn(move || {
            w.write_all(&data).expect("write");
            w.shutdown(Shutdown::Write).expect("shutdown");
        })
    };
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("read back");
    writer.join().expect("writer");
    got
}

/// Everything one runtime did: the listening line, the echoes, stdout
/// after SIGINT, the exit code.
fn session(
    program: &Path,
    port: u16,
    payloads: &[Vec<u8>],
) -> (String, Vec<Vec<u8>>, String, Option<i32>) {
    let (mut srv, first) = start(program, port);
    let echoes = payloads.iter().map(|p| echo(port, p)).collect();
    let pid = srv.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = srv.child.wait().expect("exit");
    let mut rest = String::new();
    srv.out.read_to_string(&mut rest).expect("stdout");
    (first, echoes, rest, status.code())
}

#[test]
fn echo_js_serves_the_same_bytes_as_node() {
    if !common::has_node() {
        return;
    }
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let payloads = vec![b"hello\nworld\n".to_vec(), binary, big, Vec::new()];
    // One port for both, one after the other (each closes it on SIGINT).
    let port = free_port();
    let node = session(Path::new("node"), port, &payloads);
    let lj = session(&common::loop_js(), port, &payloads);
    for (i, p) in payloads.iter().enumerate() {
        assert_eq!(node.1[i].len(), p.len(), "node echoes payload {i}");
        assert!(lj.1[i] == *p, "loop-js echoes payload {i} byte for byte");
    }
    assert_eq!(lj.0, node.0, "the listening line");
    assert_eq!(
        (lj.2, lj.3),
        (node.2, node.3),
        "after SIGINT: stdout and exit code"
    );
}
