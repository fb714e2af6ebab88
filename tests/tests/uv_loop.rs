//! Ports of libuv's loop tests to `loop-core`: run modes, liveness, `stop`,
//! time, `uv_walk`, `uv_is_active`, the `ref` family and close ordering
//! (libuv `test/test-run-once.c`, `test-run-nowait.c`, `test-loop-alive.c`,
//! `test-loop-stop.c`, `test-loop-time.c`, `test-walk-handles.c`,
//! `test-active.c`, `test-ref.c`, `test-close-order.c`), plus the rules
//! `loop-core` adds on top of libuv: misuse of a handle is an error rather
//! than an assertion, a panic in a callback leaves the loop usable, and `run`
//! cannot be re-entered.
//!
//! The behaviour is libuv 1.46's (the libuv of Node.js v20): timers run at
//! the end of an iteration (and once before the first in `Default` mode),
//! close callbacks run in reverse `close` order. Timer-driven tests use a
//! [`ManualClock`] so they never sleep.

use loop_core::{ActiveRequest, AsyncId, Error, HandleId, HandleKind, Loop, RunMode};
use loop_tests::util::{manual_loop, watchdog};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

// ----- run modes -----

/// `run_once`: an idle handle stops itself on its 64th call; each
/// `run(Once)` is one iteration, and `while run(Once) {}` terminates.
#[test]
fn run_once() {
    const NUM_TICKS: u32 = 64;
    let mut lp: Loop<u32> = Loop::new().unwrap();
    let idle = lp.idle_init();
    lp.idle_start(idle, move |lp, calls| {
        *calls += 1;
        if *calls == NUM_TICKS {
            lp.idle_stop(idle).unwrap();
        }
    })
    .unwrap();

    let mut calls = 0;
    let mut runs = 1;
    while lp.run(RunMode::Once, &mut calls).unwrap() {
        assert_eq!(calls, runs, "one idle callback per Once run");
        assert!(runs < NUM_TICKS, "run(Once) keeps returning true");
        runs += 1;
    }
    assert_eq!(calls, NUM_TICKS);
    assert_eq!(runs, NUM_TICKS);
    assert!(!lp.is_alive());
}

/// `run_nowait`: with a 100 ms repeating timer, one `run(NoWait)` returns
/// alive without waiting and without calling the timer.
#[test]
fn run_nowait() {
    let (mut lp, clock) = manual_loop::<u32>(0);
    let t = lp.timer_init();
    lp.timer_start(t, 100, 100, |_, called| *called += 1)
        .unwrap();
    let mut called = 0;
    assert!(lp.run(RunMode::NoWait, &mut called).unwrap());
    assert_eq!(called, 0);
    assert_eq!(clock.now(), 0, "NoWait never waits, even on virtual time");
    assert!(lp.is_active(t).unwrap());
}

// ----- liveness -----

#[derive(Default)]
struct AliveState {
    timer_calls: u32,
    async_id: Option<AsyncId>,
    req: Option<ActiveRequest>,
    after_work_calls: u32,
}

/// `loop_alive`: a new loop is not alive; a started timer makes it alive
/// until it ran; an active request alone (completed through an unreferenced
/// async handle, as libuv's thread pool does) keeps it alive until done.
#[test]
fn loop_alive() {
    let (mut lp, _clock) = manual_loop::<AliveState>(0);
    let mut st = AliveState::default();
    assert!(!lp.is_alive());

    // Loops with handles are alive.
    let t = lp.timer_init();
    lp.timer_start(t, 100, 0, |_, st: &mut AliveState| st.timer_calls += 1)
        .unwrap();
    assert!(lp.is_alive());
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, 1);
    assert!(!lp.is_alive());

    // Loops with requests are alive.
    let work_done = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&work_done);
    let a = lp
        .async_init(move |lp, st: &mut AliveState| {
            assert!(seen.load(Ordering::SeqCst), "after_work runs after work");
            st.after_work_calls += 1;
            lp.req_done(st.req.take().expect("the request is still active"));
            lp.close(st.async_id.unwrap(), None).unwrap();
        })
        .unwrap();
    lp.unref(a).unwrap();
    st.async_id = Some(a);
    assert!(
        !lp.is_alive(),
        "an unreferenced async handle does not count"
    );
    st.req = Some(lp.req_start());
    assert!(lp.is_alive(), "an active request keeps the loop alive");

    let sender = lp.async_sender(a).unwrap();
    let worker = thread::spawn(move || {
        work_done.store(true, Ordering::SeqCst);
        sender.send().unwrap();
    });
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    worker.join().expect("worker thread");
    assert_eq!(st.after_work_calls, 1);
    assert_eq!(lp.active_requests(), 0);
    assert!(!lp.is_alive());
}

#[derive(Default)]
struct StopState {
    prepare_calls: u32,
    timer_calls: u32,
}

/// `loop_stop`: `stop` from the first call of a 100 ms repeating timer ends
/// that `Default` run; a `NoWait` run still works; a final `Default` run
/// finishes the job (10 timer and 10 prepare calls).
#[test]
fn loop_stop() {
    const NUM_TICKS: u32 = 10;
    let (mut lp, _clock) = manual_loop::<StopState>(0);
    let p = lp.prepare_init();
    lp.prepare_start(p, move |lp, st| {
        assert!(st.prepare_calls < NUM_TICKS, "prepare ran after its stop");
        st.prepare_calls += 1;
        if st.prepare_calls == NUM_TICKS {
            lp.prepare_stop(p).unwrap();
        }
    })
    .unwrap();
    let t = lp.timer_init();
    lp.timer_start(t, 100, 100, move |lp, st| {
        assert!(st.timer_calls < NUM_TICKS, "timer ran after its stop");
        st.timer_calls += 1;
        if st.timer_calls == 1 {
            lp.stop();
        } else if st.timer_calls == NUM_TICKS {
            lp.timer_stop(t).unwrap();
        }
    })
    .unwrap();

    let mut st = StopState::default();
    assert!(lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, 1);
    assert_eq!(st.prepare_calls, 1);

    assert!(lp.run(RunMode::NoWait, &mut st).unwrap());
    assert!(st.prepare_calls > 1);

    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NUM_TICKS);
    assert_eq!(st.prepare_calls, NUM_TICKS);
}

/// `loop_stop_before_run`: `stop` before `run` makes it return at once
/// (still alive), without running a due timer.
#[test]
fn loop_stop_before_run() {
    let (mut lp, _clock) = manual_loop::<()>(0);
    let t = lp.timer_init();
    lp.timer_start(t, 0, 0, |_, _| panic!("the loop was stopped before run"))
        .unwrap();
    lp.stop();
    assert!(lp.run(RunMode::Default, &mut ()).unwrap());
    assert!(lp.is_active(t).unwrap());
}

/// The stop flag is cleared when `run` returns: the next `run` works.
#[test]
fn stop_is_cleared_when_run_returns() {
    let (mut lp, _clock) = manual_loop::<u32>(0);
    let t = lp.timer_init();
    lp.timer_start(t, 0, 0, |_, calls| *calls += 1).unwrap();
    lp.stop();
    let mut calls = 0;
    assert!(lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 0);
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
}

// ----- time -----

/// `loop_update_time`: on an empty loop, `run(NoWait)` returns false and
/// still refreshes `now()` (libuv waits 1000 ms; 20 are enough here).
#[test]
fn loop_update_time() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let start = lp.now();
    let deadline = Instant::now() + Duration::from_secs(5);
    while lp.now() - start < 20 {
        assert!(!lp.run(RunMode::NoWait, &mut ()).unwrap());
        assert!(
            Instant::now() < deadline,
            "run(NoWait) does not update the loop time"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// `loop_backend_timeout`: an empty loop (even with an unstarted timer) has
/// a poll timeout of 0; a started 1000 ms timer makes it exactly 1000; after
/// the run it is 0 again.
#[test]
fn loop_backend_timeout() {
    let (mut lp, clock) = manual_loop::<u32>(0);
    let mut calls = 0;
    assert!(!lp.run(RunMode::NoWait, &mut calls).unwrap());
    assert!(!lp.is_alive());

    let t = lp.timer_init();
    assert!(!lp.is_alive());
    assert_eq!(lp.backend_timeout(), Some(0));

    lp.timer_start(t, 1000, 0, |_, calls| *calls += 1).unwrap();
    assert_eq!(lp.backend_timeout(), Some(1000));

    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
    assert_eq!(clock.now(), 1000);
    assert_eq!(lp.backend_timeout(), Some(0));
}

// ----- walk, active -----

/// `walk_handles`: from a timer callback, `handles()` shows exactly the
/// user's timer (the Node.js layer's internal handles are hidden); after
/// close and run it shows nothing.
#[test]
fn walk_handles() {
    let (mut lp, _clock) = manual_loop::<u32>(0);
    // Creates the Node.js layer's internal check and idle handles.
    lp.set_immediate(|_, _| {});
    let t = lp.timer_init();
    lp.timer_start(t, 1, 0, move |lp, seen| {
        let hs = lp.handles();
        assert_eq!(hs.len(), 1, "only the user's timer is walked: {hs:?}");
        assert_eq!(hs[0].id, t.id());
        assert_eq!(hs[0].kind, HandleKind::Timer);
        assert!(!hs[0].closing);
        *seen += 1;
        lp.close(t, None).unwrap();
    })
    .unwrap();
    let mut seen = 0;
    assert!(!lp.run(RunMode::Default, &mut seen).unwrap());
    assert_eq!(seen, 1);
    assert!(lp.handles().is_empty(), "{:?}", lp.handles());
}

/// `active`: `is_active` is false after init, true after start, false after
/// stop, false once closing (`is_closing` true); one close callback.
#[test]
fn active() {
    let mut lp: Loop<u32> = Loop::new().unwrap();
    let t = lp.timer_init();
    assert!(!lp.is_active(t).unwrap());
    assert!(!lp.is_closing(t).unwrap());

    lp.timer_start(t, 1000, 0, |_, _| panic!("never due"))
        .unwrap();
    assert!(lp.is_active(t).unwrap());
    assert!(!lp.is_closing(t).unwrap());

    lp.timer_stop(t).unwrap();
    assert!(!lp.is_active(t).unwrap());
    assert!(!lp.is_closing(t).unwrap());

    lp.timer_start(t, 1000, 0, |_, _| panic!("never due"))
        .unwrap();
    assert!(lp.is_active(t).unwrap());
    assert!(!lp.is_closing(t).unwrap());

    lp.close_with(t, |_, closes| *closes += 1).unwrap();
    assert!(!lp.is_active(t).unwrap());
    assert!(lp.is_closing(t).unwrap());

    let mut closes = 0;
    assert!(!lp.run(RunMode::Default, &mut closes).unwrap());
    assert_eq!(closes, 1);
}

// ----- the ref family -----

#[derive(Default)]
struct RefState {
    close_calls: u32,
}

/// libuv's `do_close`: the close callback is not called synchronously and
/// runs exactly once in the next `run`, which then ends.
fn do_close(lp: &mut Loop<RefState>, h: impl Into<HandleId>) {
    let mut st = RefState::default();
    lp.close_with(h, |_, st: &mut RefState| st.close_calls += 1)
        .unwrap();
    assert_eq!(st.close_calls, 0, "close callbacks are never synchronous");
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.close_calls, 1);
}

fn fail_cb(_: &mut Loop<RefState>, _: &mut RefState) {
    panic!("the callback of an unreferenced handle ran");
}

/// `ref`: an empty loop's `run` returns at once.
#[test]
fn ref_empty_loop() {
    let mut lp: Loop<RefState> = Loop::new().unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
}

/// `has_ref`: handles start referenced; `unref`/`ref_handle` toggle it.
#[test]
fn has_ref() {
    let mut lp: Loop<RefState> = Loop::new().unwrap();
    let h = lp.idle_init();
    assert!(lp.has_ref(h).unwrap());
    lp.unref(h).unwrap();
    assert!(!lp.has_ref(h).unwrap());
    lp.ref_handle(h).unwrap();
    assert!(lp.has_ref(h).unwrap());
}

/// `idle_ref`: an unreferenced started idle handle does not keep the loop
/// alive.
#[test]
fn idle_ref() {
    let (mut lp, _clock) = manual_loop::<RefState>(0);
    let h = lp.idle_init();
    lp.idle_start(h, fail_cb).unwrap();
    lp.unref(h).unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
    do_close(&mut lp, h);
}

/// `prepare_ref`: same for a prepare handle.
#[test]
fn prepare_ref() {
    let (mut lp, _clock) = manual_loop::<RefState>(0);
    let h = lp.prepare_init();
    lp.prepare_start(h, fail_cb).unwrap();
    lp.unref(h).unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
    do_close(&mut lp, h);
}

/// `check_ref`: same for a check handle.
#[test]
fn check_ref() {
    let (mut lp, _clock) = manual_loop::<RefState>(0);
    let h = lp.check_init();
    lp.check_start(h, fail_cb).unwrap();
    lp.unref(h).unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
    do_close(&mut lp, h);
}

/// `async_ref`: an unreferenced async handle does not keep the loop alive.
#[test]
fn async_ref() {
    let (mut lp, _clock) = manual_loop::<RefState>(0);
    let h = lp.async_init(fail_cb).unwrap();
    lp.unref(h).unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
    do_close(&mut lp, h);
}

/// `timer_ref`: an unreferenced, never started timer.
#[test]
fn timer_ref() {
    let (mut lp, _clock) = manual_loop::<RefState>(0);
    let h = lp.timer_init();
    lp.unref(h).unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
    do_close(&mut lp, h);
}

/// `timer_ref2`: an unreferenced started 42/42 ms timer never fires.
#[test]
fn timer_ref2() {
    let (mut lp, clock) = manual_loop::<RefState>(0);
    let h = lp.timer_init();
    lp.timer_start(h, 42, 42, fail_cb).unwrap();
    lp.unref(h).unwrap();
    assert!(!lp.run(RunMode::Default, &mut RefState::default()).unwrap());
    assert_eq!(clock.now(), 0, "the loop did not wait for the timer");
    do_close(&mut lp, h);
}

/// `unref_in_prepare_cb`: a prepare callback unreferences its own handle;
/// the loop exits after that iteration.
#[test]
fn unref_in_prepare_cb() {
    let (mut lp, _clock) = manual_loop::<u32>(0);
    watchdog(&mut lp, 10_000);
    let h = lp.prepare_init();
    lp.prepare_start(h, move |lp, calls| {
        *calls += 1;
        assert_eq!(*calls, 1, "the loop goes on after the unref");
        lp.unref(h).unwrap();
    })
    .unwrap();
    let mut calls = 0;
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
}

// ----- close -----

/// `close_order`: a 0 ms timer closes itself; the check callback runs once,
/// after the timer callback and before any close callback, and closes itself
/// and a 100 s timer; the three close callbacks run in reverse close order.
#[test]
fn close_order() {
    let (mut lp, _clock) = manual_loop::<Vec<String>>(0);
    let check = lp.check_init();
    let timer1 = lp.timer_init();
    let timer2 = lp.timer_init();
    lp.check_start(check, move |lp, log| {
        assert_eq!(
            log,
            &["timer1"],
            "check runs once, after the timer and before any close callback"
        );
        log.push("check".into());
        lp.close_with(check, |_, log: &mut Vec<String>| {
            log.push("close check".into())
        })
        .unwrap();
        lp.close_with(timer2, |_, log: &mut Vec<String>| {
            log.push("close timer2".into())
        })
        .unwrap();
    })
    .unwrap();
    lp.timer_start(timer1, 0, 0, move |lp, log| {
        log.push("timer1".into());
        lp.close_with(timer1, |_, log: &mut Vec<String>| {
            log.push("close timer1".into())
        })
        .unwrap();
    })
    .unwrap();
    lp.timer_start(timer2, 100_000, 0, |_, _| {
        panic!("timer2 is closed before it is due")
    })
    .unwrap();

    let mut log = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(
        log,
        [
            "timer1",
            "check",
            "close timer2",
            "close check",
            "close timer1"
        ]
    );
}

/// Closing a handle twice is an error, not a panic (libuv asserts): while
/// it is closing, and after its close callback ran. The second close does
/// not add or replace a close callback.
#[test]
fn closing_twice_is_an_error() {
    let mut lp: Loop<u32> = Loop::new().unwrap();
    let t = lp.timer_init();
    lp.close_with(t, |_, closes| *closes += 1).unwrap();
    let again = lp.close_with(t, |_, _| panic!("second close callback"));
    assert!(
        matches!(again, Err(Error::Closing { .. })),
        "close of a closing handle: {again:?}"
    );
    let mut closes = 0;
    assert!(!lp.run(RunMode::Default, &mut closes).unwrap());
    assert_eq!(closes, 1);
    let after = lp.close(t, None);
    assert!(
        matches!(after, Err(Error::InvalidHandle { .. })),
        "close of a closed handle: {after:?}"
    );
}

/// Using a handle after its close callback ran is an error, even once its
/// slot is reused by a new handle, which the stale id cannot touch.
#[test]
fn using_a_closed_handle_is_an_error() {
    let (mut lp, _clock) = manual_loop::<u32>(0);
    let old = lp.timer_init();
    lp.close(old, None).unwrap();
    assert!(!lp.run(RunMode::Default, &mut 0).unwrap());

    let new = lp.timer_init();
    lp.timer_start(new, 10, 0, |_, calls| *calls += 1).unwrap();

    let start = lp.timer_start(old, 0, 0, |_, _| panic!("stale timer ran"));
    assert!(
        matches!(start, Err(Error::InvalidHandle { .. })),
        "{start:?}"
    );
    assert!(matches!(
        lp.timer_stop(old),
        Err(Error::InvalidHandle { .. })
    ));
    assert!(matches!(
        lp.is_active(old),
        Err(Error::InvalidHandle { .. })
    ));
    assert!(matches!(lp.unref(old), Err(Error::InvalidHandle { .. })));
    assert!(matches!(
        lp.close(old, None),
        Err(Error::InvalidHandle { .. })
    ));

    assert!(lp.is_active(new).unwrap(), "the new handle is untouched");
    assert!(lp.has_ref(new).unwrap());
    let mut calls = 0;
    assert!(!lp.run(RunMode::Default, &mut calls).unwrap());
    assert_eq!(calls, 1);
}

/// Close callbacks run in reverse order of `close`.
#[test]
fn close_callbacks_run_in_reverse_close_order() {
    let mut lp: Loop<Vec<usize>> = Loop::new().unwrap();
    let hs = [lp.idle_init(), lp.idle_init(), lp.idle_init()];
    for (i, &h) in hs.iter().enumerate() {
        lp.idle_start(h, |_, _| {}).unwrap();
        lp.close_with(h, move |_, order: &mut Vec<usize>| order.push(i))
            .unwrap();
    }
    let mut order = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut order).unwrap());
    assert_eq!(order, [2, 1, 0]);
}

/// A handle closed from a close callback gets its close callback in the
/// next iteration, not in the same close phase.
#[test]
fn close_in_close_callback_waits_one_iteration() {
    let mut lp: Loop<Vec<&'static str>> = Loop::new().unwrap();
    let iteration = lp.prepare_init();
    lp.prepare_start(iteration, |_, log| log.push("prepare"))
        .unwrap();
    lp.unref(iteration).unwrap();
    let a = lp.timer_init();
    let b = lp.idle_init();
    lp.close_with(a, move |lp, log| {
        log.push("close a");
        lp.close_with(b, |_, log: &mut Vec<&'static str>| log.push("close b"))
            .unwrap();
    })
    .unwrap();
    let mut log = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["prepare", "close a", "prepare", "close b"]);
}

// ----- panics and re-entrance -----

#[derive(Default)]
struct PanicState {
    log: Vec<&'static str>,
    panicked: bool,
}

/// A panic in a timer callback propagates out of `run`; the timers still
/// due afterwards fire in the next `run`, and the one that panicked does not
/// fire again.
#[test]
fn panic_in_timer_callback_propagates_and_loop_stays_usable() {
    let (mut lp, _clock) = manual_loop::<PanicState>(0);
    for name in ["t0", "t1", "t2"] {
        let t = lp.timer_init();
        lp.timer_start(t, 0, 0, move |_, st| {
            st.log.push(name);
            if name == "t1" && !st.panicked {
                st.panicked = true;
                panic!("boom in t1");
            }
        })
        .unwrap();
    }
    let mut st = PanicState::default();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut st)));
    let payload = r.expect_err("the panic propagates out of run");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in t1"));
    assert_eq!(st.log, ["t0", "t1"]);
    assert!(lp.is_alive(), "t2 is still due");

    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.log, ["t0", "t1", "t2"]);
}

/// A panic in an idle callback propagates out of `run`; the idle handles
/// that had not run yet in that pass run in the next `run`.
#[test]
fn panic_in_idle_callback_propagates_and_loop_stays_usable() {
    let mut lp: Loop<PanicState> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    // Started i0, i1, i2: they run i2, i1, i0. Each stops itself, except
    // i1 the first time, which panics first.
    for name in ["i0", "i1", "i2"] {
        let h = lp.idle_init();
        lp.idle_start(h, move |lp, st| {
            st.log.push(name);
            if name == "i1" && !st.panicked {
                st.panicked = true;
                panic!("boom in i1");
            }
            lp.idle_stop(h).unwrap();
        })
        .unwrap();
    }
    let mut st = PanicState::default();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut st)));
    let payload = r.expect_err("the panic propagates out of run");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in i1"));
    assert_eq!(st.log, ["i2", "i1"]);
    assert!(lp.is_alive(), "i1 and i0 are still active");

    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.log, ["i2", "i1", "i1", "i0"]);
}

/// `run` called from inside a callback of the same loop is
/// `Error::Reentrant`, in every mode, and leaves the outer run intact.
#[test]
fn run_from_inside_a_callback_is_reentrant_error() {
    let (mut lp, _clock) = manual_loop::<u32>(0);
    let t = lp.timer_init();
    lp.timer_start(t, 0, 0, |lp, checked| {
        for mode in [RunMode::Default, RunMode::Once, RunMode::NoWait] {
            let r = lp.run(mode, checked);
            assert!(matches!(r, Err(Error::Reentrant)), "{mode:?}: {r:?}");
        }
        *checked += 1;
    })
    .unwrap();
    let mut checked = 0;
    assert!(!lp.run(RunMode::Default, &mut checked).unwrap());
    assert_eq!(checked, 1);
    // The loop is not left marked as running.
    lp.timer_start(t, 0, 0, |_, checked| *checked += 1).unwrap();
    assert!(!lp.run(RunMode::Default, &mut checked).unwrap());
    assert_eq!(checked, 2);
}

/// Regression (found by `panic_safety.rs`): with only the async waker
/// registered, a non-blocking poll skips `epoll_wait`; it must still move an
/// auto-advancing manual clock to the next timer, or the loop spins for ever
/// at the same time.
#[test]
fn auto_advance_jumps_to_the_timer_with_only_the_waker_registered() {
    let (mut lp, clock) = manual_loop::<Vec<u64>>(0);
    let a = lp.async_init(|_, _| {}).unwrap();
    lp.unref(a).unwrap();
    lp.set_timeout(50, |lp, out| out.push(lp.now()));
    let mut out = Vec::new();
    for _ in 0..10 {
        if !lp.run(RunMode::Once, &mut out).unwrap() {
            break;
        }
    }
    assert_eq!(out, [50], "the timeout ran at 50 ms of virtual time");
    assert_eq!(clock.now(), 50);
}

// ----- test-loop-close.c -----

/// libuv `loop_close`: `uv_loop_close` is `EBUSY` while a handle is alive
/// (started or not, closing until its close callback ran) and succeeds once
/// it is closed. loop-fs's pool handle is internal: a loop that used the
/// pool closes once its requests are done.
#[test]
fn loop_close_is_ebusy_while_handles_are_alive() {
    let mut lp: Loop<u32> = Loop::new().unwrap();
    lp.try_close().unwrap();
    let t = lp.timer_init();
    let e = lp.try_close().unwrap_err();
    assert!(e.to_string().starts_with("loop_close: "), "{e}");
    match e {
        Error::Io { source, .. } => assert_eq!(source.raw_os_error(), Some(libc::EBUSY)),
        e => panic!("{e}"),
    }
    lp.timer_start(t, 1, 0, |lp, n| {
        *n += 1;
        let _ = lp;
    })
    .unwrap();
    let mut n = 0;
    lp.run(RunMode::Default, &mut n).unwrap();
    assert_eq!(n, 1);
    assert!(lp.try_close().is_err(), "stopped, not closed");
    lp.close(t, None).unwrap();
    assert!(lp.try_close().is_err(), "closing");
    lp.run(RunMode::Default, &mut n).unwrap();
    lp.try_close().unwrap();
    loop_fs::queue_work(&mut lp, || 1, |_, n, r| *n += r.unwrap()).unwrap();
    assert!(lp.try_close().is_err(), "a request is active");
    lp.run(RunMode::Default, &mut n).unwrap();
    assert_eq!(n, 2);
    lp.try_close().unwrap();
}
