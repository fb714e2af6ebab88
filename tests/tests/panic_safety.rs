//! Panic safety, as a property: a program of random callbacks (Node
//! timeouts, intervals, immediates, ticks, microtasks, plain timer, idle
//! and check handles, deferred callbacks, async wake-ups, nested up to
//! three deep) runs once cleanly; then again with a panic thrown by its
//! k-th callback, `run` called again after each panic until the loop ends.
//! Every callback must have run exactly once in both runs: nothing lost,
//! nothing run twice, whichever phase the panic hit. (The order after a
//! panic may differ: the next `run` starts with its own timers pass.)
//!
//! Each callback first schedules its children, then logs its label, then
//! panics if it is the chosen one, so both runs schedule the same set.

use loop_core::{Loop, RunMode};
use loop_testkit::manual_loop;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Debug, Clone)]
enum Kind {
    Timeout(u64),
    /// An interval that fires `n` times, then clears itself.
    Interval(u64, u8),
    Immediate,
    Tick,
    Microtask,
    /// A libuv-level timer handle, closed after it fires.
    Timer(u64),
    /// An idle handle that runs once, then closes.
    Idle,
    /// A check handle that runs once, then closes.
    Check,
    Defer,
    /// An async handle sent to from the loop thread, closed in its callback.
    Async,
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    children: Vec<Node>,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (0u64..4).prop_map(Kind::Timeout),
        (1u64..3, 1u8..3).prop_map(|(ms, n)| Kind::Interval(ms, n)),
        Just(Kind::Immediate),
        Just(Kind::Tick),
        Just(Kind::Microtask),
        (0u64..4).prop_map(Kind::Timer),
        Just(Kind::Idle),
        Just(Kind::Check),
        Just(Kind::Defer),
        Just(Kind::Async),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = kind().prop_map(|kind| Node {
        kind,
        children: vec![],
    });
    leaf.prop_recursive(3, 40, 3, |inner| {
        (kind(), prop::collection::vec(inner, 0..3))
            .prop_map(|(kind, children)| Node { kind, children })
    })
}

#[derive(Default)]
struct State {
    /// Callbacks run so far, and the one that must panic (1-based).
    count: usize,
    panic_at: Option<usize>,
    /// Label -> times it ran.
    ran: BTreeMap<String, usize>,
}

/// The body every callback runs: children first, then log, then maybe panic.
fn body(lp: &mut Loop<State>, st: &mut State, label: &str, children: &[Node]) {
    for (i, c) in children.iter().enumerate() {
        schedule(lp, c.clone(), format!("{label}.{i}"));
    }
    *st.ran.entry(label.to_string()).or_default() += 1;
    st.count += 1;
    if st.panic_at == Some(st.count) {
        panic!("chosen panic in {label}");
    }
}

fn schedule(lp: &mut Loop<State>, n: Node, label: String) {
    let Node { kind, children } = n;
    match kind {
        Kind::Timeout(ms) => {
            lp.set_timeout(ms, move |lp, st| body(lp, st, &label, &children));
        }
        Kind::Interval(ms, times) => {
            let mut left = times;
            lp.set_interval(ms, move |lp, st, me| {
                left -= 1;
                let l = format!("{label}#{left}");
                if left == 0 {
                    lp.clear_interval(me);
                }
                body(lp, st, &l, &children);
            });
        }
        Kind::Immediate => {
            lp.set_immediate(move |lp, st| body(lp, st, &label, &children));
        }
        Kind::Tick => lp.next_tick(move |lp, st| body(lp, st, &label, &children)),
        Kind::Microtask => lp.queue_microtask(move |lp, st| body(lp, st, &label, &children)),
        Kind::Timer(ms) => {
            let t = lp.timer_init();
            lp.timer_start(t, ms, 0, move |lp, st| {
                lp.close(t, None).unwrap();
                body(lp, st, &label, &children);
            })
            .unwrap();
        }
        Kind::Idle => {
            let h = lp.idle_init();
            lp.idle_start(h, move |lp, st| {
                lp.close(h, None).unwrap();
                body(lp, st, &label, &children);
            })
            .unwrap();
        }
        Kind::Check => {
            // A lone check handle blocks in poll for ever (as in libuv):
            // a 1 ms timer bounds the wait (the manual clock jumps to it).
            let bound = lp.timer_init();
            lp.timer_start(bound, 1, 0, move |lp, _| lp.close(bound, None).unwrap())
                .unwrap();
            let h = lp.check_init();
            lp.check_start(h, move |lp, st| {
                lp.close(h, None).unwrap();
                body(lp, st, &label, &children);
            })
            .unwrap();
        }
        Kind::Defer => lp.defer(move |lp, st| body(lp, st, &label, &children)),
        Kind::Async => {
            let me = std::rc::Rc::new(std::cell::Cell::new(None));
            let me2 = std::rc::Rc::clone(&me);
            let a = lp
                .async_init(move |lp, st| {
                    let a: loop_core::AsyncId = me2.get().expect("set below");
                    if !lp.is_closing(a).unwrap() {
                        lp.close(a, None).unwrap();
                        body(lp, st, &label, &children);
                    }
                })
                .unwrap();
            me.set(Some(a));
            lp.async_send(a).unwrap();
        }
    }
}

/// Runs the program; with `panic_at`, catches each panic and runs again.
/// Returns what ran and how many panics left `run`.
fn run_program(prog: &[Node], panic_at: Option<usize>) -> (BTreeMap<String, usize>, usize) {
    let (mut lp, _clock) = manual_loop::<State>(0);
    let mut st = State {
        panic_at,
        ..State::default()
    };
    for (i, n) in prog.iter().enumerate() {
        schedule(&mut lp, n.clone(), format!("m{i}"));
    }
    let mut panics = 0;
    loop {
        match catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut st))) {
            Ok(r) => {
                assert!(!r.expect("run"), "the loop ended");
                break;
            }
            Err(_) => {
                panics += 1;
                assert!(panics <= 1, "one chosen panic, one unwind");
            }
        }
    }
    assert!(
        lp.handles().is_empty(),
        "every handle closed: {:?}",
        lp.handles()
    );
    (st.ran, panics)
}

/// The chosen panics are expected: keep their messages (and backtraces)
/// out of the test output, which they would otherwise flood.
fn quiet_chosen_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let chosen = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("chosen panic"));
            if !chosen {
                default(info);
            }
        }));
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn a_panic_anywhere_loses_nothing_and_runs_nothing_twice(
        prog in prop::collection::vec(node(), 1..6),
        pick in any::<prop::sample::Index>(),
    ) {
        quiet_chosen_panics();
        if std::env::var_os("PANIC_SAFETY_DEBUG").is_some() { eprintln!("prog {prog:?}"); }
        let (clean, none) = run_program(&prog, None);
        prop_assert_eq!(none, 0);
        let total: usize = clean.values().sum();
        prop_assert!(clean.values().all(|&n| n == 1), "labels are unique: {:?}", clean);
        let k = pick.index(total) + 1;
        if std::env::var_os("PANIC_SAFETY_DEBUG").is_some() { eprintln!("k {k} of {total}"); }
        let (with_panic, panics) = run_program(&prog, Some(k));
        prop_assert_eq!(panics, 1, "the chosen callback panicked once");
        prop_assert_eq!(&with_panic, &clean, "panic at callback {} of {}", k, total);
    }
}

#[test]
fn each_kind_alone() {
    quiet_chosen_panics();
    for k in [
        Kind::Timeout(1),
        Kind::Interval(1, 2),
        Kind::Immediate,
        Kind::Tick,
        Kind::Microtask,
        Kind::Timer(1),
        Kind::Idle,
        Kind::Check,
        Kind::Defer,
        Kind::Async,
    ] {
        let (ran, _) = run_program(
            &[Node {
                kind: k,
                children: vec![],
            }],
            None,
        );
        assert!(!ran.is_empty());
    }
}

/// Regression: an immediate that panics as the last referenced one used
/// to leave Node's idle handle started: the loop stayed alive, spinning.
#[test]
fn a_panicking_last_immediate_lets_the_loop_end() {
    quiet_chosen_panics();
    let (mut lp, _clock) = manual_loop::<State>(0);
    let mut st = State {
        panic_at: Some(1),
        ..State::default()
    };
    schedule(
        &mut lp,
        Node {
            kind: Kind::Immediate,
            children: vec![],
        },
        "m0".into(),
    );
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut st)));
    assert!(r.is_err(), "the chosen panic left run");
    let mut runs = 0;
    while lp.run(RunMode::Once, &mut st).unwrap() {
        runs += 1;
        assert!(runs < 5, "the loop stays alive with nothing to do");
    }
    assert!(lp.handles().is_empty());
}
