//! Ports of libuv's idle, prepare, check, async and signal tests to
//! `loop-core` (libuv `test/test-loop-handles.c`, `test-idle.c`,
//! `test-async.c`, `test-signal.c`, `test-signal-pending-on-close.c`), plus
//! the loop-watcher rules (most recently started runs first, `start` on an
//! active handle keeps its callback) and async coalescing.
//!
//! Signals are process-wide and cargo runs the tests of this file as threads
//! of one process, so every signal test uses its own signal, raised with
//! `raise` (delivered to the raising thread, before `raise` returns).
//! Signal tests run on a [`ManualClock`]; the async tests, which wait for
//! other threads, run on the system clock under a watchdog timer.

use loop_core::{AsyncId, CheckId, Error, IdleId, Loop, PrepareId, RunMode, SignalId};
use loop_tests::util::{manual_loop, watchdog};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};

/// Raises `signum` in this thread.
fn raise(signum: libc::c_int) {
    // SAFETY: `raise` has no memory-safety preconditions. Every caller
    // watches `signum` with a loop first, so its handler is installed and the
    // default action (which may end the process) does not apply.
    let r = unsafe { libc::raise(signum) };
    assert_eq!(r, 0, "raise({signum})");
}

// ----- test-loop-handles.c -----

const IDLE_COUNT: usize = 7;
const ITERATIONS: u32 = 21;

#[derive(Default)]
struct LoopHandles {
    loop_iteration: u32,
    prepare_1_calls: u32,
    prepare_1_closes: u32,
    prepare_2_calls: u32,
    prepare_2_closes: u32,
    /// `loop_iteration` at each prepare_2 call.
    prepare_2_seen: Vec<u32>,
    check_calls: u32,
    check_closes: u32,
    idle_1_calls: u32,
    idle_1_closes: u32,
    idles_1_active: i32,
    /// The idle handle an idle_1 callback creates, while it exists.
    idle_2: Option<IdleId>,
    idle_2_calls: u32,
    idle_2_closes: u32,
    idle_2_started: u32,
    timer_calls: u32,
}

#[derive(Clone, Copy)]
struct LoopHandleIds {
    prepare_1: PrepareId,
    prepare_2: PrepareId,
    check: CheckId,
    idle_1: [IdleId; IDLE_COUNT],
}

fn idle_2_cb(h: IdleId) -> impl FnMut(&mut Loop<LoopHandles>, &mut LoopHandles) {
    move |lp, st| {
        assert_eq!(st.idle_2, Some(h));
        st.idle_2_calls += 1;
        lp.close_with(h, move |_, st: &mut LoopHandles| {
            assert_eq!(st.idle_2, Some(h), "idle_2 closed while not active");
            st.idle_2_closes += 1;
            st.idle_2 = None;
        })
        .unwrap();
    }
}

fn idle_1_cb(h: IdleId) -> impl FnMut(&mut Loop<LoopHandles>, &mut LoopHandles) {
    move |lp, st| {
        assert!(st.idles_1_active > 0);
        // Create idle_2 and start it, unless it exists.
        if st.idle_2.is_none() {
            let i2 = lp.idle_init();
            lp.idle_start(i2, idle_2_cb(i2)).unwrap();
            st.idle_2 = Some(i2);
            st.idle_2_started += 1;
        }
        st.idle_1_calls += 1;
        if st.idle_1_calls % 5 == 0 {
            lp.idle_stop(h).unwrap();
            st.idles_1_active -= 1;
        }
    }
}

fn prepare_2_cb(ids: LoopHandleIds) -> impl FnMut(&mut Loop<LoopHandles>, &mut LoopHandles) {
    move |lp, st| {
        // prepare_1 starts prepare_2 when loop_iteration is even, then makes
        // it odd; a handle started during its phase runs only from the next
        // iteration on, so prepare_2 never sees an even iteration.
        assert_ne!(
            st.loop_iteration % 2,
            0,
            "prepare_2 ran in the pass that started it"
        );
        lp.prepare_stop(ids.prepare_2).unwrap();
        st.prepare_2_calls += 1;
        st.prepare_2_seen.push(st.loop_iteration);
    }
}

fn prepare_1_cb(ids: LoopHandleIds) -> impl FnMut(&mut Loop<LoopHandles>, &mut LoopHandles) {
    move |lp, st| {
        assert!(
            st.loop_iteration < ITERATIONS,
            "prepare_1 ran after check closed it"
        );
        if st.loop_iteration % 2 == 0 {
            lp.prepare_start(ids.prepare_2, prepare_2_cb(ids)).unwrap();
        }
        st.prepare_1_calls += 1;
        st.loop_iteration += 1;
    }
}

fn check_cb(ids: LoopHandleIds) -> impl FnMut(&mut Loop<LoopHandles>, &mut LoopHandles) {
    move |lp, st| {
        if st.loop_iteration < ITERATIONS {
            // Make some idle watchers active.
            let n = 1 + (st.loop_iteration as usize % IDLE_COUNT);
            for &h in &ids.idle_1[..n] {
                lp.idle_start(h, idle_1_cb(h)).unwrap();
                st.idles_1_active += 1;
            }
        } else {
            // End of the test: close all handles.
            lp.close_with(ids.prepare_1, |_, st: &mut LoopHandles| {
                st.prepare_1_closes += 1
            })
            .unwrap();
            lp.close_with(ids.check, |_, st: &mut LoopHandles| st.check_closes += 1)
                .unwrap();
            lp.close_with(ids.prepare_2, |_, st: &mut LoopHandles| {
                st.prepare_2_closes += 1
            })
            .unwrap();
            for &h in &ids.idle_1 {
                lp.close_with(h, |_, st: &mut LoopHandles| st.idle_1_closes += 1)
                    .unwrap();
            }
            // idle_2 is closed and re-created all the time: close it only if
            // it exists and did not close itself already.
            if let Some(i2) = st.idle_2 {
                if !lp.is_closing(i2).unwrap() {
                    lp.close_with(i2, move |_, st: &mut LoopHandles| {
                        assert_eq!(st.idle_2, Some(i2));
                        st.idle_2_closes += 1;
                        st.idle_2 = None;
                    })
                    .unwrap();
                }
            }
        }
        st.check_calls += 1;
    }
}

/// `loop_handles`: prepare_1 starts prepare_2 on even iterations, and
/// prepare_2 only ever runs on odd ones and stops itself; check starts
/// `1 + iteration % 7` idle handles; idle callbacks stop themselves every 5th
/// call and create an idle handle that closes itself; an unreferenced
/// 100/100 ms timer keeps poll finite; after 21 iterations check closes
/// everything and `run` returns false.
#[test]
fn loop_handles() {
    let (mut lp, _clock) = manual_loop::<LoopHandles>(0);
    let ids = LoopHandleIds {
        prepare_1: lp.prepare_init(),
        prepare_2: lp.prepare_init(),
        check: lp.check_init(),
        idle_1: std::array::from_fn(|_| lp.idle_init()),
    };
    lp.prepare_start(ids.prepare_1, prepare_1_cb(ids)).unwrap();
    lp.check_start(ids.check, check_cb(ids)).unwrap();
    // Keeps the loop polling, but not alive.
    let timer = lp.timer_init();
    lp.timer_start(timer, 100, 100, |_, st: &mut LoopHandles| {
        st.timer_calls += 1
    })
    .unwrap();
    lp.unref(timer).unwrap();

    let mut st = LoopHandles::default();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());

    assert_eq!(st.loop_iteration, ITERATIONS);
    assert_eq!(st.prepare_1_calls, ITERATIONS);
    assert_eq!(st.prepare_1_closes, 1);
    assert_eq!(st.prepare_2_calls, ITERATIONS / 2);
    assert_eq!(
        st.prepare_2_seen,
        (1..=10).map(|i| 2 * i - 1).collect::<Vec<_>>()
    );
    assert_eq!(st.prepare_2_closes, 1);
    assert_eq!(st.check_calls, ITERATIONS);
    assert_eq!(st.check_closes, 1);
    assert!(st.idle_1_calls > 0);
    assert_eq!(st.idle_1_closes, IDLE_COUNT as u32);
    assert!(
        st.idle_2_started > 1,
        "idle_2 was created again after closing"
    );
    assert_eq!(st.idle_2_closes, st.idle_2_started);
    assert!(st.idle_2_calls <= st.idle_2_started);
    assert_eq!(st.idle_2, None);
    assert!(st.timer_calls > 0, "the unreferenced timer bounded poll");
}

// ----- test-idle.c -----

#[derive(Default)]
struct Starvation {
    idle_calls: u32,
    check_calls: u32,
    timer_calls: u32,
    closes: u32,
}

/// `idle_starvation`: an active idle handle forces poll to not block, yet a
/// 50 ms timer still fires (once) as time passes. Each idle call lets 1 ms
/// pass, so the timer fires in the 50th iteration.
#[test]
fn idle_starvation() {
    let (mut lp, clock) = manual_loop::<Starvation>(0);
    let idle = lp.idle_init();
    let check = lp.check_init();
    let timer = lp.timer_init();
    lp.idle_start(idle, move |_, st| {
        assert!(st.idle_calls < 50, "the idle handle starved the timer");
        clock.advance(1);
        st.idle_calls += 1;
    })
    .unwrap();
    lp.check_start(check, |_, st| st.check_calls += 1).unwrap();
    lp.timer_start(timer, 50, 0, move |lp, st| {
        assert_eq!(lp.now(), 50);
        assert_eq!(st.idle_calls, 50, "the timer fired late or early");
        st.timer_calls += 1;
        for h in [idle.id(), check.id(), timer.id()] {
            lp.close_with(h, |_, st: &mut Starvation| st.closes += 1)
                .unwrap();
        }
    })
    .unwrap();

    let mut st = Starvation::default();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.idle_calls, 50);
    assert_eq!(st.check_calls, 50);
    assert_eq!(st.timer_calls, 1);
    assert_eq!(st.closes, 3);
}

#[derive(Default)]
struct IdleCheck {
    idle_calls: u32,
    check_calls: u32,
    closes: u32,
}

/// `idle_check`: an idle callback stops its handle; `run(Once)` does not
/// block (an idle handle was active when the iteration began) and the check
/// callback ran once. After closing both, `run(Once)` returns false with two
/// close callbacks.
#[test]
fn idle_check() {
    let (mut lp, _clock) = manual_loop::<IdleCheck>(0);
    watchdog(&mut lp, 10_000);
    let idle = lp.idle_init();
    let check = lp.check_init();
    lp.idle_start(idle, move |lp, st| {
        st.idle_calls += 1;
        lp.idle_stop(idle).unwrap();
    })
    .unwrap();
    lp.check_start(check, |_, st| st.check_calls += 1).unwrap();

    let mut st = IdleCheck::default();
    assert!(lp.run(RunMode::Once, &mut st).unwrap());
    assert_eq!(st.idle_calls, 1);
    assert_eq!(st.check_calls, 1);

    assert_eq!(st.closes, 0);
    lp.close_with(idle, |_, st: &mut IdleCheck| st.closes += 1)
        .unwrap();
    lp.close_with(check, |_, st: &mut IdleCheck| st.closes += 1)
        .unwrap();
    assert!(!lp.run(RunMode::Once, &mut st).unwrap());
    assert_eq!(st.closes, 2);
}

// ----- loop-watcher rules -----

/// Three handles of one kind started 0, 1, 2 run 2, 1, 0 (most recently
/// started first); each stops itself.
macro_rules! most_recent_first {
    ($name:ident, $init:ident, $start:ident, $stop:ident) => {
        #[test]
        fn $name() {
            let mut lp: Loop<Vec<usize>> = Loop::new().unwrap();
            let hs = [lp.$init(), lp.$init(), lp.$init()];
            for (i, &h) in hs.iter().enumerate() {
                lp.$start(h, move |lp, ran| {
                    assert_eq!(ran.len(), 2 - i, "{i} ran after {ran:?}");
                    ran.push(i);
                    lp.$stop(h).unwrap();
                })
                .unwrap();
            }
            let mut ran = Vec::new();
            assert!(!lp.run(RunMode::NoWait, &mut ran).unwrap());
            assert_eq!(ran, [2, 1, 0]);
        }
    };
}

most_recent_first!(idle_most_recent_first, idle_init, idle_start, idle_stop);
most_recent_first!(
    prepare_most_recent_first,
    prepare_init,
    prepare_start,
    prepare_stop
);
most_recent_first!(check_most_recent_first, check_init, check_start, check_stop);

/// `start` on an active handle succeeds and keeps the callback it has.
macro_rules! start_keeps_callback {
    ($name:ident, $init:ident, $start:ident) => {
        #[test]
        fn $name() {
            let mut lp: Loop<Vec<&'static str>> = Loop::new().unwrap();
            let h = lp.$init();
            lp.$start(h, |_, log| log.push("first")).unwrap();
            lp.$start(h, |_, log| log.push("second")).unwrap();
            assert!(lp.is_active(h).unwrap());
            let mut log = Vec::new();
            assert!(lp.run(RunMode::NoWait, &mut log).unwrap());
            assert_eq!(log, ["first"]);
        }
    };
}

start_keeps_callback!(idle_start_keeps_callback, idle_init, idle_start);
start_keeps_callback!(prepare_start_keeps_callback, prepare_init, prepare_start);
start_keeps_callback!(check_start_keeps_callback, check_init, check_start);

// ----- test-async.c -----

#[derive(Default)]
struct AsyncState {
    async_id: Option<AsyncId>,
    prepare_id: Option<PrepareId>,
    prepare_calls: u32,
    async_calls: usize,
    closes: u32,
    thread: Option<JoinHandle<()>>,
}

/// `async`: a thread sends repeatedly until the callback count reaches 3;
/// sends coalesce and the handle is closed on the third call, so there are
/// exactly 3 callbacks; both handles close and the thread is joined.
#[test]
fn async_sends_from_thread() {
    let mut lp: Loop<AsyncState> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let count = Arc::new(AtomicUsize::new(0));

    let seen = Arc::clone(&count);
    let a = lp
        .async_init(move |lp, st| {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            st.async_calls += 1;
            assert!(n <= 3, "callback {n} after the handle closed");
            if n == 3 {
                lp.close_with(st.async_id.unwrap(), |_, st: &mut AsyncState| {
                    st.closes += 1
                })
                .unwrap();
                lp.close_with(st.prepare_id.unwrap(), |_, st: &mut AsyncState| {
                    st.closes += 1
                })
                .unwrap();
            }
        })
        .unwrap();
    let p = lp.prepare_init();
    lp.prepare_start(p, move |lp, st| {
        st.prepare_calls += 1;
        if st.prepare_calls > 1 {
            return;
        }
        let sender = lp.async_sender(st.async_id.unwrap()).unwrap();
        let count = Arc::clone(&count);
        st.thread = Some(thread::spawn(move || loop {
            if count.load(Ordering::SeqCst) >= 3 {
                break;
            }
            match sender.send() {
                Ok(()) => {}
                // Only once the third callback closed the handle.
                Err(Error::Disconnected) => {
                    assert_eq!(count.load(Ordering::SeqCst), 3);
                    break;
                }
                Err(e) => panic!("send: {e}"),
            }
            thread::yield_now();
        }));
    })
    .unwrap();

    let mut st = AsyncState {
        async_id: Some(a),
        prepare_id: Some(p),
        ..AsyncState::default()
    };
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert!(st.prepare_calls > 0);
    assert_eq!(st.async_calls, 3);
    assert_eq!(st.closes, 2);
    st.thread
        .take()
        .expect("the prepare callback started the thread")
        .join()
        .expect("the sending thread");
}

#[derive(Default)]
struct Coalesce {
    async_id: Option<AsyncId>,
    calls: usize,
    saw_all_done: bool,
}

/// Sends from 4 threads at once, while the loop runs, coalesce into far
/// fewer callbacks, and the send made after every other one still produces
/// a callback that runs after it.
#[test]
fn async_sends_from_four_threads_coalesce() {
    const THREADS: usize = 4;
    const SENDS: usize = 20_000;
    let mut lp: Loop<Coalesce> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let done = Arc::new(AtomicUsize::new(0));

    let seen = Arc::clone(&done);
    let a = lp
        .async_init(move |lp, st| {
            st.calls += 1;
            if seen.load(Ordering::SeqCst) == THREADS {
                st.saw_all_done = true;
                lp.close(st.async_id.unwrap(), None).unwrap();
            }
        })
        .unwrap();

    // The threads start sending together, once the loop is in its first
    // iteration.
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let go = Arc::clone(&barrier);
    let p = lp.prepare_init();
    lp.prepare_start(p, move |lp, _| {
        lp.prepare_stop(p).unwrap();
        go.wait();
    })
    .unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let sender = lp.async_sender(a).unwrap();
            let barrier = Arc::clone(&barrier);
            let done = Arc::clone(&done);
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..SENDS {
                    sender
                        .send()
                        .expect("the handle is open until all are done");
                }
                // The last thread to finish sends once more, after every
                // other send: that send must not be lost.
                if done.fetch_add(1, Ordering::SeqCst) + 1 == THREADS {
                    match sender.send() {
                        Ok(()) | Err(Error::Disconnected) => {}
                        Err(e) => panic!("send: {e}"),
                    }
                }
            })
        })
        .collect();

    let mut st = Coalesce {
        async_id: Some(a),
        ..Coalesce::default()
    };
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    for t in threads {
        t.join().expect("a sending thread");
    }
    assert!(st.saw_all_done, "no callback after the last send");
    assert!(st.calls >= 1);
    assert!(
        st.calls * 10 < THREADS * SENDS,
        "{} callbacks for {} sends",
        st.calls,
        THREADS * SENDS
    );
}

#[derive(Default)]
struct SendInside {
    async_id: Option<AsyncId>,
    calls: u32,
}

/// A send made from inside the async callback is not lost: the pending flag
/// is cleared before the callback runs.
#[test]
fn async_send_from_inside_callback_is_not_lost() {
    let mut lp: Loop<SendInside> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let a = lp
        .async_init(|lp, st| {
            st.calls += 1;
            let h = st.async_id.unwrap();
            if st.calls == 1 {
                lp.async_send(h).unwrap();
            } else {
                lp.close(h, None).unwrap();
            }
        })
        .unwrap();
    let mut st = SendInside {
        async_id: Some(a),
        calls: 0,
    };
    lp.async_send(a).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.calls, 2);
}

/// A sender of a closed async handle gets `Error::Disconnected`, from the
/// `close` call on; `async_sender` on a closing handle is an error.
#[test]
fn async_sender_after_close_is_disconnected() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let a = lp
        .async_init(|_, _| panic!("callback of a closed async handle"))
        .unwrap();
    let sender = lp.async_sender(a).unwrap();
    lp.close(a, None).unwrap();
    let r = sender.send();
    assert!(matches!(r, Err(Error::Disconnected)), "{r:?}");
    assert!(lp.async_sender(a).is_err());
    assert!(!lp.run(RunMode::Default, &mut ()).unwrap());
    let r = sender.send();
    assert!(matches!(r, Err(Error::Disconnected)), "{r:?}");
}

/// A sender whose loop was dropped gets `Error::Disconnected`.
#[test]
fn async_sender_after_loop_drop_is_disconnected() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let a = lp.async_init(|_, _| {}).unwrap();
    let sender = lp.async_sender(a).unwrap();
    sender.send().unwrap();
    drop(lp);
    let r = sender.send();
    assert!(matches!(r, Err(Error::Disconnected)), "{r:?}");
}

// ----- test-signal.c -----

/// A watcher's signal reaches its callback, with the signal number, on the
/// loop thread and never synchronously.
#[test]
fn signal_delivery() {
    const SIG: libc::c_int = libc::SIGUSR1;
    let (mut lp, _clock) = manual_loop::<Vec<i32>>(0);
    watchdog(&mut lp, 10_000);
    let s = lp.signal_init().unwrap();
    lp.signal_start(s, SIG, move |lp, got, signum| {
        got.push(signum);
        lp.close(s, None).unwrap();
    })
    .unwrap();
    assert_eq!(lp.signal_signum(s).unwrap(), SIG);
    let mut got = Vec::new();
    raise(SIG);
    assert!(got.is_empty());
    assert!(!lp.run(RunMode::Default, &mut got).unwrap());
    assert_eq!(got, [SIG]);
}

/// Each delivery is one callback: two raises before the loop looks give two
/// callbacks (the main-thread half of libuv's
/// `signal_delivered_in_handler`; libuv's handler writes one message per
/// delivery to the loop's signal pipe).
#[test]
fn signal_each_delivery_is_one_callback() {
    const SIG: libc::c_int = libc::SIGVTALRM;
    let (mut lp, _clock) = manual_loop::<u32>(0);
    watchdog(&mut lp, 10_000);
    let s = lp.signal_init().unwrap();
    lp.signal_start(s, SIG, |_, calls, signum| {
        assert_eq!(signum, SIG);
        *calls += 1;
    })
    .unwrap();
    let mut calls = 0;
    raise(SIG);
    raise(SIG);
    assert_eq!(calls, 0);
    assert!(lp.run(RunMode::Once, &mut calls).unwrap());
    assert_eq!(calls, 2, "signals processed now");
    lp.close(s, None).unwrap();
    assert!(!lp.run(RunMode::Once, &mut calls).unwrap());
    assert_eq!(calls, 2);
}

const NSIGNALS: u32 = 10;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum StopOrClose {
    Stop,
    #[default]
    Close,
    Noop,
}

#[derive(Default)]
struct SignalCtx {
    handle: Option<SignalId>,
    ncalls: u32,
    stop_or_close: StopOrClose,
}

#[derive(Default)]
struct Signals {
    timer_calls: u32,
    sc: [SignalCtx; 4],
}

/// A 5/5 ms timer that raises `signum` on each call and closes itself after
/// `NSIGNALS` calls (libuv's `start_timer`).
fn start_timer(lp: &mut Loop<Signals>, st: &mut Signals, signum: libc::c_int) {
    st.timer_calls = 0;
    let t = lp.timer_init();
    lp.timer_start(t, 5, 5, move |lp, st| {
        assert!(st.timer_calls < NSIGNALS, "timer called after its close");
        raise(signum);
        st.timer_calls += 1;
        if st.timer_calls == NSIGNALS {
            lp.close(t, None).unwrap();
        }
    })
    .unwrap();
}

fn signal_cb(i: usize, want: libc::c_int) -> impl FnMut(&mut Loop<Signals>, &mut Signals, i32) {
    move |lp, st, signum| {
        assert_eq!(signum, want);
        let ctx = &mut st.sc[i];
        ctx.ncalls += 1;
        assert!(ctx.ncalls <= NSIGNALS, "watcher {i}: too many callbacks");
        if ctx.ncalls == NSIGNALS {
            let h = ctx.handle.unwrap();
            match ctx.stop_or_close {
                StopOrClose::Stop => lp.signal_stop(h).unwrap(),
                StopOrClose::Close => lp.close(h, None).unwrap(),
                StopOrClose::Noop => panic!("watcher {i}: no action set"),
            }
        }
    }
}

fn signal_cb_one_shot(
    i: usize,
    want: libc::c_int,
) -> impl FnMut(&mut Loop<Signals>, &mut Signals, i32) {
    move |lp, st, signum| {
        assert_eq!(signum, want);
        let ctx = &mut st.sc[i];
        ctx.ncalls += 1;
        assert_eq!(ctx.ncalls, 1, "one-shot watcher {i} called again");
        // libuv stops a one-shot watcher after its callback, not before.
        assert!(lp.is_active(ctx.handle.unwrap()).unwrap());
        if ctx.stop_or_close == StopOrClose::Close {
            lp.close(ctx.handle.unwrap(), None).unwrap();
        }
    }
}

/// A new watcher `i` of `signum`, normal or one-shot, closing itself when
/// done (libuv's `start_watcher`).
fn start_watcher(
    lp: &mut Loop<Signals>,
    st: &mut Signals,
    signum: libc::c_int,
    i: usize,
    one_shot: bool,
) {
    let h = lp.signal_init().unwrap();
    st.sc[i] = SignalCtx {
        handle: Some(h),
        ncalls: 0,
        stop_or_close: StopOrClose::Close,
    };
    if one_shot {
        lp.signal_start_oneshot(h, signum, signal_cb_one_shot(i, signum))
            .unwrap();
    } else {
        lp.signal_start(h, signum, signal_cb(i, signum)).unwrap();
    }
}

/// `we_get_signal`: a timer raises the signal 10 times: 10 callbacks; with
/// the watcher stopped, none; started again (then closing itself), 10.
#[test]
fn we_get_signal() {
    const SIG: libc::c_int = libc::SIGWINCH;
    let (mut lp, _clock) = manual_loop::<Signals>(0);
    let mut st = Signals::default();

    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, false);
    st.sc[0].stop_or_close = StopOrClose::Stop;
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(st.sc[0].ncalls, NSIGNALS);

    start_timer(&mut lp, &mut st, SIG);
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(st.sc[0].ncalls, NSIGNALS, "a stopped watcher was called");

    start_timer(&mut lp, &mut st, SIG);
    st.sc[0].ncalls = 0;
    st.sc[0].stop_or_close = StopOrClose::Close;
    let h = st.sc[0].handle.unwrap();
    lp.signal_start(h, SIG, signal_cb(0, SIG)).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(st.sc[0].ncalls, NSIGNALS);
}

/// `we_get_signal_one_shot`: a one-shot watcher gets 1 of 10 raises; after
/// that it gets none; started one-shot again, it gets 1 more.
#[test]
fn we_get_signal_one_shot() {
    const SIG: libc::c_int = libc::SIGURG;
    let (mut lp, _clock) = manual_loop::<Signals>(0);
    let mut st = Signals::default();

    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, true);
    st.sc[0].stop_or_close = StopOrClose::Noop;
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(st.sc[0].ncalls, 1);
    let h = st.sc[0].handle.unwrap();
    assert!(!lp.is_active(h).unwrap(), "a one-shot watcher stops itself");

    start_timer(&mut lp, &mut st, SIG);
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.sc[0].ncalls, 1);

    st.sc[0].ncalls = 0;
    st.sc[0].stop_or_close = StopOrClose::Close;
    lp.signal_start_oneshot(h, SIG, signal_cb_one_shot(0, SIG))
        .unwrap();
    start_timer(&mut lp, &mut st, SIG);
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.sc[0].ncalls, 1);
}

/// `we_get_signals_mixed`: several normal and one-shot watchers of the
/// same signal, some closed before the run, each get the right count.
#[test]
fn we_get_signals_mixed() {
    const SIG: libc::c_int = libc::SIGCHLD;
    let (mut lp, _clock) = manual_loop::<Signals>(0);
    let mut st = Signals::default();
    let counts =
        |st: &Signals, n: usize| -> Vec<u32> { st.sc[..n].iter().map(|c| c.ncalls).collect() };

    // 2 one-shot.
    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, true);
    start_watcher(&mut lp, &mut st, SIG, 1, true);
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(counts(&st, 2), [1, 1]);

    // 2 one-shot, 1 normal closed before the run.
    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, true);
    start_watcher(&mut lp, &mut st, SIG, 1, true);
    start_watcher(&mut lp, &mut st, SIG, 2, false);
    lp.close(st.sc[2].handle.unwrap(), None).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(counts(&st, 3), [1, 1, 0]);

    // 2 normal, 1 one-shot closed before the run.
    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, false);
    start_watcher(&mut lp, &mut st, SIG, 1, false);
    start_watcher(&mut lp, &mut st, SIG, 2, true);
    lp.close(st.sc[2].handle.unwrap(), None).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(counts(&st, 3), [NSIGNALS, NSIGNALS, 0]);

    // 2 normal closed before the run, 2 one-shot.
    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, false);
    start_watcher(&mut lp, &mut st, SIG, 1, false);
    start_watcher(&mut lp, &mut st, SIG, 2, true);
    start_watcher(&mut lp, &mut st, SIG, 3, true);
    lp.close(st.sc[0].handle.unwrap(), None).unwrap();
    lp.close(st.sc[1].handle.unwrap(), None).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(counts(&st, 4), [0, 0, 1, 1]);

    // 1 normal, 1 one-shot, 2 normal; the 1st and 2nd normal closed before
    // the run.
    start_timer(&mut lp, &mut st, SIG);
    start_watcher(&mut lp, &mut st, SIG, 0, false);
    start_watcher(&mut lp, &mut st, SIG, 1, true);
    start_watcher(&mut lp, &mut st, SIG, 2, false);
    start_watcher(&mut lp, &mut st, SIG, 3, false);
    lp.close(st.sc[0].handle.unwrap(), None).unwrap();
    lp.close(st.sc[2].handle.unwrap(), None).unwrap();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.timer_calls, NSIGNALS);
    assert_eq!(counts(&st, 4), [0, 1, 0, NSIGNALS]);
}

#[derive(Default)]
struct CloseAlive {
    signal_calls: u32,
    closes: u32,
}

/// `signal_close_loop_alive`: an unreferenced watcher does not keep the
/// loop alive, even with a signal delivered; once closed, the loop is alive
/// until its close callback ran (once), and the watcher is never called.
#[test]
fn signal_close_loop_alive() {
    const SIG: libc::c_int = libc::SIGUSR2;
    let (mut lp, _clock) = manual_loop::<CloseAlive>(0);
    let s = lp.signal_init().unwrap();
    lp.signal_start(s, SIG, |lp, st, _| {
        st.signal_calls += 1;
        lp.stop();
    })
    .unwrap();
    lp.unref(s).unwrap();
    raise(SIG);

    let mut st = CloseAlive::default();
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    lp.close_with(s, |_, st: &mut CloseAlive| st.closes += 1)
        .unwrap();
    assert!(lp.is_alive());
    assert!(!lp.run(RunMode::Default, &mut st).unwrap());
    assert_eq!(st.closes, 1);
    assert_eq!(st.signal_calls, 0);
}

// ----- signals by name (issue 16) -----

/// `on_signal(Signal::Hup, cb)`: the callback gets the named signal; the
/// watcher keeps the loop alive until it is closed (SIGHUP: used by no
/// other test of this file).
#[test]
fn on_signal_by_name_keeps_the_loop_alive_until_closed() {
    use loop_core::Signal;
    let (mut lp, _clock) = manual_loop::<Vec<Signal>>(0);
    let h = lp
        .on_signal(Signal::Hup, |lp, got, sig| {
            got.push(sig);
            let h = lp
                .handles()
                .into_iter()
                .find(|i| i.kind == loop_core::HandleKind::Signal);
            if let Some(h) = h {
                lp.close(h.id, None).unwrap();
            }
        })
        .unwrap();
    assert_eq!(lp.signal_signum(h).unwrap(), libc::SIGHUP);
    assert!(lp.is_alive(), "a watcher keeps the loop alive");
    raise(libc::SIGHUP);
    let mut got = Vec::new();
    assert!(!lp.run(RunMode::Default, &mut got).unwrap());
    assert_eq!(got, [Signal::Hup]);
    assert_eq!(Signal::from_signum(libc::SIGHUP), Signal::Hup);
    assert!(lp
        .on_signal(Signal::Other(libc::SIGKILL), |_, _, _| {})
        .is_err());
}
