//! The Node.js layer through the public API: the classic nextTick examples
//! with their exact Node.js v20 output, and the ordering rules one by one.
//!
//! Timer tests run on a manual clock: where the Node.js version of a test
//! spins (`busy`) to make a timer due, these advance the clock instead, so
//! nothing here sleeps or races.

use loop_core::{CallbackKind, Loop, ManualClock, Phase, RunMode};
use std::panic::{catch_unwind, AssertUnwindSafe};

type Log = Vec<String>;

fn manual() -> (Loop<Log>, ManualClock) {
    loop_tests::util::manual_loop(0)
}

fn log(out: &mut Log, s: &str) {
    out.push(s.to_string());
}

/// Article example A (`article-example-a` in the public cases).
#[test]
fn classic_example_a() {
    let (mut lp, clock) = manual();
    let mut out = Log::new();
    lp.set_timeout(0, |lp, out| {
        lp.queue_microtask(|lp, out| {
            log(out, "promise resolve in timeout");
            lp.next_tick(|_, out| log(out, "tick task in timeout promise"));
        });
        lp.next_tick(|lp, out| {
            log(out, "tick task in timeout");
            lp.next_tick(|_, out| log(out, "tick task in timeout->tick"));
        });
        log(out, "timer task");
    });
    lp.set_immediate(|lp, out| {
        lp.next_tick(|_, out| log(out, "imeediate->tick task"));
        log(out, "immediate task");
    });
    lp.queue_microtask(|_, out| log(out, "promise resolve"));
    lp.next_tick(|_, out| log(out, "tick task"));
    log(&mut out, "run main thread");
    clock.advance(5); // Node's `busy 5`: the timeout is due before the check phase
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(
        out,
        [
            "run main thread",
            "tick task",
            "promise resolve",
            "timer task",
            "tick task in timeout",
            "tick task in timeout->tick",
            "promise resolve in timeout",
            "tick task in timeout promise",
            "immediate task",
            "imeediate->tick task",
        ]
    );
}

/// Article example B: five timeouts, three immediates, nested nextTick.
#[test]
fn classic_example_b() {
    let (mut lp, clock) = manual();
    let mut out = Log::new();
    for i in 1..=3 {
        lp.set_immediate(move |_, out| log(out, &format!("this is set immediate {i}")));
    }
    lp.set_timeout(0, |_, out| log(out, "this is set timeout 1"));
    lp.set_timeout(0, |lp, out| {
        log(out, "this is set timeout 2");
        lp.next_tick(|_, out| log(out, "this is process.nextTick added inside setTimeout"));
    });
    for i in 3..=5 {
        lp.set_timeout(0, move |_, out| {
            log(out, &format!("this is set timeout {i}"))
        });
    }
    lp.next_tick(|_, out| log(out, "this is process.nextTick 1"));
    lp.next_tick(|lp, _| {
        lp.next_tick(|_, out| log(out, "this is the inner next tick inside next tick"))
    });
    for i in 2..=4 {
        lp.next_tick(move |_, out| log(out, &format!("this is process.nextTick {i}")));
    }
    clock.advance(5);
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(
        out,
        [
            "this is process.nextTick 1",
            "this is process.nextTick 2",
            "this is process.nextTick 3",
            "this is process.nextTick 4",
            "this is the inner next tick inside next tick",
            "this is set timeout 1",
            "this is set timeout 2",
            "this is process.nextTick added inside setTimeout",
            "this is set timeout 3",
            "this is set timeout 4",
            "this is set timeout 5",
            "this is set immediate 1",
            "this is set immediate 2",
            "this is set immediate 3",
        ]
    );
}

#[test]
fn ticks_starve_microtasks_until_empty() {
    let (mut lp, _) = manual();
    let mut out = Log::new();
    lp.queue_microtask(|lp, out| {
        log(out, "micro 1");
        lp.next_tick(|_, out| log(out, "tick from micro"));
        lp.queue_microtask(|_, out| log(out, "micro 2"));
    });
    lp.next_tick(|lp, out| {
        log(out, "tick 1");
        lp.next_tick(|_, out| log(out, "tick 2 (nested)"));
    });
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(
        out,
        [
            "tick 1",
            "tick 2 (nested)",
            "micro 1",
            "micro 2",
            "tick from micro"
        ]
    );
}

#[test]
fn timeout_zero_is_one_ms() {
    let clock = ManualClock::new(0);
    let mut lp: Loop<Log> = Loop::builder()
        .manual_clock(clock.clone())
        .build()
        .expect("loop");
    let mut out = Log::new();
    lp.set_timeout(0, |_, out| log(out, "fired"));
    assert!(
        lp.run(RunMode::NoWait, &mut out).expect("run"),
        "still alive"
    );
    assert!(out.is_empty(), "not due at 0 ms");
    clock.advance(1);
    assert!(!lp.run(RunMode::NoWait, &mut out).expect("run"));
    assert_eq!(out, ["fired"]);
}

#[test]
fn timeout_over_max_runs_as_one_ms() {
    let clock = ManualClock::new(0);
    let mut lp: Loop<Log> = Loop::builder()
        .manual_clock(clock.clone())
        .build()
        .expect("loop");
    let mut out = Log::new();
    lp.set_timeout(1 << 31, |_, out| log(out, "fired"));
    clock.advance(1);
    lp.run(RunMode::NoWait, &mut out).expect("run");
    assert_eq!(out, ["fired"]);
}

/// Inside an I/O callback (here an async wake-up, dispatched in poll), an
/// immediate runs before any timer, however the clock stands.
#[test]
fn immediate_before_timeout_inside_io_callback() {
    let mut lp: Loop<Log> = Loop::new().expect("loop");
    let mut out = Log::new();
    let h = lp
        .async_init(|lp, out| {
            log(out, "io");
            lp.set_timeout(0, |_, out| log(out, "timeout"));
            lp.set_immediate(|_, out| log(out, "immediate"));
        })
        .expect("async");
    lp.async_send(h).expect("send");
    lp.run(RunMode::Once, &mut out).expect("run");
    lp.close(h, None).expect("close");
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["io", "immediate", "timeout"]);
}

#[test]
fn immediate_queued_in_check_waits_for_next_iteration() {
    let (mut lp, _) = manual();
    lp.set_trace(true);
    let mut out = Log::new();
    lp.set_immediate(|lp, out| {
        log(out, "first");
        lp.set_immediate(|_, out| log(out, "queued from check"));
    });
    lp.set_immediate(|_, out| log(out, "second"));
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["first", "second", "queued from check"]);
    let imm: Vec<_> = lp
        .take_trace()
        .into_iter()
        .filter(|e| e.kind == CallbackKind::Immediate)
        .map(|e| (e.phase, e.iteration))
        .collect();
    assert_eq!(
        imm,
        [(Phase::Check, 1), (Phase::Check, 1), (Phase::Check, 2)]
    );
}

#[test]
fn interval_repeats_until_cleared_from_its_callback() {
    let (mut lp, _) = manual();
    let mut out = Log::new();
    let mut n = 0;
    lp.set_interval(10, move |lp, out, me| {
        n += 1;
        out.push(format!("run {n} at {}", lp.now()));
        if n == 3 {
            assert!(lp.clear_interval(me));
        }
    });
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["run 1 at 10", "run 2 at 20", "run 3 at 30"]);
}

#[test]
fn refresh_restarts_the_delay() {
    let (mut lp, clock) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout(50, |lp, out| out.push(format!("fired at {}", lp.now())));
    clock.advance(30);
    assert!(lp.timeout_refresh(t));
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["fired at 80"]);
    assert!(!lp.timeout_refresh(t), "a fired timeout is stale");
    assert!(!lp.timeout_is_pending(t));
}

// The refreshable timeout, against what Node.js v20 prints for the same
// JavaScript (in each test's comment; times are the loop's, virtual here).

/// `t = setTimeout(log, 50); setTimeout(() => t.refresh(), 100);
/// setTimeout(log, 120)` prints `A fired`, `refresh true`, `mid`, `A fired`.
#[test]
fn refreshable_timeout_fires_again_after_refresh() {
    let (mut lp, _clock) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout_refreshable(50, |lp, out, _| {
        out.push(format!("A fired at {}", lp.now()));
    });
    lp.set_timeout(100, move |lp, out| {
        out.push(format!("refresh at {} {}", lp.now(), lp.timeout_has_ref(t)));
        assert!(!lp.timeout_is_pending(t), "fired: not pending");
        assert!(lp.timeout_refresh(t));
        assert!(lp.timeout_is_pending(t), "armed again");
    });
    lp.set_timeout(120, |lp, out| out.push(format!("mid at {}", lp.now())));
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(
        out,
        [
            "A fired at 50",
            "refresh at 100 true",
            "mid at 120",
            "A fired at 150"
        ]
    );
    // Fired again and kept: the loop ended anyway (it keeps nothing alive).
    assert!(!lp.timeout_is_pending(t));
    assert!(!lp.clear_timeout(t), "not pending: nothing cleared");
    assert!(!lp.timeout_refresh(t), "released: stale");
}

/// A plain `set_timeout` cannot be refreshed from its own callback (its
/// `FnOnce` is spent; Node.js would run it again): `false`, and nothing
/// is left armed to keep the loop alive.
#[test]
fn plain_timeout_refresh_from_its_own_callback_is_refused() {
    let (mut lp, _clock) = manual();
    let mut out = Log::new();
    let me = std::rc::Rc::new(std::cell::Cell::new(None));
    let me2 = me.clone();
    let t = lp.set_timeout(20, move |lp, out| {
        let t = me2.get().expect("set below");
        out.push(format!("fired, refresh: {}", lp.timeout_refresh(t)));
    });
    me.set(Some(t));
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["fired, refresh: false"]);
    assert_eq!(lp.now(), 20, "nothing re-armed: the loop ended at once");
}

/// `n = 0; t = setTimeout(() => { n++; log(n); if (n < 3) t.refresh() }, 20)`
/// prints 1, 2, 3.
#[test]
fn refreshable_timeout_refreshed_from_its_own_callback() {
    let (mut lp, _clock) = manual();
    let mut out = Log::new();
    let mut n = 0;
    lp.set_timeout_refreshable(20, move |lp, out, me| {
        n += 1;
        out.push(format!("B {n} at {}", lp.now()));
        if n < 3 {
            lp.timeout_refresh(me);
        }
    });
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["B 1 at 20", "B 2 at 40", "B 3 at 60"]);
}

/// `t = setTimeout(log, 10); t.unref(); setTimeout(() => t.refresh(), 30)`
/// prints `C fired`, `refresh unrefd`: the refreshed timeout is still
/// unreferenced and the loop ends.
#[test]
fn refreshed_unrefd_timeout_does_not_keep_the_loop_alive() {
    let (mut lp, _clock) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout_refreshable(10, |_, out, _| log(out, "C fired"));
    lp.timeout_unref(t);
    lp.set_timeout(30, move |lp, out| {
        log(out, "refresh unrefd");
        lp.timeout_refresh(t);
    });
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["C fired", "refresh unrefd"]);
    assert!(lp.timeout_is_pending(t), "armed, but nothing waited for it");
}

/// `clearTimeout(t); t.refresh()` after it fired prints nothing more.
#[test]
fn cleared_refreshable_timeout_cannot_be_refreshed() {
    let (mut lp, _clock) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout_refreshable(10, |_, out, _| log(out, "D fired"));
    lp.set_timeout(30, move |lp, out| {
        lp.clear_timeout(t);
        assert!(!lp.timeout_refresh(t));
        log(out, "cleared then refreshed");
    });
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["D fired", "cleared then refreshed"]);
}

/// `t.refresh(); t.unref()` at 30 with a timer at 60 keeping the loop
/// alive: the timeout fires again at 40, before `keepalive`.
#[test]
fn refreshed_then_unrefd_timeout_runs_while_the_loop_lives() {
    let (mut lp, _clock) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout_refreshable(10, |lp, out, _| {
        out.push(format!("E fired at {}", lp.now()));
    });
    lp.set_timeout(30, move |lp, out| {
        lp.timeout_refresh(t);
        lp.timeout_unref(t);
        log(out, "refreshed then unref");
    });
    lp.set_timeout(60, |_, out| log(out, "keepalive"));
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(
        out,
        [
            "E fired at 10",
            "refreshed then unref",
            "E fired at 40",
            "keepalive"
        ]
    );
}

#[test]
fn unrefd_timeout_alone_lets_the_loop_exit() {
    let (mut lp, clock) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout(100, |_, out| log(out, "never"));
    lp.timeout_unref(t);
    assert!(!lp.timeout_has_ref(t));
    assert!(!lp.is_alive());
    assert!(!lp.run(RunMode::Default, &mut out).expect("run"));
    assert!(out.is_empty());
    assert_eq!(clock.now(), 0, "the loop did not wait for it");
    lp.timeout_ref(t);
    assert!(lp.is_alive());
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["never"]);
}

#[test]
fn clear_is_a_noop_on_stale_ids() {
    let (mut lp, _) = manual();
    let mut out = Log::new();
    let t = lp.set_timeout(1, |_, out| log(out, "t"));
    let i = lp.set_immediate(|_, out| log(out, "i"));
    lp.run(RunMode::Default, &mut out).expect("run");
    assert!(!lp.clear_timeout(t));
    assert!(!lp.clear_immediate(i));
    lp.timeout_unref(t);
    lp.immediate_unref(i);
    assert!(!lp.is_alive());
    assert_eq!(out, ["i", "t"]);
}

#[test]
fn panic_in_a_timeout_propagates_and_the_rest_still_run() {
    let (mut lp, _) = manual();
    let mut out = Log::new();
    lp.set_timeout(5, |_, out| log(out, "a"));
    lp.set_timeout(5, |_, _| panic!("boom"));
    lp.set_timeout(5, |_, out| log(out, "c"));
    lp.set_immediate(|_, out| log(out, "immediate"));
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut out)));
    let msg = r.expect_err("the panic comes out of run");
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(out, ["immediate", "a"]);
    lp.run(RunMode::Default, &mut out)
        .expect("usable after a panic");
    assert_eq!(out, ["immediate", "a", "c"]);
    assert!(!lp.is_alive());
}

#[test]
fn panic_in_an_immediate_keeps_the_rest_of_the_batch_first() {
    let (mut lp, _) = manual();
    let mut out = Log::new();
    lp.set_immediate(|_, _| panic!("boom"));
    lp.set_immediate(|lp, out| {
        log(out, "second");
        lp.set_immediate(|_, out| log(out, "queued later"));
    });
    assert!(catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut out))).is_err());
    assert!(out.is_empty());
    lp.run(RunMode::Default, &mut out)
        .expect("usable after a panic");
    assert_eq!(out, ["second", "queued later"]);
}

#[test]
fn panic_in_a_tick_propagates_and_later_ticks_survive() {
    let (mut lp, _) = manual();
    let mut out = Log::new();
    lp.next_tick(|_, _| panic!("tick"));
    lp.next_tick(|_, out| log(out, "after"));
    assert!(catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut out))).is_err());
    lp.run(RunMode::Default, &mut out).expect("usable");
    assert_eq!(out, ["after"]);
}

#[test]
fn callbacks_are_traced_in_their_phases() {
    let (mut lp, clock) = manual();
    lp.set_trace(true);
    let mut out = Log::new();
    let h = lp
        .async_init(|lp, _| {
            lp.set_immediate(|_, _| {});
        })
        .expect("async");
    lp.async_send(h).expect("send");
    lp.set_timeout(1, |_, _| {});
    lp.next_tick(|_, _| {});
    clock.advance(1);
    // `Once` runs timers only at the end of its iteration (libuv >= 1.45).
    lp.run(RunMode::Once, &mut out).expect("run");
    lp.close_with(h, |_, _| {}).expect("close");
    lp.run(RunMode::Default, &mut out).expect("run");
    let got: Vec<_> = lp
        .take_trace()
        .into_iter()
        .filter(|e| !matches!(e.kind, CallbackKind::Handle(k) if k == loop_core::HandleKind::Timer || k == loop_core::HandleKind::Check))
        .map(|e| (e.phase, e.kind))
        .collect();
    use loop_core::HandleKind::Async;
    assert_eq!(
        got,
        [
            (Phase::Main, CallbackKind::Tick),
            (Phase::Poll, CallbackKind::Handle(Async)),
            (Phase::Check, CallbackKind::Immediate),
            (Phase::Timers, CallbackKind::Timeout),
            (Phase::Close, CallbackKind::Close(Async)),
        ]
    );
}

/// The example of docs/embedding.md: a minute of virtual time, no sleep.
#[test]
fn virtual_time_runs_a_minute_timer_at_once() {
    let (mut lp, clock) = loop_tests::util::manual_loop::<Vec<u64>>(0);
    lp.set_timeout(60_000, |lp, out| out.push(lp.now()));
    let mut out = Vec::new();
    let wall = std::time::Instant::now();
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, [60_000]);
    assert_eq!(clock.now(), 60_000);
    assert!(
        wall.elapsed() < std::time::Duration::from_secs(30),
        "it did not sleep a minute"
    );
}
