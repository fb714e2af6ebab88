//! The pool: `queue_work`, completion on the loop thread, ordering with
//! Node's queues, cancel, panics, sizing, and ports of libuv's
//! `test-threadpool.c`, `test-threadpool-cancel.c` and `test-thread.c`.

mod common;

use common::{saturate, Gate, OpenOnDrop};
use loop_core::{CallbackKind, Loop, Phase, RunMode};
use loop_fs::{cancel, fs, queue_work, CancelError, PoolBuilder, WorkError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// An unreferenced timer that fails the test instead of letting a stranded
/// request hang it (the workspace's one watchdog, from loop-testkit).
fn watchdog<D: 'static>(lp: &mut Loop<D>) {
    loop_testkit::watchdog(lp, 60_000);
}

// ----- libuv: test-threadpool.c -----

#[test]
fn threadpool_queue_work_simple() {
    #[derive(Default)]
    struct St {
        after: usize,
        data: &'static str,
    }
    let work_calls = Arc::new(AtomicUsize::new(0));
    let mut lp: Loop<St> = Loop::new().unwrap();
    let w = Arc::clone(&work_calls);
    let data = "request user data";
    queue_work(
        &mut lp,
        move || {
            w.fetch_add(1, Ordering::SeqCst);
            data
        },
        |_, st: &mut St, r| {
            st.after += 1;
            st.data = r.expect("status 0");
        },
    )
    .unwrap();
    let mut st = St::default();
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(work_calls.load(Ordering::SeqCst), 1);
    assert_eq!(st.after, 1);
    assert_eq!(st.data, data);
}

// `threadpool_queue_work_einval` (no work function) cannot be written: the
// work closure is a required, typed argument.

#[test]
fn loop_alive_while_work_is_queued() {
    // test-loop-alive.c: a queued work request makes the loop alive.
    let mut lp: Loop<()> = Loop::new().unwrap();
    PoolBuilder::new().size(1).install(&mut lp).unwrap();
    assert!(
        !lp.is_alive(),
        "the pool's own handle does not keep the loop alive"
    );
    queue_work(&mut lp, || (), |_, _, r| r.unwrap()).unwrap();
    assert!(lp.is_alive());
    assert!(
        !lp.run(RunMode::Default, &mut ()).unwrap(),
        "not alive once run"
    );
    assert!(!lp.is_alive());
    let h = loop_fs::completion_handle(&lp).expect("started");
    assert!(!lp.has_ref(h).unwrap());
}

#[test]
fn pool_handle_is_internal() {
    // libuv hides its pool's async handle from uv_walk; so does loop-fs.
    let mut lp: Loop<()> = Loop::new().unwrap();
    let t = lp.timer_init();
    PoolBuilder::new().size(1).install(&mut lp).unwrap();
    let h = loop_fs::completion_handle(&lp).expect("started");
    let ids: Vec<_> = lp.handles().iter().map(|i| i.id).collect();
    assert_eq!(ids, [t.into()], "only the user's own handle is listed");
    assert!(!ids.contains(&h.into()));
    // Still the live handle the pool completes through.
    queue_work(&mut lp, || 1, |_, _, r| assert_eq!(r.unwrap(), 1)).unwrap();
    lp.close(t, None).unwrap();
    lp.run(RunMode::Default, &mut ()).unwrap();
    assert_eq!(lp.active_requests(), 0);
}

#[test]
fn callbacks_are_traced_as_loop_fs_callbacks() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    lp.set_trace(true);
    queue_work(
        &mut lp,
        || (),
        |lp, _, r| {
            r.unwrap();
            lp.next_tick(|_, _| {});
        },
    )
    .unwrap();
    fs::stat(&mut lp, ".", |_, _, r| {
        r.unwrap();
    })
    .unwrap();
    watchdog(&mut lp);
    lp.run(RunMode::Default, &mut ()).unwrap();
    let kinds: Vec<_> = lp
        .take_trace()
        .into_iter()
        .filter(|e| e.phase == Phase::Poll)
        .map(|e| e.kind)
        .collect();
    for name in ["loop-fs:work", "loop-fs:fs"] {
        assert!(
            kinds.contains(&CallbackKind::Extension(name)),
            "{name} not in {kinds:?}"
        );
    }
    let at = kinds
        .iter()
        .position(|k| *k == CallbackKind::Extension("loop-fs:work"))
        .unwrap();
    assert_eq!(
        kinds.get(at + 1),
        Some(&CallbackKind::Tick),
        "the tick drains right after"
    );
}

#[test]
fn callback_runs_in_poll_phase_never_synchronously() {
    let mut lp: Loop<Vec<Phase>> = Loop::new().unwrap();
    queue_work(&mut lp, || (), |lp, phases, _| phases.push(lp.phase())).unwrap();
    let mut phases = Vec::new();
    // Not called from inside queue_work, nor by the main-program drain.
    lp.drain_ticks(&mut phases);
    assert!(phases.is_empty());
    lp.run(RunMode::Default, &mut phases).unwrap();
    assert_eq!(phases, [Phase::Poll]);
}

#[test]
fn ten_thousand_requests_complete_exactly_once() {
    const N: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    let mut lp: Loop<Vec<u32>> = Loop::new().unwrap();
    for i in 0..N {
        if i % 2 == 0 {
            queue_work(
                &mut lp,
                move || i,
                move |_, seen, r| {
                    assert_eq!(r.unwrap(), i);
                    seen[i] += 1;
                },
            )
            .unwrap();
        } else {
            fs::stat(&mut lp, &file, move |_, seen, r| {
                assert_eq!(r.unwrap().len(), 1);
                seen[i] += 1;
            })
            .unwrap();
        }
    }
    assert_eq!(loop_fs::pending_requests(&lp), N);
    assert_eq!(lp.active_requests(), N);
    let mut seen = vec![0u32; N];
    watchdog(&mut lp);
    lp.run(RunMode::Default, &mut seen).unwrap();
    assert!(
        seen.iter().all(|&n| n == 1),
        "some request did not complete exactly once"
    );
    assert_eq!(loop_fs::pending_requests(&lp), 0);
    assert_eq!(lp.active_requests(), 0);
}

#[test]
fn callbacks_may_queue_more_work() {
    fn step(lp: &mut Loop<u32>, n: &mut u32, r: Result<u32, WorkError>) {
        *n = r.unwrap();
        if *n < 100 {
            let next = *n + 1;
            queue_work(lp, move || next, step).unwrap();
        }
    }
    let mut lp: Loop<u32> = Loop::new().unwrap();
    queue_work(&mut lp, || 1, step).unwrap();
    let mut n = 0;
    lp.run(RunMode::Default, &mut n).unwrap();
    assert_eq!(n, 100);
}

// ----- libuv: test-thread.c -----

#[test]
fn threadpool_multiple_event_loops() {
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let me = std::thread::current().id();
                let mut lp: Loop<usize> = Loop::new().unwrap();
                for _ in 0..10 {
                    queue_work(
                        &mut lp,
                        || std::thread::current().id(),
                        move |_, n, r| {
                            assert_ne!(r.unwrap(), me, "work runs on a pool thread");
                            assert_eq!(
                                std::thread::current().id(),
                                me,
                                "callback on the loop thread"
                            );
                            *n += 1;
                        },
                    )
                    .unwrap();
                }
                fs::stat(&mut lp, ".", move |_, n, r| {
                    r.unwrap();
                    assert_eq!(std::thread::current().id(), me);
                    *n += 1;
                })
                .unwrap();
                let mut n = 0;
                lp.run(RunMode::Default, &mut n).unwrap();
                n
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 11);
    }
}

// ----- ordering with Node's queues -----

#[test]
fn immediate_queued_in_fs_callback_runs_before_any_timer() {
    let mut lp: Loop<Vec<&str>> = Loop::new().unwrap();
    fs::stat(&mut lp, ".", |lp, log, r| {
        r.unwrap();
        log.push("stat");
        lp.set_timeout(0, |_, log| log.push("timeout"));
        lp.set_immediate(|_, log| log.push("immediate"));
    })
    .unwrap();
    let mut log = Vec::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log, ["stat", "immediate", "timeout"]);
}

/// Runs `n` work items on a 1-worker pool and returns once all of them
/// have been posted to the loop (a last item, blocked on the returned gate,
/// is running: FIFO order means the others completed). The loop has not
/// run: the `n` completions wait in the channel for one wake-up.
fn queue_then_settle<D: 'static>(
    lp: &mut Loop<D>,
    n: usize,
    after: impl Fn(usize, &mut Loop<D>, &mut D) + Clone + 'static,
) -> OpenOnDrop {
    PoolBuilder::new().size(1).install(lp).unwrap();
    for i in 0..n {
        let after = after.clone();
        queue_work(
            lp,
            || (),
            move |lp, d, r| {
                r.unwrap();
                after(i, lp, d)
            },
        )
        .unwrap();
    }
    let gate = Gate::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let g = gate.clone();
    queue_work(
        lp,
        move || {
            tx.send(()).unwrap();
            g.wait();
        },
        |_, _, r| r.unwrap(),
    )
    .unwrap();
    rx.recv().unwrap();
    OpenOnDrop(gate)
}

#[test]
fn ticks_and_microtasks_drain_after_each_completion() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    let gate = queue_then_settle(&mut lp, 3, |i, lp, log: &mut Vec<String>| {
        log.push(format!("work{i}"));
        lp.queue_microtask(move |_, log| log.push(format!("micro{i}")));
        lp.next_tick(move |_, log| log.push(format!("tick{i}")));
    });
    let mut log = Vec::new();
    lp.run(RunMode::NoWait, &mut log).unwrap();
    assert_eq!(
        log,
        ["work0", "tick0", "micro0", "work1", "tick1", "micro1", "work2", "tick2", "micro2"]
    );
    gate.open();
    lp.run(RunMode::Default, &mut log).unwrap();
}

// ----- panics -----

#[test]
fn panic_in_work_completes_with_an_error_and_the_worker_survives() {
    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    PoolBuilder::new().size(1).install(&mut lp).unwrap();
    queue_work(
        &mut lp,
        || -> u32 { panic!("boom in work") },
        |_, log, r| match r {
            Err(WorkError::Panicked(p)) => log.push(format!("panicked: {}", p.message())),
            other => panic!("unexpected {other:?}"),
        },
    )
    .unwrap();
    // The only worker must still be there for this one.
    queue_work(
        &mut lp,
        || 7,
        |_, log, r| log.push(format!("ok: {}", r.unwrap())),
    )
    .unwrap();
    let mut log = Vec::new();
    watchdog(&mut lp);
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log, ["panicked: boom in work", "ok: 7"]);
    assert_eq!(loop_fs::pool_size(&lp), Some(1));
}

#[test]
fn panic_payload_can_be_resumed_on_the_loop_thread() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    queue_work(
        &mut lp,
        || std::panic::panic_any(42u8),
        |_, _, r: Result<(), _>| {
            if let Err(WorkError::Panicked(p)) = r {
                std::panic::resume_unwind(p.into_payload());
            }
        },
    )
    .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut ()))).unwrap_err();
    assert_eq!(err.downcast_ref::<u8>(), Some(&42));
}

/// A completion callback (or a tick it queued) panics in the middle of a
/// batch: the panic leaves `run`, and the completions still in the channel
/// are served by the next `run`, each exactly once. The next run is
/// `NoWait`: nothing but the renewed wake-up can deliver them.
fn panic_mid_batch(in_tick: bool) {
    let mut lp: Loop<Vec<usize>> = Loop::new().unwrap();
    let gate = queue_then_settle(&mut lp, 6, move |i, lp, seen: &mut Vec<usize>| {
        seen.push(i);
        if i == 2 {
            if in_tick {
                lp.next_tick(|_, _| panic!("boom in tick"));
            } else {
                panic!("boom in callback");
            }
        }
    });
    let mut seen = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::NoWait, &mut seen)));
    assert!(r.is_err(), "the panic leaves run");
    assert_eq!(seen, [0, 1, 2]);
    lp.run(RunMode::NoWait, &mut seen).unwrap();
    assert_eq!(
        seen,
        [0, 1, 2, 3, 4, 5],
        "completions stranded after a panic"
    );
    gate.open();
    watchdog(&mut lp);
    lp.run(RunMode::Default, &mut seen).unwrap();
    assert_eq!(lp.active_requests(), 0);
}

#[test]
fn panic_in_completion_callback_strands_nothing() {
    panic_mid_batch(false);
}

#[test]
fn panic_in_tick_after_completion_strands_nothing() {
    panic_mid_batch(true);
}

// ----- cancel (libuv: test-threadpool-cancel.c) -----

#[test]
fn threadpool_cancel_work() {
    #[derive(Default)]
    struct St {
        canceled: usize,
        ok: usize,
    }
    let mut lp: Loop<St> = Loop::new().unwrap();
    PoolBuilder::new().size(4).install(&mut lp).unwrap();
    let (gate, blockers) = saturate(&mut lp, 4, |_, st: &mut St, r| {
        r.expect("blockers complete normally");
        st.ok += 1;
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let mut ids = Vec::new();
    for _ in 0..16 {
        let ran = Arc::clone(&ran);
        ids.push(
            queue_work(
                &mut lp,
                move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                },
                |_, st: &mut St, r| {
                    assert!(matches!(r, Err(WorkError::Canceled)));
                    st.canceled += 1;
                },
            )
            .unwrap(),
        );
    }
    for &id in &ids {
        cancel(&mut lp, id).expect("queued work can be canceled");
    }
    assert_eq!(cancel(&mut lp, ids[0]), Err(CancelError::AlreadyCanceled));
    assert_eq!(cancel(&mut lp, blockers[0]), Err(CancelError::Busy));
    gate.open();
    let mut st = St::default();
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!((st.canceled, st.ok), (16, 4));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "canceled work never runs");
    assert_eq!(cancel(&mut lp, ids[0]), Err(CancelError::NotPending));
}

#[test]
fn threadpool_cancel_single() {
    let mut lp: Loop<Option<bool>> = Loop::new().unwrap();
    PoolBuilder::new().size(1).install(&mut lp).unwrap();
    let (gate, _) = saturate(&mut lp, 1, |_, _, r| r.unwrap());
    let id = queue_work(
        &mut lp,
        || unreachable!("canceled"),
        |_, out: &mut Option<bool>, r: Result<(), _>| {
            *out = Some(r.unwrap_err().is_canceled());
        },
    )
    .unwrap();
    cancel(&mut lp, id).unwrap();
    let mut out = None;
    lp.drain_ticks(&mut out);
    assert_eq!(out, None, "not called back synchronously");
    gate.open();
    lp.run(RunMode::Default, &mut out).unwrap();
    assert_eq!(out, Some(true));
}

#[test]
fn threadpool_cancel_when_busy() {
    let mut lp: Loop<usize> = Loop::new().unwrap();
    PoolBuilder::new().size(1).install(&mut lp).unwrap();
    let (gate, ids) = saturate(&mut lp, 1, |_, n: &mut usize, r| {
        r.expect("status 0");
        *n += 1;
    });
    assert_eq!(cancel(&mut lp, ids[0]), Err(CancelError::Busy));
    gate.open();
    let mut n = 0;
    lp.run(RunMode::Default, &mut n).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn threadpool_cancel_fs() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("file");
    std::fs::write(&p, b"data").unwrap();
    let fd = loop_fs::fs::blocking::open(&p, fs::OpenFlags::RDWR, 0).unwrap();
    let q = dir.path().join("other");

    let mut lp: Loop<Vec<String>> = Loop::new().unwrap();
    PoolBuilder::new().size(2).install(&mut lp).unwrap();
    let (gate, _) = saturate(&mut lp, 2, |_, _, r| r.unwrap());
    fn note<T>(lp: &mut Loop<Vec<String>>, log: &mut Vec<String>, r: std::io::Result<T>) {
        let _ = lp;
        let e = r.err().expect("canceled, not run");
        assert!(loop_fs::is_canceled(&e), "{e}");
        log.push(e.to_string());
    }
    let t = std::time::SystemTime::UNIX_EPOCH;
    let ids = vec![
        fs::open(&mut lp, &p, fs::OpenFlags::RDONLY, 0, note).unwrap(),
        fs::stat(&mut lp, &p, note).unwrap(),
        fs::lstat(&mut lp, &p, note).unwrap(),
        fs::fstat(&mut lp, &fd, note).unwrap(),
        fs::read(&mut lp, &fd, vec![0; 4], Some(0), note).unwrap(),
        fs::write(&mut lp, &fd, b"x", None, note).unwrap(),
        fs::fsync(&mut lp, &fd, note).unwrap(),
        fs::ftruncate(&mut lp, &fd, 0, note).unwrap(),
        fs::rename(&mut lp, &p, &q, note).unwrap(),
        fs::unlink(&mut lp, &p, note).unwrap(),
        fs::mkdir(&mut lp, &q, 0o755, note).unwrap(),
        fs::readdir(&mut lp, dir.path(), note).unwrap(),
        fs::utime(&mut lp, &p, t, t, note).unwrap(),
        fs::copy_file(&mut lp, &p, &q, fs::CopyFlags::NONE, note).unwrap(),
        fs::read_file(&mut lp, &p, note).unwrap(),
        loop_fs::dns::lookup(&mut lp, "localhost", 80, note).unwrap(),
    ];
    for id in ids {
        cancel(&mut lp, id).unwrap();
    }
    gate.open();
    let mut log = Vec::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    let ps = p.display();
    let qs = q.display();
    assert_eq!(log.len(), 16);
    for expected in [
        format!("ECANCELED: operation canceled, open '{ps}'"),
        format!("ECANCELED: operation canceled, stat '{ps}'"),
        "ECANCELED: operation canceled, fstat".to_string(),
        "ECANCELED: operation canceled, read".to_string(),
        format!("ECANCELED: operation canceled, rename '{ps}' -> '{qs}'"),
        format!("ECANCELED: operation canceled, copyfile '{ps}' -> '{qs}'"),
        "getaddrinfo ECANCELED localhost".to_string(),
    ] {
        assert!(log.contains(&expected), "{expected} not in {log:#?}");
    }
    // Nothing ran: the file is as it was.
    assert_eq!(std::fs::read(&p).unwrap(), b"data");
    assert!(!q.exists());
}

#[test]
fn cancel_racing_workers_has_exactly_one_outcome() {
    // Each request is canceled right after it is queued, while four workers
    // take work as fast as they can: whichever side wins, cancel's answer,
    // the work and the callback agree, and the callback runs once.
    const N: usize = 4_000;
    let ran: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
    let mut lp: Loop<Vec<Option<bool>>> = Loop::new().unwrap();
    PoolBuilder::new().size(4).install(&mut lp).unwrap();
    let mut won = Vec::with_capacity(N);
    for i in 0..N {
        let r = Arc::clone(&ran);
        let id = queue_work(
            &mut lp,
            move || {
                r[i].fetch_add(1, Ordering::SeqCst);
            },
            move |_, seen: &mut Vec<Option<bool>>, r| {
                assert!(seen[i].is_none(), "callback {i} called twice");
                seen[i] = Some(matches!(r, Err(WorkError::Canceled)));
            },
        )
        .unwrap();
        match cancel(&mut lp, id) {
            Ok(()) => won.push(true),
            Err(CancelError::Busy) => won.push(false),
            Err(e) => panic!("request {i}: {e:?}"),
        }
    }
    let mut seen = vec![None; N];
    watchdog(&mut lp);
    lp.run(RunMode::Default, &mut seen).unwrap();
    for i in 0..N {
        let canceled = seen[i].unwrap_or_else(|| panic!("callback {i} never ran"));
        assert_eq!(
            canceled, won[i],
            "request {i}: cancel and callback disagree"
        );
        let runs = ran[i].load(Ordering::SeqCst);
        assert_eq!(runs, usize::from(!canceled), "request {i} ran {runs} times");
    }
}

#[test]
fn cancel_of_unknown_or_finished_ids() {
    let mut lp: Loop<Option<loop_fs::ReqId>> = Loop::new().unwrap();
    let id = queue_work(&mut lp, || (), |_, _, r| r.unwrap()).unwrap();
    let mut out = None;
    lp.run(RunMode::Default, &mut out).unwrap();
    assert_eq!(cancel(&mut lp, id), Err(CancelError::NotPending));
    // The slot is reused by the next request; the old id stays stale.
    let id2 = queue_work(&mut lp, || (), |_, _, r| r.unwrap()).unwrap();
    assert_ne!(id, id2);
    assert_eq!(cancel(&mut lp, id), Err(CancelError::NotPending));
    lp.run(RunMode::Default, &mut out).unwrap();
    // A loop without a pool has no pending requests at all.
    let mut other: Loop<()> = Loop::new().unwrap();
    assert_eq!(cancel(&mut other, id), Err(CancelError::NotPending));
}

// ----- sizing -----

#[test]
fn builder_sizes_the_pool_and_refuses_a_second_start() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    assert_eq!(loop_fs::pool_size(&lp), None, "created lazily");
    PoolBuilder::new().size(3).install(&mut lp).unwrap();
    assert_eq!(loop_fs::pool_size(&lp), Some(3));
    assert!(matches!(
        PoolBuilder::new().install(&mut lp),
        Err(loop_fs::Error::AlreadyStarted)
    ));
    let e = PoolBuilder::new()
        .size(0)
        .install(&mut Loop::<()>::new().unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("from 1 to 1024"), "{e}");
    assert!(PoolBuilder::new()
        .size(1025)
        .install(&mut Loop::<()>::new().unwrap())
        .is_err());
}

/// Runs this test binary again, only `child_reports_pool`, with
/// `LOOP_THREADPOOL_SIZE` set to `value` (or unset); returns what it printed.
fn child(value: Option<&str>, builder_size: Option<usize>) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_reports_pool",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env_remove(loop_fs::ENV_POOL_SIZE);
    if let Some(v) = value {
        cmd.env(loop_fs::ENV_POOL_SIZE, v);
    }
    cmd.env(
        "LOOP_FS_TEST_CHILD",
        builder_size.map_or("auto".to_string(), |n| n.to_string()),
    );
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no report in {stdout}"))
        .to_string()
}

#[test]
#[ignore = "run by pool_size_from_the_environment, in a child process with its own environment"]
fn child_reports_pool() {
    let Ok(mode) = std::env::var("LOOP_FS_TEST_CHILD") else {
        return;
    };
    let mut lp: Loop<()> = Loop::new().unwrap();
    let before = common::threads();
    let r = if mode == "auto" {
        // The lazy path: the first request starts the pool.
        queue_work(&mut lp, || (), |_, _, r| r.unwrap()).map(|_| ())
    } else {
        PoolBuilder::new()
            .size(mode.parse().unwrap())
            .install(&mut lp)
    };
    match r {
        Ok(()) => {
            let added = common::threads() - before;
            println!(
                "REPORT size={} threads={added}",
                loop_fs::pool_size(&lp).unwrap()
            );
            lp.run(RunMode::Default, &mut ()).unwrap();
        }
        Err(e) => println!("REPORT error={e}"),
    }
}

#[test]
fn pool_size_from_the_environment() {
    assert_eq!(child(None, None), "size=4 threads=4");
    assert_eq!(child(Some("1"), None), "size=1 threads=1");
    assert_eq!(child(Some("7"), None), "size=7 threads=7");
    // The builder's size takes precedence over the environment.
    assert_eq!(child(Some("7"), Some(2)), "size=2 threads=2");
    assert_eq!(child(Some("bad"), Some(2)), "size=2 threads=2");
    for bad in ["0", "1025", "four", "", "-3"] {
        let r = child(Some(bad), None);
        assert_eq!(
            r,
            format!(
                "error=thread pool size LOOP_THREADPOOL_SIZE={bad:?}: must be a whole number from 1 to 1024"
            )
        );
    }
}
