//! Model-based test of `loop-core`'s timers against libuv's timer
//! semantics (`src/timer.c`, HEAD): random interleavings of `timer_start`,
//! `timer_stop`, `timer_again`, `timer_set_repeat` and "advance the manual
//! clock by k ms, then `run(NoWait)`" on eight timers, checked step by step
//! against a simple model.
//!
//! The model keeps, per timer, its armed `(due, start sequence)`, its last
//! due time and its repeat. A `NoWait` run refreshes the loop time; if any
//! timer is armed (all are referenced, so the loop is alive) it collects the
//! due timers, fires them in `(due, sequence)` order and re-arms the
//! repeating ones from the loop time before their callback. After every step
//! the firing sequence, `is_active`, `timer_due_in`, `timer_repeat`, `now`
//! and the value `run` returned must match exactly.

use loop_core::{Error, Loop, ManualClock, RunMode, TimerId};
use proptest::prelude::*;

const TIMERS: usize = 8;

#[derive(Debug, Clone)]
enum Op {
    Start { t: usize, timeout: u64, repeat: u64 },
    Stop(usize),
    Again(usize),
    SetRepeat { t: usize, repeat: u64 },
    AdvanceAndRun(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..TIMERS, 0u64..50, 0u64..20)
            .prop_map(|(t, timeout, repeat)| Op::Start { t, timeout, repeat }),
        1 => (0..TIMERS).prop_map(Op::Stop),
        1 => (0..TIMERS).prop_map(Op::Again),
        1 => (0..TIMERS, 0u64..20).prop_map(|(t, repeat)| Op::SetRepeat { t, repeat }),
        3 => (0u64..30).prop_map(Op::AdvanceAndRun),
    ]
}

#[derive(Debug, Default, Clone, Copy)]
struct ModelTimer {
    /// `(due, start sequence)` while armed.
    armed: Option<(u64, u64)>,
    /// The last due time, kept after stop (`uv_timer_get_due_in`).
    due: u64,
    repeat: u64,
    /// Whether it was ever started (`uv_timer_again` needs a callback).
    started: bool,
}

#[derive(Debug, Default)]
struct Model {
    now: u64,
    seq: u64,
    timers: [ModelTimer; TIMERS],
}

impl Model {
    fn arm(&mut self, t: usize, timeout: u64) {
        let due = self.now.saturating_add(timeout);
        self.timers[t].armed = Some((due, self.seq));
        self.timers[t].due = due;
        self.seq += 1;
    }

    fn start(&mut self, t: usize, timeout: u64, repeat: u64) {
        self.arm(t, timeout);
        self.timers[t].repeat = repeat;
        self.timers[t].started = true;
    }

    fn stop(&mut self, t: usize) {
        self.timers[t].armed = None;
    }

    /// `Err` when the timer was never started.
    fn again(&mut self, t: usize) -> Result<(), ()> {
        if !self.timers[t].started {
            return Err(());
        }
        let repeat = self.timers[t].repeat;
        if repeat > 0 {
            self.arm(t, repeat);
        }
        Ok(())
    }

    /// A `NoWait` run with the clock at `clock`: whether the loop is still
    /// alive, and the (timer, loop time) of each call, in order.
    fn run_nowait(&mut self, clock: u64) -> (bool, Vec<(usize, u64)>) {
        self.now = clock;
        let mut fired = Vec::new();
        if self.timers.iter().all(|t| t.armed.is_none()) {
            return (false, fired);
        }
        let mut due: Vec<(u64, u64, usize)> = self
            .timers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.armed.map(|(d, s)| (d, s, i)))
            .filter(|&(d, _, _)| d <= self.now)
            .collect();
        due.sort_unstable();
        for &(_, _, t) in &due {
            self.timers[t].armed = None;
        }
        for (_, _, t) in due {
            let repeat = self.timers[t].repeat;
            if repeat > 0 {
                self.arm(t, repeat);
            }
            fired.push((t, self.now));
        }
        let alive = self.timers.iter().any(|t| t.armed.is_some());
        (alive, fired)
    }
}

type Fired = Vec<(usize, u64)>;

fn check_state(lp: &Loop<Fired>, ids: &[TimerId], model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(lp.now(), model.now);
    for (t, (&id, m)) in ids.iter().zip(&model.timers).enumerate() {
        prop_assert_eq!(
            lp.is_active(id).unwrap(),
            m.armed.is_some(),
            "is_active of timer {}",
            t
        );
        prop_assert_eq!(
            lp.timer_due_in(id).unwrap(),
            m.due.saturating_sub(model.now),
            "due_in of timer {}",
            t
        );
        prop_assert_eq!(
            lp.timer_repeat(id).unwrap(),
            m.repeat,
            "repeat of timer {}",
            t
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn timers_follow_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let clock = ManualClock::new(0);
        let mut lp: Loop<Fired> = Loop::builder()
            .manual_clock(clock.clone())
            .build()
            .unwrap();
        let ids: Vec<TimerId> = (0..TIMERS).map(|_| lp.timer_init()).collect();
        let mut model = Model::default();
        let mut fired = Fired::new();

        for op in ops {
            match op {
                Op::Start { t, timeout, repeat } => {
                    lp.timer_start(ids[t], timeout, repeat, move |lp, fired: &mut Fired| {
                        fired.push((t, lp.now()))
                    })
                    .unwrap();
                    model.start(t, timeout, repeat);
                }
                Op::Stop(t) => {
                    lp.timer_stop(ids[t]).unwrap();
                    model.stop(t);
                }
                Op::Again(t) => {
                    let got = lp.timer_again(ids[t]);
                    let want = model.again(t);
                    match (&got, want) {
                        (Ok(()), Ok(())) | (Err(Error::InvalidArgument { .. }), Err(())) => {}
                        _ => prop_assert!(false, "timer_again({}): {:?}, model {:?}", t, got, want),
                    }
                }
                Op::SetRepeat { t, repeat } => {
                    lp.timer_set_repeat(ids[t], repeat).unwrap();
                    model.timers[t].repeat = repeat;
                }
                Op::AdvanceAndRun(k) => {
                    clock.advance(k);
                    let alive = lp.run(RunMode::NoWait, &mut fired).unwrap();
                    let (want_alive, want_fired) = model.run_nowait(clock.now());
                    prop_assert_eq!(std::mem::take(&mut fired), want_fired);
                    prop_assert_eq!(alive, want_alive);
                }
            }
            check_state(&lp, &ids, &model)?;
        }
    }
}
