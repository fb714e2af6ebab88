//! `echo-app bench`: a load generator on the project's own loop.
//!
//! One loop, `C` connections. Every byte sent follows a pattern of period
//! [`PERIOD`] (a prime, so it never lines up with a power-of-two buffer),
//! shifted per connection; every byte echoed back is compared with the
//! pattern at its offset, so a lost, duplicated, reordered or crossed byte
//! is a mismatch (an error: exit status 1).
//!
//! - **pingpong**: one message of `size` bytes in flight per connection;
//!   the next goes out when the whole echo is back. Latency is the time
//!   from the write to the last byte of the echo, in an HDR histogram.
//! - **stream**: `pipeline` messages in flight per connection; each echo
//!   completed sends one more. Throughput is echoed bytes per second.
//! - **idle**: opens the connections and holds them, silent, for the
//!   duration (to measure a server's memory per idle connection).
//!
//! The clock starts when every connection is connected (or failed); at the
//! end, sending stops and the echoes in flight are awaited (at most
//! [`DRAIN`]) and verified before the connections close. Reads use
//! loop-net's one buffer; writes go out with `try_write` first and only
//! the rest is copied: nothing is allocated per message.

use crate::error::{Error, Result};
use hdrhistogram::Histogram;
use loop_core::{Loop, RunMode, TimerId};
use loop_net::{ReadEvent, Stream};
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Period of the byte pattern.
pub const PERIOD: usize = 251;

/// How long the echoes still in flight at the end are awaited.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Shift of the pattern between two connections.
const SHIFT: u64 = 97;

/// Most connects in flight at once: a burst of thousands of SYNs would
/// overflow the server's listen backlog and go through SYN cookies, which
/// can leave half-open connections behind (the server side established,
/// the client side gone) that no server can tell from idle ones.
pub const MAX_CONNECTING: usize = 256;

/// What the connections do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One message in flight per connection; latency percentiles.
    Pingpong,
    /// `pipeline` messages in flight per connection; throughput.
    Stream,
    /// Connect and hold, sending nothing.
    Idle,
    /// UDP datagrams, `pipeline` in flight per socket ([`crate::bench_udp`]).
    Udp,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Pingpong => "pingpong",
            Mode::Stream => "stream",
            Mode::Idle => "idle",
            Mode::Udp => "udp",
        })
    }
}

/// A benchmark run's settings.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections.
    pub conns: usize,
    /// Message size in bytes (at least 1).
    pub size: usize,
    /// Measured time.
    pub duration: Duration,
    /// What the connections do.
    pub mode: Mode,
    /// Messages in flight per connection (stream mode).
    pub pipeline: usize,
    /// Print a progress line every second (on a terminal).
    pub progress: bool,
}

/// The outcome: printed as one `key=value` line.
#[derive(Debug, Clone)]
pub struct Report {
    /// The settings.
    pub mode: Mode,
    /// Connections asked for.
    pub conns: usize,
    /// Connections that connected.
    pub connected: usize,
    /// Message size.
    pub size: usize,
    /// Messages in flight per connection.
    pub pipeline: usize,
    /// Measured time.
    pub elapsed: Duration,
    /// Messages echoed in the measured time.
    pub msgs: u64,
    /// Bytes echoed in the measured time.
    pub bytes: u64,
    /// Latency percentiles in µs (pingpong): p50, p99, p99.9, max.
    pub latency_us: Option<[f64; 4]>,
    /// Connect failures.
    pub connect_errors: u64,
    /// Echoed bytes that differ from what was sent.
    pub mismatches: u64,
    /// Every failure: connect errors, mismatches, resets, early EOFs,
    /// echoes missing at the end.
    pub errors: u64,
    /// The first failure, in words.
    pub first_error: Option<String>,
    /// Datagrams lost (udp mode; UDP may drop, so not an error).
    pub lost: Option<u64>,
}

impl Report {
    /// Messages per second.
    pub fn msgs_per_sec(&self) -> f64 {
        self.msgs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Echoed megabytes (10^6 bytes) per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mode={} conns={} connected={} size={} pipeline={} duration_s={:.2} msgs={} msgs_per_s={:.0} mb_per_s={:.2}",
            self.mode,
            self.conns,
            self.connected,
            self.size,
            self.pipeline,
            self.elapsed.as_secs_f64(),
            self.msgs,
            self.msgs_per_sec(),
            self.mb_per_sec()
        )?;
        if let Some([p50, p99, p999, max]) = self.latency_us {
            write!(
                f,
                " p50_us={p50:.1} p99_us={p99:.1} p999_us={p999:.1} max_us={max:.1}"
            )?;
        }
        if let Some(lost) = self.lost {
            write!(f, " lost={lost}")?;
        }
        write!(
            f,
            " connect_errors={} mismatches={} errors={}",
            self.connect_errors, self.mismatches, self.errors
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Running,
    Draining,
}

struct Conn {
    stream: Stream,
    sent: u64,
    recv: u64,
    /// When the message in flight was sent (pingpong).
    t0: Instant,
    closed: bool,
}

struct Bench {
    cfg: BenchConfig,
    pattern: Vec<u8>,
    conns: Vec<Conn>,
    hist: Histogram<u64>,
    phase: Phase,
    settled: usize,
    connected: usize,
    closed: usize,
    msgs: u64,
    bytes: u64,
    connect_errors: u64,
    mismatches: u64,
    errors: u64,
    first_error: Option<String>,
    start: Instant,
    end: Option<Instant>,
    drain_timer: Option<TimerId>,
    progress_timer: Option<TimerId>,
}

impl Bench {
    fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    fn offset(&self, i: usize, at: u64) -> usize {
        ((at + i as u64 * SHIFT) % PERIOD as u64) as usize
    }
}

fn close(lp: &mut Loop<Bench>, b: &mut Bench, i: usize) {
    let c = &mut b.conns[i];
    if c.closed {
        return;
    }
    c.closed = true;
    b.closed += 1;
    let _ = c.stream.close(lp, |_, _| {});
    if b.closed == b.conns.len() {
        if let Some(t) = b.drain_timer.take() {
            let _ = lp.close(t, None);
        }
        if let Some(t) = b.progress_timer.take() {
            let _ = lp.close(t, None);
        }
    }
}

/// Sends the next message of connection `i`.
fn send(lp: &mut Loop<Bench>, b: &mut Bench, i: usize) {
    let size = b.cfg.size;
    let off = b.offset(i, b.conns[i].sent);
    let c = &mut b.conns[i];
    c.sent += size as u64;
    if b.cfg.mode == Mode::Pingpong {
        c.t0 = Instant::now();
    }
    if let Err(e) = c.stream.write(lp, &b.pattern[off..off + size]) {
        b.fail(format!("conn {i}: {e}"));
        close(lp, b, i);
    }
}

/// Starts the next connect, if any is left.
fn connect_next(lp: &mut Loop<Bench>, b: &mut Bench) {
    let i = b.conns.len();
    if i >= b.cfg.conns {
        return;
    }
    let addr = b.cfg.addr;
    let now = Instant::now();
    match Stream::connect(lp, addr, move |lp, b, s, r| on_connect(lp, b, i, s, r)) {
        Ok(s) => b.conns.push(Conn {
            stream: s,
            sent: 0,
            recv: 0,
            t0: now,
            closed: false,
        }),
        Err(e) => {
            // Not even a socket (out of fds): count it, keep the rest going.
            b.connect_errors += 1;
            b.fail(format!("conn {i}: {e}"));
            b.settled += 1;
            b.cfg.conns -= 1;
            if b.settled == b.cfg.conns {
                start(lp, b);
            }
        }
    }
}

fn on_connect(lp: &mut Loop<Bench>, b: &mut Bench, i: usize, s: Stream, r: loop_net::Result<()>) {
    b.settled += 1;
    connect_next(lp, b);
    match r {
        Ok(()) => {
            b.connected += 1;
            let _ = s.set_no_delay(lp, true);
            if let Err(e) = s.read_start(lp, move |lp, b, _, ev| on_read(lp, b, i, ev)) {
                b.fail(format!("conn {i}: {e}"));
                close(lp, b, i);
            }
        }
        Err(e) => {
            b.connect_errors += 1;
            b.fail(format!("conn {i}: {e}"));
            close(lp, b, i);
        }
    }
    if b.settled == b.cfg.conns {
        start(lp, b);
    }
}

/// Every connection is settled: start the clock and the traffic.
fn start(lp: &mut Loop<Bench>, b: &mut Bench) {
    b.phase = Phase::Running;
    b.start = Instant::now();
    if b.cfg.mode == Mode::Idle {
        eprintln!("open: {} connections", b.connected);
    }
    let ms = b.cfg.duration.as_millis().max(1) as u64;
    lp.add_timer(ms, 0, finish);
    if b.cfg.progress {
        let t = lp.add_timer(1000, 1000, progress);
        let _ = lp.unref(t);
        b.progress_timer = Some(t);
    }
    let per_conn = match b.cfg.mode {
        Mode::Pingpong => 1,
        Mode::Stream => b.cfg.pipeline.max(1),
        Mode::Idle | Mode::Udp => 0,
    };
    for i in 0..b.conns.len() {
        for _ in 0..per_conn {
            if b.conns[i].closed {
                break;
            }
            send(lp, b, i);
        }
    }
}

fn progress(_: &mut Loop<Bench>, b: &mut Bench) {
    let t = b.start.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    let _ = write!(
        out,
        "\r{t:5.1}s msgs={} msgs/s={:.0} MB/s={:.2} errors={}\x1b[K",
        b.msgs,
        b.msgs as f64 / t,
        b.bytes as f64 / 1e6 / t,
        b.errors
    );
    let _ = out.flush();
}

/// The duration is over: stop sending, await what is in flight.
fn finish(lp: &mut Loop<Bench>, b: &mut Bench) {
    b.phase = Phase::Draining;
    b.end = Some(Instant::now());
    for i in 0..b.conns.len() {
        let c = &b.conns[i];
        if !c.closed && c.recv == c.sent {
            close(lp, b, i);
        }
    }
    if b.closed < b.conns.len() {
        let ms = DRAIN.as_millis() as u64;
        b.drain_timer = Some(lp.add_timer(ms, 0, |lp, b| {
            b.drain_timer = None;
            for i in 0..b.conns.len() {
                if !b.conns[i].closed {
                    let c = &b.conns[i];
                    let missing = c.sent - c.recv;
                    b.fail(format!(
                        "conn {i}: {missing} echoed bytes still missing {} s after the end",
                        DRAIN.as_secs()
                    ));
                    close(lp, b, i);
                }
            }
        }));
    }
}

fn on_read(lp: &mut Loop<Bench>, b: &mut Bench, i: usize, ev: ReadEvent<'_>) {
    let data = match ev {
        ReadEvent::Data(d) => d,
        ReadEvent::Eof => {
            let c = &b.conns[i];
            b.fail(format!(
                "conn {i}: the server closed the connection ({} bytes sent, {} echoed)",
                c.sent, c.recv
            ));
            close(lp, b, i);
            return;
        }
        ReadEvent::Error(e) => {
            b.fail(format!("conn {i}: {e}"));
            close(lp, b, i);
            return;
        }
    };
    let c = &b.conns[i];
    let before = c.recv;
    let off = b.offset(i, before);
    let n = data.len() as u64;
    if before + n > c.sent || data != &b.pattern[off..off + data.len()] {
        let at = data
            .iter()
            .zip(&b.pattern[off..])
            .position(|(x, y)| x != y)
            .map_or(c.sent.min(before + n), |p| before + p as u64);
        b.mismatches += 1;
        b.fail(format!(
            "conn {i}: echoed byte {at} differs from the byte sent"
        ));
        close(lp, b, i);
        return;
    }
    let size = b.cfg.size as u64;
    let c = &mut b.conns[i];
    c.recv += n;
    let (recv, sent, t0) = (c.recv, c.sent, c.t0);
    let done = recv / size - before / size;
    if b.phase == Phase::Running {
        b.bytes += n;
        b.msgs += done;
        match b.cfg.mode {
            Mode::Pingpong if done > 0 => {
                let ns = t0.elapsed().as_nanos().min(u64::MAX as u128) as u64;
                b.hist.saturating_record(ns.max(1));
                send(lp, b, i);
            }
            Mode::Stream => {
                for _ in 0..done {
                    send(lp, b, i);
                }
            }
            _ => {}
        }
    } else if b.phase == Phase::Draining && recv == sent {
        close(lp, b, i);
    }
}

/// Runs the benchmark; the report counts errors rather than failing (the
/// caller decides the exit status from [`Report::errors`]). Fails only if
/// the loop cannot be made.
pub fn run(cfg: &BenchConfig) -> Result<Report> {
    if cfg.mode == Mode::Udp {
        return crate::bench_udp::run(cfg);
    }
    let mut lp: Loop<Bench> = Loop::new().map_err(|e| Error::core("create the loop", &e))?;
    let size = cfg.size.max(1);
    let span = size.max(loop_net::READ_BUF);
    let pattern: Vec<u8> = (0..PERIOD + span).map(|j| (j % PERIOD) as u8).collect();
    let hist = Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
        .map_err(|e| Error::new(format!("histogram: {e}")))?;
    let now = Instant::now();
    let mut b = Bench {
        cfg: BenchConfig {
            size,
            ..cfg.clone()
        },
        pattern,
        conns: Vec::with_capacity(cfg.conns),
        hist,
        phase: Phase::Connecting,
        settled: 0,
        connected: 0,
        closed: 0,
        msgs: 0,
        bytes: 0,
        connect_errors: 0,
        mismatches: 0,
        errors: 0,
        first_error: None,
        start: now,
        end: None,
        drain_timer: None,
        progress_timer: None,
    };
    if cfg.conns == 0 {
        return Err(Error::new("bench: --conns must be at least 1"));
    }
    for _ in 0..cfg.conns.min(MAX_CONNECTING) {
        connect_next(&mut lp, &mut b);
    }
    lp.run(RunMode::Default, &mut b)
        .map_err(|e| Error::core("bench loop", &e))?;
    if b.progress_timer.is_some() || cfg.progress {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r\x1b[K");
        let _ = out.flush();
    }
    let elapsed = b.end.unwrap_or_else(Instant::now).duration_since(b.start);
    let latency_us = (cfg.mode == Mode::Pingpong && !b.hist.is_empty()).then(|| {
        let q = |p: f64| b.hist.value_at_quantile(p) as f64 / 1000.0;
        [q(0.5), q(0.99), q(0.999), b.hist.max() as f64 / 1000.0]
    });
    Ok(Report {
        mode: cfg.mode,
        conns: cfg.conns,
        connected: b.connected,
        size,
        pipeline: if cfg.mode == Mode::Stream {
            cfg.pipeline.max(1)
        } else {
            1
        },
        elapsed,
        msgs: b.msgs,
        bytes: b.bytes,
        latency_us,
        connect_errors: b.connect_errors,
        mismatches: b.mismatches,
        errors: b.errors,
        first_error: b.first_error,
        lost: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_one_key_value_line() {
        let r = Report {
            mode: Mode::Pingpong,
            conns: 2,
            connected: 2,
            size: 64,
            pipeline: 1,
            elapsed: Duration::from_secs(2),
            msgs: 1000,
            bytes: 64_000,
            latency_us: Some([50.0, 99.0, 120.0, 300.0]),
            connect_errors: 0,
            mismatches: 0,
            errors: 0,
            first_error: None,
            lost: None,
        };
        assert_eq!(
            r.to_string(),
            "mode=pingpong conns=2 connected=2 size=64 pipeline=1 duration_s=2.00 msgs=1000 msgs_per_s=500 mb_per_s=0.03 p50_us=50.0 p99_us=99.0 p999_us=120.0 max_us=300.0 connect_errors=0 mismatches=0 errors=0"
        );
        assert!(r.to_string().split(' ').all(|kv| kv.contains('=')));
    }
}
