//! A task's wake-up allocates nothing: two tasks waking each other N
//! times cost the same allocations for N = 100 as for N = 10,000 (the
//! queues reach their size in the first steps and are reused). The
//! counting allocator is loop-net's (one for the workspace).

#[path = "../../loop-net/tests/support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/pingpong.rs"]
mod pingpong;

use counting_alloc::{allocs, Counting};
use loop_core::{task, Loop, RunMode};
use pingpong::{player, table};
use std::rc::Rc;

#[global_allocator]
static ALLOC: Counting = Counting;

/// Allocations of `run` for a ping-pong of `n` steps (spawned before).
fn pingpong_run_allocs(n: u64) -> u64 {
    let tb = table();
    let mut lp: Loop<()> = Loop::new().expect("loop");
    for me in [1usize, 0] {
        lp.spawn_local(&mut (), player(Rc::clone(&tb), me, n))
            .detach();
    }
    let a = allocs(|| {
        lp.run(RunMode::Default, &mut ()).expect("run");
    });
    assert_eq!(tb.steps.get(), n);
    assert_eq!(lp.task_count(), 0);
    a
}

#[test]
fn a_wake_allocates_nothing() {
    let small = pingpong_run_allocs(100);
    let large = pingpong_run_allocs(10_000);
    assert_eq!(
        small, large,
        "10,000 wake-ups allocated more than 100 ({large} vs {small})"
    );
}

#[test]
fn yield_now_allocates_nothing() {
    fn run(n: u32) -> u64 {
        let mut lp: Loop<()> = Loop::new().expect("loop");
        lp.spawn_local(&mut (), async move {
            for _ in 0..n {
                task::yield_now().await;
            }
        })
        .detach();
        allocs(|| {
            lp.run(RunMode::Default, &mut ()).expect("run");
        })
    }
    assert_eq!(run(100), run(10_000));
}
