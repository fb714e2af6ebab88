//! A cluster worker process (`echo-app serve --cluster-worker ID`, started
//! by the primary): one loop that serves the connections of the listening
//! socket its primary sends, exactly as a `--workers` thread does.
//!
//! # Invariants
//!
//! - The worker accepts only on the socket that came with `listen`; it
//!   binds nothing itself.
//! - `ready` is sent once it accepts; `done` once it is draining and its
//!   last connection has closed (at once if it had none).
//! - The channel's close ends the worker: the listener and every
//!   connection are closed at once, and the loop, holding nothing else,
//!   returns. So a worker never outlives its primary.

use super::{Counts, Msg, COUNTS_EVERY_MS};
use crate::error::{Error, Result};
use crate::server::{self, Worker};
use loop_core::{Loop, RunMode};
use loop_net::{Listener, Udp};
use loop_process::{Channel, HandleType};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

/// What a worker process is told on its command line.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The worker's number (0 to N-1), for the logs.
    pub id: usize,
    /// Most connections this process holds open (per worker).
    pub max_connections: Option<usize>,
    /// Close a connection without progress for this long.
    pub idle_timeout: Option<Duration>,
    /// The primary prints statistics this often: report counts four times
    /// as often (at most every [`COUNTS_EVERY_MS`]).
    pub stats_every: Option<Duration>,
}

fn counts(lp: &Loop<Worker>, w: &Worker) -> Counts {
    Counts {
        open: w.conns.len() as u64,
        accepted: w.t.accepted,
        refused: w.t.refused,
        idle_closed: w.t.idle_closed,
        bytes_in: w.t.bytes_in,
        bytes_out: w.t.bytes_out,
        idle_ns: lp.metrics().idle_time.as_nanos().min(u64::MAX as u128) as u64,
    }
}

fn send(lp: &mut Loop<Worker>, w: &Worker, m: Msg) {
    if let Some(ch) = w.channel {
        if let Err(e) = ch.send(lp, m.to_json()) {
            tracing::debug!(error = %e, "cluster: send to the primary");
        }
    }
}

fn report(lp: &mut Loop<Worker>, w: &mut Worker) {
    let c = counts(lp, w);
    send(lp, w, Msg::Counts(c));
}

fn drained(lp: &mut Loop<Worker>, w: &mut Worker) {
    let c = counts(lp, w);
    tracing::debug!(?c, "cluster worker drained");
    send(lp, w, Msg::Done(c));
}

/// The primary sent the UDP echo socket.
fn on_udp(lp: &mut Loop<Worker>, w: &mut Worker, fd: std::os::fd::OwnedFd) {
    if w.udp.is_some() || w.draining {
        tracing::warn!("cluster: an unexpected UDP socket, closed");
        return;
    }
    let u = Udp::new(lp);
    match u
        .open(lp, std::net::UdpSocket::from(fd))
        .and_then(|()| u.recv_start(lp, server::on_datagram))
    {
        Ok(()) => w.udp = Some(u),
        Err(e) => {
            // The primary asked for UDP echo: a worker without it is
            // broken, as one without its listener.
            tracing::error!(error = %e, "cluster: the received UDP socket");
            let _ = u.close(lp, |_, _| {});
            if let Some(ch) = w.channel {
                let _ = ch.disconnect(lp);
            }
        }
    }
}

/// The primary sent the listening socket.
fn on_handle(lp: &mut Loop<Worker>, w: &mut Worker, ty: HandleType, fd: std::os::fd::OwnedFd) {
    if ty != HandleType::TcpListener || w.listener.is_some() || w.draining {
        tracing::warn!(?ty, "cluster: an unexpected handle, closed");
        return;
    }
    match Listener::open(lp, fd, server::on_connection) {
        Ok(l) => {
            w.listener = Some(l);
            let pid = std::process::id();
            send(lp, w, Msg::Ready { pid });
        }
        Err(e) => {
            // Without its listener the worker is useless: end it (the
            // disconnect ends the loop), the primary sees the exit.
            tracing::error!(error = %e, "cluster: the received listener");
            if let Some(ch) = w.channel {
                let _ = ch.disconnect(lp);
            }
        }
    }
}

/// The primary is gone (or said goodbye): close everything now.
fn on_disconnect(lp: &mut Loop<Worker>, w: &mut Worker) {
    w.channel = None;
    w.on_drained = None;
    server::begin_shutdown(lp, w);
    server::close_all(lp, w);
}

/// Runs a worker process until its channel closes. Errors: no channel
/// (not started by a primary), a loop that cannot be made.
pub fn run(cfg: &WorkerConfig) -> Result<()> {
    let mut lp: Loop<Worker> = Loop::new().map_err(|e| Error::core("create the loop", &e))?;
    let ch = Channel::from_env(&mut lp)
        .map_err(|e| Error::new(format!("cluster worker: {e}")))?
        .ok_or_else(|| {
            Error::new(format!(
                "{}: no IPC channel (NODE_CHANNEL_FD): started by hand?",
                super::WORKER_FLAG
            ))
        })?;
    let idle_ms = cfg
        .idle_timeout
        .map_or(0, |d| (d.as_millis() as u64).max(1));
    let max = cfg.max_connections.unwrap_or(usize::MAX);
    let mut w = Worker::new(max, idle_ms, Arc::new(AtomicUsize::new(0)));
    w.channel = Some(ch);
    w.on_drained = Some(drained);
    ch.on_handle(
        &mut lp,
        |lp, w: &mut Worker, _, m, ty, fd| match Msg::from_json(&m) {
            Some(Msg::Listen) => on_handle(lp, w, ty, fd),
            Some(Msg::ListenUdp) if ty == HandleType::Udp => on_udp(lp, w, fd),
            _ => tracing::warn!(%m, ?ty, "cluster: a handle with an unknown message, closed"),
        },
    );
    ch.on_message(&mut lp, |lp, w: &mut Worker, _, m, _| {
        match Msg::from_json(&m) {
            Some(Msg::Stop) => {
                // The counts first: the primary's shutdown line says how
                // many connections are still open.
                report(lp, w);
                server::begin_shutdown(lp, w)
            }
            _ => tracing::warn!(%m, "cluster: an unknown message"),
        }
    });
    ch.on_disconnect(&mut lp, |lp, w: &mut Worker, _| on_disconnect(lp, w));
    // Ctrl-C signals the whole process group: drain, as the primary asks.
    // Unref'd: the worker lives as long as its channel and connections.
    for h in server::watch_shutdown_signals(&mut lp, |lp, w, _| server::begin_shutdown(lp, w))? {
        let _ = lp.unref(h);
    }
    let every = cfg.stats_every.map_or(COUNTS_EVERY_MS, |d| {
        (d.as_millis() as u64 / 4).clamp(50, COUNTS_EVERY_MS)
    });
    server::start_timers(&mut lp, idle_ms, Some(every), report);
    // Every line this process logs names it (the primary's stderr is
    // shared): `worker{id=0 pid=123}: …`. At error level so that the
    // default `warn` filter keeps it.
    let _span = tracing::error_span!("worker", id = cfg.id, pid = std::process::id()).entered();
    tracing::debug!("cluster worker up");
    lp.run(RunMode::Default, &mut w)
        .map_err(|e| Error::core("worker loop", &e))?;
    Ok(())
}
