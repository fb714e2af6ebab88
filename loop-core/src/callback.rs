//! Invocation: how the loop runs a callback, and the one public entry
//! through which crates built on loop-core run theirs
//! ([`Loop::make_callback`]).
//!
//! # Ground rules
//!
//! - No callback runs while a slot of the handle table is borrowed: a
//!   handle's callback is taken out of its slot, called with `&mut Loop`,
//!   and put back only if the slot still belongs to the same handle (same
//!   generation) and was not given a new callback meanwhile.
//! - After every callback, the nextTick queue and then the microtask queue
//!   drain, until both are empty (Node.js's `processTicksAndRejections`).
//!   The loop's phases, the Node.js layer and `make_callback` all go
//!   through here, so the rule lives in this file alone.
//! - A panic in a callback is caught at the call and kept in `Loop::panic`
//!   (the first one wins); the phase that ran it puts its queues back in
//!   order and returns, and `run` resumes the panic. Nothing drains while a
//!   panic is kept.
//! - An unhandled error ([`Loop::report_unhandled`]) takes the same path:
//!   kept (the first one wins), the phase returns, nothing drains, and
//!   `run` returns it instead of resuming a panic.

use crate::event_loop::Loop;
use crate::handle::HandleId;
use crate::io::Ready;
use crate::trace::{CallbackKind, TraceEvent};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// A callback that runs once: ticks, microtasks, deferred and close callbacks.
pub type Job<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D)>;
/// An entry of the microtask queue: a callback, or the poll of a task
/// (named by its slot, so a wake allocates nothing).
pub(crate) enum Micro<D> {
    Job(Job<D>),
    Task { index: u32, gen: u32 },
}

/// A host's microtask queue runner ([`Loop::set_host_microtasks`]).
pub type HostMicrotasks<D> = Box<dyn FnMut(&mut Loop<D>, &mut D)>;

/// A handle's callback, whatever its kind: one thin box (16 bytes in the
/// slot), the kind's own argument passed as a [`CbArg`]. User closures are
/// wrapped before they are boxed ([`plain`], [`signal`], [`io`]), so the
/// wrapper costs no second allocation.
pub(crate) type AnyCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, CbArg)>;

/// A plain handle callback (timer, idle, prepare, check, async).
pub(crate) fn plain<D>(mut f: impl FnMut(&mut Loop<D>, &mut D) + 'static) -> AnyCb<D> {
    Box::new(move |lp, data, _| f(lp, data))
}

/// A signal callback, given the signal number.
pub(crate) fn signal<D>(mut f: impl FnMut(&mut Loop<D>, &mut D, i32) + 'static) -> AnyCb<D> {
    Box::new(move |lp, data, arg| {
        if let CbArg::Signal(s) = arg {
            f(lp, data, s)
        }
    })
}

/// An I/O callback, given the readiness.
pub(crate) fn io<D>(mut f: impl FnMut(&mut Loop<D>, &mut D, Ready) + 'static) -> AnyCb<D> {
    Box::new(move |lp, data, arg| {
        if let CbArg::Io(r) = arg {
            f(lp, data, r)
        }
    })
}

/// What a callback is given beyond the loop and the data.
#[derive(Clone, Copy)]
pub(crate) enum CbArg {
    None,
    Signal(i32),
    Io(Ready),
}

impl<D> Loop<D> {
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
        slot.set_running(true);
        let gen = slot.gen;
        let kind = slot.kind;
        let id = HandleId { index: idx, gen };
        tracing::trace!(kind = kind.name(), handle = %id, "callback");
        self.record(CallbackKind::Handle(kind), Some(id));
        let r = catch_unwind(AssertUnwindSafe(|| cb(self, data, arg)));
        if let Some(slot) = self.handles.get_mut(idx as usize) {
            if slot.gen == gen {
                slot.set_running(false);
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
            // A panic (or unhandled error) kept by a `make_callback`
            // inside it: no drain.
            Ok(()) if self.aborting() => {}
            Ok(()) => self.drain_guarded(data),
            Err(p) => {
                if self.panic.is_none() {
                    self.panic = Some(p);
                }
            }
        }
    }

    /// The check after every callback: inlined, so that a callback that
    /// queued nothing costs four loads and no call.
    #[inline(always)]
    pub(crate) fn drain_guarded(&mut self, data: &mut D) {
        if !self.ticks.is_empty()
            || !self.microtasks.is_empty()
            || self.host_microtasks.is_some()
            || self.tasks.has_wakes()
        {
            self.drain_caught(data);
        }
    }

    #[inline(never)]
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
                if !self.aborting() {
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

    /// Whether a callback panicked, or an unhandled error was reported
    /// ([`Loop::report_unhandled`]), and it is on its way out of
    /// [`Loop::run`]: an extension that sees it stops starting user
    /// callbacks and returns, leaving what is still due for the next `run`.
    #[inline]
    pub fn is_unwinding(&self) -> bool {
        self.aborting()
    }

    #[inline]
    pub(crate) fn aborting(&self) -> bool {
        self.panic.is_some() || self.unhandled.is_some()
    }

    /// Reports an error that nobody handles (Node.js's `'error'` event with
    /// no listener, which throws): an extension calls it where it would
    /// have called the user's error handler and there is none. `op` names
    /// what had no handler (`"server.on_error"`). Inside [`Loop::run`] the
    /// error is kept and `run` returns [`Error::Unhandled`](crate::Error::Unhandled) once the
    /// current loop callback has returned, as it resumes a panic: the
    /// caller puts its state in order and starts no more user callbacks
    /// ([`Loop::is_unwinding`] is true); what is still queued stays for the
    /// next `run`. Outside `run`, the next `run` returns it at once. The
    /// first error wins; a later one, until `run` returned it, is logged
    /// and dropped.
    ///
    /// ```
    /// use loop_core::{Error, Loop, RunMode};
    ///
    /// let mut lp: Loop<u32> = Loop::new()?;
    /// let mut ticks = 0;
    /// lp.next_tick(|lp, _| {
    ///     let e = std::io::Error::other("listen EADDRINUSE 127.0.0.1:8080");
    ///     lp.report_unhandled("server.on_error", Box::new(e));
    /// });
    /// lp.next_tick(|_, n| *n += 1);
    /// let r = lp.run(RunMode::Default, &mut ticks);
    /// assert!(matches!(r, Err(Error::Unhandled { op: "server.on_error", .. })));
    /// assert_eq!(ticks, 0, "the second tick waits for the next run");
    /// lp.run(RunMode::Default, &mut ticks)?;
    /// assert_eq!(ticks, 1);
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn report_unhandled(
        &mut self,
        op: &'static str,
        error: Box<dyn std::error::Error + Send + Sync>,
    ) {
        if self.unhandled.is_some() {
            tracing::error!(op, error = %error, "a second unhandled error: dropped");
            return;
        }
        tracing::debug!(op, error = %error, "unhandled error");
        self.unhandled = Some(crate::Error::Unhandled { op, source: error });
    }

    #[inline(never)]
    fn poll_task_entry(&mut self, data: &mut D, index: u32, gen: u32) {
        if let Some(fns) = self.task_fns {
            (fns.poll)(self, data, index, gen);
        }
    }

    /// Drains the nextTick queue completely, then the microtask queue
    /// completely (loop-core's own, then the host's, if one is installed
    /// with [`Loop::set_host_microtasks`]), and repeats until all are
    /// empty: what Node.js does after every callback
    /// (`processTicksAndRejections`). The loop calls it after each callback
    /// it runs, [`Loop::make_callback`] after each user callback; a host
    /// calls it itself only from outside any callback, after its own entry
    /// points (the main script of a JavaScript runtime, say: Node's
    /// `InternalCallbackScope` around the main module).
    pub fn drain_ticks(&mut self, data: &mut D) {
        loop {
            while let Some(f) = self.ticks.pop_front() {
                self.record(CallbackKind::Tick, None);
                f(self, data);
                if self.unhandled.is_some() {
                    return; // the rest waits for the next `run`
                }
            }
            loop {
                while let Some(m) = self.microtasks.pop_front() {
                    self.record(CallbackKind::Microtask, None);
                    match m {
                        Micro::Job(f) => f(self, data),
                        Micro::Task { index, gen } => self.poll_task_entry(data, index, gen),
                    }
                    if self.unhandled.is_some() {
                        return;
                    }
                }
                // Wakes made since the last microtask was queued come after
                // it (`task` module).
                if !self.tasks.has_wakes() {
                    break;
                }
                self.flush_wakes();
            }
            if let Some(mut host) = self.host_microtasks.take() {
                host(self, data);
                if self.host_microtasks.is_none() {
                    self.host_microtasks = Some(host);
                }
            }
            if self.ticks.is_empty() && self.microtasks.is_empty() && !self.tasks.has_wakes() {
                break;
            }
        }
    }

    /// Installs the host's own microtask queue (a JavaScript engine's job
    /// queue: QuickJS's pending jobs, V8's microtask queue), or removes it
    /// with `None`. `run` is called in every drain right after loop-core's
    /// microtask queue, where Node.js runs V8's `runMicrotasks()`: it must
    /// run the host's queue until it is empty (jobs queued by jobs too). If
    /// it queued nextTicks meanwhile, the drain goes round again: ticks,
    /// then microtasks, as in Node.js.
    ///
    /// A host with its own queue should queue every microtask there
    /// (`queueMicrotask` and promise reactions are one FIFO in Node.js);
    /// loop-core's [`Loop::queue_microtask`] queue runs first in each round.
    ///
    /// ```
    /// use loop_core::{Loop, RunMode};
    /// use std::collections::VecDeque;
    ///
    /// // The "engine": a queue of jobs in the host's state.
    /// struct Host { jobs: VecDeque<&'static str>, out: Vec<&'static str> }
    /// let mut lp: Loop<Host> = Loop::new()?;
    /// lp.set_host_microtasks(Some(Box::new(|lp: &mut Loop<Host>, h: &mut Host| {
    ///     while let Some(job) = h.jobs.pop_front() {
    ///         h.out.push(job);
    ///         if job == "promise" {
    ///             lp.next_tick(|_, h| h.out.push("tick from promise"));
    ///         }
    ///     }
    /// })));
    /// lp.next_tick(|_, h| h.out.push("tick"));
    /// let mut h = Host { jobs: VecDeque::from(["promise", "then"]), out: vec![] };
    /// lp.run(RunMode::Default, &mut h)?;
    /// assert_eq!(h.out, ["tick", "promise", "then", "tick from promise"]);
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn set_host_microtasks(&mut self, run: Option<HostMicrotasks<D>>) {
        self.host_microtasks = run;
    }
}
