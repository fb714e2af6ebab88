//! The echo server: N worker loops sharing one port, and a control loop on
//! the main thread for signals, statistics and the shutdown.
//!
//! # Ground rules
//!
//! - **One loop per thread.** Each worker owns a [`Loop`], a listener (with
//!   `SO_REUSEPORT` when there are several workers, so the kernel spreads
//!   connections) and its connections; nothing of a connection is shared
//!   between threads. The control loop talks to workers through one async
//!   handle each and a `Link` of atomics, never through locks.
//! - **No allocation per read, no buffer per connection.** Reads land in
//!   loop-net's one 64 KiB buffer per loop; the echo goes out with
//!   `try_write` straight from it. Only what the kernel does not take is
//!   copied into the stream's write queue.
//! - **Backpressure.** When a connection's write queue grows past
//!   [`HIGH_WATER`] the server stops reading it (`read_stop`); the write
//!   callbacks resume reading once the queue is back at [`LOW_WATER`]. The
//!   memory a connection can hold is thus at most `HIGH_WATER` plus one
//!   read ([`loop_net::READ_BUF`]), whatever its client does.
//! - **Half-close.** On EOF the server shuts its writing side down after the
//!   queued echo (`shutdown` waits for the queue), then closes: the client
//!   gets everything it sent, then EOF.
//! - **Graceful shutdown.** The first SIGINT/SIGTERM closes every listener
//!   at once (new connects are refused) and lets the open connections run
//!   to their end; each worker loop then has nothing alive and returns. A
//!   second signal, or the shutdown timeout, ends the process at once with
//!   a non-zero status.
//! - **Idle timeout.** Each connection records the loop time of its last
//!   progress (a read, or a write completed); one unreferenced timer per
//!   worker sweeps the connections every quarter of the timeout (10 ms to
//!   1 s), so a connection idle for `T` is closed between `T` and `1.25 T`.

use crate::error::{Error, Result};
use loop_core::{AsyncId, AsyncSender, Loop, RunMode, SignalId};
use loop_net::{BindFlags, Datagram, ListenOptions, Listener, ReadEvent, Stream, Udp};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::*};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Stop reading from a connection whose write queue holds more than this.
pub const HIGH_WATER: usize = 64 * 1024;

/// Resume reading once the write queue is down to this.
pub const LOW_WATER: usize = 16 * 1024;

/// How the server runs (`echo-app serve` options).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// Worker loops (threads), at least 1.
    pub workers: usize,
    /// Most connections open at once across workers; more are accepted and
    /// closed at once (as Node.js's `server.maxConnections`).
    pub max_connections: Option<usize>,
    /// Close a connection without progress for this long.
    pub idle_timeout: Option<Duration>,
    /// Print a statistics line this often.
    pub stats_every: Option<Duration>,
    /// After the first signal, give up waiting for connections after this.
    pub shutdown_timeout: Option<Duration>,
    /// Also answer UDP echo (RFC 862) on the same port, on every worker.
    pub udp: bool,
}

/// How a server run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every connection finished after a shutdown signal: exit status 0.
    Clean,
    /// A second signal (its number) ended the shutdown early.
    Forced(i32),
    /// The shutdown timeout ran out.
    Timeout,
    /// A worker stopped by itself (it failed).
    WorkerFailed,
}

impl Exit {
    /// The process exit status: 0, 128 + the signal, or 1.
    pub fn code(self) -> i32 {
        match self {
            Exit::Clean => 0,
            Exit::Forced(sig) => 128 + sig,
            Exit::Timeout | Exit::WorkerFailed => 1,
        }
    }
}

/// Totals of a server run, for the last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// How it ended.
    pub exit: Exit,
    /// Connections accepted (and served).
    pub accepted: u64,
    /// Connections refused by `--max-connections`.
    pub refused: u64,
    /// Connections closed by the idle timeout.
    pub idle_closed: u64,
    /// Connections still open at the end (0 after a clean shutdown).
    pub open: u64,
    /// Bytes read from clients.
    pub bytes_in: u64,
    /// Bytes echoed to clients (handed to the socket or its queue).
    pub bytes_out: u64,
    /// From listening to the end.
    pub uptime: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.exit {
            Exit::Clean => "shutdown complete",
            _ => "shutdown forced",
        };
        write!(
            f,
            "{how}: connections={} refused={} idle_closed={} open={} bytes_in={} bytes_out={} uptime={:.1}s",
            self.accepted,
            self.refused,
            self.idle_closed,
            self.open,
            self.bytes_in,
            self.bytes_out,
            self.uptime.as_secs_f64()
        )
    }
}

/// What one worker shares with the control loop: commands one way,
/// counters the other (published by the worker, read by the control loop).
#[derive(Debug, Default)]
pub(crate) struct Link {
    shutdown: AtomicBool,
    done: AtomicBool,
    open: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    idle_closed: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    idle_ns: AtomicU64,
}

/// A worker's own counters: plain integers on the hot path, copied to its
/// [`Link`] by [`publish`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    pub(crate) accepted: u64,
    pub(crate) refused: u64,
    pub(crate) idle_closed: u64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
}

/// One connection, as the worker knows it.
#[derive(Debug)]
struct Conn {
    stream: Stream,
    /// Loop time (ms) of the last read or completed write.
    last_active: u64,
    /// Reading stopped for backpressure.
    paused: bool,
}

/// The connections, indexed by their stream's slot ([`Stream::slot`]): a
/// read callback finds its connection from the stream it is given, so it
/// captures nothing and boxing it allocates nothing (32 B less per idle
/// connection than a captured key).
#[derive(Default)]
pub(crate) struct Conns {
    slots: Vec<Option<Conn>>,
    len: usize,
}

impl Conns {
    /// Adds `c` at its stream's slot; returns the key (the slot).
    fn insert(&mut self, c: Conn) -> usize {
        let key = c.stream.slot();
        if self.slots.len() <= key {
            self.slots.resize_with(key + 1, || None);
        }
        if self.slots[key].replace(c).is_none() {
            self.len += 1;
        }
        key
    }

    fn get(&self, key: usize) -> Option<&Conn> {
        self.slots.get(key)?.as_ref()
    }

    fn get_mut(&mut self, key: usize) -> Option<&mut Conn> {
        self.slots.get_mut(key)?.as_mut()
    }

    fn remove(&mut self, key: usize) -> Option<Conn> {
        let c = self.slots.get_mut(key)?.take();
        if c.is_some() {
            self.len -= 1;
        }
        c
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = (usize, &Conn)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(k, c)| Some((k, c.as_ref()?)))
    }
}

/// A worker loop's state (the loop's `D`): a thread of this process, or
/// the one loop of a cluster worker process (`crate::cluster`).
pub(crate) struct Worker {
    pub(crate) conns: Conns,
    pub(crate) listener: Option<Listener>,
    ctl: Option<AsyncId>,
    link: Arc<Link>,
    /// Open connections across every worker, for `--max-connections`.
    open_total: Arc<AtomicUsize>,
    max_conns: usize,
    /// The idle timeout in ms; 0 when there is none.
    idle_ms: u64,
    pub(crate) t: Totals,
    /// Scratch list of the sweep (kept to avoid allocating each time).
    expired: Vec<(usize, Stream)>,
    /// The UDP echo socket on the same port, unless `--no-udp`.
    pub(crate) udp: Option<Udp>,
    /// The shutdown began: the listener is closed.
    pub(crate) draining: bool,
    /// Called once draining and the last connection has closed (a cluster
    /// worker reports it to its primary); `None` for a thread worker, whose
    /// loop simply ends.
    pub(crate) on_drained: Option<fn(&mut Loop<Worker>, &mut Worker)>,
    /// The primary's channel, in a cluster worker process.
    pub(crate) channel: Option<loop_process::Channel>,
}

impl Worker {
    /// A worker with no listener yet and no connection, `max_conns` open
    /// at most across the workers sharing `open_total`.
    pub(crate) fn new(max_conns: usize, idle_ms: u64, open_total: Arc<AtomicUsize>) -> Worker {
        Worker {
            conns: Conns::default(),
            listener: None,
            ctl: None,
            link: Arc::default(),
            open_total,
            max_conns,
            idle_ms,
            t: Totals::default(),
            expired: Vec::new(),
            udp: None,
            draining: false,
            on_drained: None,
            channel: None,
        }
    }
}

/// Starts a worker loop's unreferenced timers: the idle sweep (when
/// `idle_ms` is not 0) and, every `publish_ms`, `publish`.
pub(crate) fn start_timers(
    lp: &mut Loop<Worker>,
    idle_ms: u64,
    publish_ms: Option<u64>,
    publish: fn(&mut Loop<Worker>, &mut Worker),
) {
    if idle_ms > 0 {
        let every = (idle_ms / 4).clamp(10, 1000);
        let t = lp.add_timer(every, every, sweep);
        let _ = lp.unref(t);
    }
    if let Some(ms) = publish_ms {
        let t = lp.add_timer(ms, ms, publish);
        let _ = lp.unref(t);
    }
}

/// Copies the worker's counters to its link.
fn publish(lp: &Loop<Worker>, w: &Worker) {
    let l = &w.link;
    l.open.store(w.conns.len() as u64, Relaxed);
    l.accepted.store(w.t.accepted, Relaxed);
    l.refused.store(w.t.refused, Relaxed);
    l.idle_closed.store(w.t.idle_closed, Relaxed);
    l.bytes_in.store(w.t.bytes_in, Relaxed);
    l.bytes_out.store(w.t.bytes_out, Relaxed);
    let idle = lp.metrics().idle_time.as_nanos().min(u64::MAX as u128) as u64;
    l.idle_ns.store(idle, Relaxed);
}

pub(crate) fn on_connection(
    lp: &mut Loop<Worker>,
    w: &mut Worker,
    l: Listener,
    r: loop_net::Result<()>,
) {
    if let Err(e) = r {
        tracing::warn!(error = %e, "accept failed");
        return;
    }
    let s = match l.accept(lp) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            return;
        }
    };
    if w.open_total.load(Relaxed) >= w.max_conns {
        w.t.refused += 1;
        tracing::debug!(stream = %s, "refused: --max-connections reached");
        let _ = s.close(lp, |_, _| {});
        return;
    }
    w.open_total.fetch_add(1, Relaxed);
    // One message in flight per client is the common case: no Nagle delay.
    let _ = s.set_no_delay(lp, true);
    let key = w.conns.insert(Conn {
        stream: s,
        last_active: lp.now(),
        paused: false,
    });
    w.t.accepted += 1;
    w.link.open.store(w.conns.len() as u64, Relaxed);
    tracing::trace!(stream = %s, "connection");
    if let Err(e) = s.read_start(lp, reader) {
        tracing::debug!(stream = %s, error = %e, "read_start failed");
        close_conn(lp, key, s);
    }
}

/// The read callback of every connection (its key is its stream's slot):
/// a plain function, so `read_start` and every resume allocate nothing.
fn reader(lp: &mut Loop<Worker>, w: &mut Worker, s: Stream, ev: ReadEvent<'_>) {
    on_read(lp, w, s.slot(), s, ev)
}

/// The hot path: one call per read of up to 64 KiB.
fn on_read(lp: &mut Loop<Worker>, w: &mut Worker, key: usize, s: Stream, ev: ReadEvent<'_>) {
    match ev {
        ReadEvent::Data(b) => {
            w.t.bytes_in += b.len() as u64;
            w.t.bytes_out += b.len() as u64;
            if w.idle_ms != 0 {
                if let Some(c) = w.conns.get_mut(key) {
                    c.last_active = lp.now();
                }
            }
            echo(lp, w, key, s, b);
        }
        ReadEvent::Eof => {
            // Half-close: the FIN goes out after the queued echo.
            tracing::trace!(stream = %s, "eof");
            if let Err(e) = s.shutdown(lp, move |lp, _, _| close_conn(lp, key, s)) {
                tracing::debug!(stream = %s, error = %e, "shutdown failed");
                close_conn(lp, key, s);
            }
        }
        ReadEvent::Error(e) => {
            tracing::debug!(stream = %s, error = %e, "read failed");
            close_conn(lp, key, s);
        }
    }
}

/// Echoes `b`: `try_write` first (most echoes end here, nothing copied),
/// then the rest through the write queue, whose callback resumes reading.
fn echo(lp: &mut Loop<Worker>, w: &mut Worker, key: usize, s: Stream, b: &[u8]) {
    let n = match s.try_write(lp, b) {
        Ok(n) => n,
        // The socket buffer is full, or writes are queued already.
        Err(e) if e.code() == "EAGAIN" => 0,
        Err(e) => {
            tracing::debug!(stream = %s, error = %e, "write failed");
            close_conn(lp, key, s);
            return;
        }
    };
    if n == b.len() {
        return;
    }
    if let Err(e) = s.write_with(lp, &b[n..], move |lp, w, r| written(lp, w, key, s, r)) {
        tracing::debug!(stream = %s, error = %e, "write failed");
        close_conn(lp, key, s);
        return;
    }
    if s.write_queue_size(lp) > HIGH_WATER {
        let _ = s.read_stop(lp);
        if let Some(c) = w.conns.get_mut(key) {
            c.paused = true;
        }
        tracing::trace!(stream = %s, "backpressure: reading stopped");
    }
}

/// A queued write completed (or failed, or was canceled by close).
fn written(lp: &mut Loop<Worker>, w: &mut Worker, key: usize, s: Stream, r: loop_net::Result<()>) {
    if let Err(e) = r {
        if !e.is_canceled() {
            tracing::debug!(stream = %s, error = %e, "write failed");
        }
        close_conn(lp, key, s);
        return;
    }
    let Some(c) = w.conns.get_mut(key).filter(|c| c.stream == s) else {
        return;
    };
    c.last_active = lp.now();
    if c.paused && s.write_queue_size(lp) <= LOW_WATER {
        c.paused = false;
        tracing::trace!(stream = %s, "backpressure: reading resumed");
        if let Err(e) = s.read_start(lp, reader) {
            tracing::debug!(stream = %s, error = %e, "read_start failed");
            close_conn(lp, key, s);
        }
    }
}

/// Closes a connection unless it is closing already; its entry goes in
/// the close phase.
pub(crate) fn close_conn(lp: &mut Loop<Worker>, key: usize, s: Stream) {
    if !s.exists(lp) || s.is_closing(lp) {
        return;
    }
    let _ = s.close(lp, move |lp, w: &mut Worker| {
        if w.conns.get(key).is_some_and(|c| c.stream == s) {
            w.conns.remove(key);
            w.open_total.fetch_sub(1, Relaxed);
            w.link.open.store(w.conns.len() as u64, Relaxed);
            if w.draining && w.conns.len() == 0 {
                if let Some(f) = w.on_drained {
                    f(lp, w);
                }
            }
        }
    });
}

/// Closes every connection now (a cluster worker whose primary is gone).
pub(crate) fn close_all(lp: &mut Loop<Worker>, w: &mut Worker) {
    let all: Vec<(usize, Stream)> = w.conns.iter().map(|(k, c)| (k, c.stream)).collect();
    for (key, s) in all {
        close_conn(lp, key, s);
    }
}

/// Closes connections idle for the timeout or longer.
fn sweep(lp: &mut Loop<Worker>, w: &mut Worker) {
    let now = lp.now();
    let Worker {
        conns,
        expired,
        idle_ms,
        ..
    } = w;
    expired.clear();
    for (key, c) in conns.iter() {
        if now.saturating_sub(c.last_active) >= *idle_ms {
            expired.push((key, c.stream));
        }
    }
    for i in 0..w.expired.len() {
        let (key, s) = w.expired[i];
        if s.exists(lp) && !s.is_closing(lp) {
            w.t.idle_closed += 1;
            tracing::debug!(stream = %s, "idle timeout");
            close_conn(lp, key, s);
        }
    }
}

/// Most UDP echoes queued per worker when the socket buffer is full; past
/// it a datagram is dropped (UDP may drop; the memory stays bounded).
pub const UDP_QUEUE: usize = 1024;

/// A datagram on a worker's UDP echo socket.
pub(crate) fn on_datagram(
    lp: &mut Loop<Worker>,
    w: &mut Worker,
    u: Udp,
    r: loop_net::Result<Datagram<'_>>,
) {
    udp_echo(lp, &mut w.t, u, r)
}

/// A datagram on a UDP echo socket of any loop (a worker's, or a cluster
/// primary's): sent back whole to its sender, from the loop's receive
/// buffer when the socket takes it at once; counted in `t`.
pub(crate) fn udp_echo<D: 'static>(
    lp: &mut Loop<D>,
    t: &mut Totals,
    u: Udp,
    r: loop_net::Result<Datagram<'_>>,
) {
    let dg = match r {
        Ok(dg) => dg,
        Err(e) => {
            tracing::debug!(error = %e, "UDP receive error");
            return;
        }
    };
    if dg.truncated {
        tracing::debug!(from = %dg.from, "UDP datagram truncated: not echoed");
        return;
    }
    let n = dg.data.len() as u64;
    t.bytes_in += n;
    match u.try_send(lp, &[dg.data], Some(dg.from)) {
        Ok(_) => t.bytes_out += n,
        Err(e) if e.code() == "EAGAIN" && u.send_queue_count(lp) < UDP_QUEUE => {
            t.bytes_out += n;
            let r = u.send(lp, &[dg.data], Some(dg.from), |_, _, r| {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "UDP echo failed");
                }
            });
            if let Err(e) = r {
                tracing::debug!(error = %e, "UDP echo failed");
            }
        }
        Err(e) => tracing::debug!(from = %dg.from, error = %e, "UDP echo dropped"),
    }
}

/// The first signal reached this worker: stop listening and taking
/// commands; the loop ends when the last connection closes (then
/// `on_drained` runs, at once if there is none).
pub(crate) fn begin_shutdown(lp: &mut Loop<Worker>, w: &mut Worker) {
    if w.draining {
        return;
    }
    w.draining = true;
    if let Some(l) = w.listener.take() {
        if let Err(e) = l.close(lp, |_, _| {}) {
            tracing::warn!(error = %e, "closing the listener failed");
        }
    }
    if let Some(u) = w.udp.take() {
        if let Err(e) = u.close(lp, |_, _| {}) {
            tracing::warn!(error = %e, "closing the UDP socket failed");
        }
    }
    if let Some(a) = w.ctl.take() {
        let _ = lp.close(a, None);
    }
    tracing::debug!(open = w.conns.len(), "worker draining");
    if w.conns.len() == 0 {
        if let Some(f) = w.on_drained {
            f(lp, w);
        }
    }
}

/// What a worker thread needs to start.
struct WorkerSpec {
    addr: SocketAddr,
    reuse_port: bool,
    udp: bool,
    max_conns: usize,
    idle_ms: u64,
    publish_ms: Option<u64>,
    link: Arc<Link>,
    open_total: Arc<AtomicUsize>,
    /// The control loop's "a worker finished" handle.
    done: AsyncSender,
}

/// Sets the worker's `done` flag and wakes the control loop when the
/// worker thread ends, panicking or not.
struct DoneGuard {
    link: Arc<Link>,
    done: AsyncSender,
}

impl Drop for DoneGuard {
    fn drop(&mut self) {
        self.link.done.store(true, SeqCst);
        let _ = self.done.send();
    }
}

type Ready = mpsc::Sender<Result<(SocketAddr, AsyncSender)>>;

/// A worker thread: listen, tell the control loop (address and command
/// sender, or the error), serve until drained.
fn worker_main(spec: WorkerSpec, ready: Ready) -> Result<()> {
    let _guard = DoneGuard {
        link: Arc::clone(&spec.link),
        done: spec.done.clone(),
    };
    let mut lp: Loop<Worker> = match Loop::new() {
        Ok(lp) => lp,
        Err(e) => {
            let err = Error::core("create the loop", &e);
            let _ = ready.send(Err(err.clone()));
            return Err(err);
        }
    };
    let opts = ListenOptions {
        reuse_port: spec.reuse_port,
        ..ListenOptions::default()
    };
    let setup = (|| -> Result<(Listener, SocketAddr, AsyncId, AsyncSender, Option<Udp>)> {
        // Port 0: the kernel picks a free TCP port, which another program
        // may hold for UDP; then pick again (a few times) rather than fail.
        let mut tries = 0;
        let (l, addr, udp) = loop {
            let l = Listener::listen(&mut lp, spec.addr, &opts, on_connection)
                .map_err(|e| Error::net(&e, &spec.addr))?;
            let addr = l
                .local_addr(&lp)
                .map_err(|e| Error::net(&e, &spec.addr))?
                .as_inet()
                .unwrap_or(spec.addr);
            if !spec.udp {
                break (l, addr, None);
            }
            let u = Udp::new(&mut lp);
            // Several workers share the port: SO_REUSEPORT spreads the
            // datagrams by their sender (as the connections).
            let flags = BindFlags {
                reuse_addr: spec.reuse_port,
                ipv6_only: false,
            };
            match u
                .bind(&mut lp, addr, flags)
                .and_then(|()| u.recv_start(&mut lp, on_datagram))
            {
                Ok(()) => break (l, addr, Some(u)),
                Err(e) if e.code() == "EADDRINUSE" && spec.addr.port() == 0 && tries < 8 => {
                    tracing::debug!(%addr, "UDP port taken: picking another port");
                    tries += 1;
                    let _ = u.close(&mut lp, |_, _| {});
                    let _ = l.close(&mut lp, |_, _| {});
                }
                Err(e) => return Err(Error::net(&e, &addr)),
            }
        };
        let ctl = lp
            .async_init(|lp, w: &mut Worker| {
                if w.link.shutdown.load(SeqCst) {
                    begin_shutdown(lp, w);
                }
            })
            .map_err(|e| Error::core("create the control handle", &e))?;
        let sender = lp
            .async_sender(ctl)
            .map_err(|e| Error::core("create the control handle", &e))?;
        Ok((l, addr, ctl, sender, udp))
    })();
    let (listener, addr, ctl, sender, udp) = match setup {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e.clone()));
            return Err(e);
        }
    };
    start_timers(&mut lp, spec.idle_ms, spec.publish_ms, |lp, w| {
        publish(lp, w)
    });
    let mut w = Worker::new(spec.max_conns, spec.idle_ms, spec.open_total);
    w.listener = Some(listener);
    w.ctl = Some(ctl);
    w.link = Arc::clone(&spec.link);
    w.udp = udp;
    // The shutdown may have been requested before this worker listened.
    if w.link.shutdown.load(SeqCst) {
        begin_shutdown(&mut lp, &mut w);
    }
    if ready.send(Ok((addr, sender))).is_err() {
        return Ok(()); // the main thread gave up on startup
    }
    let r = lp.run(RunMode::Default, &mut w);
    publish(&lp, &w);
    r.map(|_| ()).map_err(|e| Error::core("worker loop", &e))
}

/// The control loop's state.
struct Control {
    links: Vec<Arc<Link>>,
    senders: Vec<AsyncSender>,
    draining: bool,
    exit: Option<Exit>,
    shutdown_timeout: Option<Duration>,
    /// Previous stats sample: (time, idle ns summed over workers).
    sample: (Instant, u64),
}

impl Control {
    fn sum(&self, f: impl Fn(&Link) -> &AtomicU64) -> u64 {
        self.links.iter().map(|l| f(l).load(Relaxed)).sum()
    }
}

/// One line on stderr in one `write` (`eprintln!` writes piece by piece);
/// the cluster's primary writes its lines with it too.
pub(crate) fn say(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{args}\n").as_bytes());
}

/// `1 connection`, `2 connections`: the shutdown lines count in words.
pub(crate) fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Watches SIGINT (Ctrl-C) and SIGTERM (`kill`) with `cb`: both start the
/// graceful shutdown. Called before anything listens, so that a SIGINT
/// right after the listening line is caught. The two handles, for a
/// caller that unrefs them.
pub(crate) fn watch_shutdown_signals<D: 'static>(
    lp: &mut Loop<D>,
    cb: impl FnMut(&mut Loop<D>, &mut D, i32) + Clone + 'static,
) -> Result<[SignalId; 2]> {
    let mut watch = |sig| {
        let h = lp
            .signal_init()
            .map_err(|e| Error::core("watch signals", &e))?;
        lp.signal_start(h, sig, cb.clone())
            .map_err(|e| Error::core("watch signals", &e))?;
        Ok(h)
    };
    Ok([watch(libc::SIGINT)?, watch(libc::SIGTERM)?])
}

fn on_signal(lp: &mut Loop<Control>, c: &mut Control, signum: i32) {
    let name = if signum == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    if c.draining {
        let open = c.sum(|l| &l.open);
        say(format_args!(
            "error: second {name}: stopping at once with {} open",
            plural(open, "connection")
        ));
        c.exit = Some(Exit::Forced(signum));
        lp.stop();
        return;
    }
    c.draining = true;
    for l in &c.links {
        l.shutdown.store(true, SeqCst);
    }
    for s in &c.senders {
        let _ = s.send();
    }
    let open = c.sum(|l| &l.open);
    say(format_args!(
        "{name}: listener closed, waiting for {} to finish (again to stop at once)",
        plural(open, "open connection")
    ));
    if let Some(t) = c.shutdown_timeout {
        let ms = t.as_millis().min(u64::MAX as u128) as u64;
        let secs = t.as_secs_f64();
        lp.add_timer(ms, 0, move |lp, c| {
            let open = c.sum(|l| &l.open);
            say(format_args!(
                "error: shutdown timeout ({secs} s) ran out with {} open",
                plural(open, "connection")
            ));
            c.exit = Some(Exit::Timeout);
            lp.stop();
        });
    }
}

fn on_worker_done(lp: &mut Loop<Control>, c: &mut Control) {
    if !c.links.iter().all(|l| l.done.load(SeqCst)) {
        if !c.draining && c.links.iter().any(|l| l.done.load(SeqCst)) {
            c.exit = Some(Exit::WorkerFailed);
            lp.stop();
        }
        return;
    }
    c.exit = Some(if c.draining {
        Exit::Clean
    } else {
        Exit::WorkerFailed
    });
    lp.stop();
}

fn print_stats(c: &mut Control) {
    let now = Instant::now();
    let idle = c.sum(|l| &l.idle_ns);
    let (t0, idle0) = c.sample;
    let wall = now.duration_since(t0).as_nanos() as f64 * c.links.len() as f64;
    let pct = if wall > 0.0 {
        (idle.saturating_sub(idle0) as f64 / wall * 100.0).min(100.0)
    } else {
        100.0
    };
    c.sample = (now, idle);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "stats: conns={} accepted={} bytes_in={} bytes_out={} loop_idle={pct:.1}%",
        c.sum(|l| &l.open),
        c.sum(|l| &l.accepted),
        c.sum(|l| &l.bytes_in),
        c.sum(|l| &l.bytes_out),
    );
    let _ = out.flush();
}

/// Runs the server until a shutdown ends: workers listen (`on_listening`
/// is called once all do, with the address), serve, drain. Errors before
/// listening (`listen 0.0.0.0:8080: address already in use`) are returned;
/// how the run ended is in the [`Summary`].
pub fn serve(cfg: &ServeConfig, on_listening: impl FnOnce(SocketAddr)) -> Result<Summary> {
    let workers = cfg.workers.max(1);
    let mut lp: Loop<Control> = Loop::new().map_err(|e| Error::core("create the loop", &e))?;
    // Signals first: a SIGINT right after the listening line is caught.
    watch_shutdown_signals(&mut lp, on_signal)?;
    let done = lp
        .async_init(on_worker_done)
        .map_err(|e| Error::core("create the worker handle", &e))?;
    let done = lp
        .async_sender(done)
        .map_err(|e| Error::core("create the worker handle", &e))?;

    let open_total = Arc::new(AtomicUsize::new(0));
    let publish_ms = cfg
        .stats_every
        .map(|d| (d.as_millis() as u64 / 4).clamp(50, 1000));
    let mut addr = cfg.addr;
    let mut links = Vec::new();
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for i in 0..workers {
        let link = Arc::new(Link::default());
        let spec = WorkerSpec {
            addr,
            reuse_port: workers > 1,
            udp: cfg.udp,
            max_conns: cfg.max_connections.unwrap_or(usize::MAX),
            idle_ms: cfg
                .idle_timeout
                .map_or(0, |d| (d.as_millis() as u64).max(1)),
            publish_ms,
            link: Arc::clone(&link),
            open_total: Arc::clone(&open_total),
            done: done.clone(),
        };
        let (tx, rx) = mpsc::channel();
        let t = std::thread::Builder::new()
            .name(format!("echo-worker-{i}"))
            .spawn(move || worker_main(spec, tx))
            .map_err(|e| Error::io("spawn", &"worker thread", &e))?;
        match rx.recv() {
            Ok(Ok((bound, sender))) => {
                // Port 0: the other workers share the port the first got.
                addr = bound;
                senders.push(sender);
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::new(format!("worker {i} failed to start"))),
        }
        links.push(link);
        threads.push(t);
    }
    let started = Instant::now();
    on_listening(addr);

    if let Some(every) = cfg.stats_every {
        let ms = (every.as_millis() as u64).max(1);
        let t = lp.add_timer(ms, ms, |_, c| print_stats(c));
        let _ = lp.unref(t);
    }
    let mut c = Control {
        links,
        senders,
        draining: false,
        exit: None,
        shutdown_timeout: cfg.shutdown_timeout,
        sample: (Instant::now(), 0),
    };
    lp.run(RunMode::Default, &mut c)
        .map_err(|e| Error::core("control loop", &e))?;
    let exit = c.exit.unwrap_or(Exit::WorkerFailed);
    if exit == Exit::Clean || exit == Exit::WorkerFailed {
        for (i, t) in threads.into_iter().enumerate() {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(Error::new(format!("worker {i} panicked"))),
            }
        }
    }
    if exit == Exit::WorkerFailed {
        return Err(Error::new("a worker stopped unexpectedly"));
    }
    Ok(Summary {
        exit,
        accepted: c.sum(|l| &l.accepted),
        refused: c.sum(|l| &l.refused),
        idle_closed: c.sum(|l| &l.idle_closed),
        open: c.sum(|l| &l.open),
        bytes_in: c.sum(|l| &l.bytes_in),
        bytes_out: c.sum(|l| &l.bytes_out),
        uptime: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Exit::Clean.code(), 0);
        assert_eq!(Exit::Forced(libc::SIGINT).code(), 130);
        assert_eq!(Exit::Forced(libc::SIGTERM).code(), 143);
        assert_eq!(Exit::Timeout.code(), 1);
        assert_eq!(Exit::WorkerFailed.code(), 1);
    }

    #[test]
    fn summary_is_one_line() {
        let s = Summary {
            exit: Exit::Clean,
            accepted: 3,
            refused: 1,
            idle_closed: 0,
            open: 0,
            bytes_in: 10,
            bytes_out: 10,
            uptime: Duration::from_millis(1500),
        };
        assert_eq!(
            s.to_string(),
            "shutdown complete: connections=3 refused=1 idle_closed=0 open=0 bytes_in=10 bytes_out=10 uptime=1.5s"
        );
    }

    #[test]
    fn backpressure_bounds() {
        // Resuming must be possible below the stop mark.
        const { assert!(LOW_WATER < HIGH_WATER) };
    }
}
