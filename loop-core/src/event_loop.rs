//! The loop: its state, `run`, and the pieces every handle kind shares.
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
//! # Ground rules
//!
//! - No callback runs while a slot of the handle slab is borrowed: a callback
//!   is taken out of its slot, called with `&mut Loop`, and put back only if
//!   the slot still belongs to the same handle (same generation) and was not
//!   given a new callback meanwhile.
//! - After every callback the loop runs, the nextTick queue and then the
//!   microtask queue drain, until both are empty.
//! - A panic in a callback is caught at the call, the loop's queues are put
//!   back in order (nothing that was due is lost), and the panic resumes out
//!   of `run`. The loop stays usable.

use crate::async_handle::AsyncShared;
use crate::clock::{Clock, ClockSource, ManualClock};
use crate::error::{Error, Result};
use crate::handle::{HandleId, HandleInfo, HandleKind};
use crate::heap::IndexedHeap;
use crate::io::Ready;
use crate::node::NodeState;
use crate::signal::SignalState;
use crate::trace::{CallbackKind, Metrics, Phase, TraceEvent};
use slab::Slab;
use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A handle callback.
pub(crate) type Cb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D)>;
/// A callback that runs once: ticks, microtasks, deferred and close callbacks.
pub type Job<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D)>;
/// A signal callback, given the signal number.
pub(crate) type SignalCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, i32)>;
/// An I/O callback, given the readiness.
pub(crate) type IoCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Ready)>;

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

pub(crate) const ACTIVE: u8 = 1;
pub(crate) const REF: u8 = 2;
pub(crate) const CLOSING: u8 = 4;
/// Created by the loop itself (the Node.js layer); hidden from `handles()`.
pub(crate) const INTERNAL: u8 = 8;
/// Its callback is being called right now.
pub(crate) const RUNNING: u8 = 16;

/// Index of each handle queue in [`Loop::queues`].
pub(crate) const IDLE: usize = 0;
pub(crate) const PREPARE: usize = 1;
pub(crate) const CHECK: usize = 2;

/// A handle's callback, of whichever signature its kind uses.
pub(crate) enum AnyCb<D> {
    Plain(Cb<D>),
    Signal(SignalCb<D>),
    Io(IoCb<D>),
}

/// What a callback is given beyond the loop and the data.
#[derive(Clone, Copy)]
pub(crate) enum CbArg {
    None,
    Signal(i32),
    Io(Ready),
}

/// Kind-specific state of a handle.
pub(crate) enum Body {
    Timer {
        repeat: u64,
        /// Last due time (kept after stop, for `due_in`, as libuv does).
        due: u64,
        /// Collected as due in the current timers pass, not yet run.
        ready: bool,
        /// Runs again in the same pass when re-armed already due.
        rerun: bool,
    },
    /// Idle, prepare and check: the pass in which it is still to run.
    Queue {
        pass: u64,
    },
    Async(Arc<crate::async_handle::AsyncFlag>),
    Signal {
        signum: i32,
        oneshot: bool,
        /// Counts starts, to tell a one-shot re-armed by its own callback.
        arm: u32,
    },
    Io,
}

/// One handle.
pub(crate) struct Slot<D> {
    pub(crate) gen: u32,
    pub(crate) kind: HandleKind,
    pub(crate) flags: u8,
    pub(crate) cb: Option<AnyCb<D>>,
    pub(crate) close_cb: Option<Job<D>>,
    pub(crate) body: Body,
}

/// Options for building a [`Loop`].
#[derive(Debug, Default)]
pub struct LoopBuilder {
    clock: Clock,
    events_capacity: Option<usize>,
}

impl LoopBuilder {
    /// The clock the loop reads (the system clock by default).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A manual clock, shortcut for `.clock(Clock::Manual(clock))`.
    pub fn manual_clock(self, clock: ManualClock) -> Self {
        self.clock(Clock::Manual(clock))
    }

    /// How many I/O events one poll may return (1024 by default).
    pub fn events_capacity(mut self, n: usize) -> Self {
        self.events_capacity = Some(n.max(1));
        self
    }

    /// Builds the loop.
    pub fn build<D>(self) -> Result<Loop<D>> {
        let poll = mio::Poll::new().map_err(|source| Error::Io {
            op: "loop init (epoll_create)",
            source,
        })?;
        let clock = ClockSource::new(self.clock);
        let time = clock.now_ms();
        Ok(Loop {
            handles: Slab::new(),
            next_gen: 0,
            active_refd: 0,
            active_reqs: 0,
            time,
            clock,
            timers: IndexedHeap::new(),
            timer_seq: 0,
            timer_ready: VecDeque::new(),
            timer_rerun: Vec::new(),
            queues: [Vec::new(), Vec::new(), Vec::new()],
            pass: 0,
            queue_spare: Vec::new(),
            pending: VecDeque::new(),
            closing: Vec::new(),
            stop_flag: false,
            running: false,
            phase: Phase::Main,
            poll,
            events: mio::Events::with_capacity(self.events_capacity.unwrap_or(1024)),
            io_events: Vec::new(),
            io_next: 0,
            registered: 0,
            async_shared: None,
            async_spare: Vec::new(),
            signals: None,
            ticks: VecDeque::new(),
            microtasks: VecDeque::new(),
            node: NodeState::default(),
            metrics: Metrics::default(),
            trace: None,
            extensions: Default::default(),
            panic: None,
        })
    }
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
    pub(crate) handles: Slab<Slot<D>>,
    next_gen: u32,
    /// Active and referenced handles.
    pub(crate) active_refd: usize,
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
    queue_spare: Vec<u32>,
    pub(crate) pending: VecDeque<Job<D>>,
    /// Closing handles, in `close` order (their callbacks run in reverse).
    pub(crate) closing: Vec<u32>,
    stop_flag: bool,
    running: bool,
    pub(crate) phase: Phase,
    pub(crate) poll: mio::Poll,
    events: mio::Events,
    /// I/O events of the current poll, copied out so callbacks can borrow the loop.
    io_events: Vec<(mio::Token, Ready)>,
    io_next: usize,
    /// Sources registered with the poller (I/O handles, the waker, signals).
    pub(crate) registered: usize,
    pub(crate) async_shared: Option<Arc<AsyncShared>>,
    pub(crate) async_spare: Vec<HandleId>,
    pub(crate) signals: Option<SignalState>,
    pub(crate) ticks: VecDeque<Job<D>>,
    pub(crate) microtasks: VecDeque<Job<D>>,
    pub(crate) node: NodeState<D>,
    pub(crate) metrics: Metrics,
    trace: Option<Vec<TraceEvent>>,
    /// Values other crates attach to the loop (loop-fs's thread pool…),
    /// dropped with it.
    pub(crate) extensions: crate::extension::Extensions,
    /// A panic caught in a callback, to resume once the loop is consistent.
    pub(crate) panic: Option<Box<dyn Any + Send>>,
}

/// Token of the async waker.
pub(crate) const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

impl Loop {
    /// Options for a new loop (its clock, its event buffer); the state type
    /// is chosen by [`LoopBuilder::build`].
    pub fn builder() -> LoopBuilder {
        LoopBuilder::default()
    }
}

impl<D> Loop<D> {
    /// A loop on the system clock.
    pub fn new() -> Result<Self> {
        LoopBuilder::default().build()
    }

    // ----- time -----

    /// The cached loop time in milliseconds (`uv_now`). It changes only when
    /// the loop refreshes it (after poll and before timers) or on
    /// [`Loop::update_time`].
    pub fn now(&self) -> u64 {
        self.time
    }

    /// Refreshes the cached time from the clock (`uv_update_time`).
    pub fn update_time(&mut self) {
        let now = self.clock.now_ms();
        if now > self.time {
            self.time = now;
        }
    }

    /// The manual clock, when the loop was built with one.
    pub fn manual_clock(&self) -> Option<&ManualClock> {
        self.clock.manual()
    }

    /// Moves a manual clock to the due time of the earliest armed timer (if
    /// it is in the future) and refreshes the loop time. Returns the new loop
    /// time, or `None` when no timer is armed.
    pub fn advance_to_next_timer(&mut self) -> Result<Option<u64>> {
        let Some(clock) = self.clock.manual() else {
            return Err(Error::InvalidArgument {
                op: "advance_to_next_timer",
                why: "the loop runs on the system clock",
            });
        };
        let Some(((due, _), _)) = self.timers.peek() else {
            return Ok(None);
        };
        clock.set(due);
        self.update_time();
        Ok(Some(self.time))
    }

    // ----- liveness -----

    /// Whether `run` would find work: referenced active handles, active
    /// requests, pending callbacks or closing handles (`uv_loop_alive`).
    #[inline]
    pub fn is_alive(&self) -> bool {
        self.active_refd > 0
            || self.active_reqs > 0
            || !self.pending.is_empty()
            || !self.closing.is_empty()
    }

    /// Makes `run` return after the current iteration (`uv_stop`). Called
    /// before `run`, it makes `run` return at once.
    pub fn stop(&mut self) {
        self.stop_flag = true;
    }

    /// How long poll would block now, in ms; `None` means until an event
    /// arrives (`uv_backend_timeout`). It is 0 when the loop is stopping, has
    /// nothing referenced and active, has pending callbacks, an active idle
    /// handle (even unreferenced) or closing handles; otherwise the time to
    /// the nearest timer (referenced or not), or `None` with no timer.
    pub fn backend_timeout(&self) -> Option<u64> {
        if self.stop_flag
            || (self.active_refd == 0 && self.active_reqs == 0)
            || !self.pending.is_empty()
            || !self.queues[IDLE].is_empty()
            || !self.closing.is_empty()
        {
            return Some(0);
        }
        self.next_timeout()
    }

    fn next_timeout(&self) -> Option<u64> {
        let ((due, _), _) = self.timers.peek()?;
        Some(due.saturating_sub(self.time).min(i32::MAX as u64))
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

    // ----- requests -----

    /// Marks the start of a request (work that keeps the loop alive until it
    /// completes, and cannot be unreferenced). Pair with [`Loop::req_done`].
    pub fn req_start(&mut self) -> ActiveRequest {
        self.active_reqs += 1;
        ActiveRequest(())
    }

    /// Marks a request as complete.
    pub fn req_done(&mut self, req: ActiveRequest) {
        let ActiveRequest(()) = req;
        self.active_reqs -= 1;
    }

    /// Number of active requests.
    pub fn active_requests(&self) -> usize {
        self.active_reqs
    }

    // ----- deferred callbacks -----

    /// Queues `f` for the next pending phase (libuv's `uv__io_feed`): how
    /// an operation delivers a result or error that happened synchronously
    /// without calling back re-entrantly. Keeps the loop alive until it ran.
    pub fn defer(&mut self, f: impl FnOnce(&mut Loop<D>, &mut D) + 'static) {
        self.pending.push_back(Box::new(f));
    }

    // ----- the run -----

    /// Runs the loop in `mode` with the embedder state `data` (`uv_run`).
    /// Returns whether the loop is still alive.
    ///
    /// A panic in a callback propagates out of `run` once the loop's queues
    /// are back in order; `run` can be called again afterwards.
    pub fn run(&mut self, mode: RunMode, data: &mut D) -> Result<bool> {
        if self.running {
            return Err(Error::Reentrant);
        }
        self.running = true;
        let r = self.run_inner(mode, data);
        self.running = false;
        self.phase = Phase::Main;
        if let Some(p) = self.panic.take() {
            resume_unwind(p);
        }
        r
    }

    fn run_inner(&mut self, mode: RunMode, data: &mut D) -> Result<bool> {
        macro_rules! bail {
            () => {
                if self.panic.is_some() {
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
    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        tracing::trace!(
            phase = phase.name(),
            iteration = self.metrics.iterations,
            "phase"
        );
    }

    // ----- callbacks -----

    #[inline]
    pub(crate) fn record(&mut self, kind: CallbackKind, handle: Option<HandleId>) {
        if let Some(t) = &mut self.trace {
            t.push(TraceEvent {
                iteration: self.metrics.iterations,
                phase: self.phase,
                kind,
                handle,
            });
        }
    }

    /// Calls the callback of handle `idx`, then drains the queues.
    pub(crate) fn invoke(&mut self, idx: u32, arg: CbArg, data: &mut D) {
        let Some(slot) = self.handles.get_mut(idx as usize) else {
            return;
        };
        let Some(mut cb) = slot.cb.take() else {
            return;
        };
        slot.flags |= RUNNING;
        let gen = slot.gen;
        let kind = slot.kind;
        let id = HandleId { index: idx, gen };
        tracing::trace!(kind = kind.name(), handle = %id, "callback");
        self.record(CallbackKind::Handle(kind), Some(id));
        let r = catch_unwind(AssertUnwindSafe(|| match (&mut cb, arg) {
            (AnyCb::Plain(f), _) => f(self, data),
            (AnyCb::Signal(f), CbArg::Signal(s)) => f(self, data, s),
            (AnyCb::Io(f), CbArg::Io(r)) => f(self, data, r),
            _ => {}
        }));
        if let Some(slot) = self.handles.get_mut(idx as usize) {
            if slot.gen == gen {
                slot.flags &= !RUNNING;
                if slot.cb.is_none() {
                    slot.cb = Some(cb);
                }
            }
        }
        self.after_callback(r, data);
    }

    /// Calls a one-shot callback, then drains the queues.
    pub(crate) fn invoke_job(&mut self, f: Job<D>, data: &mut D) {
        let r = catch_unwind(AssertUnwindSafe(|| f(self, data)));
        self.after_callback(r, data);
    }

    #[inline]
    fn after_callback(&mut self, r: std::thread::Result<()>, data: &mut D) {
        match r {
            // A panic kept by a `make_callback` inside it: no drain.
            Ok(()) if self.panic.is_some() => {}
            Ok(()) => self.drain_guarded(data),
            Err(p) => {
                if self.panic.is_none() {
                    self.panic = Some(p);
                }
            }
        }
    }

    #[inline]
    fn drain_guarded(&mut self, data: &mut D) {
        if self.ticks.is_empty() && self.microtasks.is_empty() {
            return;
        }
        self.drain_caught(data);
    }

    fn drain_caught(&mut self, data: &mut D) {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.drain_ticks(data))) {
            self.panic = Some(p);
        }
    }

    /// Runs `f`, a user callback that an extension crate (loop-net,
    /// loop-fs, …) calls from its own I/O, async or pool callback, exactly
    /// as the loop runs its own callbacks: a [`TraceEvent`] of kind
    /// [`CallbackKind::Extension`]`(name)`, a `tracing` event, the panic
    /// caught, then the nextTick and microtask queues drained (Node.js's
    /// `MakeCallback`). This is the one way a crate built on loop-core runs
    /// user code; none calls [`Loop::drain_ticks`] for a callback it runs.
    ///
    /// Returns `Some` with what `f` returned, or `None` when `f` panicked.
    /// Inside [`Loop::run`] the panic is kept and resumes out of `run` once
    /// the loop's own callback (the caller) has returned: the caller puts
    /// its state in order and returns without starting more user callbacks
    /// ([`Loop::is_unwinding`] tells). Outside `run` (a host's entry point)
    /// the panic resumes at once, after the queues are left consistent.
    ///
    /// Called while the loop is already unwinding, `f` still runs (nothing
    /// handed to it is lost) but its queues are not drained; a second panic
    /// is logged and dropped, the first one wins.
    ///
    /// ```
    /// use loop_core::{CallbackKind, Loop, RunMode};
    ///
    /// let mut lp: Loop<Vec<&str>> = Loop::new()?;
    /// let mut out = Vec::new();
    /// let r = lp.make_callback(&mut out, "demo", |lp, out| {
    ///     lp.next_tick(|_, out| out.push("tick"));
    ///     out.push("callback");
    ///     7
    /// });
    /// assert_eq!(r, Some(7));
    /// assert_eq!(out, ["callback", "tick"]);
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn make_callback<R>(
        &mut self,
        data: &mut D,
        name: &'static str,
        f: impl FnOnce(&mut Loop<D>, &mut D) -> R,
    ) -> Option<R> {
        tracing::trace!(kind = name, "callback");
        self.record(CallbackKind::Extension(name), None);
        match catch_unwind(AssertUnwindSafe(|| f(self, data))) {
            Ok(r) => {
                if self.panic.is_none() {
                    self.drain_guarded(data);
                }
                if !self.running {
                    if let Some(p) = self.panic.take() {
                        resume_unwind(p);
                    }
                }
                Some(r)
            }
            Err(p) => {
                if self.panic.is_none() {
                    self.panic = Some(p);
                } else {
                    tracing::error!(kind = name, "a second panic while unwinding: dropped");
                }
                if !self.running {
                    if let Some(p) = self.panic.take() {
                        resume_unwind(p);
                    }
                }
                None
            }
        }
    }

    /// Whether a callback panicked and the panic is on its way out of
    /// [`Loop::run`]: an extension that sees it stops starting user
    /// callbacks and returns, leaving what is still due for the next `run`.
    #[inline]
    pub fn is_unwinding(&self) -> bool {
        self.panic.is_some()
    }

    /// Drains the nextTick queue completely, then the microtask queue
    /// completely, and repeats until both are empty: what Node.js does after
    /// every callback (`processTicksAndRejections`). The loop calls it after
    /// each callback it runs; a host calls it after its own entry points
    /// (an embedder's equivalent of Node's `InternalCallbackScope`).
    pub fn drain_ticks(&mut self, data: &mut D) {
        loop {
            while let Some(f) = self.ticks.pop_front() {
                self.record(CallbackKind::Tick, None);
                f(self, data);
            }
            while let Some(f) = self.microtasks.pop_front() {
                self.record(CallbackKind::Microtask, None);
                f(self, data);
            }
            if self.ticks.is_empty() {
                break;
            }
        }
    }

    // ----- phases -----

    #[inline]
    fn run_pending(&mut self, data: &mut D) {
        if self.pending.is_empty() {
            return;
        }
        self.enter(Phase::Pending);
        // Callbacks deferred while this runs wait for the next pass.
        let mut batch = std::mem::take(&mut self.pending);
        while let Some(f) = batch.pop_front() {
            self.record(CallbackKind::Pending, None);
            self.invoke_job(f, data);
            if self.panic.is_some() {
                batch.append(&mut self.pending);
                self.pending = batch;
                return;
            }
        }
    }

    /// Runs the idle, prepare or check handles, as libuv's `uv__run_##name`:
    /// the queue is taken whole; each handle goes back to the tail before
    /// its callback runs; a handle started during the pass goes to the head
    /// of the loop's queue and waits for the next pass; a handle stopped
    /// during the pass is skipped.
    fn run_queue(&mut self, q: usize, data: &mut D) {
        if self.queues[q].is_empty() {
            return;
        }
        self.enter([Phase::Idle, Phase::Prepare, Phase::Check][q]);
        if let [idx] = self.queues[q][..] {
            // One handle (Node.js's usual case): nothing can be stopped
            // before it runs, so no pass marks are needed. Back to the tail
            // first, as below, then its callback.
            self.invoke(idx, CbArg::None, data);
            return;
        }
        self.pass += 1;
        let pass = self.pass;
        // The snapshot swaps with a spare buffer: no allocation per pass.
        let spare = std::mem::take(&mut self.queue_spare);
        let snap = std::mem::replace(&mut self.queues[q], spare);
        for &idx in &snap {
            if let Body::Queue { pass: p } = &mut self.handles[idx as usize].body {
                *p = pass;
            }
        }
        for (i, &idx) in snap.iter().enumerate() {
            match self.handles.get_mut(idx as usize).map(|s| &mut s.body) {
                Some(Body::Queue { pass: p }) if *p == pass => *p = 0,
                _ => continue,
            }
            self.queues[q].push(idx);
            self.invoke(idx, CbArg::None, data);
            if self.panic.is_some() {
                for &rest in &snap[i + 1..] {
                    if let Some(Body::Queue { pass: p }) =
                        self.handles.get_mut(rest as usize).map(|s| &mut s.body)
                    {
                        if *p == pass {
                            *p = 0;
                            self.queues[q].push(rest);
                        }
                    }
                }
                break;
            }
        }
        let mut snap = snap;
        snap.clear();
        self.queue_spare = snap;
    }

    fn poll_io(&mut self, timeout: Option<u64>, data: &mut D) -> Result<()> {
        self.enter(Phase::Poll);
        // Events left over by a callback that panicked are served first.
        if self.io_next < self.io_events.len() {
            self.dispatch_io(data);
            return Ok(());
        }
        let mut wait = timeout;
        let mut advance_to = None;
        if let (None, Some(t @ 1..)) = (self.clock.manual(), timeout) {
            // The timeout was computed from the time cached before the
            // callbacks that ran since; sleep only what is left of it.
            // Node.js runs libuv with UV_METRICS_IDLE_TIME, whose
            // uv__io_poll polls once without blocking, refreshes the time,
            // then waits the rest: an interval whose callback takes 65 of
            // its 130 ms waits 65 ms, not 130 (plain libuv would drift).
            let base = self.time;
            self.update_time();
            wait = Some(t.saturating_sub(self.time - base));
        }
        if let (Some(clock), Some(t)) = (self.clock.manual(), timeout) {
            if t > 0 {
                // Virtual time never sleeps: poll without blocking, and jump
                // to the timer if the clock auto-advances.
                wait = Some(0);
                if clock.auto_advance() {
                    advance_to = Some(self.time.saturating_add(t));
                }
            }
        }
        if wait == Some(0) && self.registered == 1 {
            if let Some(shared) = &self.async_shared {
                // Only the waker to watch: its queue says all epoll would.
                // (A wake-up found here leaves a stale eventfd edge behind;
                // the poll that meets it finds an empty queue.)
                if shared.has_queued() {
                    self.update_time();
                    self.metrics.events += 1;
                    self.dispatch_async(data);
                }
                return Ok(());
            }
        }
        if self.registered == 0 && wait == Some(0) {
            // Nothing can be ready: no syscall and no time update, as
            // libuv's uv__io_poll with no fd (the time is refreshed before
            // timers anyway).
            if let (Some(clock), Some(t)) = (self.clock.manual(), advance_to) {
                clock.set(t);
                self.update_time();
            }
            return Ok(());
        }
        let started = (wait != Some(0)).then(Instant::now);
        loop {
            let dur = wait.map(Duration::from_millis);
            match self.poll.poll(&mut self.events, dur) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    // A signal: wait again for what is left of the timeout.
                    if let (Some(w), Some(t0)) = (wait, started) {
                        let spent = t0.elapsed().as_millis() as u64;
                        wait = Some(w.saturating_sub(spent));
                    }
                    continue;
                }
                Err(source) => {
                    return Err(Error::Io {
                        op: "poll (epoll_wait)",
                        source,
                    })
                }
            }
        }
        if let Some(t0) = started {
            self.metrics.idle_time += t0.elapsed();
        }
        self.io_events.clear();
        self.io_next = 0;
        for ev in self.events.iter() {
            self.io_events.push((ev.token(), Ready::from_event(ev)));
        }
        if self.io_events.is_empty() {
            if let (Some(clock), Some(t)) = (self.clock.manual(), advance_to) {
                clock.set(t);
            }
        }
        self.update_time();
        self.dispatch_io(data);
        Ok(())
    }

    fn dispatch_io(&mut self, data: &mut D) {
        while self.io_next < self.io_events.len() {
            let (token, ready) = self.io_events[self.io_next];
            self.io_next += 1;
            self.metrics.events += 1;
            match token {
                WAKER_TOKEN => self.dispatch_async(data),
                token if crate::signal::token_signal(token).is_some() => {
                    let signum = crate::signal::token_signal(token).unwrap_or_default();
                    self.dispatch_signal(signum, data);
                }
                mio::Token(t) => {
                    let id = HandleId {
                        index: t as u32,
                        gen: (t >> 32) as u32,
                    };
                    // A stale token (its handle closed, the slot reused in
                    // this same batch) must not reach the new handle.
                    let live = self.handles.get(id.index as usize).is_some_and(|s| {
                        s.gen == id.gen && s.kind == HandleKind::Io && s.flags & CLOSING == 0
                    });
                    if live {
                        self.invoke(id.index, CbArg::Io(ready), data);
                    }
                }
            }
            if self.panic.is_some() {
                return;
            }
        }
    }

    #[inline]
    fn run_closing(&mut self, data: &mut D) {
        if self.closing.is_empty() {
            return;
        }
        self.enter(Phase::Close);
        // Handles closed from a close callback wait for the next pass.
        let mut batch = std::mem::take(&mut self.closing);
        while let Some(idx) = batch.pop() {
            // The id stays valid (closing, inactive) during its close
            // callback, as in libuv; the slot goes right after it.
            let slot = &mut self.handles[idx as usize];
            let (kind, close_cb) = (slot.kind, slot.close_cb.take());
            let id = HandleId {
                index: idx,
                gen: slot.gen,
            };
            drop(slot.cb.take());
            if let Some(f) = close_cb {
                tracing::trace!(kind = kind.name(), handle = %id, "close callback");
                self.record(CallbackKind::Close(kind), Some(id));
                self.invoke_job(f, data);
            }
            self.handles.remove(idx as usize);
            if kind == HandleKind::Io {
                self.registered -= 1;
            }
            if self.panic.is_some() {
                batch.append(&mut self.closing);
                self.closing = batch;
                return;
            }
        }
    }

    // ----- handles: the parts all kinds share -----

    pub(crate) fn insert_handle(&mut self, kind: HandleKind, body: Body, flags: u8) -> HandleId {
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let index = self.handles.insert(Slot {
            gen,
            kind,
            flags: REF | flags,
            cb: None,
            close_cb: None,
            body,
        }) as u32;
        if kind == HandleKind::Io {
            self.registered += 1;
        }
        HandleId { index, gen }
    }

    /// The slot of a live, not closing handle of `kind`.
    pub(crate) fn slot_mut(&mut self, op: &'static str, id: HandleId) -> Result<&mut Slot<D>> {
        match self.handles.get_mut(id.index as usize) {
            Some(s) if s.gen == id.gen => {
                if s.flags & CLOSING != 0 {
                    Err(Error::Closing { op, id })
                } else {
                    Ok(s)
                }
            }
            _ => Err(Error::InvalidHandle { op, id }),
        }
    }

    /// The slot of a handle that exists, closing or not.
    pub(crate) fn slot_any(&self, op: &'static str, id: HandleId) -> Result<&Slot<D>> {
        match self.handles.get(id.index as usize) {
            Some(s) if s.gen == id.gen => Ok(s),
            _ => Err(Error::InvalidHandle { op, id }),
        }
    }

    pub(crate) fn activate(&mut self, idx: u32) {
        let s = &mut self.handles[idx as usize];
        if s.flags & ACTIVE == 0 {
            s.flags |= ACTIVE;
            if s.flags & REF != 0 {
                self.active_refd += 1;
            }
        }
    }

    pub(crate) fn deactivate(&mut self, idx: u32) {
        let s = &mut self.handles[idx as usize];
        if s.flags & ACTIVE != 0 {
            s.flags &= !ACTIVE;
            if s.flags & REF != 0 {
                self.active_refd -= 1;
            }
        }
    }

    pub(crate) fn set_ref_idx(&mut self, idx: u32, on: bool) {
        let s = &mut self.handles[idx as usize];
        let was = s.flags & REF != 0;
        if was == on {
            return;
        }
        if on {
            s.flags |= REF;
        } else {
            s.flags &= !REF;
        }
        if s.flags & ACTIVE != 0 {
            if on {
                self.active_refd += 1;
            } else {
                self.active_refd -= 1;
            }
        }
    }

    /// References a handle (`uv_ref`): while active, it keeps the loop alive.
    pub fn ref_handle(&mut self, h: impl Into<HandleId>) -> Result<()> {
        let id = h.into();
        self.slot_any("ref", id)?;
        self.set_ref_idx(id.index, true);
        Ok(())
    }

    /// Unreferences a handle (`uv_unref`): it no longer keeps the loop alive.
    pub fn unref(&mut self, h: impl Into<HandleId>) -> Result<()> {
        let id = h.into();
        self.slot_any("unref", id)?;
        self.set_ref_idx(id.index, false);
        Ok(())
    }

    /// Whether the handle is referenced (`uv_has_ref`).
    pub fn has_ref(&self, h: impl Into<HandleId>) -> Result<bool> {
        Ok(self.slot_any("has_ref", h.into())?.flags & REF != 0)
    }

    /// Whether the handle is active (`uv_is_active`); `false` once closing.
    pub fn is_active(&self, h: impl Into<HandleId>) -> Result<bool> {
        Ok(self.slot_any("is_active", h.into())?.flags & ACTIVE != 0)
    }

    /// Whether the handle is closing (`uv_is_closing`).
    pub fn is_closing(&self, h: impl Into<HandleId>) -> Result<bool> {
        Ok(self.slot_any("is_closing", h.into())?.flags & CLOSING != 0)
    }

    /// The kind of a live handle.
    pub fn kind(&self, h: impl Into<HandleId>) -> Result<HandleKind> {
        Ok(self.slot_any("kind", h.into())?.kind)
    }

    /// Closes a handle (`uv_close`): stops it if active, and runs `on_close`
    /// in the close phase of this iteration (close callbacks run in reverse
    /// order of `close`; one closed from a close callback waits a pass).
    /// Closing a closing or closed handle is an error. The id is invalid once
    /// the close callback has been called.
    ///
    /// An I/O handle's source is not deregistered by the loop: its owner
    /// deregisters (or drops) it.
    pub fn close(&mut self, h: impl Into<HandleId>, on_close: Option<Job<D>>) -> Result<()> {
        let id = h.into();
        let kind = self.slot_mut("close", id)?.kind;
        self.stop_any(id.index, kind);
        if let Body::Timer { rerun: true, .. } = self.handles[id.index as usize].body {
            self.timer_rerun.retain(|&i| i != id.index);
        }
        let slot = &mut self.handles[id.index as usize];
        slot.flags |= CLOSING;
        slot.close_cb = on_close;
        if let Body::Async(flag) = &slot.body {
            flag.close();
        }
        self.closing.push(id.index);
        Ok(())
    }

    /// Closes a handle with a close callback; shortcut for
    /// `close(h, Some(Box::new(f)))`.
    pub fn close_with(
        &mut self,
        h: impl Into<HandleId>,
        f: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        self.close(h, Some(Box::new(f)))
    }

    fn stop_any(&mut self, idx: u32, kind: HandleKind) {
        match kind {
            HandleKind::Timer => self.timer_stop_idx(idx),
            HandleKind::Idle => self.queue_stop_idx(IDLE, idx),
            HandleKind::Prepare => self.queue_stop_idx(PREPARE, idx),
            HandleKind::Check => self.queue_stop_idx(CHECK, idx),
            HandleKind::Signal => self.signal_stop_idx(idx),
            HandleKind::Async | HandleKind::Io => self.deactivate(idx),
        }
    }

    /// Marks a handle as the loop's own (or an extension's: loop-fs's
    /// async handle, a runtime's housekeeping timer), or unmarks it.
    /// Internal handles are left out of [`Loop::handles`] and
    /// [`Loop::print_handles`]; they still count for liveness while active
    /// and referenced.
    pub fn set_internal(&mut self, h: impl Into<HandleId>, on: bool) -> Result<()> {
        let id = h.into();
        let slot = self.slot_mut("set_internal", id)?;
        if on {
            slot.flags |= INTERNAL;
        } else {
            slot.flags &= !INTERNAL;
        }
        Ok(())
    }

    /// Every live handle with its kind, active, ref and closing state, in
    /// slot order (`uv_walk`). Handles the loop made for itself (the Node.js
    /// layer's timer, idle and check) are left out.
    pub fn handles(&self) -> Vec<HandleInfo> {
        self.handles
            .iter()
            .filter(|(_, s)| s.flags & INTERNAL == 0)
            .map(|(i, s)| HandleInfo {
                id: HandleId {
                    index: i as u32,
                    gen: s.gen,
                },
                kind: s.kind,
                active: s.flags & ACTIVE != 0,
                referenced: s.flags & REF != 0,
                closing: s.flags & CLOSING != 0,
            })
            .collect()
    }

    /// Writes one line per live handle, `uv_print_all_handles` style:
    /// `[R-A] timer    #3.7` (referenced, closing, active).
    pub fn print_handles(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        for h in self.handles() {
            writeln!(out, "{h}")?;
        }
        Ok(())
    }
}

/// Proof of an active request, from [`Loop::req_start`]; give it back to
/// [`Loop::req_done`].
#[derive(Debug)]
#[must_use = "a request keeps the loop alive until given to req_done"]
pub struct ActiveRequest(());

impl<D> Drop for Loop<D> {
    fn drop(&mut self) {
        // Senders of a dropped loop get `Disconnected`.
        for (_, s) in self.handles.iter() {
            if let Body::Async(flag) = &s.body {
                flag.close();
            }
        }
    }
}
