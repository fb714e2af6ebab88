//! Out of file descriptors (libuv's `emfile` test, and recovery): a child
//! process (this test binary, run again with `LOOP_NET_EMFILE_CHILD=1`)
//! runs an echo server with RLIMIT_NOFILE lowered to leave room for two
//! connections; the parent, this test, drives it over 127.0.0.1. The limit
//! is only ever lowered in the child.

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{ListenOptions, Listener, ReadEvent};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "LOOP_NET_EMFILE_CHILD";

#[derive(Default)]
struct ChildState {
    connections: usize,
}

/// The child: an echo server whose `S` command answers with its counters.
fn child() {
    tracing::subscriber::set_global_default(StderrSubscriber).unwrap();
    let mut lp: Loop<ChildState> = Loop::new().unwrap();
    watchdog(&mut lp, 30_000);
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        |lp, st: &mut ChildState, l, r| {
            r.expect("no accept error expected in this test");
            st.connections += 1;
            let s = l.accept(lp).unwrap();
            s.read_start(lp, move |lp, st: &mut ChildState, s, ev| match ev {
                ReadEvent::Data(b"S") => {
                    let m = lp.metrics();
                    let line = format!(
                        "connections={} shed={} iterations={} cpu_ticks={}\n",
                        st.connections,
                        l.shed_count(lp),
                        m.iterations,
                        cpu_ticks(std::process::id())
                    );
                    s.write(lp, line.into_bytes()).unwrap();
                }
                ReadEvent::Data(b"Q") => {
                    println!("final shed={}", l.shed_count(lp));
                    l.close(lp, |_, _| {}).unwrap();
                    s.write(lp, &b"Q"[..]).unwrap();
                }
                ReadEvent::Data(b) => s.write(lp, b).unwrap(),
                ReadEvent::Eof | ReadEvent::Error(_) => s.close(lp, |_, _| {}).unwrap(),
            })
            .unwrap();
        },
    )
    .unwrap();
    let port = l.local_addr(&lp).unwrap().port().unwrap();

    // Room for exactly two more fds: the limit is the second lowest free
    // fd number, plus one.
    let listed: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    // The listing's own fd is closed by now: keep the fds still open.
    let used: Vec<i32> = listed
        .into_iter()
        .filter(|n| std::path::Path::new(&format!("/proc/self/fd/{n}")).exists())
        .collect();
    let free: Vec<i32> = (0..).filter(|n| !used.contains(n)).take(2).collect();
    let limit = free[1] as u64 + 1;
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut r = getrlimit(Resource::Nofile);
    r.current = Some(limit);
    setrlimit(Resource::Nofile, r).unwrap();
    assert!(loop_net::stats(&lp).reserve_fd, "the spare fd is open");
    println!("port {port} limit {limit}");
    std::io::stdout().flush().unwrap();

    let mut st = ChildState::default();
    lp.run(RunMode::Default, &mut st).unwrap();
    println!("child done connections={}", st.connections);
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" that ends the command name; utime and stime are
    // the 14th and 15th fields of the line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

/// Kills the child if the test fails half-way.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ask(c: &mut TcpStream, cmd: &[u8]) -> String {
    c.write_all(cmd).unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while (c.read(&mut b).unwrap()) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    String::from_utf8(line).unwrap()
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        .parse()
        .unwrap()
}

/// Whether a connection is served (echoes) or shed (closed at once).
fn echoes(addr: SocketAddr, byte: u8) -> Option<TcpStream> {
    let mut c = peer(addr);
    c.write_all(&[byte]).ok()?;
    let mut b = [0u8; 1];
    match c.read(&mut b) {
        Ok(1) if b[0] == byte => Some(c),
        _ => None,
    }
}

#[test]
fn emfile_recovery() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child();
    }
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "emfile_recovery",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, "1")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut guard = Guard(cmd.spawn().unwrap());
    let mut stderr = guard.0.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut out = BufReader::new(guard.0.stdout.take().unwrap());
    let mut line = String::new();
    let port: u16 = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended before listening"
        );
        // The harness prints "test emfile_recovery ... " on the same line.
        if let Some(at) = line.find("port ") {
            break line[at + 5..]
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap();
        }
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();

    // Two connections fill the child's fds.
    let mut a = echoes(addr, b'a').expect("first connection served");
    let b = echoes(addr, b'b').expect("second connection served");
    // The next ones are accepted and closed through the spare fd: the
    // client's connect succeeds, then it reads EOF. No connection callback.
    for _ in 0..3 {
        let mut c = peer(addr);
        let mut buf = Vec::new();
        match c.read_to_end(&mut buf) {
            Ok(_) => assert!(buf.is_empty()),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }
    }
    // No busy loop meanwhile: few iterations, little CPU over 300 ms.
    let before = ask(&mut a, b"S");
    std::thread::sleep(Duration::from_millis(300));
    let after = ask(&mut a, b"S");
    assert_eq!(field(&after, "connections"), 2, "{after}");
    assert!(field(&after, "shed") >= 3, "{after}");
    let iterations = field(&after, "iterations") - field(&before, "iterations");
    assert!(
        iterations < 50,
        "{iterations} iterations in 300 ms: {before} / {after}"
    );
    let ticks = field(&after, "cpu_ticks") - field(&before, "cpu_ticks");
    assert!(ticks < 15, "{ticks} CPU ticks in 300 ms idle");

    // Free one fd: the child serves again.
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut f = loop {
        if let Some(c) = echoes(addr, b'f') {
            break c;
        }
        assert!(Instant::now() < deadline, "the child never served again");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Quit: the child closes its listener, then its connections end.
    let mut q = [0u8; 1];
    f.write_all(b"Q").unwrap();
    f.read_exact(&mut q).unwrap();
    drop((b, f));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = guard.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the child did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let log = err_reader.join().unwrap();
    assert!(status.success(), "child failed: {status}\n{rest}\n{log}");
    assert!(rest.contains("child done"), "{rest}");
    assert!(
        log.contains("out of file descriptors"),
        "the EMFILE episode is logged through tracing: {log}"
    );
    assert!(log.contains("accepting again"), "{log}");
}
