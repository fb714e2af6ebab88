//! The `client` and `bench` subcommands, run as the real binary against the
//! real server on 127.0.0.1.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn client_echoes_stdin_line_by_line() {
    let (_server, addr) = App::serve(&[]);
    let mut client = App::spawn(&["client", "--addr", &addr.to_string()]);
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(b"one\ntwo\n").unwrap();
    assert_eq!(client.line(WAIT).as_deref(), Some("one"));
    stdin.write_all(b"three\nno newline").unwrap();
    drop(stdin); // EOF: Ctrl-D
    let st = client.wait_exit(WAIT);
    assert_eq!(st.code(), Some(0), "{}", client.stderr());
    assert_eq!(
        client.rest_of_stdout(),
        ["one", "two", "three", "no newline"]
    );
}

#[test]
fn client_reports_a_refused_connection_in_one_line() {
    // A port bound but not listening: connects to it are refused, and no
    // other test can take it meanwhile (a freed port could be reused).
    let reserved =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    reserved
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    let addr = reserved.local_addr().unwrap().as_socket().unwrap();
    let mut client = App::spawn(&["client", "--addr", &addr.to_string()]);
    let st = client.wait_exit(WAIT);
    assert_eq!(st.code(), Some(1));
    assert_eq!(
        client.stderr(),
        format!("error: connect {addr}: connection refused\n")
    );
}

fn bench(addr: &str, extra: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let mut args = vec!["bench", "--addr", addr, "--duration", "1"];
    args.extend_from_slice(extra);
    let mut b = App::spawn(&args);
    let st = b.wait_exit(Duration::from_secs(30));
    (st.code(), b.rest_of_stdout(), b.stderr())
}

fn field(line: &str, key: &str) -> f64 {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        .parse()
        .unwrap()
}

#[test]
fn bench_pingpong_and_stream_report_zero_errors() {
    let (_server, addr) = App::serve(&[]);
    let addr = addr.to_string();
    let (code, out, err) = bench(
        &addr,
        &["--conns", "8", "--size", "64", "--mode", "pingpong"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.len(), 1, "one summary line: {out:?}");
    let line = &out[0];
    assert!(
        line.starts_with("mode=pingpong conns=8 connected=8 "),
        "{line}"
    );
    assert_eq!(field(line, "errors"), 0.0);
    assert_eq!(field(line, "mismatches"), 0.0);
    assert!(field(line, "msgs") > 100.0, "{line}");
    assert!(field(line, "p99_us") > 0.0, "{line}");

    let (code, out, err) = bench(
        &addr,
        &[
            "--conns",
            "4",
            "--size",
            "4096",
            "--mode",
            "stream",
            "--pipeline",
            "8",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(field(&out[0], "errors"), 0.0);
    assert!(field(&out[0], "mb_per_s") > 1.0, "{}", out[0]);
}

/// A server that echoes one byte wrong: the bench must notice.
#[test]
fn bench_detects_a_wrong_byte() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 64];
        let mut total = 0usize;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            for (i, b) in buf[..n].iter_mut().enumerate() {
                if total + i == 100 {
                    *b ^= 1;
                }
            }
            total += n;
            if s.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let (code, out, err) = bench(&addr.to_string(), &["--conns", "1", "--size", "16"]);
    assert_eq!(code, Some(1));
    assert_eq!(field(&out[0], "mismatches"), 1.0);
    assert!(err.contains("echoed byte 100 differs"), "{err}");
}
