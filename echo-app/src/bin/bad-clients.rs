//! `bad-clients`: the issue's list of clients the server must survive, run
//! against the real `echo-app serve` on 127.0.0.1 (the release binary next
//! to this one by default), while a well-behaved probe client keeps
//! pinging: its p99 latency must stay under 250 ms and every byte echoed
//! must be exact.
//!
//! ```text
//! cargo build --release -p echo-app
//! target/release/bad-clients [--server PATH] [--only NAME] [--processes N]
//! ```
//!
//! With `--processes N` the server is a cluster (`echo-app serve
//! --processes N`) and its figures (RSS, fds, CPU) are those of the
//! primary and its workers together.
//!
//! Prints one line per scenario (`PASS name: figures` or `FAIL name:
//! why`), then `N passed, N failed`; exit status 1 if any failed. Takes
//! about a minute and a half. Loopback only; every wait is bounded; the
//! servers it starts are killed on the way out.

#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Outcome = Result<String, String>;

const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A server process, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

/// How the servers are started: the binary, and `--processes N` if given.
struct Target {
    bin: String,
    processes: Option<u32>,
}

/// The live children of `pid` (a cluster's workers).
fn children(pid: u32) -> Vec<u32> {
    let mut v = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let list = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            v.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    v
}

impl Server {
    fn start(target: &Target, nofile: Option<u32>) -> Result<Server, String> {
        let bin = target.bin.as_str();
        let mut cmd = match nofile {
            // The limit is set by the shell, hard and soft, before exec.
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(["serve", "--host", "127.0.0.1", "--port", "0"]);
        if let Some(n) = target.processes {
            cmd.args(["--processes", &n.to_string()]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {bin}: {e}"))?;
        let out = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            for _ in lines {} // keep the pipe drained
        });
        let line = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("no listening line".into());
            }
        };
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("unexpected line {line:?}"))?;
        Ok(Server { child, addr })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's processes: itself, and a cluster's workers.
    fn pids(&self) -> Vec<u32> {
        let mut v = vec![self.pid()];
        v.extend(children(self.pid()));
        v
    }

    fn rss_kib(&self) -> u64 {
        self.pids().iter().map(|&p| proc_field(p, "VmRSS:")).sum()
    }

    fn fds(&self) -> usize {
        self.pids()
            .iter()
            .map(|p| std::fs::read_dir(format!("/proc/{p}/fd")).map_or(0, |d| d.count()))
            .sum()
    }

    /// The fd count once it stopped moving (the closes of a previous
    /// scenario are seen), at most 5 s.
    fn settled_fds(&self) -> usize {
        let end = Instant::now() + Duration::from_secs(5);
        let mut last = self.fds();
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.fds();
            if now == last {
                break;
            }
            last = now;
        }
        last
    }

    fn cpu_ticks(&self) -> u64 {
        self.pids()
            .iter()
            .map(|p| {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
                let rest = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
                let f: Vec<u64> = rest
                    .split_whitespace()
                    .map(|x| x.parse().unwrap_or(0))
                    .collect();
                f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
            })
            .sum()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_field(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (((i + seed) % 251) as u8) ^ ((i / 251) as u8))
        .collect()
}

/// Writes `data` from a thread while reading the echo (after
/// `read_delay`); checks every byte, and with `half_close` that EOF follows
/// the echo once the client shut its side down.
fn roundtrip(s: TcpStream, data: Vec<u8>, half_close: bool, read_delay: Duration) -> Outcome {
    let len = data.len();
    let data = Arc::new(data);
    let sent = Arc::clone(&data);
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        w.write_all(&sent)?;
        if half_close {
            w.shutdown(Shutdown::Write)?;
        }
        Ok(())
    });
    std::thread::sleep(read_delay);
    let mut got = Vec::with_capacity(len);
    let mut buf = vec![0u8; 256 * 1024];
    let mut eof = false;
    while got.len() < len || half_close {
        match (&s).read(&mut buf) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read after {} of {len} B: {e}", got.len())),
        }
    }
    writer
        .join()
        .map_err(|_| "writer panicked".to_string())?
        .map_err(|e| format!("write: {e}"))?;
    if got.len() != len {
        return Err(format!("echoed {} of {len} B", got.len()));
    }
    if let Some(i) = got.iter().zip(data.iter()).position(|(a, b)| a != b) {
        return Err(format!("echoed byte {i} of {len} differs"));
    }
    if half_close && !eof {
        return Err("no EOF after the echo".into());
    }
    Ok(format!("{len} B"))
}

/// The well-behaved client: a 32-byte ping every 10 ms on one connection.
struct Probe {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<Vec<Duration>, String>>,
}

impl Probe {
    fn start(addr: SocketAddr) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut s = connect(addr).map_err(|e| format!("probe connect: {e}"))?;
            let mut lat = Vec::new();
            let mut i = 0usize;
            while !flag.load(Ordering::Relaxed) {
                let msg = pattern(32, i);
                let t = Instant::now();
                s.write_all(&msg).map_err(|e| format!("probe write: {e}"))?;
                let mut got = [0u8; 32];
                s.read_exact(&mut got)
                    .map_err(|e| format!("probe read: {e}"))?;
                lat.push(t.elapsed());
                if got[..] != msg[..] {
                    return Err("probe: echoed bytes differ".into());
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(lat)
        });
        Probe { stop, handle }
    }

    /// Stops; the p99 and max latency, or why it failed.
    fn finish(self) -> Result<(Duration, Duration, usize), String> {
        self.stop.store(true, Ordering::Relaxed);
        let mut lat = self.handle.join().map_err(|_| "probe panicked")??;
        if lat.is_empty() {
            return Err("probe: no ping completed".into());
        }
        lat.sort();
        let p99 = lat[(lat.len() * 99 / 100).min(lat.len() - 1)];
        Ok((p99, *lat.last().unwrap_or(&p99), lat.len()))
    }
}

/// Runs `body` with a probe alongside; fails if the probe's p99 is 250 ms
/// or more.
fn with_probe(addr: SocketAddr, body: impl FnOnce() -> Outcome) -> Outcome {
    let probe = Probe::start(addr);
    std::thread::sleep(Duration::from_millis(50));
    let r = body();
    let (p99, max, n) = probe.finish()?;
    let figures = r?;
    if p99 >= Duration::from_millis(250) {
        return Err(format!("{figures}; probe p99 {p99:?} (>= 250 ms)"));
    }
    Ok(format!(
        "{figures}; probe {n} pings p99 {:.1} ms max {:.1} ms",
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    ))
}

fn slowloris(srv: &Server) -> Outcome {
    with_probe(srv.addr, || {
        let mut conns = Vec::new();
        for _ in 0..500 {
            conns.push(connect(srv.addr).map_err(|e| format!("connect: {e}"))?);
        }
        // One byte every 2 s, three rounds, each echoed exactly.
        for round in 0..3u8 {
            for (i, c) in conns.iter_mut().enumerate() {
                c.write_all(&[round ^ (i as u8)])
                    .map_err(|e| format!("write: {e}"))?;
            }
            for (i, c) in conns.iter_mut().enumerate() {
                let mut b = [0u8; 1];
                c.read_exact(&mut b).map_err(|e| format!("read: {e}"))?;
                if b[0] != round ^ (i as u8) {
                    return Err("wrong byte".into());
                }
            }
            std::thread::sleep(Duration::from_secs(2));
        }
        Ok("500 connections x 3 bytes, 2 s apart".into())
    })
}

fn churn(srv: &Server) -> Outcome {
    let before = srv.settled_fds();
    let addr = srv.addr;
    let r = with_probe(addr, || {
        let failed = Arc::new(Mutex::new(0usize));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let failed = Arc::clone(&failed);
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        match TcpStream::connect(addr) {
                            Ok(mut s) => {
                                if (i + t) % 4 == 0 {
                                    let _ = s.write_all(b"x");
                                }
                            }
                            Err(_) => *failed.lock().unwrap_or_else(|e| e.into_inner()) += 1,
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "churn thread panicked")?;
        }
        let failed = *failed.lock().unwrap_or_else(|e| e.into_inner());
        Ok(format!("20000 connects ({failed} failed)"))
    })?;
    // No fd leak: back to the baseline once the closes are seen.
    let end = Instant::now() + Duration::from_secs(10);
    while srv.fds() > before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = srv.fds();
    if after > before {
        return Err(format!("{r}; fds {before} -> {after}: leak"));
    }
    Ok(format!("{r}; server fds {before} -> {after}"))
}

fn resets(srv: &Server) -> Outcome {
    let before = srv.settled_fds();
    let r = with_probe(srv.addr, || {
        let data = pattern(64 * 1024, 7);
        for _ in 0..2000 {
            let mut s = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
            s.write_all(&data).map_err(|e| format!("write: {e}"))?;
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .map_err(|e| format!("SO_LINGER: {e}"))?;
            drop(s); // RST
        }
        Ok("2000 x (64 KiB, then RST)".into())
    })?;
    let end = Instant::now() + Duration::from_secs(10);
    while srv.fds() > before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = srv.fds();
    if after > before {
        return Err(format!("{r}; fds {before} -> {after}: leak"));
    }
    Ok(format!("{r}; server fds {before} -> {after}"))
}

fn half_close(srv: &Server) -> Outcome {
    with_probe(srv.addr, || {
        let mut done = Vec::new();
        for (len, delay) in [
            (0usize, 0u64),
            (1, 0),
            (65_536, 0),
            (1 << 20, 0),
            (8 << 20, 0),
            (8 << 20, 1000),
        ] {
            let s = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
            let data = pattern(len, len);
            roundtrip(s, data, true, Duration::from_millis(delay))
                .map_err(|e| format!("{len} B (read after {delay} ms): {e}"))?;
            done.push(if delay > 0 {
                format!("{len} B read after {delay} ms")
            } else {
                format!("{len} B")
            });
        }
        Ok(done.join(", "))
    })
}

fn never_reads(srv: &Server) -> Outcome {
    with_probe(srv.addr, || {
        let rss0 = srv.rss_kib();
        let s = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
        s.set_write_timeout(Some(Duration::from_secs(3)))
            .map_err(|e| e.to_string())?;
        let chunk = pattern(1 << 20, 3);
        let mut sent = 0usize;
        let mut peak = rss0;
        while sent < 200 << 20 {
            match (&s).write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break, // blocked 3 s: the server stopped reading
            }
            peak = peak.max(srv.rss_kib());
        }
        peak = peak.max(srv.rss_kib());
        let grew = peak.saturating_sub(rss0);
        if grew > 64 * 1024 {
            return Err(format!("RSS grew by {grew} KiB (> 64 MB)"));
        }
        Ok(format!(
            "wrote {} MiB before blocking; server RSS {rss0} -> peak {peak} KiB (+{grew} KiB)",
            sent >> 20
        ))
    })
}

fn big_write(srv: &Server) -> Outcome {
    with_probe(srv.addr, || {
        let s = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
        let data = pattern(64 << 20, 11);
        let t = Instant::now();
        roundtrip(s, data, false, Duration::ZERO)?;
        Ok(format!(
            "64 MiB in one write, read back concurrently, exact, in {:.2} s",
            t.elapsed().as_secs_f64()
        ))
    })
}

fn idle_10k(srv: &Server) -> Outcome {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let rss0 = srv.rss_kib();
    let mut conns = Vec::new();
    for i in 0..10_000 {
        match connect(srv.addr) {
            Ok(s) => conns.push(s),
            Err(e) => return Err(format!("connect #{i}: {e}")),
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let rss1 = srv.rss_kib();
    let r = with_probe(srv.addr, || {
        let t = Instant::now();
        let mut c = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
        c.write_all(b"new\n").map_err(|e| e.to_string())?;
        let mut b = [0u8; 4];
        c.read_exact(&mut b).map_err(|e| e.to_string())?;
        let took = t.elapsed();
        if &b != b"new\n" || took > Duration::from_millis(250) {
            return Err(format!("new client served in {took:?}"));
        }
        Ok(format!(
            "10000 idle held (server RSS +{} KiB, {} B/conn); new client served in {:.1} ms",
            rss1.saturating_sub(rss0),
            rss1.saturating_sub(rss0) * 1024 / 10_000,
            took.as_secs_f64() * 1e3
        ))
    });
    drop(conns);
    r
}

fn low_nofile(target: &Target) -> Outcome {
    let srv = Server::start(target, Some(256))?;
    let mut held = Vec::new();
    let mut refused = 0;
    // More than every process can hold: each has its own 256.
    let conns = 400 * target.processes.unwrap_or(1) as usize;
    for _ in 0..conns {
        match connect(srv.addr) {
            Ok(s) => held.push(s),
            Err(_) => refused += 1,
        }
    }
    // Some connections get a close (shed through the spare fd): fine.
    let t0 = srv.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let busy = (srv.cpu_ticks() - t0) as f64 / 2.0; // ticks per second = % of a core
    if busy >= 25.0 {
        return Err(format!("server used {busy:.0}% of a core while out of fds"));
    }
    drop(held);
    // Serving resumes as soon as they are closed.
    let t = Instant::now();
    let mut ok = false;
    while t.elapsed() < Duration::from_secs(5) {
        if let Ok(mut c) = connect(srv.addr) {
            let mut b = [0u8; 2];
            if c.write_all(b"ok").is_ok() && c.read_exact(&mut b).is_ok() && &b == b"ok" {
                ok = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !ok {
        return Err("not serving 5 s after the connections closed".into());
    }
    Ok(format!(
        "ulimit -n 256, {conns} connections ({refused} refused at connect): server CPU {busy:.0}% of a core; served again {:.0} ms after they closed",
        t.elapsed().as_secs_f64() * 1e3
    ))
}

fn junk(srv: &Server) -> Outcome {
    with_probe(srv.addr, || {
        let every: Vec<u8> = (0..=255u8).cycle().take(256 * 16).collect();
        let telnet =
            b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfa\x18\x00xterm\xff\xf0\r\n\x04".to_vec();
        let tls = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8a\x11\x00\x00\xc0\x2c\xc0\x2b"
            .repeat(40);
        let mut line = pattern(1 << 20, 5);
        for b in &mut line {
            if *b == b'\n' {
                *b = b'.';
            }
        }
        line.push(b'\n');
        for (name, data) in [
            ("every byte value", every),
            ("telnet negotiation", telnet),
            ("TLS ClientHello bytes", tls),
            ("1 MiB line", line),
        ] {
            let s = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
            roundtrip(s, data, true, Duration::ZERO).map_err(|e| format!("{name}: {e}"))?;
        }
        // 2,000 one-byte writes.
        let mut s = connect(srv.addr).map_err(|e| format!("connect: {e}"))?;
        let mut r = s.try_clone().map_err(|e| e.to_string())?;
        let reader = std::thread::spawn(move || {
            let mut got = vec![0u8; 2000];
            r.read_exact(&mut got).map(|()| got)
        });
        for i in 0..2000 {
            s.write_all(&[(i % 256) as u8]).map_err(|e| e.to_string())?;
        }
        let got = reader
            .join()
            .map_err(|_| "reader panicked")?
            .map_err(|e| format!("2000 one-byte writes: {e}"))?;
        if got.iter().enumerate().any(|(i, b)| *b != (i % 256) as u8) {
            return Err("2000 one-byte writes: bytes differ".into());
        }
        Ok("every byte value, telnet, TLS junk, a 1 MiB line, 2000 one-byte writes: exact".into())
    })
}

fn sigint_streams(target: &Target) -> Outcome {
    let mut srv = Server::start(target, None)?;
    let workers = srv.pids();
    let addr = srv.addr;
    let data = Arc::new(pattern(3 << 20, 9));
    let mut clients = Vec::new();
    for i in 0..5 {
        let s = connect(addr).map_err(|e| format!("connect: {e}"))?;
        let d = Arc::clone(&data);
        clients.push(std::thread::spawn(move || {
            // Slow writer: 3 MiB in 64 KiB pieces over about 1 s.
            let mut w = s.try_clone().map_err(|e| e.to_string())?;
            let writer = std::thread::spawn(move || -> std::io::Result<()> {
                for c in d.chunks(64 * 1024) {
                    w.write_all(c)?;
                    std::thread::sleep(Duration::from_millis(20));
                }
                w.shutdown(Shutdown::Write)
            });
            let mut got = Vec::new();
            (&s).read_to_end(&mut got)
                .map_err(|e| format!("client {i}: {e}"))?;
            writer
                .join()
                .map_err(|_| "writer panicked")?
                .map_err(|e| format!("client {i} write: {e}"))?;
            Ok::<usize, String>(got.len())
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let pid = srv.pid().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .map_err(|e| format!("kill: {e}"))?;
    let mut refused_after = None;
    while t.elapsed() < Duration::from_secs(5) {
        if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                refused_after = Some(t.elapsed());
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let refused_after = refused_after.ok_or("new connections still accepted 5 s after SIGINT")?;
    for c in clients {
        let n = c.join().map_err(|_| "client panicked")??;
        if n != data.len() {
            return Err(format!("a client got {n} of {} B", data.len()));
        }
    }
    let mut status = None;
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(st)) = srv.child.try_wait() {
            status = Some(st);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let st = status.ok_or("the server did not exit within 10 s")?;
    if !st.success() {
        return Err(format!("exit status {st}"));
    }
    // A cluster's workers were reaped by the primary before it exited.
    let left: Vec<u32> = workers
        .into_iter()
        .filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        .collect();
    if !left.is_empty() {
        return Err(format!("processes left after the exit: {left:?}"));
    }
    Ok(format!(
        "refused new connections {:.0} ms after SIGINT; 5 x 3 MiB echoed exactly, then EOF; exit 0 {:.2} s after SIGINT",
        refused_after.as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64()
    ))
}

/// One line on stdout; a closed stdout is not an error worth a panic.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut bin = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("echo-app")))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "echo-app".into());
    let mut only = None;
    let mut processes = None;
    let usage = || -> ! {
        eprintln!("usage: bad-clients [--server PATH] [--only NAME] [--processes N]");
        std::process::exit(2);
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--server" => bin = args.next().unwrap_or(bin),
            "--only" => only = args.next(),
            "--processes" => {
                processes = Some(
                    args.next()
                        .and_then(|n| n.parse::<u32>().ok())
                        .filter(|&n| n > 0)
                        .unwrap_or_else(|| usage()),
                )
            }
            _ => usage(),
        }
    }
    let target = Target { bin, processes };
    let bin = target.bin.clone();
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let srv = match Server::start(&target, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: start {bin}: {e}");
            std::process::exit(1);
        }
    };
    type Scenario<'a> = (&'a str, Box<dyn Fn(&Server) -> Outcome + 'a>);
    let shared: Vec<Scenario<'_>> = vec![
        ("slowloris", Box::new(slowloris)),
        ("churn", Box::new(churn)),
        ("resets", Box::new(resets)),
        ("half-close", Box::new(half_close)),
        ("never-reads", Box::new(never_reads)),
        ("64mib-write", Box::new(big_write)),
        ("junk", Box::new(junk)),
        ("idle-10k", Box::new(idle_10k)),
    ];
    let (mut passed, mut failed) = (0, 0);
    let mut report = |name: &str, r: Outcome| match r {
        Ok(f) => {
            passed += 1;
            say(&format!("PASS {name}: {f}"));
        }
        Err(e) => {
            failed += 1;
            say(&format!("FAIL {name}: {e}"));
        }
    };
    let mut srv = srv;
    for (name, f) in &shared {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let r = f(&srv);
        let r = if srv.alive() {
            r
        } else {
            Err(format!("the server died ({r:?})"))
        };
        report(name, r);
    }
    drop(srv);
    if only.as_deref().is_none_or(|o| o == "low-nofile") {
        report("low-nofile", low_nofile(&target));
    }
    if only.as_deref().is_none_or(|o| o == "sigint-streams") {
        report("sigint-streams", sigint_streams(&target));
    }
    say(&format!("{passed} passed, {failed} failed"));
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
