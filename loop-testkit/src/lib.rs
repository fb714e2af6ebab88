//! `loop-testkit`: the one test kit of the workspace. Every crate's tests
//! take their watchdog, manual-clock loop, run-to-end, ordered log and
//! trace assertions from here, so a hang, an ordering failure or a panic
//! reads the same in every suite.
//!
//! ```
//! use loop_testkit::{run_to_end, watchdog, Log};
//!
//! let mut lp: loop_core::Loop<Log> = loop_core::Loop::new()?;
//! watchdog(&mut lp, 10_000);
//! lp.set_immediate(|_, log| log.push("immediate"));
//! lp.next_tick(|_, log| log.push("tick"));
//! let mut log = Log::default();
//! run_to_end(&mut lp, &mut log);
//! log.assert_eq(["tick", "immediate"]);
//! # Ok::<(), loop_core::Error>(())
//! ```
//!
//! # Contents
//!
//! - [`watchdog`]: an unreferenced loop timer that fails the test if the
//!   loop is still running after a bound (a hang becomes a failure);
//! - [`HangGuard`]: the same for code outside a loop (a peer thread, a
//!   child process), on the wall clock, aborting with a message;
//! - [`manual_loop`]: a loop on an auto-advancing manual clock (timer
//!   tests never sleep);
//! - [`run_to_end`]: runs a loop in `Default` mode and asserts it ended;
//! - [`Log`]: an ordered record of what ran, with [`Log::assert_eq`];
//! - [`trace_of`] / [`assert_trace`]: the loop's phase trace as
//!   (phase, callback kind) pairs;
//! - [`StderrSubscriber`]: a `tracing` subscriber printing INFO and above.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use loop_core::{CallbackKind, Loop, ManualClock, Phase, RunMode, TraceEvent};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default bound of [`run_to_end`]'s watchdog, in ms of loop time.
pub const RUN_BOUND_MS: u64 = 30_000;

/// How much slower than usual the tests run: `LOOP_TEST_TIME_SCALE`
/// (a whole number, 1 by default). `scripts/check-deep.sh` sets it for
/// the suites it runs under valgrind, which is some 30 times slower, so
/// that a watchdog bound by wall time does not fire on a healthy test.
pub fn time_scale() -> u64 {
    std::env::var("LOOP_TEST_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// An unreferenced timer that fails the test if the loop still runs after
/// `ms` ms of loop time (times [`time_scale`]): it never keeps the loop
/// alive by itself, and it is internal, so it does not show in
/// `Loop::handles()` (a test may assert that nothing is left there).
pub fn watchdog<D>(lp: &mut Loop<D>, ms: u64) {
    let ms = ms.saturating_mul(time_scale());
    let t = lp.add_timer(ms, 0, move |_, _| {
        panic!("watchdog: the loop still runs after {ms} ms")
    });
    lp.unref(t).expect("a timer made just above");
    lp.set_internal(t, true).expect("a timer made just above");
}

/// A loop on a manual clock reading `start_ms` that jumps to the next timer
/// whenever the loop would sleep for it: timer tests never sleep.
pub fn manual_loop<D>(start_ms: u64) -> (Loop<D>, ManualClock) {
    let clock = ManualClock::new(start_ms);
    clock.set_auto_advance(true);
    let lp = Loop::builder()
        .manual_clock(clock.clone())
        .build()
        .expect("a loop (epoll_create)");
    (lp, clock)
}

/// Runs `lp` in `Default` mode under a [`watchdog`] of [`RUN_BOUND_MS`],
/// and asserts that `run` succeeded and the loop is no longer alive.
pub fn run_to_end<D>(lp: &mut Loop<D>, data: &mut D) {
    watchdog(lp, RUN_BOUND_MS);
    let alive = lp.run(RunMode::Default, data).expect("run");
    assert!(!alive, "run returned with the loop still alive");
}

/// A wall-clock guard for waits outside a loop (a std peer thread, a
/// child process): if it is still armed after the bound, it prints what
/// was being waited for and aborts the test process. Dropping it disarms.
pub struct HangGuard {
    armed: Arc<AtomicBool>,
}

impl HangGuard {
    /// Arms a guard for `what`, `bound` (times [`time_scale`]) from now.
    pub fn new(what: impl Into<String>, bound: Duration) -> HangGuard {
        let bound = bound.saturating_mul(time_scale() as u32);
        let armed = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&armed);
        let what = what.into();
        std::thread::spawn(move || {
            let end = Instant::now() + bound;
            while Instant::now() < end {
                if !flag.load(Ordering::Acquire) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if flag.load(Ordering::Acquire) {
                eprintln!("hang guard: still waiting for {what} after {bound:?}");
                std::process::abort();
            }
        });
        HangGuard { armed }
    }
}

impl Drop for HangGuard {
    fn drop(&mut self) {
        self.armed.store(false, Ordering::Release);
    }
}

/// An ordered record of what ran: use it as the loop's state (`Loop<Log>`)
/// or inside it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Log(pub Vec<String>);

impl Log {
    /// Appends one entry.
    pub fn push(&mut self, entry: impl Into<String>) {
        self.0.push(entry.into());
    }

    /// The entries so far.
    pub fn entries(&self) -> &[String] {
        &self.0
    }

    /// Takes the entries, leaving the log empty.
    pub fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.0)
    }

    /// Asserts that the log holds exactly `want`, in order; the message
    /// shows both sequences and the first index where they differ.
    #[track_caller]
    pub fn assert_eq<S: AsRef<str>>(&self, want: impl IntoIterator<Item = S>) {
        let want: Vec<String> = want.into_iter().map(|s| s.as_ref().to_string()).collect();
        if self.0 != want {
            let at = self
                .0
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap_or(self.0.len().min(want.len()));
            panic!(
                "order differs at index {at}\n   got: {:?}\n  want: {:?}",
                self.0, want
            );
        }
    }
}

impl fmt::Display for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// The (phase, kind) pairs of a trace, in order.
pub fn trace_of(trace: &[TraceEvent]) -> Vec<(Phase, CallbackKind)> {
    trace.iter().map(|e| (e.phase, e.kind)).collect()
}

/// Asserts that the trace, once `keep` has filtered it, is exactly `want`.
#[track_caller]
pub fn assert_trace(
    trace: &[TraceEvent],
    keep: impl Fn(&TraceEvent) -> bool,
    want: &[(Phase, CallbackKind)],
) {
    let got: Vec<(Phase, CallbackKind)> = trace
        .iter()
        .filter(|e| keep(e))
        .map(|e| (e.phase, e.kind))
        .collect();
    assert_eq!(got, want, "trace differs");
}

/// A `tracing` subscriber that prints events at INFO and above to stderr
/// (what a real application's subscriber would show); install it with
/// `tracing::subscriber::set_default`.
pub struct StderrSubscriber;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn fmt::Debug) {
        use std::fmt::Write as _;
        if f.name() == "message" {
            let _ = write!(self.0, "{v:?} ");
        } else {
            let _ = write!(self.0, "{}={v:?} ", f.name());
        }
    }
}

impl tracing::Subscriber for StderrSubscriber {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        *m.level() <= tracing::Level::INFO
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut f = Fields(String::new());
        e.record(&mut f);
        eprintln!(
            "{} {}: {}",
            e.metadata().level(),
            e.metadata().target(),
            f.0
        );
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
