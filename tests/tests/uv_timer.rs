//! Ports of libuv's timer tests to `loop-core` (libuv `test/test-timer.c`,
//! `test-timer-again.c`, `test-timer-from-check.c`), plus three timer rules
//! libuv's tests leave implicit: a timer started inside the timers phase
//! waits for the next pass, a repeating timer is re-armed from the loop time
//! (drift, no catch-up), and a due timer stopped by an earlier callback of
//! the same pass does not fire.
//!
//! Semantics are libuv HEAD's (1.48+) for the timers phase: due timers are
//! collected first, then run, so a 0 ms restart from a callback waits one
//! pass. Every ordering test runs on a [`ManualClock`] that jumps to the next
//! timer instead of sleeping; only `timer_early_check` reads the system clock.

use loop_core::{Error, Loop, ManualClock, RunMode, TimerId};
use loop_tests::util::manual_loop;
use std::thread;
use std::time::{Duration, Instant};

// ----- test-timer.c: timer -----

#[derive(Default)]
struct TimerState {
    /// (timer index, ms since start) of each one-shot call.
    once: Vec<(u64, u64)>,
    once_closes: u32,
    /// ms since start of each repeating call.
    repeat: Vec<u64>,
    repeat_closes: u32,
}

/// `timer`: ten one-shot timers at i*50 ms close themselves (inactive in
/// their callback and in their close callback); a 100/100 ms repeating timer
/// (active in its callback) closes itself on its 5th call; a stopped,
/// unreferenced timer never fires; the run takes 500 ms.
#[test]
fn timer() {
    const START: u64 = 1_000;
    let (mut lp, clock) = manual_loop::<TimerState>(START);

    for i in 0..10 {
        let t = lp.timer_init();
        lp.timer_start(t, i * 50, 0, move |lp, st| {
            assert!(!lp.is_active(t).unwrap(), "one-shot active in its callback");
            st.once.push((i, lp.now() - START));
            lp.close_with(t, move |lp, st: &mut TimerState| {
                // As in libuv: still a handle, closing and inactive.
                assert!(!lp.is_active(t).unwrap(), "active in its close callback");
                assert!(lp.is_closing(t).unwrap());
                st.once_closes += 1;
            })
            .unwrap();
            // As libuv's test does, for coverage.
            lp.update_time();
        })
        .unwrap();
    }

    let repeat = lp.timer_init();
    lp.timer_start(repeat, 100, 100, move |lp, st| {
        assert!(
            lp.is_active(repeat).unwrap(),
            "a repeating timer stays active"
        );
        assert!(st.repeat.len() < 5, "called after its close");
        st.repeat.push(lp.now() - START);
        if st.repeat.len() == 5 {
            lp.close_with(repeat, |_, st: &mut TimerState| st.repeat_closes += 1)
                .unwrap();
        }
    })
    .unwrap();

    let never = lp.timer_init();
    lp.timer_start(never, 100, 100, |_, _| panic!("never_cb ran"))
        .unwrap();
    lp.timer_stop(never).unwrap();
    lp.unref(never).unwrap();

    let mut st = TimerState::default();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    let want_once: Vec<(u64, u64)> = (0..10).map(|i| (i, i * 50)).collect();
    assert_eq!(st.once, want_once);
    assert_eq!(st.once_closes, 10);
    assert_eq!(st.repeat, [100, 200, 300, 400, 500]);
    assert_eq!(st.repeat_closes, 1);
    assert_eq!(lp.now() - START, 500);
    assert_eq!(clock.now() - START, 500);
}

/// `timer_start_twice`: start(24 h) then start(10 ms) on the same handle:
/// it fires once, after 10 ms, and the loop ends.
#[test]
fn timer_start_twice() {
    let (mut lp, clock) = manual_loop::<u32>(0);
    let t = lp.timer_init();
    lp.timer_start(t, 86_400 * 1000, 0, |_, _| {
        panic!("the first start still fired")
    })
    .unwrap();
    lp.timer_start(t, 10, 0, |lp, calls| {
        assert_eq!(lp.now(), 10);
        *calls += 1;
    })
    .unwrap();
    let mut calls = 0;
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
    assert_eq!(clock.now(), 10);
}

/// `timer_init`: a new timer has repeat 0, due in 0, and is not active.
#[test]
fn timer_init() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let t = lp.timer_init();
    assert_eq!(lp.timer_repeat(t).unwrap(), 0);
    assert_eq!(lp.timer_due_in(t).unwrap(), 0);
    assert!(!lp.is_active(t).unwrap());
}

/// `timer_order`: two 0 ms timers fire in start order; starting them in the
/// other order swaps the firing order.
#[test]
fn timer_order() {
    let (mut lp, _clock) = manual_loop::<Vec<&'static str>>(0);
    let a = lp.timer_init();
    let b = lp.timer_init();
    let mut log = Vec::new();

    lp.timer_start(a, 0, 0, |_, log| log.push("a")).unwrap();
    lp.timer_start(b, 0, 0, |_, log| log.push("b")).unwrap();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["a", "b"]);

    lp.timer_stop(a).unwrap();
    lp.timer_stop(b).unwrap();
    log.clear();

    lp.timer_start(b, 0, 0, |_, log| log.push("b")).unwrap();
    lp.timer_start(a, 0, 0, |_, log| log.push("a")).unwrap();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["b", "a"]);
}

#[derive(Default)]
struct ZeroState {
    timer: Option<TimerId>,
    calls: u32,
}

fn zero_timeout_cb(lp: &mut Loop<ZeroState>, st: &mut ZeroState) {
    assert_eq!(st.calls, 0, "the restarted timer ran in the same pass");
    lp.timer_start(st.timer.unwrap(), 0, 0, zero_timeout_cb)
        .unwrap();
    lp.stop();
    st.calls += 1;
}

/// `timer_zero_timeout` (libuv ≥ 1.48): a callback that restarts its timer
/// with 0 ms and calls `stop` runs once: the restarted timer waits for the
/// next timers pass, and `run` returns alive because of `stop`.
#[test]
fn timer_zero_timeout() {
    let (mut lp, _clock) = manual_loop::<ZeroState>(0);
    let t = lp.timer_init();
    let mut st = ZeroState {
        timer: Some(t),
        calls: 0,
    };
    lp.timer_start(t, 0, 0, zero_timeout_cb).unwrap();
    assert!(lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.calls, 1);
    lp.close(t, None).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.calls, 1);
}

/// `timer_huge_timeout`: delays of 2^48-1 ms and `u64::MAX` are accepted;
/// a 1 ms timer closes all three and the loop ends.
#[test]
fn timer_huge_timeout() {
    let (mut lp, clock) = manual_loop::<u32>(1_000);
    let tiny = lp.timer_init();
    let huge1 = lp.timer_init();
    let huge2 = lp.timer_init();
    let close_all = move |lp: &mut Loop<u32>, calls: &mut u32| {
        *calls += 1;
        lp.close(tiny, None).unwrap();
        lp.close(huge1, None).unwrap();
        lp.close(huge2, None).unwrap();
    };
    lp.timer_start(tiny, 1, 0, close_all).unwrap();
    lp.timer_start(huge1, 0xffff_ffff_ffff, 0, close_all)
        .unwrap();
    lp.timer_start(huge2, u64::MAX, 0, close_all).unwrap();
    assert_eq!(lp.timer_due_in(tiny).unwrap(), 1);
    assert_eq!(lp.timer_due_in(huge1).unwrap(), 0xffff_ffff_ffff);
    assert_eq!(lp.timer_due_in(huge2).unwrap(), u64::MAX - lp.now());
    let mut calls = 0;
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
    assert_eq!(clock.now(), 1_001);
}

/// `timer_huge_repeat`: a 2/2 ms repeating timer and a 1 ms timer with
/// repeat `u64::MAX`: the first call is the 1 ms timer, the next nine are
/// the 2 ms one; then both are closed.
#[test]
fn timer_huge_repeat() {
    let (mut lp, _clock) = manual_loop::<Vec<(&'static str, u64)>>(0);
    let tiny = lp.timer_init();
    let huge = lp.timer_init();
    let cb = move |name: &'static str| {
        move |lp: &mut Loop<Vec<(&'static str, u64)>>, calls: &mut Vec<(&'static str, u64)>| {
            assert!(calls.len() < 10, "called after the close");
            calls.push((name, lp.now()));
            if calls.len() == 10 {
                lp.close(tiny, None).unwrap();
                lp.close(huge, None).unwrap();
            }
        }
    };
    lp.timer_start(tiny, 2, 2, cb("tiny")).unwrap();
    lp.timer_start(huge, 1, u64::MAX, cb("huge")).unwrap();
    let mut calls = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    let mut want = vec![("huge", 1)];
    want.extend((1..=9).map(|i| ("tiny", 2 * i)));
    assert_eq!(calls, want);
}

/// `timer_run_once`: a 0 ms timer runs in one `run(Once)`, which returns
/// false; a 1 ms timer makes one `run(Once)` wait for it; after close, one
/// `run(Once)` returns false.
#[test]
fn timer_run_once() {
    let (mut lp, clock) = manual_loop::<u32>(0);
    let t = lp.timer_init();
    let mut calls = 0;
    lp.timer_start(t, 0, 0, |_, calls| *calls += 1).unwrap();
    assert!(!lp.run(RunMode::Once, &mut calls).unwrap());
    assert_eq!(calls, 1);

    lp.timer_start(t, 1, 0, |_, calls| *calls += 1).unwrap();
    assert!(!lp.run(RunMode::Once, &mut calls).unwrap());
    assert_eq!(calls, 2);
    assert_eq!(clock.now(), 1);

    lp.close(t, None).unwrap();
    assert!(!lp.run(RunMode::Once, &mut calls).unwrap());
    assert_eq!(calls, 2);
}

#[derive(Default)]
struct AgainState {
    repeat_1: Vec<u64>,
    repeat_2: Vec<u64>,
    repeat_2_allowed: bool,
    closes: u32,
}

/// `timer_again`: `again` on a never-started timer is an error;
/// `set_repeat(50)` after a one-shot start makes it repeat; a 100 ms
/// repeating timer that the first one re-arms with `again` every 50 ms never
/// fires until the re-arming stops; `set_repeat(0)` inside its callback
/// takes effect only after the next expiry (10 and 2 calls, at the times
/// below).
#[test]
fn timer_again() {
    const START: u64 = 1_000;
    let (mut lp, _clock) = manual_loop::<AgainState>(START);

    let dummy = lp.timer_init();
    let r = lp.timer_again(dummy);
    assert!(matches!(r, Err(Error::InvalidArgument { .. })), "{r:?}");
    lp.unref(dummy).unwrap();

    let repeat_1 = lp.timer_init();
    let repeat_2 = lp.timer_init();
    lp.timer_start(repeat_1, 50, 0, move |lp, st| {
        assert_eq!(lp.timer_repeat(repeat_1).unwrap(), 50);
        assert!(st.repeat_1.len() < 10, "repeat_1 called after its close");
        st.repeat_1.push(lp.now() - START);
        lp.timer_again(repeat_2).unwrap();
        if st.repeat_1.len() == 10 {
            lp.close_with(repeat_1, |_, st: &mut AgainState| st.closes += 1)
                .unwrap();
            // repeat_2 is not re-armed any more: it may fire now.
            st.repeat_2_allowed = true;
        }
    })
    .unwrap();
    assert_eq!(lp.timer_repeat(repeat_1).unwrap(), 0);
    lp.timer_set_repeat(repeat_1, 50).unwrap();
    assert_eq!(lp.timer_repeat(repeat_1).unwrap(), 50);

    lp.timer_start(repeat_2, 100, 100, move |lp, st| {
        assert!(st.repeat_2_allowed, "repeat_2 fired while being re-armed");
        assert!(st.repeat_2.len() < 2, "repeat_2 called after its close");
        st.repeat_2.push(lp.now() - START);
        if lp.timer_repeat(repeat_2).unwrap() == 0 {
            assert!(!lp.is_active(repeat_2).unwrap());
            lp.close_with(repeat_2, |_, st: &mut AgainState| st.closes += 1)
                .unwrap();
            return;
        }
        assert_eq!(lp.timer_repeat(repeat_2).unwrap(), 100);
        // Takes effect only after the next expiry.
        lp.timer_set_repeat(repeat_2, 0).unwrap();
        assert!(lp.is_active(repeat_2).unwrap());
    })
    .unwrap();
    assert_eq!(lp.timer_repeat(repeat_2).unwrap(), 100);

    let mut st = AgainState::default();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    let want_1: Vec<u64> = (1..=10).map(|i| i * 50).collect();
    assert_eq!(st.repeat_1, want_1);
    assert_eq!(st.repeat_2, [600, 700]);
    assert_eq!(st.closes, 2);
    assert_eq!(lp.now() - START, 700);
}

/// `timer_is_closing`: starting a closing timer is an error.
#[test]
fn timer_is_closing() {
    let mut lp: Loop<u32> = Loop::new().unwrap();
    let t = lp.timer_init();
    lp.close_with(t, |_, closes| *closes += 1).unwrap();
    let r = lp.timer_start(t, 100, 100, |_, _| panic!("a closing timer ran"));
    assert!(matches!(r, Err(Error::Closing { .. })), "{r:?}");
    assert!(!lp.is_active(t).unwrap());
    let mut closes = 0;
    assert!(!lp.run(RunMode::Default, &mut closes).unwrap());
    assert_eq!(closes, 1);
}

/// Shared by the two `timer_no_double_call_*` tests: a 10/10 ms timer, 20 ms
/// pass before the loop runs once in `mode`: one call, not two.
fn no_double_call(mode: RunMode) {
    let clock = ManualClock::new(0);
    let mut lp: Loop<u32> = Loop::builder().manual_clock(clock.clone()).build().unwrap();
    let t = lp.timer_init();
    lp.timer_start(t, 10, 10, |_, calls| {
        assert_eq!(*calls, 0, "called twice in one run");
        *calls += 1;
    })
    .unwrap();
    clock.advance(20);
    let mut calls = 0;
    assert!(lp.run(mode, &mut calls).unwrap());
    assert_eq!(calls, 1);
}

/// `timer_no_double_call_once`.
#[test]
fn timer_no_double_call_once() {
    no_double_call(RunMode::Once);
}

/// `timer_no_double_call_nowait`.
#[test]
fn timer_no_double_call_nowait() {
    no_double_call(RunMode::NoWait);
}

/// `timer_no_run_on_unref`: an unreferenced due 0 ms timer: `run` returns
/// false at once and the callback never runs.
#[test]
fn timer_no_run_on_unref() {
    let (mut lp, _clock) = manual_loop::<()>(0);
    let t = lp.timer_init();
    lp.timer_start(t, 0, 0, |_, _| panic!("an unreferenced timer ran"))
        .unwrap();
    lp.unref(t).unwrap();
    assert!(!lp.run(RunMode::Default, &mut ()).unwrap());
}

#[derive(Default)]
struct FromCheck {
    log: Vec<(&'static str, u64)>,
}

/// `timer_from_check`: a check callback restarts a 50 ms timer and starts
/// a prepare handle: the prepare runs (in the next iteration) before the
/// timer; each callback runs once.
#[test]
fn timer_from_check() {
    let (mut lp, _clock) = manual_loop::<FromCheck>(0);
    let prepare = lp.prepare_init();
    let check = lp.check_init();
    let timer = lp.timer_init();

    fn timer_cb(timer: TimerId) -> impl FnMut(&mut Loop<FromCheck>, &mut FromCheck) {
        move |lp, st| {
            lp.timer_stop(timer).unwrap();
            assert_eq!(
                st.log.len(),
                2,
                "timer before check or prepare: {:?}",
                st.log
            );
            st.log.push(("timer", lp.now()));
        }
    }

    lp.check_start(check, move |lp, st| {
        assert!(st.log.is_empty(), "check ran twice or after the timer");
        lp.check_stop(check).unwrap();
        lp.timer_stop(timer).unwrap();
        lp.timer_start(timer, 50, 0, timer_cb(timer)).unwrap();
        lp.prepare_start(prepare, move |lp, st| {
            lp.prepare_stop(prepare).unwrap();
            assert_eq!(
                st.log.len(),
                1,
                "prepare ran before check or after the timer"
            );
            st.log.push(("prepare", lp.now()));
        })
        .unwrap();
        st.log.push(("check", lp.now()));
    })
    .unwrap();
    lp.timer_start(timer, 50, 0, timer_cb(timer)).unwrap();

    let mut st = FromCheck::default();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.log, [("check", 50), ("prepare", 50), ("timer", 100)]);

    lp.close(prepare, None).unwrap();
    lp.close(check, None).unwrap();
    lp.close(timer, None).unwrap();
    assert!(!lp.run(RunMode::Once, &mut st).unwrap());
}

/// `timer_early_check`: a 10 ms timer never fires before the loop time at
/// its start plus 10 ms, measured on the system's monotonic clock.
///
/// libuv compares absolute times (`uv_now` and `uv_hrtime` share a base);
/// here loop time 0 is the loop clock's whole-millisecond reading when the
/// loop was built, which can be up to 2 ms before the build (truncation,
/// plus at most 1 ms of resolution if the loop reads a coarse clock). A
/// reference taken 3 ms before the build is therefore never after loop time
/// 0, and the timer must not fire before reference + loop time at start +
/// 10 ms.
#[test]
fn timer_early_check() {
    const TIMEOUT: u64 = 10;
    let origin = Instant::now();
    thread::sleep(Duration::from_millis(3));
    let mut lp: Loop<u32> = Loop::new().unwrap();
    // Let the cached loop time go stale: the timer counts from it.
    thread::sleep(Duration::from_millis(3));
    let expected = Duration::from_millis(lp.now() + TIMEOUT);
    let t = lp.timer_init();
    lp.timer_start(t, TIMEOUT, 0, move |_, calls| {
        let elapsed = origin.elapsed();
        assert!(
            elapsed >= expected,
            "fired early: {elapsed:?} < {expected:?}"
        );
        *calls += 1;
    })
    .unwrap();
    let mut calls = 0;
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
}

// ----- timers phase rules -----

/// A timer started (0 ms) from a timer callback does not run in the same
/// timers pass: the next iteration's check phase comes first.
#[test]
fn timer_started_in_timers_phase_waits_for_next_pass() {
    let (mut lp, _clock) = manual_loop::<Vec<&'static str>>(0);
    let check = lp.check_init();
    lp.check_start(check, |_, log| log.push("check")).unwrap();
    let a = lp.timer_init();
    let b = lp.timer_init();
    lp.timer_start(a, 0, 0, move |lp, log| {
        log.push("a");
        lp.timer_start(b, 0, 0, move |lp, log| {
            log.push("b");
            lp.close(check, None).unwrap();
        })
        .unwrap();
    })
    .unwrap();
    let mut log = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["a", "check", "b"]);
}

/// A repeating timer is re-armed from the loop time before its callback:
/// late by 15 ms, it fires once (no catch-up) and its next expiry is one
/// repeat after the late call (drift).
#[test]
fn repeating_timer_rearms_from_now() {
    let clock = ManualClock::new(0);
    let mut lp: Loop<Vec<u64>> = Loop::builder().manual_clock(clock.clone()).build().unwrap();
    let t = lp.timer_init();
    lp.timer_start(t, 10, 10, move |lp, fired| {
        assert!(lp.is_active(t).unwrap(), "re-armed before its callback");
        assert_eq!(lp.timer_due_in(t).unwrap(), 10, "re-armed from now");
        fired.push(lp.now());
    })
    .unwrap();
    let mut fired = Vec::new();

    clock.advance(25);
    assert!(lp.run(RunMode::NoWait, &mut fired).unwrap());
    assert_eq!(fired, [25]);
    assert_eq!(lp.timer_due_in(t).unwrap(), 10);

    clock.advance(9);
    assert!(lp.run(RunMode::NoWait, &mut fired).unwrap());
    assert_eq!(fired, [25], "fired before 25 + 10");

    clock.advance(1);
    assert!(lp.run(RunMode::NoWait, &mut fired).unwrap());
    assert_eq!(fired, [25, 35]);
}

/// A due timer stopped by an earlier callback of the same timers pass does
/// not fire.
#[test]
fn stopping_a_due_timer_in_the_same_pass_prevents_it() {
    let (mut lp, _clock) = manual_loop::<Vec<&'static str>>(0);
    let a = lp.timer_init();
    let b = lp.timer_init();
    lp.timer_start(a, 0, 0, move |lp, log| {
        log.push("a");
        lp.timer_stop(b).unwrap();
    })
    .unwrap();
    lp.timer_start(b, 0, 0, |_, _| panic!("b was stopped before its turn"))
        .unwrap();
    let mut log = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["a"]);
    assert!(!lp.is_active(b).unwrap());
}
