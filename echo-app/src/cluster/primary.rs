//! The cluster's primary: binds the port, starts the worker processes,
//! hands each the listening socket, restarts the ones that die, and runs
//! the shutdown.
//!
//! # Invariants
//!
//! - The listening line is printed once every worker has said `ready`
//!   (the run returns to [`serve`] for it, then goes on).
//! - A worker that exits before the listening line fails the start (the
//!   others are killed and reaped, the error returned); after it, a worker
//!   that exits is started again after a back-off that doubles with each
//!   quick death ([`restart_delay`]); during the shutdown it is not.
//! - The first SIGINT/SIGTERM closes the primary's copy of the listening
//!   socket and its UDP socket and sends `stop` to every worker: once each
//!   has closed its copy, new connects are refused. Each worker drains and
//!   says `done`; the primary disconnects it, it exits, it is reaped; when
//!   none is left the primary returns [`Exit::Clean`].
//! - A second signal or `--shutdown-timeout` kills (SIGKILL) the workers
//!   left; the primary still waits for their exits (no zombie), which
//!   SIGKILL makes immediate.

use super::{Counts, Msg, CHANNEL_FD};
use crate::error::{Error, Result};
use crate::server::{plural, say, watch_shutdown_signals, Exit, ServeConfig, Summary};
use loop_core::{Loop, RunMode, TimerId};
use loop_process::{spawn, Channel, Process, SendHandle, SpawnOptions, Stdio};
use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A worker that lived at least this long before dying is restarted
/// after the shortest delay.
pub const STABLE_MS: u64 = 5_000;

/// The delay before a dead worker's restart: 100 ms after its first
/// quick death, doubling with each further one, at most 5 s.
pub fn restart_delay(quick_deaths: u32) -> u64 {
    (100u64 << quick_deaths.min(6)).min(5_000)
}

/// How the cluster runs.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The server's options (`workers` is ignored: one loop per process).
    pub serve: ServeConfig,
    /// Worker processes, at least 1.
    pub processes: usize,
    /// The program the workers run: this one.
    pub exe: PathBuf,
    /// Options given to every worker after `serve` (the worker flag and
    /// its number are added).
    pub worker_args: Vec<OsString>,
}

/// One worker's line of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Its number.
    pub id: usize,
    /// The pid of its last process.
    pub pid: u32,
    /// How often it was started again.
    pub restarts: u32,
    /// Its counts over all its processes (`open`: the last one's).
    pub counts: Counts,
}

impl std::fmt::Display for WorkerSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "worker {}: pid={} restarts={} connections={} refused={} idle_closed={} bytes_in={} bytes_out={}",
            self.id, self.pid, self.restarts, c.accepted, c.refused, c.idle_closed, c.bytes_in, c.bytes_out
        )
    }
}

/// A worker slot: the process now in it, and what the ones before did.
#[derive(Default)]
struct Slot {
    /// Bumped at each start: callbacks of an older process are ignored.
    gen: u32,
    process: Option<Process>,
    pid: u32,
    channel: Option<Channel>,
    ready: bool,
    /// Said `done` (drained).
    done: bool,
    /// Loop time of the last `ready`.
    ready_at: u64,
    quick_deaths: u32,
    restarts: u32,
    restart_timer: Option<TimerId>,
    /// The running process's last report.
    live: Counts,
    /// Summed over the processes that ended.
    past: Counts,
    /// idle_ns of the previous stats sample.
    idle_prev: u64,
    /// Sent `stop`, and no report since.
    stop_unanswered: bool,
}

impl Slot {
    fn total(&self) -> Counts {
        let mut c = self.live;
        c.add_finished(&self.past);
        c
    }
}

/// The primary's loop state.
struct Primary {
    slots: Vec<Slot>,
    /// Our copy of the listening socket (closed at the first signal).
    listener: Option<OwnedFd>,
    /// Our copy of the UDP echo socket (never read here; closed at the
    /// first signal), unless `--no-udp`.
    udp: Option<OwnedFd>,
    exe: PathBuf,
    args: Vec<OsString>,
    listening: bool,
    draining: bool,
    exit: Option<Exit>,
    /// Why the start failed.
    error: Option<Error>,
    shutdown_timeout: Option<Duration>,
    /// Previous stats sample time.
    sample_at: Instant,
    /// Connections open when the shutdown was forced.
    forced_open: Option<u64>,
    /// The signal whose shutdown line waits for the workers' reports.
    announce: Option<&'static str>,
}

impl Primary {
    fn open(&self) -> u64 {
        self.slots.iter().map(|s| s.live.open).sum()
    }

    fn running(&self) -> usize {
        self.slots.iter().filter(|s| s.process.is_some()).count()
    }
}

/// Binds the listening socket (backlog 511, `SO_REUSEADDR`, close-on-exec,
/// non-blocking), as loop-net's `Listener::listen` does.
fn bind_listener(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(false)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(511)?;
    Ok(s)
}

/// Binds TCP, and UDP on the same port unless `udp` is false; with port
/// 0, picks again (a few times) when the TCP port the kernel chose is
/// taken for UDP.
fn bind(addr: SocketAddr, udp: bool) -> Result<(OwnedFd, SocketAddr, Option<OwnedFd>)> {
    let mut tries = 0;
    loop {
        let s = bind_listener(addr).map_err(|e| Error::io("listen", &addr, &e))?;
        let bound = s
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(addr);
        if !udp {
            return Ok((s.into(), bound, None));
        }
        // Bound with no option, as loop-net's `Udp::bind` with default
        // flags (std sockets are close-on-exec); the workers make their
        // copies non-blocking when they open them.
        match std::net::UdpSocket::bind(bound) {
            Ok(u) => return Ok((s.into(), bound, Some(u.into()))),
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse && addr.port() == 0 && tries < 8 =>
            {
                tries += 1;
            }
            Err(e) => return Err(Error::io("bind UDP", &bound, &e)),
        }
    }
}

/// Starts the process of slot `i` and sends it the listening socket.
/// `Err` only when no process was started (the spawn failed).
fn start_worker(lp: &mut Loop<Primary>, p: &mut Primary, i: usize) -> Result<()> {
    let Some(listener) = p.listener.as_ref() else {
        return Ok(()); // shutting down: nothing to start
    };
    let copy = listener
        .try_clone()
        .map_err(|e| Error::io("dup", &"the listening socket", &e))?;
    let udp = match &p.udp {
        Some(u) => Some(
            u.try_clone()
                .map_err(|e| Error::io("dup", &"the UDP socket", &e))?,
        ),
        None => None,
    };
    let slot = &mut p.slots[i];
    slot.gen += 1;
    let gen = slot.gen;
    let opts = SpawnOptions::new(&p.exe)
        .arg("serve")
        .args(&p.args)
        .arg(super::WORKER_FLAG)
        .arg(i.to_string())
        .stdio(0, Stdio::Ignore)
        .stdio(1, Stdio::Ignore)
        .stdio(2, Stdio::Inherit)
        .node_ipc(CHANNEL_FD);
    let exe = p.exe.display().to_string();
    let mut child = spawn(lp, opts, move |lp, p: &mut Primary, proc, status, sig| {
        on_exit(lp, p, i, gen, proc, status, sig)
    })
    .map_err(|e| Error::new(format!("start worker {i} ({exe}): {e}")))?;
    // From here the slot has a process: a failure is said and kills it;
    // its exit callback reaps it (and starts it again, or fails the
    // start), so this returns Ok.
    let s = &mut p.slots[i];
    s.process = Some(child.process);
    s.pid = child.process.pid();
    s.ready = false;
    s.done = false;
    s.live = Counts::default();
    let process = child.process;
    let fail = |lp: &mut Loop<Primary>, e: Error| {
        say(format_args!("error: {e}"));
        let _ = process.kill(lp, libc::SIGKILL);
        Ok(())
    };
    let ch = match child.take_channel(lp, CHANNEL_FD) {
        Some(Ok(ch)) => ch,
        Some(Err(e)) => return fail(lp, Error::new(format!("worker {i}: IPC channel: {e}"))),
        None => return fail(lp, Error::new(format!("worker {i}: no IPC channel"))),
    };
    ch.on_message(lp, move |lp, p: &mut Primary, ch, m, _| {
        on_message(lp, p, i, gen, ch, m)
    });
    ch.on_disconnect(lp, move |_, p: &mut Primary, _| {
        let s = &mut p.slots[i];
        if s.gen == gen {
            s.channel = None;
        }
    });
    p.slots[i].channel = Some(ch);
    // The UDP socket first: a worker is ready once it has the listener,
    // and the channel keeps the order.
    if let Some(u) = udp {
        if let Err(e) = ch.send_handle(lp, Msg::ListenUdp.to_json(), SendHandle::Dgram(u)) {
            return fail(
                lp,
                Error::new(format!("worker {i}: send the UDP socket: {e}")),
            );
        }
    }
    if let Err(e) = ch.send_handle(lp, Msg::Listen.to_json(), SendHandle::Server(copy)) {
        return fail(
            lp,
            Error::new(format!("worker {i}: send the listener: {e}")),
        );
    }
    tracing::debug!(worker = i, pid = p.slots[i].pid, "cluster worker started");
    Ok(())
}

fn on_message(
    lp: &mut Loop<Primary>,
    p: &mut Primary,
    i: usize,
    gen: u32,
    ch: Channel,
    m: serde_json::Value,
) {
    if p.slots[i].gen != gen {
        return;
    }
    match Msg::from_json(&m) {
        Some(Msg::Ready { pid }) => {
            let now = lp.now();
            let s = &mut p.slots[i];
            s.ready = true;
            s.ready_at = now;
            tracing::debug!(worker = i, pid, "cluster worker ready");
            if !p.listening && p.slots.iter().all(|s| s.ready) {
                p.listening = true;
                // Back to `serve` for the listening line, then on.
                lp.stop();
            }
        }
        Some(Msg::Counts(c)) => {
            p.slots[i].live = c;
            p.slots[i].stop_unanswered = false;
            announce(p, false);
        }
        Some(Msg::Done(c)) => {
            let s = &mut p.slots[i];
            s.live = c;
            s.done = true;
            s.stop_unanswered = false;
            announce(p, false);
            // Goodbye: the worker exits when its channel closes.
            let _ = ch.disconnect(lp);
        }
        _ => tracing::warn!(worker = i, %m, "cluster: an unknown message"),
    }
}

#[allow(clippy::too_many_arguments)]
fn on_exit(
    lp: &mut Loop<Primary>,
    p: &mut Primary,
    i: usize,
    gen: u32,
    proc: Process,
    status: i64,
    sig: i32,
) {
    let _ = proc.close(lp, None);
    let now = lp.now();
    let s = &mut p.slots[i];
    if s.gen != gen {
        return;
    }
    s.process = None;
    let mut last = s.live;
    last.open = 0; // its connections ended with it
    s.past.add_finished(&last);
    s.live = Counts::default();
    s.idle_prev = 0;
    s.stop_unanswered = false;
    if let Some(ch) = s.channel.take() {
        let _ = ch.disconnect(lp);
    }
    let how = if sig != 0 {
        format!("killed by signal {sig}")
    } else {
        format!("exit status {status}")
    };
    let pid = s.pid;
    let was_done = s.done;
    if p.draining || p.exit.is_some() || p.error.is_some() {
        if !was_done && p.exit.is_none() && p.error.is_none() {
            say(format_args!(
                "worker {i} (pid {pid}) exited during the shutdown ({how})"
            ));
        }
        announce(p, false);
        finish_if_none_left(lp, p);
        return;
    }
    if !p.listening {
        p.error = Some(Error::new(format!(
            "worker {i} (pid {pid}) exited before it was ready ({how})"
        )));
        kill_all(lp, p);
        finish_if_none_left(lp, p);
        return;
    }
    // Unexpected: start it again, later the more often it just died.
    let s = &mut p.slots[i];
    if s.ready && now.saturating_sub(s.ready_at) >= STABLE_MS {
        s.quick_deaths = 0;
    }
    // A worker that drained and said `done` by itself took a SIGINT or
    // SIGTERM of its own: no alarm (with Ctrl-C, the primary's own SIGINT
    // follows and cancels the restart).
    let why = (!was_done).then(|| format!("worker {i} (pid {pid}) exited ({how})"));
    schedule_restart(lp, p, i, why);
}

/// Starts slot `i` again after its back-off; `why` opens the stderr line
/// (none without it).
fn schedule_restart(lp: &mut Loop<Primary>, p: &mut Primary, i: usize, why: Option<String>) {
    let s = &mut p.slots[i];
    let delay = restart_delay(s.quick_deaths);
    s.quick_deaths = s.quick_deaths.saturating_add(1);
    if let Some(why) = why {
        say(format_args!("{why}: starting it again in {delay} ms"));
    }
    let t = lp.add_timer(delay, 0, move |lp, p: &mut Primary| {
        if let Some(t) = p.slots[i].restart_timer.take() {
            let _ = lp.close(t, None);
        }
        if p.draining || p.exit.is_some() {
            return;
        }
        p.slots[i].restarts += 1;
        if let Err(e) = start_worker(lp, p, i) {
            // Not started (EMFILE, EAGAIN…): try again later rather than
            // give up on the slot. (Started then failed: its exit does.)
            schedule_restart(lp, p, i, Some(format!("error: {e}")));
        }
    });
    p.slots[i].restart_timer = Some(t);
}

/// SIGKILL to every worker still running.
fn kill_all(lp: &mut Loop<Primary>, p: &mut Primary) {
    for s in &mut p.slots {
        if let Some(proc) = s.process {
            let _ = proc.kill(lp, libc::SIGKILL);
        }
        if let Some(t) = s.restart_timer.take() {
            let _ = lp.close(t, None);
        }
    }
}

/// Ends the run once no worker process is left (all reaped).
fn finish_if_none_left(lp: &mut Loop<Primary>, p: &mut Primary) {
    if p.running() == 0 {
        if p.exit.is_none() && p.error.is_none() {
            p.exit = Some(Exit::Clean);
        }
        lp.stop();
    }
}

fn on_signal(lp: &mut Loop<Primary>, p: &mut Primary, signum: i32) {
    let name = if signum == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    if p.draining {
        announce(p, true);
        say(format_args!(
            "error: second {name}: stopping at once with {} open",
            plural(p.open(), "connection")
        ));
        p.exit = Some(Exit::Forced(signum));
        p.forced_open = Some(p.open());
        kill_all(lp, p);
        finish_if_none_left(lp, p);
        return;
    }
    p.draining = true;
    // Our copy first: the socket closes once every worker closed its own.
    p.listener = None;
    p.udp = None;
    for s in &mut p.slots {
        if let Some(t) = s.restart_timer.take() {
            let _ = lp.close(t, None);
        }
    }
    let channels: Vec<(usize, Channel)> = p
        .slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((i, s.channel?)))
        .collect();
    for (i, ch) in channels {
        if ch.send(lp, Msg::Stop.to_json()).is_ok() {
            p.slots[i].stop_unanswered = true;
        }
    }
    // The line once every worker said how many it still has open (each
    // answers `stop` with its counts), or after a second at most.
    p.announce = Some(name);
    announce(p, false);
    let t = lp.add_timer(1000, 0, |_, p: &mut Primary| announce(p, true));
    let _ = lp.unref(t);
    if let Some(t) = p.shutdown_timeout {
        let ms = t.as_millis().min(u64::MAX as u128) as u64;
        let secs = t.as_secs_f64();
        let timer = lp.add_timer(ms, 0, move |lp, p: &mut Primary| {
            if p.exit.is_some() {
                return;
            }
            say(format_args!(
                "error: shutdown timeout ({secs} s) ran out with {} open",
                plural(p.open(), "connection")
            ));
            p.exit = Some(Exit::Timeout);
            p.forced_open = Some(p.open());
            kill_all(lp, p);
            finish_if_none_left(lp, p);
        });
        let _ = lp.unref(timer);
    }
    finish_if_none_left(lp, p);
}

/// Prints the shutdown's first line, once every worker sent `stop`
/// answered (or `now`).
fn announce(p: &mut Primary, now: bool) {
    let Some(name) = p.announce else { return };
    if !now
        && p.slots
            .iter()
            .any(|s| s.stop_unanswered && s.process.is_some())
    {
        return;
    }
    p.announce = None;
    say(format_args!(
        "{name}: listener closed, waiting for {} to finish (again to stop at once)",
        plural(p.open(), "open connection")
    ));
}

fn print_stats(p: &mut Primary) {
    let now = Instant::now();
    let wall = now.duration_since(p.sample_at).as_nanos() as f64;
    p.sample_at = now;
    let mut idle = 0u64;
    let mut n = 0usize;
    for s in &mut p.slots {
        if s.process.is_some() {
            idle += s.live.idle_ns.saturating_sub(s.idle_prev);
            s.idle_prev = s.live.idle_ns;
            n += 1;
        }
    }
    let pct = if wall > 0.0 && n > 0 {
        (idle as f64 / (wall * n as f64) * 100.0).min(100.0)
    } else {
        100.0
    };
    let t = p.slots.iter().fold(Counts::default(), |mut a, s| {
        let c = s.total();
        a.add_finished(&c);
        a.open += c.open;
        a
    });
    let per_worker: Vec<String> = p
        .slots
        .iter()
        .map(|s| s.total().accepted.to_string())
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "stats: conns={} accepted={} bytes_in={} bytes_out={} loop_idle={pct:.1}% workers={n} accepted_per_worker={}",
        t.open,
        t.accepted,
        t.bytes_in,
        t.bytes_out,
        per_worker.join(","),
    );
    let _ = out.flush();
}

/// Runs the cluster until its shutdown ends: binds, starts the workers,
/// calls `on_listening` once all are ready, serves, drains. Errors before
/// listening are returned (the port in use, a worker that could not
/// start); how the run ended is in the [`Summary`], with one
/// [`WorkerSummary`] per worker.
pub fn serve(
    cfg: &ClusterConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(Summary, Vec<WorkerSummary>)> {
    let n = cfg.processes.max(1);
    let mut lp: Loop<Primary> = Loop::new().map_err(|e| Error::core("create the loop", &e))?;
    // Signals first: a SIGINT right after the listening line is caught.
    watch_shutdown_signals(&mut lp, on_signal)?;
    let (listener, addr, udp) = bind(cfg.serve.addr, cfg.serve.udp)?;
    let mut p = Primary {
        slots: (0..n).map(|_| Slot::default()).collect(),
        listener: Some(listener),
        udp,
        exe: cfg.exe.clone(),
        args: cfg.worker_args.clone(),
        listening: false,
        draining: false,
        exit: None,
        error: None,
        shutdown_timeout: cfg.serve.shutdown_timeout,
        sample_at: Instant::now(),
        forced_open: None,
        announce: None,
    };
    for i in 0..n {
        if let Err(e) = start_worker(&mut lp, &mut p, i) {
            p.error = Some(e);
            kill_all(&mut lp, &mut p);
            break;
        }
    }
    let run = |lp: &mut Loop<Primary>, p: &mut Primary| {
        if p.running() == 0 && (p.error.is_some() || p.exit.is_some()) {
            return Ok(());
        }
        lp.run(RunMode::Default, p)
            .map(|_| ())
            .map_err(|e| Error::core("primary loop", &e))
    };
    // Until every worker is ready (or the start failed).
    run(&mut lp, &mut p)?;
    if let Some(e) = p.error.take() {
        // Every worker is reaped by now (the run ended with none left).
        return Err(e);
    }
    let started = Instant::now();
    if p.listening {
        on_listening(addr);
        if let Some(every) = cfg.serve.stats_every {
            let ms = (every.as_millis() as u64).max(1);
            p.sample_at = Instant::now();
            let t = lp.add_timer(ms, ms, |_, p: &mut Primary| print_stats(p));
            let _ = lp.unref(t);
        }
        if p.exit.is_none() || p.running() > 0 {
            run(&mut lp, &mut p)?;
        }
    }
    let exit = p.exit.unwrap_or(Exit::WorkerFailed);
    let workers: Vec<WorkerSummary> = p
        .slots
        .iter()
        .enumerate()
        .map(|(id, s)| WorkerSummary {
            id,
            pid: s.pid,
            restarts: s.restarts,
            counts: s.total(),
        })
        .collect();
    let sum = |f: fn(&Counts) -> u64| workers.iter().map(|w| f(&w.counts)).sum::<u64>();
    Ok((
        Summary {
            exit,
            accepted: sum(|c| c.accepted),
            refused: sum(|c| c.refused),
            idle_closed: sum(|c| c.idle_closed),
            open: p.forced_open.unwrap_or_else(|| sum(|c| c.open)),
            bytes_in: sum(|c| c.bytes_in),
            bytes_out: sum(|c| c.bytes_out),
            uptime: started.elapsed(),
        },
        workers,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_back_off_doubles_up_to_5_s() {
        let d: Vec<u64> = (0..9).map(restart_delay).collect();
        assert_eq!(d, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(restart_delay(u32::MAX), 5000);
    }
}
