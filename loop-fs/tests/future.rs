//! `loop_fs::future`: requests as futures in loop-core tasks; dropping one
//! cancels its request while it is still queued.

use loop_core::task;
use loop_core::Loop;
use loop_fs::future as fsf;
use loop_fs::{PoolBuilder, WorkError};
use loop_testkit::run_to_end;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

type Log = Vec<String>;

fn log(s: String) {
    task::with(|_, out: &mut Log| out.push(s));
}

#[test]
fn fs_requests_and_work_await_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f.txt");
    let mut lp: Loop<Log> = Loop::new().expect("loop");
    let mut out = Log::new();
    let mut h = lp.spawn_local(&mut out, async move {
        task::with(|lp, _: &mut Log| fsf::write_file(lp, &path, "0123456789"))
            .await
            .expect("written");
        let st = task::with(|lp, _: &mut Log| fsf::stat(lp, &path))
            .await
            .expect("stat");
        log(format!("size {}", st.len()));
        let bytes = task::with(|lp, _: &mut Log| fsf::read_file(lp, &path))
            .await
            .expect("read");
        log(String::from_utf8(bytes).expect("utf-8"));
        let v = task::with(|lp, _: &mut Log| fsf::queue_work(lp, || 6 * 7))
            .expect("queued")
            .await
            .expect("ran");
        log(format!("work {v}"));
        let e = task::with(|lp, _: &mut Log| fsf::stat(lp, "/no/such/path"))
            .await
            .unwrap_err();
        log(e.to_string());
    });
    run_to_end(&mut lp, &mut out);
    assert!(h.try_take().expect("finished").is_ok());
    assert_eq!(
        out,
        [
            "size 10",
            "0123456789",
            "work 42",
            "ENOENT: no such file or directory, stat '/no/such/path'"
        ]
    );
}

/// One worker, held busy; a second request waits in the queue. Dropping
/// its future (here: aborting the task that awaits it) cancels it: its
/// work never runs.
#[test]
fn dropping_a_queued_request_cancels_it() {
    let mut lp: Loop<Log> = Loop::new().expect("loop");
    PoolBuilder::new().size(1).install(&mut lp).expect("pool");
    let mut out = Log::new();
    let (release, held) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel::<()>();
    // Occupies the only worker until released.
    loop_fs::queue_work(
        &mut lp,
        move || {
            started_tx.send(()).expect("test alive");
            held.recv().expect("released");
        },
        |_, out, r| {
            r.expect("ran");
            out.push("blocker done".into());
        },
    )
    .expect("queued");
    started.recv().expect("the worker took the blocker");
    let ran = Arc::new(AtomicBool::new(false));
    let r2 = Arc::clone(&ran);
    let waiter = lp.spawn_local(&mut out, async move {
        let r = task::with(|lp, _: &mut Log| {
            fsf::queue_work(lp, move || r2.store(true, Ordering::SeqCst))
        })
        .expect("queued")
        .await;
        log(format!("waiter got {:?}", r.map_err(|e| e.to_string())));
    });
    assert_eq!(loop_fs::pending_requests(&lp), 2);
    waiter.abort();
    // The abort drops the task (and its request) at its next turn, in the
    // first drain of `run`; the blocker is released later, in the check
    // phase, so the worker cannot reach the request before the cancel.
    lp.set_immediate(move |_, _| release.send(()).expect("worker waits"));
    run_to_end(&mut lp, &mut out);
    assert!(
        !ran.load(Ordering::SeqCst),
        "a canceled request's work never runs"
    );
    assert_eq!(out, ["blocker done"]);
    assert_eq!(loop_fs::pending_requests(&lp), 0);
}

/// Without a drop, the same queued request runs and its result arrives.
#[test]
fn a_queued_request_kept_runs() {
    let mut lp: Loop<Log> = Loop::new().expect("loop");
    PoolBuilder::new().size(1).install(&mut lp).expect("pool");
    let mut out = Log::new();
    let mut h = lp.spawn_local(&mut out, async move {
        let r: Result<u32, WorkError> = task::with(|lp, _: &mut Log| fsf::queue_work(lp, || 5))
            .expect("queued")
            .await;
        r.expect("ran")
    });
    run_to_end(&mut lp, &mut out);
    assert_eq!(h.try_take().expect("finished").expect("ok"), 5);
}
