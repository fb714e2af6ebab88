//! Dropping a loop with requests in flight: no hang, no leaked thread, no
//! callback called, every callback and work closure dropped.
//!
//! One test in its own binary, so that `/proc/self/task` counts only the
//! threads this test makes (cargo runs tests of one binary in parallel).

mod common;

use common::{threads, Gate};
use loop_core::{Loop, RunMode};
use loop_fs::{fs, queue_work, PoolBuilder};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counts drops of the values it is cloned into.
#[derive(Clone, Default)]
struct DropCount(Arc<AtomicUsize>);

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
impl DropCount {
    fn track(&self) -> Tracked {
        Tracked(Arc::clone(&self.0))
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Waits (bounded) for the thread count to settle at `n`: a joined
/// thread's `/proc` entry can outlive `join` by a moment.
fn settles_at(n: usize) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if threads() == n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn drop_with_requests_in_flight_joins_every_worker() {
    let base = threads();

    // 1. Requests queued, executing and done-but-not-called-back at drop.
    {
        const N: usize = 2_000;
        let calls = Arc::new(AtomicUsize::new(0));
        let (cb_drops, work_drops) = (DropCount::default(), DropCount::default());
        let mut lp: Loop<()> = Loop::new().unwrap();
        PoolBuilder::new().size(4).install(&mut lp).unwrap();
        assert_eq!(threads(), base + 4);
        let gate = Gate::default();
        for i in 0..N {
            let (c, t_cb, t_work) = (Arc::clone(&calls), cb_drops.track(), work_drops.track());
            let g = gate.clone();
            queue_work(
                &mut lp,
                move || {
                    let _t = t_work;
                    if i < 4 {
                        g.wait(); // the first four hold the workers
                    }
                },
                move |_, _, _| {
                    let _t = t_cb;
                    c.fetch_add(1, Ordering::SeqCst);
                },
            )
            .unwrap();
        }
        fs::stat(&mut lp, ".", |_, _, _| panic!("never called")).unwrap();
        // Let the blockers finish once drop has begun: drop waits for
        // executing work only.
        let opener = {
            let g = gate.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                g.open();
            })
        };
        drop(lp);
        opener.join().unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "no callback runs after drop"
        );
        assert_eq!(cb_drops.get(), N, "every callback dropped");
        assert_eq!(
            work_drops.get(),
            N,
            "every work closure dropped (run or not)"
        );
        assert!(
            settles_at(base),
            "workers not joined: {} threads, {base} before",
            threads()
        );
    }

    // 2. A loop that ran part of its requests, then was dropped.
    {
        let mut lp: Loop<usize> = Loop::new().unwrap();
        for _ in 0..1_000 {
            queue_work(
                &mut lp,
                || std::thread::sleep(Duration::from_micros(50)),
                |_, n, _| *n += 1,
            )
            .unwrap();
        }
        let mut n = 0;
        lp.run(RunMode::Once, &mut n).unwrap();
        assert_eq!(threads(), base + loop_fs::pool_size(&lp).unwrap());
        drop(lp);
        assert!(settles_at(base), "workers not joined after a partial run");
    }

    // 3. Many loops, each with its pool, created and dropped in turn.
    for _ in 0..20 {
        let mut lp: Loop<()> = Loop::new().unwrap();
        PoolBuilder::new().size(3).install(&mut lp).unwrap();
        queue_work(&mut lp, || (), |_, _, _| {}).unwrap();
        drop(lp);
    }
    assert!(settles_at(base), "threads leaked across loops");

    // 4. A loop that never used the pool starts no thread.
    let mut lp: Loop<()> = Loop::new().unwrap();
    lp.set_timeout(1, |_, _| {});
    lp.run(RunMode::Default, &mut ()).unwrap();
    assert_eq!(threads(), base);
}
