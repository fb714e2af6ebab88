//! The extension seam of loop-core: `make_callback` (the one entry through
//! which crates on loop-core run user callbacks), extension slots and keys,
//! internal handles, and the per-timer re-run option the Node.js layer sets.

use loop_core::{CallbackKind, HandleKind, Loop, Phase, RunMode};
use loop_testkit::{manual_loop, run_to_end, watchdog, Log};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

/// An "extension" I/O-like source: an async handle whose callback stands
/// for an extension's internal callback, running two user callbacks
/// through `make_callback`, as loop-net runs a read callback per read.
fn two_user_callbacks(lp: &mut Loop<Log>) {
    let me = Rc::new(Cell::new(None));
    let me2 = Rc::clone(&me);
    let a = lp
        .async_init(move |lp, log| {
            lp.make_callback(log, "first", |lp, log| {
                log.push("first");
                lp.next_tick(|_, log| log.push("tick after first"));
                lp.queue_microtask(|_, log| log.push("microtask after first"));
            });
            lp.make_callback(log, "second", |lp, log| {
                log.push("second");
                lp.next_tick(|_, log| log.push("tick after second"));
            });
            let me: loop_core::AsyncId = me2.get().expect("set before run");
            lp.close(me, None).unwrap();
        })
        .unwrap();
    me.set(Some(a));
    lp.async_sender(a).unwrap().send().unwrap();
}

#[test]
fn make_callback_drains_after_each_user_callback_and_is_traced() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    lp.set_trace(true);
    two_user_callbacks(&mut lp);
    let mut log = Log::default();
    run_to_end(&mut lp, &mut log);
    log.assert_eq([
        "first",
        "tick after first",
        "microtask after first",
        "second",
        "tick after second",
    ]);
    let kinds: Vec<_> = lp
        .take_trace()
        .into_iter()
        .filter(|e| matches!(e.kind, CallbackKind::Extension(_)))
        .map(|e| (e.phase, e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (Phase::Poll, CallbackKind::Extension("first")),
            (Phase::Poll, CallbackKind::Extension("second")),
        ]
    );
}

#[test]
fn make_callback_returns_the_value() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let mut log = Log::default();
    assert_eq!(lp.make_callback(&mut log, "v", |_, _| 42), Some(42));
}

#[test]
fn a_panic_in_make_callback_leaves_run_after_the_extension_callback_returns() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let a = lp
        .async_init(|lp, log| {
            let r = lp.make_callback(log, "boom", |lp, _| {
                lp.next_tick(|_, log| log.push("tick queued before the panic"));
                panic!("user callback panicked");
            });
            assert!(r.is_none());
            assert!(lp.is_unwinding());
            // The extension puts its state in order and returns.
            log.push("extension cleaned up");
        })
        .unwrap();
    lp.async_sender(a).unwrap().send().unwrap();
    lp.set_immediate(|_, log| log.push("immediate"));
    let mut log = Log::default();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut log)));
    let msg = r.expect_err("the panic leaves run");
    assert_eq!(
        msg.downcast_ref::<&str>().copied(),
        Some("user callback panicked")
    );
    // Nothing drained while unwinding; the immediate waits for the next run.
    log.assert_eq(["extension cleaned up"]);
    assert!(!lp.is_unwinding());
    lp.close(a, None).unwrap();
    run_to_end(&mut lp, &mut log);
    log.assert_eq([
        "extension cleaned up",
        "tick queued before the panic",
        "immediate",
    ]);
}

#[test]
fn a_panic_in_make_callback_outside_run_resumes_at_once() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let mut log = Log::default();
    let r = catch_unwind(AssertUnwindSafe(|| {
        lp.make_callback(&mut log, "host", |_, _| -> () { panic!("host entry") })
    }));
    assert!(r.is_err());
    assert!(!lp.is_unwinding(), "nothing kept for a later run");
    // The loop is still usable.
    lp.next_tick(|_, log| log.push("tick"));
    run_to_end(&mut lp, &mut log);
    log.assert_eq(["tick"]);
}

#[test]
fn extensions_never_insert_on_lookup_and_keys_find_their_value() {
    struct Pool(u32);
    struct Table(&'static str);
    let mut lp: Loop = Loop::new().unwrap();
    assert!(lp.extension::<Pool>().is_none());
    assert!(lp.extension::<Pool>().is_none(), "a lookup did not insert");
    assert!(lp.extension_key::<Pool>().is_none());
    lp.extension_or_insert_with(|_| Pool(1)).0 += 1;
    lp.extension_or_insert_with(|_| -> Pool { unreachable!("already there") })
        .0 += 1;
    lp.insert_extension(Table("t"));
    let pk = lp.extension_key::<Pool>().unwrap();
    let tk = lp.extension_key::<Table>().unwrap();
    assert_eq!(lp.ext(pk).map(|p| p.0), Some(3));
    assert_eq!(lp.ext(tk).map(|t| t.0), Some("t"));
    lp.ext_mut(pk).unwrap().0 = 10;
    assert_eq!(lp.extension::<Pool>().map(|p| p.0), Some(10));
    // Replacing keeps the slot; removing empties it.
    assert_eq!(lp.insert_extension(Pool(5)).map(|p| p.0), Some(10));
    assert_eq!(lp.ext(pk).map(|p| p.0), Some(5));
    assert_eq!(lp.remove_extension::<Pool>().map(|p| p.0), Some(5));
    assert!(lp.ext(pk).is_none());
    assert_eq!(lp.ext(tk).map(|t| t.0), Some("t"));
}

#[test]
fn an_extension_init_can_make_internal_handles() {
    struct Ext(loop_core::AsyncId);
    let mut lp: Loop = Loop::new().unwrap();
    let user = lp.timer_init();
    let ext = lp.extension_or_insert_with(|lp| {
        let a = lp.async_init(|_, _| {}).unwrap();
        lp.unref(a).unwrap();
        lp.set_internal(a, true).unwrap();
        Ext(a)
    });
    let internal = ext.0;
    let seen: Vec<_> = lp.handles().iter().map(|h| h.id).collect();
    assert_eq!(seen, [user.id()], "the internal async handle is hidden");
    lp.set_internal(internal, false).unwrap();
    assert_eq!(lp.handles().len(), 2);
    assert_eq!(lp.kind(internal).unwrap(), HandleKind::Async);
}

struct Rerun {
    log: Log,
    t: Option<loop_core::TimerId>,
}

/// Logs the iteration, then restarts its own timer with 0 ms, twice.
fn fire(lp: &mut Loop<Rerun>, st: &mut Rerun) {
    st.log
        .push(format!("iteration {}", lp.metrics().iterations));
    if st.log.entries().len() < 3 {
        lp.timer_start(st.t.unwrap(), 0, 0, fire).unwrap();
    }
}

#[test]
fn rerun_when_due_runs_a_timer_rearmed_due_in_the_same_pass() {
    for (rerun, want) in [
        // libuv HEAD: a 0 ms restart from its own callback waits a pass.
        (false, ["iteration 0", "iteration 1", "iteration 2"]),
        // libuv 1.46 (what Node's timer gets): it runs again at once.
        (true, ["iteration 0", "iteration 0", "iteration 0"]),
    ] {
        let (mut lp, _clock) = manual_loop::<Rerun>(0);
        watchdog(&mut lp, 10_000);
        let t = lp.timer_init();
        lp.timer_set_rerun_when_due(t, rerun).unwrap();
        lp.timer_start(t, 0, 0, fire).unwrap();
        let mut st = Rerun {
            log: Log::default(),
            t: Some(t),
        };
        run_to_end(&mut lp, &mut st);
        st.log.assert_eq(want);
    }
}

#[test]
fn rerun_option_is_forgotten_when_the_timer_closes() {
    let (mut lp, _clock) = manual_loop::<Rerun>(0);
    let t = lp.timer_init();
    lp.timer_set_rerun_when_due(t, true).unwrap();
    lp.close(t, None).unwrap();
    assert!(lp.timer_set_rerun_when_due(t, false).is_err());
    let mut st = Rerun {
        log: Log::default(),
        t: None,
    };
    run_to_end(&mut lp, &mut st);
    // A new timer in the freed slot does not inherit the option.
    let t2 = lp.timer_init();
    assert_eq!(t2.id().index(), t.id().index(), "the slot is reused");
    st.t = Some(t2);
    lp.timer_start(t2, 0, 0, fire).unwrap();
    let base = lp.metrics().iterations;
    run_to_end(&mut lp, &mut st);
    st.log
        .assert_eq((0..3).map(|i| format!("iteration {}", base + i)));
}

/// An unhandled error reported from a timer: the rest of the phase (the
/// second due timer) and the ticks queued by the callback wait; `run`
/// returns the error; the next `run` picks up where it stopped.
#[test]
fn report_unhandled_returns_from_run_after_the_current_callback() {
    let (mut lp, _clock) = manual_loop::<Log>(0);
    watchdog(&mut lp, 5_000);
    lp.add_timer(10, 0, |lp, log| {
        log.push("timer 1");
        lp.next_tick(|_, log| log.push("tick of timer 1"));
        assert!(!lp.is_unwinding());
        lp.report_unhandled(
            "server.on_error",
            Box::new(std::io::Error::other("listen EADDRINUSE 127.0.0.1:1")),
        );
        assert!(lp.is_unwinding());
        // A second one is dropped: the first wins.
        lp.report_unhandled("socket.on_error", Box::new(std::io::Error::other("x")));
    });
    lp.add_timer(10, 0, |_, log| log.push("timer 2"));
    let mut log = Log::default();
    let e = lp.run(RunMode::Default, &mut log).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            loop_core::Error::Unhandled {
                op: "server.on_error",
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("listen EADDRINUSE 127.0.0.1:1"), "{msg}");
    log.assert_eq(["timer 1"]);
    assert!(!lp.is_unwinding());
    run_to_end(&mut lp, &mut log);
    log.assert_eq(["timer 1", "tick of timer 1", "timer 2"]);
}

/// Reported outside `run` (a host's entry point): the next `run` returns
/// it before running anything; the one after runs what was queued.
#[test]
fn report_unhandled_outside_run_is_returned_by_the_next_run() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    lp.next_tick(|_, log| log.push("tick"));
    lp.report_unhandled("host", Box::new(std::io::Error::other("boom")));
    let mut log = Log::default();
    let e = lp.run(RunMode::Default, &mut log).unwrap_err();
    assert_eq!(e.to_string(), "unhandled error (no host): boom");
    assert!(log.entries().is_empty());
    lp.run(RunMode::Default, &mut log).unwrap();
    log.assert_eq(["tick"]);
}
