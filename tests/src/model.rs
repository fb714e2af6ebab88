//! An executable model of loop-core's timers, with immediates, ticks and
//! handles stopped or closed from callbacks, and a differential check that
//! drives a real loop and the model with the same operations.
//!
//! Used by the `timer_model` property test (random sequences from proptest)
//! and by the `loop_ops` fuzz target (sequences decoded from fuzzer bytes),
//! whose saved corpus `tests/tests/fuzz_replay.rs` replays on stable.
//!
//! The model is libuv's timer semantics (`src/timer.c`, HEAD) and
//! `uv_run(NoWait)`'s order, written as plainly as possible:
//! - a `NoWait` run drains the ticks queued outside the loop, then returns
//!   at once (time refreshed) if nothing is alive; else it runs one
//!   iteration: close callbacks of handles closed before it, immediates (the
//!   check phase), then the time is refreshed and due timers are collected
//!   and fired in (due, start sequence) order, each repeating one re-armed
//!   from the loop time before its callback; a timer stopped or closed by
//!   an earlier callback of the pass does not fire;
//! - alive means: an armed timer, a queued immediate, or a handle closed
//!   and not yet finalized (its close phase is the next iteration's).

use loop_core::{Error, Loop, ManualClock, RunMode, TimerId};
use std::fmt;

/// Timers the sequences act on.
pub const TIMERS: usize = 8;

/// One operation, on timer `t % TIMERS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `timer_start(t, timeout, repeat)`.
    Start {
        /// Timer.
        t: u8,
        /// Timeout, ms.
        timeout: u8,
        /// Repeat, ms.
        repeat: u8,
    },
    /// `timer_stop(t)`.
    Stop(u8),
    /// `timer_again(t)`.
    Again(u8),
    /// `timer_set_repeat(t, repeat)`.
    SetRepeat {
        /// Timer.
        t: u8,
        /// Repeat, ms.
        repeat: u8,
    },
    /// From now on, `t`'s callback also stops `u`.
    StopFromCallback {
        /// The timer whose callback acts.
        t: u8,
        /// The timer it stops.
        u: u8,
    },
    /// From now on, `t`'s callback also closes `u` (once).
    CloseFromCallback {
        /// The timer whose callback acts.
        t: u8,
        /// The timer it closes.
        u: u8,
    },
    /// `set_immediate` from outside the loop.
    Immediate,
    /// `next_tick` from outside the loop.
    Tick,
    /// Advance the manual clock by `k` ms, then `run(NoWait)`.
    AdvanceAndRun(u8),
}

impl Op {
    /// Decodes one op from 4 bytes (the fuzz target's encoding).
    pub fn from_bytes(b: [u8; 4]) -> Op {
        let (t, x, y) = (b[1], b[2], b[3]);
        match b[0] % 12 {
            0..=2 => Op::Start {
                t,
                timeout: x % 50,
                repeat: y % 20,
            },
            3 => Op::Stop(t),
            4 => Op::Again(t),
            5 => Op::SetRepeat { t, repeat: x % 20 },
            6 => Op::StopFromCallback { t, u: x },
            7 => Op::CloseFromCallback { t, u: x },
            8 => Op::Immediate,
            9 => Op::Tick,
            _ => Op::AdvanceAndRun(x % 30),
        }
    }

    /// Decodes a sequence: 4 bytes an op, a trailing partial op ignored.
    pub fn decode(data: &[u8]) -> Vec<Op> {
        data.chunks_exact(4)
            .map(|c| Op::from_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// What a callback does besides recording that it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    None,
    Stop(usize),
    Close(usize),
}

/// What ran, in order: the same record from the loop and the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Timer `t` ran at loop time `now`.
    Timer(usize, u64),
    /// The n-th immediate ran.
    Immediate(usize),
    /// The n-th tick ran.
    Tick(usize),
}

#[derive(Debug, Default, Clone, Copy)]
struct ModelTimer {
    armed: Option<(u64, u64)>,
    due: u64,
    repeat: u64,
    started: bool,
    action: Option<Action>,
    /// Closed: ops on it fail.
    dead: bool,
}

/// The model's state.
#[derive(Debug, Default)]
struct Model {
    now: u64,
    seq: u64,
    timers: [ModelTimer; TIMERS],
    immediates: Vec<usize>,
    ticks: Vec<usize>,
    /// Closed, close phase not yet reached.
    closing: usize,
    next_immediate: usize,
    next_tick: usize,
}

impl Model {
    fn arm(&mut self, t: usize, timeout: u64) {
        let due = self.now.saturating_add(timeout);
        self.timers[t].armed = Some((due, self.seq));
        self.timers[t].due = due;
        self.seq += 1;
    }

    fn alive(&self) -> bool {
        self.timers.iter().any(|t| t.armed.is_some())
            || !self.immediates.is_empty()
            || self.closing > 0
    }

    fn run_nowait(&mut self, clock: u64, out: &mut Vec<Event>) -> bool {
        for n in self.ticks.drain(..) {
            out.push(Event::Tick(n));
        }
        if !self.alive() {
            self.now = clock;
            return false;
        }
        self.closing = 0;
        for n in self.immediates.drain(..) {
            out.push(Event::Immediate(n));
        }
        self.now = clock;
        let mut due: Vec<(u64, u64, usize)> = self
            .timers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.armed.map(|(d, s)| (d, s, i)))
            .filter(|&(d, _, _)| d <= self.now)
            .collect();
        due.sort_unstable();
        let mut ready = [false; TIMERS];
        for &(_, _, t) in &due {
            self.timers[t].armed = None;
            ready[t] = true;
        }
        for (_, _, t) in due {
            if !ready[t] {
                continue; // stopped or closed by an earlier callback
            }
            ready[t] = false;
            let repeat = self.timers[t].repeat;
            if repeat > 0 {
                self.arm(t, repeat);
            }
            out.push(Event::Timer(t, self.now));
            match self.timers[t].action {
                Some(Action::Stop(u)) if !self.timers[u].dead => {
                    self.timers[u].armed = None;
                    ready[u] = false;
                }
                Some(Action::Close(u)) if !self.timers[u].dead => {
                    self.timers[u].armed = None;
                    self.timers[u].dead = true;
                    ready[u] = false;
                    self.closing += 1;
                    self.timers[t].action = None;
                }
                _ => {}
            }
        }
        self.alive()
    }
}

/// The loop side's state, shared with every callback.
struct Harness {
    out: Vec<Event>,
    ids: Vec<TimerId>,
    actions: [Action; TIMERS],
    dead: [bool; TIMERS],
}

/// A difference between the loop and the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch(pub String);

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(Mismatch(format!($($arg)*)));
        }
    };
}

fn timer_cb(t: usize) -> impl FnMut(&mut Loop<Harness>, &mut Harness) + 'static {
    move |lp, h| {
        h.out.push(Event::Timer(t, lp.now()));
        match h.actions[t] {
            Action::Stop(u) if !h.dead[u] => {
                lp.timer_stop(h.ids[u]).expect("a live timer");
            }
            Action::Close(u) if !h.dead[u] => {
                lp.close(h.ids[u], None).expect("a live timer");
                h.dead[u] = true;
                h.actions[t] = Action::None;
            }
            _ => {}
        }
    }
}

/// Runs `ops` on a real loop (manual clock) and on the model; returns the
/// first difference: what ran, `run`'s result, `now`, and for every live
/// timer `is_active`, `timer_due_in` and `timer_repeat`.
pub fn check(ops: &[Op]) -> Result<(), Mismatch> {
    let clock = ManualClock::new(0);
    let mut lp: Loop<Harness> = Loop::builder()
        .manual_clock(clock.clone())
        .build()
        .map_err(|e| Mismatch(format!("loop: {e}")))?;
    let mut h = Harness {
        out: Vec::new(),
        ids: (0..TIMERS).map(|_| lp.timer_init()).collect(),
        actions: [Action::None; TIMERS],
        dead: [false; TIMERS],
    };
    let mut m = Model::default();
    let mut want = Vec::new();
    for (step, &op) in ops.iter().enumerate() {
        let ix = |t: u8| t as usize % TIMERS;
        match op {
            Op::Start { t, timeout, repeat } => {
                let t = ix(t);
                let r = lp.timer_start(h.ids[t], timeout.into(), repeat.into(), timer_cb(t));
                if m.timers[t].dead {
                    ensure!(
                        r.is_err(),
                        "step {step}: start of closed timer {t} succeeded"
                    );
                } else {
                    ensure!(r.is_ok(), "step {step}: start({t}): {r:?}");
                    m.arm(t, timeout.into());
                    m.timers[t].repeat = repeat.into();
                    m.timers[t].started = true;
                }
            }
            Op::Stop(t) => {
                let t = ix(t);
                let r = lp.timer_stop(h.ids[t]);
                ensure!(
                    r.is_err() == m.timers[t].dead,
                    "step {step}: stop({t}): {r:?}"
                );
                m.timers[t].armed = None;
            }
            Op::Again(t) => {
                let t = ix(t);
                let got = lp.timer_again(h.ids[t]);
                let mt = &m.timers[t];
                if mt.dead {
                    ensure!(
                        got.is_err(),
                        "step {step}: again of closed timer {t}: {got:?}"
                    );
                } else if !mt.started {
                    ensure!(
                        matches!(got, Err(Error::InvalidArgument { .. })),
                        "step {step}: again({t}) of a never started timer: {got:?}"
                    );
                } else {
                    ensure!(got.is_ok(), "step {step}: again({t}): {got:?}");
                    let repeat = mt.repeat;
                    if repeat > 0 {
                        m.arm(t, repeat);
                    }
                }
            }
            Op::SetRepeat { t, repeat } => {
                let t = ix(t);
                let r = lp.timer_set_repeat(h.ids[t], repeat.into());
                ensure!(
                    r.is_err() == m.timers[t].dead,
                    "step {step}: set_repeat({t}): {r:?}"
                );
                if !m.timers[t].dead {
                    m.timers[t].repeat = repeat.into();
                }
            }
            Op::StopFromCallback { t, u } => {
                let (t, u) = (ix(t), ix(u));
                h.actions[t] = Action::Stop(u);
                m.timers[t].action = Some(Action::Stop(u));
            }
            Op::CloseFromCallback { t, u } => {
                let (t, u) = (ix(t), ix(u));
                h.actions[t] = Action::Close(u);
                m.timers[t].action = Some(Action::Close(u));
            }
            Op::Immediate => {
                let n = m.next_immediate;
                m.next_immediate += 1;
                m.immediates.push(n);
                lp.set_immediate(move |_, h: &mut Harness| h.out.push(Event::Immediate(n)));
            }
            Op::Tick => {
                let n = m.next_tick;
                m.next_tick += 1;
                m.ticks.push(n);
                lp.next_tick(move |_, h: &mut Harness| h.out.push(Event::Tick(n)));
            }
            Op::AdvanceAndRun(k) => {
                clock.advance(k.into());
                let alive = lp
                    .run(RunMode::NoWait, &mut h)
                    .map_err(|e| Mismatch(format!("step {step}: run: {e}")))?;
                let want_alive = m.run_nowait(clock.now(), &mut want);
                let got = std::mem::take(&mut h.out);
                let w = std::mem::take(&mut want);
                ensure!(got == w, "step {step}: ran {got:?}, model {w:?}");
                ensure!(
                    alive == want_alive,
                    "step {step}: alive {alive}, model {want_alive}"
                );
            }
        }
        ensure!(
            lp.now() == m.now,
            "step {step}: now {} model {}",
            lp.now(),
            m.now
        );
        for (t, mt) in m.timers.iter().enumerate() {
            if mt.dead {
                continue;
            }
            let id = h.ids[t];
            let active = lp.is_active(id).map_err(|e| Mismatch(format!("{e}")))?;
            ensure!(
                active == mt.armed.is_some(),
                "step {step}: is_active({t}) {active}"
            );
            let due_in = lp.timer_due_in(id).map_err(|e| Mismatch(format!("{e}")))?;
            ensure!(
                due_in == mt.due.saturating_sub(m.now),
                "step {step}: due_in({t}) {due_in}, model {}",
                mt.due.saturating_sub(m.now)
            );
            let repeat = lp.timer_repeat(id).map_err(|e| Mismatch(format!("{e}")))?;
            ensure!(repeat == mt.repeat, "step {step}: repeat({t}) {repeat}");
        }
    }
    Ok(())
}
