//! `loop-bench [NAME]`: loop-core's benchmarks, one line `NAME ns_per_op=X`
//! per workload (all of them without an argument).
//!
//! The workloads are defined as libuv's own benchmarks define them, so the
//! figures compare with `scripts/bench-peers.sh` (libuv 1.44 in C, Node.js):
//!
//! - `million-timers`: start 1,000,000 timers with timeouts `i % 1000` ms,
//!   run until all fired; wall ns per timer, start and run together
//!   (dominated by the ~1 s the last timers wait, on every implementation);
//! - `timer-churn`: 10,000 armed timers, then 1,000,000 re-arms (stop + start
//!   with a new random timeout) of random ones; ns per re-arm;
//! - `empty-iteration`: one active idle handle, `run(NoWait)` 10,000,000
//!   times; ns per call;
//! - `empty-iteration-fd`: the same with one idle socket registered, so that
//!   the loop makes the `epoll_wait(0)` syscall every iteration, as libuv
//!   always does (it watches fds of its own);
//! - `next-tick`: 10,000,000 ticks, each queued by the previous; ns per tick;
//! - `microtask`: 10,000,000 microtasks, each queued by the previous; ns
//!   per microtask;
//! - `immediate`: 1,000,000 immediates, each queued by the previous; ns per
//!   immediate;
//! - `async-wakeup`: a second thread sends, waits until the loop's callback
//!   answered, sends again; 100,000 round trips; ns per round trip.
//! - `queue-work`: 200,000 no-op work items queued on the thread pool
//!   (loop-fs, 4 workers) before the loop runs, then run until every
//!   completion callback ran; ns per item, queueing and run together;
//! - `work-chain`: 20,000 no-op work items, one at a time: each completion
//!   callback queues the next (loop-fs, 4 workers); ns per item, the round
//!   trip loop → worker → loop;
//! - `fs-stat`: 100,000 `stat`s of one file, all queued at once, then run
//!   to completion; ns per stat.
//!
//! - `timer-memory` (a size, not a time: `bytes_per_op`): resident memory
//!   added by 1,000,000 armed timers, per timer.
//!
//! Build with `--release`: `cargo run --release -p loop-tests --bin loop-bench`.

use loop_core::{Loop, RunMode};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

type Workload = fn() -> f64;

const WORKLOADS: &[(&str, Workload)] = &[
    ("million-timers", million_timers),
    ("timer-churn", timer_churn),
    ("empty-iteration", empty_iteration),
    ("empty-iteration-fd", empty_iteration_fd),
    ("next-tick", next_tick),
    ("microtask", microtask),
    ("immediate", immediate),
    ("async-wakeup", async_wakeup),
    ("queue-work", queue_work),
    ("work-chain", work_chain),
    ("fs-stat", fs_stat),
];

/// Workloads whose figure is not a time: `NAME bytes_per_op=X`.
const MEMORY: &[(&str, Workload)] = &[("timer-memory", timer_memory)];

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let mut ran = false;
    for (name, f) in WORKLOADS {
        if arg.as_deref().is_none_or(|a| a == *name) {
            println!("{name} ns_per_op={:.1}", f());
            ran = true;
        }
    }
    for (name, f) in MEMORY {
        if arg.as_deref().is_none_or(|a| a == *name) {
            println!("{name} bytes_per_op={:.1}", f());
            ran = true;
        }
    }
    if !ran {
        let names: Vec<&str> = WORKLOADS.iter().chain(MEMORY).map(|(n, _)| *n).collect();
        eprintln!(
            "usage: loop-bench [NAME]; NAME is one of {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// A small deterministic PRNG (xorshift64*), as the C peers use.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn million_timers() -> f64 {
    const N: u64 = 1_000_000;
    let mut lp: Loop<u64> = Loop::new().expect("loop");
    let mut fired = 0u64;
    let t0 = Instant::now();
    for i in 0..N {
        lp.add_timer(i % 1000, 0, |_, fired| *fired += 1);
    }
    lp.run(RunMode::Default, &mut fired).expect("run");
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    assert_eq!(fired, N);
    ns
}

fn timer_churn() -> f64 {
    const TIMERS: usize = 10_000;
    const REARMS: u64 = 1_000_000;
    let mut lp: Loop<()> = Loop::new().expect("loop");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let timers: Vec<_> = (0..TIMERS)
        .map(|_| lp.add_timer(1 + rng.next() % 100_000, 0, |_, _| {}))
        .collect();
    let t0 = Instant::now();
    for _ in 0..REARMS {
        let t = timers[(rng.next() % TIMERS as u64) as usize];
        lp.timer_stop(t).expect("live timer");
        lp.timer_start(t, 1 + rng.next() % 100_000, 0, |_, _| {})
            .expect("live timer");
    }
    let ns = t0.elapsed().as_nanos() as f64 / REARMS as f64;
    assert_eq!(lp.armed_timers(), TIMERS);
    for t in timers {
        lp.close(t, None).expect("live timer");
    }
    lp.run(RunMode::Default, &mut ()).expect("run");
    ns
}

/// `run(NoWait)` 10,000,000 times with one active idle handle; `setup`
/// adds what else the loop should have.
fn idle_nowait(setup: impl FnOnce(&mut Loop<u64>)) -> f64 {
    const N: u64 = 10_000_000;
    let mut lp: Loop<u64> = Loop::new().expect("loop");
    let idle = lp.idle_init();
    lp.idle_start(idle, |_, n| *n += 1).expect("idle");
    setup(&mut lp);
    let mut calls = 0u64;
    let t0 = Instant::now();
    for _ in 0..N {
        lp.run(RunMode::NoWait, &mut calls).expect("run");
    }
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    assert_eq!(calls, N);
    ns
}

fn empty_iteration() -> f64 {
    idle_nowait(|_| {})
}

fn empty_iteration_fd() -> f64 {
    // A socket that never becomes readable: one fd for epoll to watch.
    let (mut quiet, peer) = mio::net::UnixStream::pair().expect("socketpair");
    let ns = idle_nowait(|lp| {
        let io = lp.io_init(|_, _, _| {});
        lp.io_register(io, &mut quiet, mio::Interest::READABLE)
            .expect("register");
    });
    drop((quiet, peer));
    ns
}

/// A chain of callbacks, each queued by the previous one.
struct Chain {
    ran: u64,
    limit: u64,
}

/// Runs a chain of `limit` callbacks started by `first`; ns per callback.
fn chain(limit: u64, first: fn(&mut Loop<Chain>, &mut Chain)) -> f64 {
    let mut lp: Loop<Chain> = Loop::new().expect("loop");
    let mut c = Chain { ran: 0, limit };
    let t0 = Instant::now();
    first(&mut lp, &mut c);
    lp.run(RunMode::Default, &mut c).expect("run");
    let ns = t0.elapsed().as_nanos() as f64 / limit as f64;
    assert_eq!(c.ran, limit);
    ns
}

fn next_tick() -> f64 {
    fn tick(lp: &mut Loop<Chain>, c: &mut Chain) {
        c.ran += 1;
        if c.ran < c.limit {
            lp.next_tick(tick);
        }
    }
    chain(10_000_000, |lp, _| lp.next_tick(tick))
}

fn microtask() -> f64 {
    fn job(lp: &mut Loop<Chain>, c: &mut Chain) {
        c.ran += 1;
        if c.ran < c.limit {
            lp.queue_microtask(job);
        }
    }
    chain(10_000_000, |lp, _| lp.queue_microtask(job))
}

fn immediate() -> f64 {
    fn imm(lp: &mut Loop<Chain>, c: &mut Chain) {
        c.ran += 1;
        if c.ran < c.limit {
            lp.set_immediate(imm);
        }
    }
    chain(1_000_000, |lp, _| {
        lp.set_immediate(imm);
    })
}

fn async_wakeup() -> f64 {
    const N: u64 = 100_000;
    struct State {
        answered: Arc<AtomicU64>,
        peer: std::thread::Thread,
        handle: Option<loop_core::AsyncId>,
    }
    let mut lp: Loop<State> = Loop::new().expect("loop");
    let answered = Arc::new(AtomicU64::new(0));
    let h = lp
        .async_init(|lp, st| {
            let n = st.answered.fetch_add(1, Ordering::AcqRel) + 1;
            st.peer.unpark();
            if n == N {
                if let Some(h) = st.handle.take() {
                    lp.close(h, None).expect("live handle");
                }
            }
        })
        .expect("async");
    let sender = lp.async_sender(h).expect("sender");
    let ready = Arc::new(AtomicBool::new(false));
    let (answered2, ready2) = (Arc::clone(&answered), Arc::clone(&ready));
    let peer = std::thread::spawn(move || {
        while !ready2.load(Ordering::Acquire) {
            std::thread::park();
        }
        for i in 1..=N {
            sender.send().expect("send");
            while answered2.load(Ordering::Acquire) < i {
                std::thread::park();
            }
        }
    });
    let mut st = State {
        answered,
        peer: peer.thread().clone(),
        handle: Some(h),
    };
    let t0 = Instant::now();
    ready.store(true, Ordering::Release);
    peer.thread().unpark();
    lp.run(RunMode::Default, &mut st).expect("run");
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    peer.join().expect("peer thread");
    assert_eq!(st.answered.load(Ordering::Acquire), N);
    ns
}

fn queue_work() -> f64 {
    const N: u64 = 200_000;
    let mut lp: Loop<u64> = Loop::new().expect("loop");
    let mut done = 0u64;
    let t0 = Instant::now();
    // Started inside the timed region, as libuv starts its pool inside the
    // first uv_queue_work; sized 4 whatever LOOP_THREADPOOL_SIZE says.
    loop_fs::PoolBuilder::new()
        .size(4)
        .install(&mut lp)
        .expect("pool");
    for _ in 0..N {
        loop_fs::queue_work(
            &mut lp,
            || (),
            |_, done, r| {
                r.expect("no-op work");
                *done += 1;
            },
        )
        .expect("queued");
    }
    lp.run(RunMode::Default, &mut done).expect("run");
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    assert_eq!(done, N);
    ns
}

fn work_chain() -> f64 {
    const N: u64 = 20_000;
    fn next(lp: &mut Loop<u64>) {
        loop_fs::queue_work(lp, || (), step).expect("queued");
    }
    fn step(lp: &mut Loop<u64>, done: &mut u64, r: Result<(), loop_fs::WorkError>) {
        r.expect("no-op work");
        *done += 1;
        if *done < N {
            next(lp);
        }
    }
    let mut lp: Loop<u64> = Loop::new().expect("loop");
    let mut done = 0u64;
    let t0 = Instant::now();
    // As in queue-work: the pool starts inside the timed region.
    loop_fs::PoolBuilder::new()
        .size(4)
        .install(&mut lp)
        .expect("pool");
    next(&mut lp);
    lp.run(RunMode::Default, &mut done).expect("run");
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    assert_eq!(done, N);
    ns
}

fn fs_stat() -> f64 {
    const N: u64 = 100_000;
    let path = std::env::temp_dir().join(format!("loop-bench-fs-stat-{}", std::process::id()));
    std::fs::write(&path, b"loop-bench").expect("temp file");
    let mut lp: Loop<u64> = Loop::new().expect("loop");
    let mut done = 0u64;
    let t0 = Instant::now();
    loop_fs::PoolBuilder::new()
        .size(4)
        .install(&mut lp)
        .expect("pool");
    for _ in 0..N {
        loop_fs::fs::stat(&mut lp, &path, |_, done, r| {
            assert_eq!(r.expect("stat").len(), 10);
            *done += 1;
        })
        .expect("queued");
    }
    lp.run(RunMode::Default, &mut done).expect("run");
    let ns = t0.elapsed().as_nanos() as f64 / N as f64;
    assert_eq!(done, N);
    let _ = std::fs::remove_file(&path);
    ns
}

/// Resident set size in bytes, from `/proc/self/statm`.
fn rss_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0
}

fn timer_memory() -> f64 {
    const N: u64 = 1_000_000;
    let mut lp: Loop<()> = Loop::new().expect("loop");
    let before = rss_bytes();
    for i in 0..N {
        lp.add_timer(1 + i % 1000, 0, |_, _| {});
    }
    let per = (rss_bytes() - before) / N as f64;
    assert_eq!(lp.armed_timers(), N as usize);
    per
}
