//! `echo-app --processes N`: the echo server as a cluster of processes,
//! Node.js's cluster in its "shared handle" mode.
//!
//! ```text
//! primary (the process started)            worker processes (N, itself again)
//!   binds the UDP socket ───NODE_HANDLE──►  echo datagrams on that socket
//!   binds the TCP listener ──NODE_HANDLE──►  accept on that same socket
//!                                            echo, backpressure, idle sweep
//!   SIGINT/SIGTERM, --shutdown-timeout       as a `--workers` thread does
//!   restarts a dead worker (back-off)
//!        ◄── ready / counts / done ────────
//!        ─── stop ─────────────────────────►
//! ```
//!
//! # Ground rules
//!
//! - **One listening socket.** The primary binds it and sends a copy of
//!   the fd to each worker over a Node.js IPC channel
//!   ([`loop_process::Channel`], `NODE_HANDLE` then `NODE_HANDLE_ACK`);
//!   every worker accepts on it and the kernel gives each connection to
//!   the one that accepts first. The primary never accepts.
//! - **One UDP socket too.** Unless `--no-udp`, the primary binds the UDP
//!   echo socket on the same port and sends each worker a copy of it
//!   before the listener (`listen-udp`, Node's `dgram.Socket` handle); the
//!   kernel gives each datagram to one of the workers reading it. (Not
//!   `SO_REUSEPORT` sockets per worker: they would let another program
//!   of the same user bind the port too.) The primary never reads it.
//! - **Messages** are JSON objects with a `cmd` ([`Msg`]), one line each
//!   on the channel: `listen-udp` and `listen` (each with its handle) and
//!   `stop` from the primary; `ready`, `counts` (every [`COUNTS_EVERY_MS`], or the
//!   `--stats` pace) and `done` (drained, with the last counts) from a
//!   worker. The primary answers `done` by disconnecting.
//! - **No worker outlives its channel.** A worker whose channel closes
//!   (the primary exited, was killed, or answered `done`) closes its
//!   listener and every connection at once and exits 0, as Node's cluster
//!   worker exits on `'disconnect'`. SIGINT and SIGTERM reaching a worker
//!   (Ctrl-C signals the whole process group) only make it drain, which
//!   the primary asks anyway.
//! - **No zombie.** Every worker is a [`loop_process::spawn`]ed child of
//!   the primary's loop, reaped by its exit callback; the primary returns
//!   only once every worker has been reaped.

pub mod primary;
pub mod worker;

use serde_json::{json, Value};

/// The hidden option that makes `echo-app serve` a cluster worker, with
/// the worker's number.
pub const WORKER_FLAG: &str = "--cluster-worker";

/// The fd of a worker's IPC channel (Node puts its `'ipc'` entry where it
/// is given; 3 is the first after stdio).
pub const CHANNEL_FD: usize = 3;

/// How often a worker reports its counts when `--stats` does not ask
/// for more often.
pub const COUNTS_EVERY_MS: u64 = 250;

/// A worker's counters, as it reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Connections open now.
    pub open: u64,
    /// Connections accepted.
    pub accepted: u64,
    /// Connections refused by `--max-connections`.
    pub refused: u64,
    /// Connections closed by the idle timeout.
    pub idle_closed: u64,
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes echoed.
    pub bytes_out: u64,
    /// Time the worker's loop spent blocked in `epoll_wait`, in ns.
    pub idle_ns: u64,
}

impl Counts {
    fn to_json(self) -> Value {
        json!({
            "open": self.open,
            "accepted": self.accepted,
            "refused": self.refused,
            "idle_closed": self.idle_closed,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "idle_ns": self.idle_ns,
        })
    }

    fn from_json(v: &Value) -> Counts {
        let f = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        Counts {
            open: f("open"),
            accepted: f("accepted"),
            refused: f("refused"),
            idle_closed: f("idle_closed"),
            bytes_in: f("bytes_in"),
            bytes_out: f("bytes_out"),
            idle_ns: f("idle_ns"),
        }
    }

    /// Adds `o` (all but `open`, which only a running worker has).
    fn add_finished(&mut self, o: &Counts) {
        self.accepted += o.accepted;
        self.refused += o.refused;
        self.idle_closed += o.idle_closed;
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
    }
}

/// A message on a cluster channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Primary → worker, with the UDP echo socket: echo on it. Sent before
    /// [`Msg::Listen`], so a worker that says `ready` echoes UDP too.
    ListenUdp,
    /// Primary → worker, with the listening socket: accept on it.
    Listen,
    /// Primary → worker: stop accepting, drain, then say `Done`.
    Stop,
    /// Worker → primary: accepting, in process `pid`.
    Ready {
        /// The worker's pid.
        pid: u32,
    },
    /// Worker → primary: its counters now.
    Counts(Counts),
    /// Worker → primary: drained; its last counters.
    Done(Counts),
}

impl Msg {
    /// The JSON object sent.
    pub fn to_json(&self) -> Value {
        match self {
            Msg::ListenUdp => json!({"cmd": "listen-udp"}),
            Msg::Listen => json!({"cmd": "listen"}),
            Msg::Stop => json!({"cmd": "stop"}),
            Msg::Ready { pid } => json!({"cmd": "ready", "pid": pid}),
            Msg::Counts(c) => json!({"cmd": "counts", "counts": c.to_json()}),
            Msg::Done(c) => json!({"cmd": "done", "counts": c.to_json()}),
        }
    }

    /// The message a JSON value is, if any.
    pub fn from_json(v: &Value) -> Option<Msg> {
        let counts = || Counts::from_json(v.get("counts").unwrap_or(&Value::Null));
        Some(match v.get("cmd")?.as_str()? {
            "listen-udp" => Msg::ListenUdp,
            "listen" => Msg::Listen,
            "stop" => Msg::Stop,
            "ready" => Msg::Ready {
                pid: v.get("pid")?.as_u64()?.try_into().ok()?,
            },
            "counts" => Msg::Counts(counts()),
            "done" => Msg::Done(counts()),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json_lines() {
        let c = Counts {
            open: 1,
            accepted: 2,
            refused: 3,
            idle_closed: 4,
            bytes_in: 5,
            bytes_out: 6,
            idle_ns: 7,
        };
        for m in [
            Msg::ListenUdp,
            Msg::Listen,
            Msg::Stop,
            Msg::Ready { pid: 42 },
            Msg::Counts(c),
            Msg::Done(c),
        ] {
            let line = serde_json::to_string(&m.to_json()).unwrap();
            let back: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(Msg::from_json(&back), Some(m), "{line}");
        }
        assert_eq!(Msg::from_json(&json!({"cmd": "other"})), None);
        assert_eq!(Msg::from_json(&json!("listen")), None);
    }
}
