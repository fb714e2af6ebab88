//! The loop: its state, liveness, and `run`, the list of phases.
//!
//! # One iteration
//!
//! `run` follows libuv 1.46's `uv_run` (the libuv that Node.js v20 ships):
//!
//! 0. Drain the nextTick and microtask queues left by the main program.
//!    In `Default` mode, if the loop is alive and not stopped: update the time
//!    and run due timers, once, before the first iteration.
//! 1. **pending**: callbacks deferred from the previous iteration;
//! 2. **idle** handles; 3. **prepare** handles;
//! 4. **poll**: wait for I/O (see [`Loop::backend_timeout`] for how long),
//!    update the time, dispatch I/O callbacks; then re-run pending callbacks
//!    up to 8 times;
//! 5. **check** handles (immediates run here);
//! 6. **close** callbacks;
//! 7. update the time, run due **timers**;
//! 8. `Once` and `NoWait` return here; `Default` loops while alive and not
//!    stopped.
//!
//! The classic drawing (and libuv ≤ 1.44) puts timers first in every
//! iteration. Since libuv 1.45 they run last, plus once before the first
//! iteration; the two readings differ only in where `Once`/`NoWait` see
//! timers and in what runs first after `run` is entered. See
//! `docs/architecture.md`.
//!
//! Each phase lives in its own module (`pending`, `queue` for idle, prepare
//! and check, `poll`, `close`, `timer`); how a callback is run, and the
//! rules that hold after every one, live in `callback`. Here `run` only
//! calls them in order, as libuv's `uv_run` does.

use crate::async_handle::AsyncShared;
use crate::builder::LoopBuilder;
use crate::callback::Job;
use crate::clock::ClockSource;
use crate::error::{Error, Result};
use crate::handle::HandleId;
use crate::handle_table::HandleTable;
use crate::heap::IndexedHeap;
use crate::io::Ready;
use crate::node::NodeState;
use crate::queue::{CHECK, IDLE, PREPARE};
use crate::signal::SignalState;
use crate::trace::{Metrics, Phase, TraceEvent};
use std::any::Any;
use std::collections::VecDeque;
use std::panic::resume_unwind;
use std::sync::Arc;

pub(crate) use crate::handle_table::Body;

/// How [`Loop::run`] runs, as `uv_run_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Run until the loop is no longer alive or [`Loop::stop`] is called.
    Default,
    /// One iteration; block in poll if there is nothing else to do.
    Once,
    /// One iteration without blocking.
    NoWait,
}

/// An event loop: one thread, one loop, libuv's phases, Node.js's queues.
///
/// `D` is the embedder's state. Callbacks receive `&mut Loop<D>` (to schedule,
/// cancel or close anything, themselves included) and `&mut D` (the state
/// passed to [`Loop::run`]), in the manner of calloop: no `Rc<RefCell<…>>`
/// is needed to share state with callbacks.
///
/// ```
/// use loop_core::{Loop, RunMode};
///
/// let mut lp: Loop<Vec<&str>> = Loop::new().unwrap();
/// lp.set_timeout(1, |_, log| log.push("timeout"));
/// lp.set_immediate(|lp, log| {
///     log.push("immediate");
///     lp.next_tick(|_, log| log.push("tick"));
/// });
/// lp.queue_microtask(|_, log| log.push("microtask"));
/// let mut log = Vec::new();
/// lp.run(RunMode::Default, &mut log).unwrap();
/// assert_eq!(log[0], "microtask");
/// assert!(log.contains(&"tick"));
/// ```
pub struct Loop<D = ()> {
    pub(crate) handles: HandleTable<D>,
    pub(crate) active_reqs: usize,
    /// The cached loop time, in ms.
    pub(crate) time: u64,
    pub(crate) clock: ClockSource,
    /// Armed timers, keyed by (due, start sequence).
    pub(crate) timers: IndexedHeap<(u64, u64)>,
    pub(crate) timer_seq: u64,
    /// Timers collected as due in the current timers pass.
    pub(crate) timer_ready: VecDeque<u32>,
    /// Timers with the re-run option (`timer_set_rerun_when_due`).
    pub(crate) timer_rerun: Vec<u32>,
    /// Idle, prepare and check handles, most recently started first.
    pub(crate) queues: [Vec<u32>; 3],
    pub(crate) pass: u64,
    pub(crate) queue_spare: Vec<u32>,
    pub(crate) pending: VecDeque<Job<D>>,
    /// Closing handles, in `close` order (their callbacks run in reverse).
    pub(crate) closing: Vec<(u32, Option<Job<D>>)>,
    pub(crate) stop_flag: bool,
    pub(crate) running: bool,
    pub(crate) phase: Phase,
    pub(crate) poll: mio::Poll,
    pub(crate) events: mio::Events,
    /// I/O events of the current poll, copied out so callbacks can borrow the loop.
    pub(crate) io_events: Vec<(mio::Token, Ready)>,
    pub(crate) io_next: usize,
    /// A batch's events that run after the others (signals, `io_set_batch_last`),
    /// gathered while copying; empty between polls.
    pub(crate) io_last: Vec<(mio::Token, Ready)>,
    /// Sources registered with the poller (I/O handles, the waker, signals).
    pub(crate) registered: usize,
    pub(crate) async_shared: Option<Arc<AsyncShared>>,
    pub(crate) async_spare: Vec<HandleId>,
    pub(crate) signals: Option<SignalState>,
    pub(crate) ticks: VecDeque<Job<D>>,
    pub(crate) microtasks: VecDeque<crate::callback::Micro<D>>,
    /// The tasks (`task` module).
    pub(crate) tasks: crate::task::Tasks,
    /// How to poll and drop tasks, set with the first task, where
    /// `D: 'static` is known (the loop itself has no such bound).
    pub(crate) task_fns: Option<crate::task::TaskFns<D>>,
    /// The host's own microtask queue, run after `microtasks`.
    pub(crate) host_microtasks: Option<crate::callback::HostMicrotasks<D>>,
    pub(crate) node: NodeState<D>,
    pub(crate) metrics: Metrics,
    pub(crate) trace: Option<Vec<TraceEvent>>,
    /// Values other crates attach to the loop (loop-fs's thread pool…),
    /// dropped with it.
    pub(crate) extensions: crate::extension::Extensions,
    /// A panic caught in a callback, to resume once the loop is consistent.
    pub(crate) panic: Option<Box<dyn Any + Send>>,
    /// An error an extension reported with no handler for it
    /// ([`Loop::report_unhandled`]), returned by `run` once the loop is
    /// consistent, as a panic is resumed.
    pub(crate) unhandled: Option<Error>,
}

impl<D> Loop<D> {
    /// A loop on the system clock.
    pub fn new() -> Result<Self> {
        LoopBuilder::default().build()
    }

    /// Whether `run` would find work: referenced active handles, active
    /// requests, pending callbacks or closing handles (`uv_loop_alive`).
    #[inline]
    pub fn is_alive(&self) -> bool {
        self.handles.active_refd() > 0
            || self.active_reqs > 0
            || !self.pending.is_empty()
            || !self.closing.is_empty()
    }

    /// Whether the loop can be closed (`uv_loop_close`): `Ok` when no
    /// handle is left but the loop's and extensions' internal ones (closing
    /// handles count until their close callback ran) and no request is
    /// active; else `EBUSY` (op `"loop_close"`), as libuv, and the loop is
    /// left as it was. The loop itself is freed by dropping it, which is
    /// always safe; this is the check a host makes to find leaks.
    ///
    /// ```
    /// use loop_core::{Loop, RunMode};
    ///
    /// let mut lp: Loop<()> = Loop::new()?;
    /// let t = lp.add_timer(1, 0, |_, _| {});
    /// assert_eq!(lp.try_close().unwrap_err().to_string(), "loop_close: Device or resource busy (os error 16)");
    /// lp.close(t, None)?;
    /// assert!(lp.try_close().is_err(), "closing, its callback still to come");
    /// lp.run(RunMode::Default, &mut ())?;
    /// lp.try_close()?;
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn try_close(&self) -> Result<()> {
        let busy = self.active_reqs > 0 || self.handles.iter().any(|(_, s)| !s.is_internal());
        if busy {
            return Err(Error::Io {
                op: "loop_close",
                source: std::io::Error::from_raw_os_error(libc::EBUSY),
            });
        }
        Ok(())
    }

    /// Makes `run` return after the current iteration (`uv_stop`). Called
    /// before `run`, it makes `run` return at once.
    pub fn stop(&mut self) {
        self.stop_flag = true;
    }

    /// Counters: iterations, events, time idle in poll.
    pub fn metrics(&self) -> Metrics {
        self.metrics
    }

    /// Turns the phase trace on or off (off by default). Turning it on
    /// starts an empty trace.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on.then(Vec::new);
    }

    /// Takes the recorded trace, leaving an empty one (if tracing is on).
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The phase the loop is in ([`Phase::Main`] outside `run`).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Runs the loop in `mode` with the embedder state `data` (`uv_run`).
    /// Returns whether the loop is still alive.
    ///
    /// A panic in a callback propagates out of `run` once the loop's queues
    /// are back in order; `run` can be called again afterwards. So does an
    /// unhandled error ([`Loop::report_unhandled`]): `run` returns it as
    /// [`Error::Unhandled`] after the current callback, and can be called
    /// again.
    pub fn run(&mut self, mode: RunMode, data: &mut D) -> Result<bool> {
        if self.running {
            return Err(Error::Reentrant);
        }
        if let Some(e) = self.unhandled.take() {
            // Reported outside `run`: returned before anything runs.
            return Err(e);
        }
        self.running = true;
        let r = self.run_inner(mode, data);
        self.running = false;
        self.phase = Phase::Main;
        if let Some(p) = self.panic.take() {
            resume_unwind(p);
        }
        match self.unhandled.take() {
            Some(e) => Err(e),
            None => r,
        }
    }

    fn run_inner(&mut self, mode: RunMode, data: &mut D) -> Result<bool> {
        macro_rules! bail {
            () => {
                if self.aborting() {
                    return Ok(true);
                }
            };
        }
        // What the main program queued drains before the loop starts.
        self.drain_guarded(data);
        bail!();
        let mut alive = self.is_alive();
        if !alive {
            self.update_time();
        }
        if mode == RunMode::Default && alive && !self.stop_flag {
            self.update_time();
            self.run_timers(data);
            bail!();
        }
        while alive && !self.stop_flag {
            let can_sleep = self.pending.is_empty() && self.queues[IDLE].is_empty();
            self.run_pending(data);
            bail!();
            self.run_queue(IDLE, data);
            bail!();
            self.run_queue(PREPARE, data);
            bail!();
            let timeout = if (mode == RunMode::Once && can_sleep) || mode == RunMode::Default {
                self.backend_timeout()
            } else {
                Some(0)
            };
            self.metrics.iterations += 1;
            self.poll_io(timeout, data)?;
            bail!();
            for _ in 0..8 {
                if self.pending.is_empty() {
                    break;
                }
                self.run_pending(data);
                bail!();
            }
            self.run_queue(CHECK, data);
            bail!();
            self.run_closing(data);
            bail!();
            self.update_time();
            self.run_timers(data);
            bail!();
            alive = self.is_alive();
            if mode != RunMode::Default {
                break;
            }
        }
        self.stop_flag = false;
        Ok(alive)
    }

    #[inline]
    pub(crate) fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        tracing::trace!(
            phase = phase.name(),
            iteration = self.metrics.iterations,
            "phase"
        );
    }
}

impl<D> Drop for Loop<D> {
    fn drop(&mut self) {
        // Tasks first, while the loop is whole: their futures' `Drop`
        // cancel timers and requests through `task::with_loop`.
        if let Some(fns) = self.task_fns {
            (fns.drop_all)(self);
        }
        // Senders of a dropped loop get `Disconnected`.
        for (_, s) in self.handles.iter() {
            if let Body::Async(flag) = &s.body {
                flag.close();
            }
        }
    }
}
