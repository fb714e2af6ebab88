//! Async Rust on the loop against its JavaScript twin: each scenario is a
//! task program and the `async function` program it mirrors; the twin is
//! run with `node` at test time and the two printed sequences must be
//! identical (nothing here is a hand-written expectation).
//!
//! The rules the twins follow (docs/async.md):
//! - `spawn_local(fut)` is calling an `async function`: its body runs at
//!   once, up to the first await that is pending;
//! - `task::sleep(ms).await` is `await new Promise(r => setTimeout(r, ms))`,
//!   `task::immediate().await` is `await new Promise(r => setImmediate(r))`,
//!   `task::yield_now().await` is `await null`, and `handle.await` of a
//!   spawned task is `await f()` of the async function;
//! - an await of a value already there is `ready(v).await` followed by
//!   `yield_now().await`: Rust does not yield on a ready future where
//!   JavaScript always takes one microtask hop. The scenario
//!   `ready_values_do_not_yield` shows the difference against node.
//!
//! Timer scenarios run on a manual clock (no sleeping); their JS twins
//! use margins of a hundred ms or more, or timers of one Node list (whose
//! order is insertion order), so that node's real clock on a loaded
//! machine cannot reorder them.
//! The fs scenario runs on the real clock, as node does.

use loop_core::task::{self, yield_now};
use loop_core::Loop;
use loop_fs::future as fsf;
use loop_testkit::run_to_end;
use std::path::PathBuf;
use std::process::Command;

type Log = Vec<String>;

/// In a task: print.
fn log(s: impl Into<String>) {
    let s = s.into();
    task::with(|_, out: &mut Log| out.push(s));
}

/// In a task: `process.nextTick` and `queueMicrotask` of a print.
fn tick(s: &'static str) {
    task::with(|lp: &mut Loop<Log>, _| lp.next_tick(move |_, o| o.push(s.into())));
}
fn microtask(s: &'static str) {
    task::with(|lp: &mut Loop<Log>, _| lp.queue_microtask(move |_, o| o.push(s.into())));
}

const PRELUDE: &str = "'use strict';\n\
    const log = (s) => console.log(s);\n\
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));\n\
    const imm = () => new Promise((r) => setImmediate(r));\n";

/// The lines node prints for `js` (after the prelude).
fn node(js: &str) -> Vec<String> {
    let out = Command::new("node")
        .arg("-e")
        .arg(format!("{PRELUDE}{js}"))
        .output()
        .expect("node (v20) must be installed: it is the oracle of these tests");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

fn manual() -> Loop<Log> {
    loop_testkit::manual_loop(0).0
}

fn run(mut lp: Loop<Log>, mut out: Log) -> Log {
    run_to_end(&mut lp, &mut out);
    out
}

fn assert_same(rust: Log, js: &str) {
    let want = node(js);
    assert!(!want.is_empty(), "the twin printed nothing");
    assert_eq!(rust, want, "Rust (left) and its JS twin under node (right)");
}

#[test]
fn await_null_hops_through_the_microtask_queue() {
    let mut lp = manual();
    let mut out = Log::new();
    lp.queue_microtask(|_, o| o.push("m1".into()));
    lp.spawn_local(&mut out, async {
        log("a1");
        yield_now().await;
        log("a2");
        yield_now().await;
        log("a3");
    })
    .detach();
    lp.next_tick(|_, o| o.push("t1".into()));
    lp.queue_microtask(|_, o| o.push("m2".into()));
    lp.set_immediate(|_, o| o.push("imm".into()));
    out.push("main".into());
    assert_same(
        run(lp, out),
        "async function a() { log('a1'); await null; log('a2'); await null; log('a3'); }
         queueMicrotask(() => log('m1'));
         a();
         process.nextTick(() => log('t1'));
         queueMicrotask(() => log('m2'));
         setImmediate(() => log('imm'));
         log('main');",
    );
}

/// Margins: A's chain (5 + 5 ms) ends 190 ms before B wakes, and the
/// 300 ms timeout falls 100 ms from B's wake and from its end, so a node
/// that starts its loop late (a loaded machine) cannot reorder them; A's
/// first sleep and the 5 ms timeout share Node's 5 ms list, whose order is
/// insertion order whatever the delay.
#[test]
fn awaits_on_timers_interleave_with_timeouts_ticks_and_microtasks() {
    async fn f(name: &'static str, ms: u64) {
        log(format!("{name} start"));
        task::sleep(ms).await;
        log(format!("{name} woke"));
        tick(if name == "A" { "A tick" } else { "B tick" });
        microtask(if name == "A" {
            "A microtask"
        } else {
            "B microtask"
        });
        task::sleep(ms).await;
        log(format!("{name} end"));
    }
    let mut lp = manual();
    let mut out = Log::new();
    lp.spawn_local(&mut out, f("A", 5)).detach();
    lp.spawn_local(&mut out, f("B", 200)).detach();
    lp.set_timeout(5, |lp, o| {
        o.push("timeout 5".into());
        lp.next_tick(|_, o| o.push("timeout tick".into()));
    });
    lp.set_timeout(300, |_, o| o.push("timeout 300".into()));
    assert_same(
        run(lp, out),
        "async function f(name, ms) {
           log(name + ' start');
           await sleep(ms);
           log(name + ' woke');
           process.nextTick(() => log(name + ' tick'));
           queueMicrotask(() => log(name + ' microtask'));
           await sleep(ms);
           log(name + ' end');
         }
         f('A', 5);
         f('B', 200);
         setTimeout(() => { log('timeout 5'); process.nextTick(() => log('timeout tick')); }, 5);
         setTimeout(() => log('timeout 300'), 300);",
    );
}

#[test]
fn awaits_on_immediates_run_in_the_check_phase() {
    let mut lp = manual();
    let mut out = Log::new();
    lp.set_immediate(|lp, o| {
        o.push("i1".into());
        lp.next_tick(|_, o| o.push("i1 tick".into()));
        lp.set_immediate(|_, o| o.push("i3".into()));
    });
    lp.spawn_local(&mut out, async {
        log("g1");
        task::immediate().await;
        log("g2");
        task::immediate().await;
        log("g3");
    })
    .detach();
    lp.set_immediate(|_, o| o.push("i2".into()));
    assert_same(
        run(lp, out),
        "setImmediate(() => { log('i1'); process.nextTick(() => log('i1 tick')); setImmediate(() => log('i3')); });
         async function g() { log('g1'); await imm(); log('g2'); await imm(); log('g3'); }
         g();
         setImmediate(() => log('i2'));",
    );
}

/// `await v` of a value already there is `ready(v).await` + `yield_now()`.
#[test]
fn awaits_of_resolved_values_take_one_hop_with_yield_now() {
    let mut lp = manual();
    let mut out = Log::new();
    lp.queue_microtask(|_, o| o.push("m1".into()));
    lp.spawn_local(&mut out, async {
        log("r1");
        let v = std::future::ready(1).await;
        yield_now().await;
        log(format!("r2 {v}"));
        let w = std::future::ready(2).await;
        yield_now().await;
        log(format!("r3 {w}"));
    })
    .detach();
    lp.queue_microtask(|_, o| o.push("m2".into()));
    lp.queue_microtask(|lp, o| {
        o.push("then1".into());
        lp.queue_microtask(|_, o| o.push("then2".into()));
    });
    out.push("main".into());
    assert_same(
        run(lp, out),
        "async function r() {
           log('r1');
           const v = await 1; log('r2 ' + v);
           const w = await Promise.resolve(2); log('r3 ' + w);
         }
         queueMicrotask(() => log('m1'));
         r();
         queueMicrotask(() => log('m2'));
         Promise.resolve().then(() => log('then1')).then(() => log('then2'));
         log('main');",
    );
}

/// The rule, shown: a ready future does not yield in Rust. The program
/// without `yield_now` prints what the JS twin without the awaits prints,
/// and not what the twin with them prints.
#[test]
fn ready_values_do_not_yield() {
    let mut lp = manual();
    let mut out = Log::new();
    lp.queue_microtask(|_, o| o.push("m1".into()));
    lp.spawn_local(&mut out, async {
        log("r1");
        let v = std::future::ready(1).await;
        log(format!("r2 {v}"));
    })
    .detach();
    out.push("main".into());
    let rust = run(lp, out);
    let with_await = node(
        "async function r() { log('r1'); const v = await 1; log('r2 ' + v); }
         queueMicrotask(() => log('m1'));
         r();
         log('main');",
    );
    assert_ne!(rust, with_await, "JS hops on `await 1`; Rust does not");
    assert_same(
        rust,
        "async function r() { log('r1'); const v = 1; log('r2 ' + v); }
         queueMicrotask(() => log('m1'));
         r();
         log('main');",
    );
}

/// Awaiting a spawned task is awaiting the async function's promise: one
/// hop after the task's last poll, behind what that poll queued.
#[test]
fn awaiting_a_task_is_awaiting_an_async_function() {
    async fn inner() -> u32 {
        log("inner start");
        task::sleep(5).await;
        log("inner done");
        microtask("m from inner");
        7
    }
    let mut lp = manual();
    let mut out = Log::new();
    lp.spawn_local(&mut out, async {
        log("outer start");
        let v = task::spawn_local::<Log, _>(inner()).await.expect("inner");
        log(format!("outer got {v}"));
    })
    .detach();
    lp.set_timeout(5, |_, o| o.push("timeout 5".into()));
    out.push("main".into());
    assert_same(
        run(lp, out),
        "async function inner() {
           log('inner start'); await sleep(5); log('inner done');
           queueMicrotask(() => log('m from inner'));
           return 7;
         }
         async function outer() { log('outer start'); const v = await inner(); log('outer got ' + v); }
         outer();
         setTimeout(() => log('timeout 5'), 5);
         log('main');",
    );
}

struct TempFile(PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An fs request's continuation runs in the poll phase's drain: before the
/// immediates and timers it queues, after the ticks of the main program.
#[test]
fn awaits_on_fs_requests_continue_in_the_poll_phase() {
    let file =
        TempFile(std::env::temp_dir().join(format!("loop-async-order-{}.txt", std::process::id())));
    std::fs::write(&file.0, "twelve bytes").expect("temp file");
    let path = file.0.clone();
    let mut lp: Loop<Log> = Loop::new().expect("loop");
    let mut out = Log::new();
    lp.spawn_local(&mut out, async move {
        log("h1");
        let st = task::with(|lp, _: &mut Log| fsf::stat(lp, &path))
            .await
            .expect("stat");
        log(format!("h2 size {}", st.len()));
        task::with(|lp: &mut Loop<Log>, _| {
            lp.set_immediate(|_, o| o.push("imm in h".into()));
            lp.set_timeout(0, |_, o| o.push("timeout in h".into()));
        });
        tick("h tick");
        microtask("h microtask");
        task::sleep(10).await;
        let text = task::with(|lp, _: &mut Log| fsf::read_file(lp, &path))
            .await
            .expect("read");
        log(format!("read {}", String::from_utf8(text).expect("utf-8")));
    })
    .detach();
    lp.next_tick(|_, o| o.push("main tick".into()));
    out.push("main".into());
    let js = format!(
        "const fsp = require('fs').promises;
         const FILE = {:?};
         async function h() {{
           log('h1');
           const st = await fsp.stat(FILE);
           log('h2 size ' + st.size);
           setImmediate(() => log('imm in h'));
           setTimeout(() => log('timeout in h'), 0);
           process.nextTick(() => log('h tick'));
           queueMicrotask(() => log('h microtask'));
           await sleep(10);
           const text = await fsp.readFile(FILE, 'utf8');
           log('read ' + text);
         }}
         h();
         process.nextTick(() => log('main tick'));
         log('main');",
        file.0.to_str().expect("utf-8 temp path")
    );
    assert_same(run(lp, out), &js);
}
