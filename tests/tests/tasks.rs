//! loop-core's tasks (`loop_core::task`): spawn, wake-ups as microtasks,
//! coalescing, cross-thread wakes, panics, abort, liveness and drop.

use loop_core::task::{self, JoinError};
use loop_core::{Loop, RunMode};
use loop_testkit::{run_to_end, watchdog, HangGuard};
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

type Log = Vec<String>;

fn log(s: &str) {
    task::with(|_, out: &mut Log| out.push(s.to_string()));
}

fn new_loop() -> Loop<Log> {
    Loop::new().expect("a loop")
}

#[test]
fn spawn_polls_at_once_and_a_wake_is_a_microtask() {
    let mut lp = new_loop();
    let mut out = Log::new();
    lp.queue_microtask(|_, out| out.push("microtask 1".into()));
    lp.spawn_local(&mut out, async {
        log("body");
        task::yield_now().await;
        log("continuation");
    })
    .detach();
    lp.queue_microtask(|_, out| out.push("microtask 2".into()));
    lp.next_tick(|_, out| out.push("tick".into()));
    out.push("main".into());
    run_to_end(&mut lp, &mut out);
    assert_eq!(
        out,
        [
            "body",
            "main",
            "tick",
            "microtask 1",
            "continuation",
            "microtask 2"
        ]
    );
}

/// A wake made between two `queue_microtask` calls runs between them.
#[test]
fn a_wake_lands_in_the_microtask_fifo_where_it_was_made() {
    let mut lp = new_loop();
    let mut out = Log::new();
    let waker: Rc<Cell<Option<Waker>>> = Rc::default();
    let w2 = Rc::clone(&waker);
    lp.spawn_local(&mut out, async move {
        let mut first = true;
        poll_fn(|cx| {
            if std::mem::take(&mut first) {
                w2.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        log("task");
    })
    .detach();
    lp.set_immediate(move |lp, _| {
        lp.queue_microtask(|_, out| out.push("before".into()));
        waker.take().expect("the task's waker").wake();
        lp.queue_microtask(|_, out| out.push("after".into()));
    });
    run_to_end(&mut lp, &mut out);
    assert_eq!(out, ["before", "task", "after"]);
}

/// Counts its polls; pending until `go` is set.
struct Counting {
    polls: Rc<Cell<u32>>,
    waker: Rc<Cell<Option<Waker>>>,
    go: Rc<Cell<bool>>,
}

impl Future for Counting {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.go.get() {
            return Poll::Ready(());
        }
        self.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

#[test]
fn woken_twice_before_it_runs_is_polled_once() {
    let mut lp = new_loop();
    let mut out = Log::new();
    let polls = Rc::new(Cell::new(0));
    let waker: Rc<Cell<Option<Waker>>> = Rc::default();
    let go = Rc::new(Cell::new(false));
    let mut h = lp.spawn_local(
        &mut out,
        Counting {
            polls: Rc::clone(&polls),
            waker: Rc::clone(&waker),
            go: Rc::clone(&go),
        },
    );
    assert_eq!(polls.get(), 1, "polled at spawn");
    let (w, g) = (Rc::clone(&waker), Rc::clone(&go));
    lp.set_immediate(move |_, _| {
        let wk = w.take().expect("waker");
        wk.wake_by_ref();
        wk.wake_by_ref();
        wk.wake();
        g.set(true);
    });
    run_to_end(&mut lp, &mut out);
    assert_eq!(polls.get(), 2, "three wakes before the poll: one poll");
    assert!(h.try_take().expect("finished").is_ok());
    assert_eq!(lp.task_count(), 0);
}

/// A wake from another thread wakes a loop blocked in poll, through the
/// loop's async wake-up.
#[test]
fn a_wake_from_another_thread_wakes_the_loop() {
    let _guard = HangGuard::new("a cross-thread task wake", Duration::from_secs(30));
    let mut lp = new_loop();
    let mut out = Log::new();
    // Keeps the loop alive (blocked in poll) until the task clears it.
    let keep = lp.set_timeout(60_000, |_, _| panic!("the wake never came"));
    let mut h = lp.spawn_local(&mut out, async move {
        let mut sent = false;
        poll_fn(|cx| {
            if sent {
                return Poll::Ready(());
            }
            sent = true;
            let w = cx.waker().clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                w.wake();
            });
            Poll::Pending
        })
        .await;
        task::with(|lp: &mut Loop<Log>, out| {
            lp.clear_timeout(keep);
            out.push("woken".into());
        });
    });
    watchdog(&mut lp, 30_000);
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(out, ["woken"]);
    assert!(h.try_take().expect("finished").is_ok());
}

#[test]
fn a_panic_in_a_task_is_the_tasks_error_not_the_loops() {
    let mut lp = new_loop();
    let mut out = Log::new();
    let bad = lp.spawn_local(&mut out, async {
        task::yield_now().await;
        panic!("boom in a task");
    });
    lp.spawn_local(&mut out, async move {
        match bad.await {
            Err(e) => {
                assert!(e.is_panic());
                log(&format!("joined: {e}"));
            }
            Ok(()) => log("no panic?"),
        }
    })
    .detach();
    lp.set_immediate(|_, out| out.push("the loop runs on".into()));
    run_to_end(&mut lp, &mut out);
    assert_eq!(
        out,
        ["joined: task panicked: boom in a task", "the loop runs on"]
    );
}

/// Drops counted.
struct DropCount(Rc<Cell<u32>>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn abort_drops_the_task_at_its_next_turn() {
    let mut lp = new_loop();
    let mut out = Log::new();
    let drops = Rc::new(Cell::new(0));
    let d = DropCount(Rc::clone(&drops));
    let mut h = lp.spawn_local(&mut out, async move {
        let _d = d;
        std::future::pending::<()>().await;
    });
    assert_eq!(drops.get(), 0);
    h.abort();
    assert_eq!(drops.get(), 0, "not inside abort: at the next safe point");
    assert!(!h.is_finished());
    run_to_end(&mut lp, &mut out);
    assert_eq!(drops.get(), 1);
    assert!(matches!(h.try_take(), Some(Err(JoinError::Aborted))));
    assert_eq!(lp.task_count(), 0);
}

/// A pending task does not keep the loop alive (a pending promise does not
/// keep Node.js alive); it stays, and dropping the loop drops it.
#[test]
fn a_pending_task_does_not_keep_the_loop_alive_and_drops_with_it() {
    let mut lp = new_loop();
    let mut out = Log::new();
    let drops = Rc::new(Cell::new(0));
    let mut handles = Vec::new();
    for _ in 0..3 {
        let d = DropCount(Rc::clone(&drops));
        handles.push(lp.spawn_local(&mut out, async move {
            let _d = d;
            std::future::pending::<()>().await;
        }));
    }
    run_to_end(&mut lp, &mut out);
    assert_eq!(lp.task_count(), 3);
    assert_eq!(drops.get(), 0);
    drop(lp);
    assert_eq!(drops.get(), 3, "every task dropped with its loop");
    for mut h in handles {
        assert!(matches!(h.try_take(), Some(Err(JoinError::Aborted))));
    }
}

#[test]
fn with_is_none_outside_a_poll_and_for_another_state_type() {
    assert!(task::try_with(|_: &mut Loop<Log>, _: &mut Log| ()).is_none());
    assert!(task::with_loop(|_: &mut Loop<Log>| ()).is_none());
    let mut lp = new_loop();
    let mut out = Log::new();
    lp.spawn_local(&mut out, async {
        assert!(task::try_with(|_: &mut Loop<u32>, _: &mut u32| ()).is_none());
        // Nested: the context is borrowed by the outer `with`.
        task::with(|_: &mut Loop<Log>, _: &mut Log| {
            assert!(task::try_with(|_: &mut Loop<Log>, _: &mut Log| ()).is_none());
        });
        log("checked");
    })
    .detach();
    assert_eq!(out, ["checked"]);
}

/// A task spawned from a task is polled at once, inside the spawner's poll.
#[test]
fn spawn_from_a_task_polls_at_once() {
    let mut lp = new_loop();
    let mut out = Log::new();
    lp.spawn_local(&mut out, async {
        log("outer");
        let inner = task::spawn_local::<Log, _>(async {
            log("inner body");
            task::yield_now().await;
            log("inner continuation");
            5
        });
        log("outer after spawn");
        let v = inner.await.expect("inner");
        log(&format!("joined {v}"));
    })
    .detach();
    run_to_end(&mut lp, &mut out);
    assert_eq!(
        out,
        [
            "outer",
            "inner body",
            "outer after spawn",
            "inner continuation",
            "joined 5"
        ]
    );
}

/// `sleep` and `immediate` order as `setTimeout` and `setImmediate`; a
/// dropped `sleep` clears its timer (on a manual clock that jumps to the
/// next timer, a 10 s timer left behind would move the clock to 10 s).
#[test]
fn sleep_and_immediate_and_a_dropped_sleep_clears_its_timer() {
    let (mut lp, _clock) = loop_testkit::manual_loop::<Log>(0);
    let mut out = Log::new();
    lp.spawn_local(&mut out, async {
        let mut long = Box::pin(task::sleep(10_000));
        // Polled once (armed), then dropped.
        poll_fn(|cx| {
            let _ = long.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        drop(long); // clears its timer
        task::immediate().await;
        log("after immediate");
        task::sleep(5).await;
        log("after 5 ms");
        let t = task::with(|lp: &mut Loop<Log>, _| lp.now());
        task::sleep_until(t + 20).await;
        log("at +20");
    })
    .detach();
    lp.set_timeout(1, |_, out| out.push("timeout 1".into()));
    run_to_end(&mut lp, &mut out);
    // The clock stands at 0 until the loop would sleep: the immediate first.
    assert_eq!(
        out,
        ["after immediate", "timeout 1", "after 5 ms", "at +20"]
    );
    assert!(
        lp.now() < 1_000,
        "the dropped sleep's timer was cleared: now {}",
        lp.now()
    );
}

/// Two loops with tasks on one thread: the first owns the thread's
/// lock-free wake queue, the second uses its locked list; both keep the
/// FIFO rule, and neither sees the other's wakes.
#[test]
fn two_loops_on_one_thread_keep_their_own_order() {
    fn program(lp: &mut Loop<Log>, out: &mut Log) {
        lp.queue_microtask(|_, o| o.push("m1".into()));
        lp.spawn_local(out, async {
            log("a1");
            task::yield_now().await;
            log("a2");
            task::yield_now().await;
            log("a3");
        })
        .detach();
        lp.queue_microtask(|_, o| o.push("m2".into()));
    }
    let want = ["a1", "m1", "a2", "m2", "a3"];
    let (mut first, mut second) = (new_loop(), new_loop());
    let (mut o1, mut o2) = (Log::new(), Log::new());
    program(&mut first, &mut o1);
    program(&mut second, &mut o2);
    run_to_end(&mut second, &mut o2);
    run_to_end(&mut first, &mut o1);
    assert_eq!(o1, want);
    assert_eq!(o2, want);
    // The first loop's drop frees the fast queue for a loop made later.
    drop(first);
    let mut third = new_loop();
    let mut o3 = Log::new();
    program(&mut third, &mut o3);
    run_to_end(&mut third, &mut o3);
    assert_eq!(o3, want);
}

/// A task that wakes itself and then drains the queue from inside its own
/// poll (a `make_callback` inside `with`) meets its own entry mid-poll:
/// the entry is not lost, the task is polled again once the poll returns.
#[test]
fn a_wake_consumed_during_the_tasks_own_poll_is_not_lost() {
    let mut lp = new_loop();
    let mut out = Log::new();
    let mut h = lp.spawn_local(&mut out, async {
        let mut first = true;
        poll_fn(|cx| {
            if !std::mem::take(&mut first) {
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            task::with(|lp: &mut Loop<Log>, out| {
                lp.make_callback(out, "test", |_, out| out.push("callback".into()));
            });
            Poll::Pending
        })
        .await;
        log("polled again");
    });
    run_to_end(&mut lp, &mut out);
    assert_eq!(out, ["callback", "polled again"]);
    assert!(h.try_take().expect("finished").is_ok());
}
