//! Helpers for tests that run the real `echo-app` binary on 127.0.0.1:
//! a child guard that kills the process on drop (a failing test never
//! leaves a server behind), bounded waits for lines and exits, std peers
//! with timeouts, and `/proc` figures.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_echo-app");

/// Bound of every wait for the child (a line, an exit).
pub const WAIT: Duration = Duration::from_secs(20);

/// Bound of every blocking socket operation of a test peer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `echo-app`, killed (SIGKILL) and reaped on drop if still
/// running.
pub struct App {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread collecting stderr; it ends at EOF, once the child exits.
    stderr_thread: Option<std::thread::JoinHandle<()>>,
    pub stdin: Option<ChildStdin>,
}

impl App {
    /// Starts `echo-app ARGS` with piped stdio.
    pub fn spawn(args: &[&str]) -> App {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("RUST_LOG")
            .spawn()
            .expect("spawn echo-app");
        let out = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().expect("piped");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let stderr_thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let stdin = child.stdin.take();
        App {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
            stderr_thread: Some(stderr_thread),
            stdin,
        }
    }

    /// Starts a server on 127.0.0.1, any port, with `extra` options, and
    /// waits for its listening line. Returns it and its address.
    pub fn serve(extra: &[&str]) -> (App, SocketAddr) {
        let mut args = vec!["serve", "--host", "127.0.0.1", "--port", "0"];
        args.extend_from_slice(extra);
        let mut app = App::spawn(&args);
        let line = app.line(WAIT).expect("a listening line");
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .expect("an address in the listening line");
        (app, addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next stdout line, waiting at most `timeout`.
    pub fn line(&mut self, timeout: Duration) -> Option<String> {
        match self.lines.recv_timeout(timeout) {
            Ok(l) => {
                self.stdout.push(l.clone());
                Some(l)
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Every stdout line, once the process has exited (bounded wait).
    pub fn rest_of_stdout(&mut self) -> Vec<String> {
        while self.line(Duration::from_secs(5)).is_some() {}
        self.stdout.clone()
    }

    /// What the process wrote on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until stderr contains `needle`; false after `timeout`.
    pub fn wait_stderr(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.stderr().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Sends a signal.
    pub fn signal(&self, sig: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("a pid");
        rustix::process::kill_process(pid, sig).expect("kill");
    }

    /// Waits for the exit, at most `timeout` (then kills it and panics).
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                // All of stderr is in once the collector saw EOF.
                if let Some(t) = self.stderr_thread.take() {
                    let _ = t.join();
                }
                return st;
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "echo-app did not exit within {timeout:?}; stderr: {}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// Open file descriptors.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A std client with read and write timeouts and no Nagle delay.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Writes `msg` and reads back as many bytes.
pub fn echo(s: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(msg).expect("write");
    let mut got = vec![0; msg.len()];
    s.read_exact(&mut got).expect("read the echo");
    got
}

/// Sends `data` on `c` from a thread and half-closes (shuts down the
/// writing side) after its last byte, while reading here until EOF: what
/// came back.
pub fn half_close_echo(c: &TcpStream, data: &[u8]) -> Vec<u8> {
    let mut w = c.try_clone().unwrap();
    let sent = data.to_vec();
    let writer = std::thread::spawn(move || {
        w.write_all(&sent).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    let mut r = c;
    r.read_to_end(&mut got).expect("the echo, then EOF");
    writer.join().unwrap();
    got
}

/// After a SIGINT: new connections are refused (within 5 s) while the
/// open clients are served to their end: `a` echoes, then `b` sends 1 MiB,
/// half-closes, and gets every byte back.
pub fn open_clients_finish(addr: SocketAddr, mut a: TcpStream, b: TcpStream) {
    assert!(
        eventually(Duration::from_secs(5), || refused(addr)),
        "new connections still accepted"
    );
    assert_eq!(echo(&mut a, b"after"), b"after");
    drop(a);
    let data = pattern(1 << 20);
    let got = half_close_echo(&b, &data);
    assert!(got == data);
}

/// Waits (up to `timeout`) for `app` to exit with status 0 (its stderr in
/// the failure message): its last line on stdout, the summary.
pub fn exit_0_summary(app: &mut App, timeout: Duration) -> String {
    let st = app.wait_exit(timeout);
    assert_eq!(st.code(), Some(0), "stderr: {}", app.stderr());
    let out = app.rest_of_stdout();
    out.last().expect("a summary line").clone()
}

/// Byte `i` of the test pattern (period 251, not a power of two).
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8) ^ ((i / 251) as u8))
        .collect()
}

/// Whether a connect to `addr` is refused now.
pub fn refused(addr: SocketAddr) -> bool {
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        Ok(_) => false,
    }
}

/// Polls `f` every 20 ms until it holds; false after `timeout`.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
