//! `async_tasks [WORKLOAD [N]]`: loop-core's tasks against tokio's
//! current-thread runtime with a `LocalSet`, in the same process; one line
//! `NAME ns_per_op=X` per workload (all of them without an argument).
//!
//! - `spawn` (N = 1,000,000): spawn N tasks that complete in their first
//!   poll, then run until all are done; ns per task, spawn and run. On
//!   loop-core the first poll is inside `spawn_local` (JS's async call);
//!   on tokio it is a queued run of the task.
//! - `spawn-yield` (N = 1,000,000): the same, each task awaiting one
//!   `yield_now` first: one wake-up and a second poll per task.
//! - `pingpong` (N = 1,000,000 steps): two tasks hand a turn back and
//!   forth through a shared cell and each other's wakers: each step is
//!   one wake-up and one poll.
//!
//! The futures are the same code on both runtimes (only `spawn` and
//! `yield_now` are each runtime's own), so the figures compare the
//! executors: wake, queue, poll. Not a timed test: it prints figures.
//! `scripts/bench-async.sh` runs it and counts instructions per task and
//! per step with callgrind.

#[path = "../tests/support/pingpong.rs"]
mod pingpong;

use pingpong::{player, table};
use std::cell::Cell;
use std::future::Future;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

const N: u64 = 1_000_000;

type Bench = fn(u64) -> f64;

const BENCHES: &[(&str, Bench)] = &[
    ("loop-spawn", loop_spawn),
    ("tokio-spawn", tokio_spawn),
    ("loop-spawn-yield", loop_spawn_yield),
    ("tokio-spawn-yield", tokio_spawn_yield),
    ("loop-pingpong", loop_pingpong),
    ("tokio-pingpong", tokio_pingpong),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(N);
    let mut ran = false;
    for (name, f) in BENCHES {
        if args.first().is_none_or(|a| a == name) {
            let ns = f(n);
            println!("{name} n={n} ns_per_op={ns:.1}");
            ran = true;
        }
    }
    if !ran {
        eprintln!("unknown workload; one of:");
        for (name, _) in BENCHES {
            eprintln!("  {name}");
        }
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn per_op(t: Instant, n: u64) -> f64 {
    t.elapsed().as_nanos() as f64 / n as f64
}

fn new_loop() -> loop_core::Loop<()> {
    loop_core::Loop::new().expect("a loop")
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
}

/// Spawns `n` tasks `task(done)` on loop-core and runs until all are
/// done: ns per task. Each task adds 1 to `done`.
fn loop_spawn_n<F: Future<Output = ()> + 'static>(
    n: u64,
    task: impl Fn(Rc<Cell<u64>>) -> F,
) -> f64 {
    let done = Rc::new(Cell::new(0u64));
    let mut lp = new_loop();
    let t = Instant::now();
    for _ in 0..n {
        lp.spawn_local(&mut (), task(Rc::clone(&done))).detach();
    }
    lp.run(loop_core::RunMode::Default, &mut ()).expect("run");
    let ns = per_op(t, n);
    assert_eq!(done.get(), n);
    ns
}

/// The same on tokio's current-thread runtime with a `LocalSet`.
fn tokio_spawn_n<F: Future<Output = ()> + 'static>(
    n: u64,
    task: impl Fn(Rc<Cell<u64>>) -> F,
) -> f64 {
    let done = Rc::new(Cell::new(0u64));
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    let t = Instant::now();
    for _ in 0..n {
        drop(local.spawn_local(task(Rc::clone(&done))));
    }
    rt.block_on(local);
    let ns = per_op(t, n);
    assert_eq!(done.get(), n);
    ns
}

fn loop_spawn(n: u64) -> f64 {
    loop_spawn_n(n, |d| async move { d.set(d.get() + 1) })
}

fn tokio_spawn(n: u64) -> f64 {
    tokio_spawn_n(n, |d| async move { d.set(d.get() + 1) })
}

fn loop_spawn_yield(n: u64) -> f64 {
    loop_spawn_n(n, |d| async move {
        loop_core::task::yield_now().await;
        d.set(d.get() + 1)
    })
}

fn tokio_spawn_yield(n: u64) -> f64 {
    tokio_spawn_n(n, |d| async move {
        tokio::task::yield_now().await;
        d.set(d.get() + 1)
    })
}

fn loop_pingpong(n: u64) -> f64 {
    let tb = table();
    let mut lp = new_loop();
    let t = Instant::now();
    lp.spawn_local(&mut (), player(Rc::clone(&tb), 1, n))
        .detach();
    lp.spawn_local(&mut (), player(Rc::clone(&tb), 0, n))
        .detach();
    lp.run(loop_core::RunMode::Default, &mut ()).expect("run");
    let ns = per_op(t, n);
    assert_eq!(tb.steps.get(), n);
    assert_eq!(lp.task_count(), 0);
    ns
}

fn tokio_pingpong(n: u64) -> f64 {
    let tb = table();
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    let t = Instant::now();
    drop(local.spawn_local(player(Rc::clone(&tb), 1, n)));
    drop(local.spawn_local(player(Rc::clone(&tb), 0, n)));
    rt.block_on(local);
    let ns = per_op(t, n);
    assert_eq!(tb.steps.get(), n);
    ns
}
