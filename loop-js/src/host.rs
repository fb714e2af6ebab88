//! The loop's state `D` for a JavaScript runtime, and every way into
//! JavaScript.
//!
//! # Invariants
//!
//! - The engine (`Runtime`, `Context`) lives in [`Host`], the loop's state:
//!   a loop callback is given `&mut Host` and enters JavaScript through
//!   `Host::enter`, which publishes the loop to the native functions
//!   ([`LP`]) for exactly the duration of the call.
//! - JavaScript is entered through one function, the bootstrap's entry
//!   point (`entry(kind, id, a, b)` in `js/bootstrap.js`); the JS side
//!   catches its own exceptions and reports uncaught ones itself (printing,
//!   `'exit'` handlers, `natives.fatal`), so `enter` only sees an exception
//!   when reporting one failed.
//! - QuickJS's job queue (promise reactions and `queueMicrotask`) runs only
//!   from the loop's drain ([`Host::run_jobs`], installed with
//!   `Loop::set_host_microtasks`), i.e. after the nextTick queue, as V8's
//!   `runMicrotasks()` runs in Node.js. Unhandled rejections are processed
//!   after it once the nextTick queue is empty (`processPromiseRejections`).
//! - Once `Shared::fatal` is set nothing more runs but the `'exit'`
//!   handlers the JS side already ran; the loop is stopped.

use crate::natives;
use crate::output::Output;
use crate::Error;
use loop_core::{Immediate, Loop, RunMode, Timeout};
use rquickjs::context::EvalOptions;
use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};
use scoped_tls_hkt::scoped_thread_local;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

scoped_thread_local!(
    /// The running loop, while JavaScript runs (see the module's invariants).
    pub(crate) static mut LP: Loop<Host>
);

/// What `entry` is asked to do (the JS side's `K_*` constants).
pub(crate) mod kind {
    /// Run the segment of `process.nextTick` callbacks at the FIFO's head;
    /// `id` 1: nothing is queued behind its loop-core tick.
    pub const TICK: u32 = 0;
    /// Run timer `id` (a timeout or an interval).
    pub const TIMER: u32 = 1;
    /// Run immediate `id`.
    pub const IMMEDIATE: u32 = 2;
    /// `processPromiseRejections()`; returns whether it did anything.
    pub const REJECTIONS: u32 = 3;
    /// Emit `'beforeExit'`.
    pub const BEFORE_EXIT: u32 = 4;
    /// Emit `'exit'`; returns the exit code.
    pub const EXIT: u32 = 5;
    /// The rejection tracker: `id` 1 = handled later, 0 = rejected unhandled.
    pub const TRACK: u32 = 6;
    /// Report `a` as an uncaught exception.
    pub const UNCAUGHT: u32 = 7;
    /// Run the main module, source `a`.
    pub const MAIN: u32 = 8;
    /// Complete fs request `id` with `a` = `[error, value]`.
    pub const FS: u32 = 9;
    /// Net event `a` = `[event, ...args]` for server or socket `id`.
    pub const NET: u32 = 10;
    /// Signal `id` was delivered.
    pub const SIGNAL: u32 = 11;
}

/// The bootstrap, evaluated once: an expression whose value is a function
/// taking the natives and the process facts, returning `entry`.
const BOOTSTRAP: &str = concat!(
    "(function (natives, argv, env, execPath) {\n'use strict';\n",
    include_str!("js/inspect.js"),
    include_str!("js/events.js"),
    include_str!("js/bootstrap.js"),
    include_str!("js/buffer.js"),
    include_str!("js/fs.js"),
    include_str!("js/net.js"),
    include_str!("js/main.js"),
    "\n})"
);

/// State the native functions share with the host.
pub(crate) struct Shared {
    pub(crate) out: Output,
    /// An uncaught exception or `process.exit` ended the script.
    pub(crate) fatal: Cell<bool>,
    /// The exit code once `fatal` is set.
    pub(crate) code: Cell<i32>,
    /// JS timer ids to the loop's timeouts (pending or, for intervals, kept).
    pub(crate) timers: RefCell<HashMap<u32, Timeout>>,
    /// JS immediate ids to the loop's immediates still queued.
    pub(crate) immediates: RefCell<HashMap<u32, Immediate>>,
    /// JS file descriptors (raw fds) to loop-fs's descriptors, until closed.
    pub(crate) fds: RefCell<HashMap<i32, loop_fs::fs::Fd>>,
    /// JS server ids to loop-net servers.
    pub(crate) servers: RefCell<HashMap<u32, loop_net::Server>>,
    /// JS socket ids to loop-net sockets, until their `'close'`.
    pub(crate) sockets: RefCell<HashMap<u32, loop_net::Socket>>,
    /// Signal numbers to their watchers (`process.on('SIGINT')`).
    pub(crate) signals: RefCell<HashMap<i32, loop_core::SignalId>>,
    /// The last server or socket id handed out.
    pub(crate) net_ids: Cell<u32>,
    /// The tracker saw an unhandled rejection not yet processed.
    pub(crate) rejections: Cell<bool>,
    /// The bootstrap's entry point, for the rejection tracker.
    pub(crate) entry: RefCell<Option<Persistent<Function<'static>>>>,
    /// `performance.now()`'s and `process.hrtime()`'s origin.
    pub(crate) start: Instant,
}

impl Shared {
    /// A fresh id for a server or socket (JS ids are never reused).
    pub(crate) fn next_net_id(&self) -> u32 {
        let id = self.net_ids.get().wrapping_add(1);
        self.net_ids.set(id);
        id
    }
}

/// The loop's state: the engine and the table of JS timers.
pub struct Host {
    // Drop order matters: the saved function, then the context, then the
    // runtime (QuickJS asserts that no object outlives its runtime).
    entry: Persistent<Function<'static>>,
    ctx: Context,
    rt: Runtime,
    pub(crate) shared: Rc<Shared>,
}

impl Host {
    /// Calls `entry(kind, id, a)` with the loop published; returns the
    /// number it returned (a boolean as 0/1, anything else as 0).
    pub(crate) fn enter(&mut self, lp: &mut Loop<Host>, kind: u32, id: u32) -> i32 {
        self.enter_with(lp, kind, id, None)
    }

    fn enter_with(&mut self, lp: &mut Loop<Host>, kind: u32, id: u32, arg: Option<&str>) -> i32 {
        if self.shared.fatal.get() {
            return 0;
        }
        let shared = self.shared.clone();
        let entry = self.entry.clone();
        let r = LP.set(lp, || {
            self.ctx.with(|ctx| {
                let f = match entry.restore(&ctx) {
                    Ok(f) => f,
                    Err(e) => return report_failure(&ctx, &shared, e),
                };
                let r = match arg {
                    Some(s) => f.call::<_, Value>((kind, id, s)),
                    None => f.call::<_, Value>((kind, id)),
                };
                match r {
                    Ok(v) => as_code(&v),
                    Err(e) => report_failure(&ctx, &shared, e),
                }
            })
        });
        if self.shared.fatal.get() {
            lp.stop();
        }
        r
    }

    /// Calls `entry(kind, id, a)` with `a` built inside the context (an
    /// fs result, say).
    pub(crate) fn enter_value(
        &mut self,
        lp: &mut Loop<Host>,
        kind: u32,
        id: u32,
        arg: impl for<'js> FnOnce(&Ctx<'js>, &Shared) -> rquickjs::Result<Value<'js>>,
    ) {
        if self.shared.fatal.get() {
            return;
        }
        let shared = self.shared.clone();
        let entry = self.entry.clone();
        LP.set(lp, || {
            self.ctx.with(|ctx| {
                let r = entry.restore(&ctx).and_then(|f| {
                    let a = arg(&ctx, &shared)?;
                    f.call::<_, Value>((kind, id, a))
                });
                if let Err(e) = r {
                    report_failure(&ctx, &shared, e);
                }
            })
        });
        if self.shared.fatal.get() {
            lp.stop();
        }
    }

    /// The host microtask runner (`Loop::set_host_microtasks`): runs
    /// QuickJS's jobs until none is pending, then, if no tick is queued,
    /// processes unhandled rejections (which may queue more of both).
    pub(crate) fn run_jobs(&mut self, lp: &mut Loop<Host>) {
        loop {
            if self.shared.fatal.get() {
                return;
            }
            if self.rt.is_job_pending() {
                let (rt, shared, entry) = (&self.rt, &self.shared, &self.entry);
                LP.set(lp, || {
                    while !shared.fatal.get() {
                        match rt.execute_pending_job() {
                            Ok(true) => {}
                            Ok(false) => break,
                            Err(ex) => ex.0.with(|ctx| {
                                let e = ctx.catch();
                                report_uncaught(&ctx, shared, entry, e);
                            }),
                        }
                    }
                });
            }
            if self.shared.fatal.get() {
                lp.stop();
                return;
            }
            if lp.queued_ticks().0 > 0 || !self.shared.rejections.get() {
                return;
            }
            self.shared.rejections.set(false);
            let did = self.enter(lp, kind::REJECTIONS, 0);
            if did == 0 && !self.rt.is_job_pending() {
                return;
            }
        }
    }
}

/// A JS return value as an exit code or flag.
fn as_code(v: &Value) -> i32 {
    if let Some(b) = v.as_bool() {
        return i32::from(b);
    }
    if let Some(i) = v.as_int() {
        return i;
    }
    v.as_float().map(|f| f as i32).unwrap_or(0)
}

/// Hands `e` to the JS side's uncaught-exception path.
fn report_uncaught<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    entry: &Persistent<Function<'static>>,
    e: Value<'js>,
) {
    let r = entry
        .clone()
        .restore(ctx)
        .and_then(|f| f.call::<_, Value>((kind::UNCAUGHT, 0, e)));
    if let Err(err) = r {
        report_failure(ctx, shared, err);
    }
}

/// The JS side failed to report an error itself: print what we have and
/// end the script with exit code 7 (Node's "internal exception handler
/// run-time failure").
fn report_failure(ctx: &Ctx<'_>, shared: &Shared, e: rquickjs::Error) -> i32 {
    let text = match e {
        rquickjs::Error::Exception => {
            let v = ctx.catch();
            describe(&v)
        }
        other => other.to_string(),
    };
    shared.out.write(2, &format!("{text}\n"));
    shared.code.set(7);
    shared.fatal.set(true);
    0
}

/// A thrown value as text, without calling back into the JS side.
fn describe(v: &Value<'_>) -> String {
    if let Some(o) = v.as_object() {
        let msg: String = o.get("message").unwrap_or_default();
        let stack: String = o.get("stack").unwrap_or_default();
        return format!("Error: {msg}\n{stack}");
    }
    v.as_string()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| format!("{v:?}"))
}

fn setup(what: &str) -> impl Fn(rquickjs::Error) -> Error + '_ {
    move |e| Error::Setup(format!("{what}: {e}"))
}

/// Runs a main module; see [`crate::run_file`].
pub(crate) fn run(source: &str, argv: Vec<String>) -> Result<i32, Error> {
    let rt = Runtime::new().map_err(setup("runtime"))?;
    // Deep recursion throws RangeError instead of overflowing our stack.
    rt.set_max_stack_size(4 * 1024 * 1024);
    let ctx = Context::full(&rt).map_err(setup("context"))?;
    let shared = Rc::new(Shared {
        out: Output::default(),
        fatal: Cell::new(false),
        code: Cell::new(0),
        timers: RefCell::new(HashMap::new()),
        immediates: RefCell::new(HashMap::new()),
        fds: RefCell::new(HashMap::new()),
        servers: RefCell::new(HashMap::new()),
        sockets: RefCell::new(HashMap::new()),
        signals: RefCell::new(HashMap::new()),
        net_ids: Cell::new(0),
        rejections: Cell::new(false),
        entry: RefCell::new(None),
        start: Instant::now(),
    });
    let exec_path = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "loop-js".to_string());
    let entry = ctx.with(|ctx| -> Result<Persistent<Function<'static>>, Error> {
        let n = natives::install(&ctx, shared.clone()).map_err(setup("natives"))?;
        let mut opts = EvalOptions::default();
        opts.global = true;
        opts.strict = false;
        opts.filename = Some("node:internal/bootstrap".to_string());
        let boot: Function = ctx
            .eval_with_options(BOOTSTRAP, opts)
            .map_err(|e| Error::Setup(format!("bootstrap: {}", caught(&ctx, e))))?;
        let env = Object::new(ctx.clone()).map_err(setup("env"))?;
        for (k, v) in std::env::vars_os() {
            if let (Some(k), Some(v)) = (k.to_str(), v.to_str()) {
                env.set(k, v).map_err(setup("env"))?;
            }
        }
        let entry: Function = boot
            .call((n, argv, env, exec_path))
            .map_err(|e| Error::Setup(format!("bootstrap: {}", caught(&ctx, e))))?;
        Ok(Persistent::save(&ctx, entry))
    })?;
    *shared.entry.borrow_mut() = Some(entry.clone());
    let tracker_shared = shared.clone();
    rt.set_host_promise_rejection_tracker(Some(Box::new(move |ctx, promise, reason, handled| {
        if !handled {
            tracker_shared.rejections.set(true);
        }
        let Some(entry) = tracker_shared.entry.borrow().clone() else {
            return;
        };
        let r = entry
            .restore(&ctx)
            .and_then(|f| f.call::<_, Value>((kind::TRACK, u32::from(handled), promise, reason)));
        if let Err(e) = r {
            report_failure(&ctx, &tracker_shared, e);
        }
    })));

    let mut lp: Loop<Host> = Loop::new().map_err(|e| Error::Setup(format!("loop: {e}")))?;
    let mut host = Host {
        entry,
        ctx,
        rt,
        shared: shared.clone(),
    };
    lp.set_host_microtasks(Some(Box::new(|lp, h: &mut Host| h.run_jobs(lp))));
    // stdout goes out whenever the loop is about to block.
    let flush = lp.prepare_init();
    let hidden = lp
        .prepare_start(flush, |_, h: &mut Host| h.shared.out.flush())
        .and_then(|()| lp.unref(flush))
        .and_then(|()| lp.set_internal(flush, true));
    hidden.map_err(|e| Error::Setup(format!("prepare handle: {e}")))?;

    let code = main_module(&mut lp, &mut host, source);
    shared.out.flush();
    // Release the engine's references before the runtime goes: the
    // tracker's copy of the entry point, then the loop's callbacks (which
    // hold ids only), then the host.
    *shared.entry.borrow_mut() = None;
    drop(lp);
    drop(host);
    code
}

/// The main module, then the loop, `'beforeExit'`, `'exit'`: Node's
/// `SpinEventLoop` and `EmitProcessExit`.
fn main_module(lp: &mut Loop<Host>, host: &mut Host, source: &str) -> Result<i32, Error> {
    host.enter_with(lp, kind::MAIN, 0, Some(source));
    // A host entry point, not a loop callback: the main module runs before
    // `run`, outside any callback, so nothing else drains after it. This is
    // Node's InternalCallbackScope around the main module, the one place
    // docs/embedding.md says a host calls `drain_ticks` itself.
    if !host.shared.fatal.get() {
        lp.drain_ticks(host);
    }
    loop {
        if host.shared.fatal.get() {
            return Ok(host.shared.code.get());
        }
        lp.run(RunMode::Default, host)
            .map_err(|e| Error::Setup(format!("loop: {e}")))?;
        if host.shared.fatal.get() {
            return Ok(host.shared.code.get());
        }
        lp.make_callback(host, "beforeExit", |lp, h| {
            h.enter(lp, kind::BEFORE_EXIT, 0)
        });
        if !lp.is_alive() {
            break;
        }
    }
    if host.shared.fatal.get() {
        return Ok(host.shared.code.get());
    }
    // Node emits 'exit' through MakeCallback: ticks are refused by then
    // (`process._exiting`), but promise jobs still run.
    let code = lp
        .make_callback(host, "exit", |lp, h| h.enter(lp, kind::EXIT, 0))
        .unwrap_or(0);
    if host.shared.fatal.get() {
        return Ok(host.shared.code.get());
    }
    Ok(code)
}

/// The text of a setup error, with the pending exception if there is one.
fn caught(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    match e {
        rquickjs::Error::Exception => describe(&ctx.catch()),
        other => other.to_string(),
    }
}
