//! Instrumentation: phases, metrics and the optional phase trace.
//!
//! Three layers, from cheapest to richest:
//! - [`Metrics`], always on: iterations, events dispatched, time blocked in
//!   poll (libuv's `uv_metrics_info` and `uv_metrics_idle_time`);
//! - `tracing` events at trace level, one per phase entered and one per
//!   callback, with the handle kind and id (free when no subscriber listens);
//! - the phase trace, off by default: a [`TraceEvent`] for every callback the
//!   loop runs, with the iteration, the phase and the handle, for tests that
//!   assert on what ran where ([`crate::Loop::set_trace`]).

use crate::handle::{HandleId, HandleKind};
use std::fmt;
use std::time::Duration;

/// Where the loop is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Outside `run`: the main program, before the loop starts.
    Main,
    /// Due timers (and the Node.js timer lists).
    Timers,
    /// I/O callbacks deferred to the next iteration.
    Pending,
    /// Idle handles.
    Idle,
    /// Prepare handles.
    Prepare,
    /// Waiting for I/O, then its callbacks (and the pending callbacks re-run
    /// right after it).
    Poll,
    /// Check handles, where immediates run.
    Check,
    /// Close callbacks.
    Close,
}

impl Phase {
    /// Lower-case name, as used in traces.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Main => "main",
            Phase::Timers => "timers",
            Phase::Pending => "pending",
            Phase::Idle => "idle",
            Phase::Prepare => "prepare",
            Phase::Poll => "poll",
            Phase::Check => "check",
            Phase::Close => "close",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of callback a [`TraceEvent`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackKind {
    /// A handle's own callback (timer, idle, prepare, check, async, signal, io).
    Handle(HandleKind),
    /// A handle's close callback.
    Close(HandleKind),
    /// A deferred (pending-phase) callback.
    Pending,
    /// A `next_tick` callback.
    Tick,
    /// A `queue_microtask` callback.
    Microtask,
    /// A `set_timeout` / `set_interval` callback.
    Timeout,
    /// A `set_immediate` callback.
    Immediate,
    /// A user callback an extension crate ran through
    /// [`crate::Loop::make_callback`], with the name it gave.
    Extension(&'static str),
}

/// One callback run by the loop, as recorded by the phase trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEvent {
    /// The iteration (0 before the first one, then 1, 2, …; see
    /// [`Metrics::iterations`]).
    pub iteration: u64,
    /// The phase it ran in.
    pub phase: Phase,
    /// What ran.
    pub kind: CallbackKind,
    /// The handle it belongs to, where there is one.
    pub handle: Option<HandleId>,
}

/// Counters kept by the loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Iterations started (libuv's `loop_count`).
    pub iterations: u64,
    /// I/O events dispatched from poll (libuv's `events`).
    pub events: u64,
    /// Time spent blocked in poll (libuv's `uv_metrics_idle_time`).
    pub idle_time: Duration,
}
