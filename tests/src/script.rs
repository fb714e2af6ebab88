//! Phase scripts (`shared/conformance/SPEC.md`): parsing, validation and
//! execution on a [`loop_core::Loop`], through its public API only.
//!
//! Validation follows the Node.js reference runner: a bad script gets one
//! message naming the JSON path (`main[2].timeout.ms: expected an integer in
//! 0..2147483647, got "5"`).

use loop_core::{Immediate, Loop, RunMode, Timeout};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Node's `TIMEOUT_MAX`.
const MAX_MS: u64 = 2_147_483_647;
const MAX_BUSY: u64 = 10_000;

/// A list of ops, shared by every callback that runs it.
pub type Ops = Rc<[Op]>;

/// One op of a phase script.
#[derive(Debug, Clone)]
pub enum Op {
    /// Print a line.
    Log(String),
    /// `process.nextTick`.
    NextTick(Ops),
    /// `queueMicrotask`.
    Microtask(Ops),
    /// `setTimeout`.
    Timeout {
        /// Delay.
        ms: u64,
        /// Binding name.
        id: Option<String>,
        /// Body.
        body: Ops,
    },
    /// `setInterval`, clearing itself after `times` runs.
    Interval {
        /// Period.
        ms: u64,
        /// Binding name.
        id: Option<String>,
        /// Runs before it clears itself.
        times: u64,
        /// Body.
        body: Ops,
    },
    /// `setImmediate`.
    Immediate {
        /// Binding name.
        id: Option<String>,
        /// Body.
        body: Ops,
    },
    /// `clearTimeout` / `clearInterval` / `clearImmediate`.
    Clear(String),
    /// `.unref()`.
    Unref(String),
    /// `.ref()`.
    Ref(String),
    /// Spin for this many ms of wall time.
    Busy(u64),
    /// `fs.stat(".", cb)`.
    Fs(Ops),
}

/// A parsed script.
#[derive(Debug, Clone)]
pub struct Script {
    /// Its `name`.
    pub name: String,
    /// Its `about`.
    pub about: String,
    /// The main program.
    pub main: Ops,
}

/// Why a script is invalid: the message names the JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn bad(at: &str, what: &str, got: &Value) -> Invalid {
    Invalid(format!("{at}: expected {what}, got {got}"))
}

fn check_keys(
    v: &Value,
    at: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<Map<String, Value>, Invalid> {
    let Value::Object(m) = v else {
        return Err(bad(at, "an object", v));
    };
    for k in required {
        if !m.contains_key(*k) {
            return Err(Invalid(format!("{at}: missing field \"{k}\"")));
        }
    }
    for k in m.keys() {
        if !required.contains(&k.as_str()) && !optional.contains(&k.as_str()) {
            return Err(Invalid(format!("{at}: unknown field \"{k}\"")));
        }
    }
    Ok(m.clone())
}

fn int(v: &Value, at: &str, min: u64, max: u64) -> Result<u64, Invalid> {
    match v.as_u64() {
        Some(n) if (min..=max).contains(&n) && v.is_u64() => Ok(n),
        _ => {
            // JSON numbers like 5.0 are integers for JavaScript.
            if let Some(f) = v.as_f64() {
                if f.fract() == 0.0 && f >= min as f64 && f <= max as f64 {
                    return Ok(f as u64);
                }
            }
            Err(bad(at, &format!("an integer in {min}..{max}"), v))
        }
    }
}

fn non_empty(v: &Value, at: &str) -> Result<String, Invalid> {
    match v.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(bad(at, "a non-empty string", v)),
    }
}

fn ops(v: &Value, at: &str) -> Result<Ops, Invalid> {
    let Value::Array(a) = v else {
        return Err(bad(at, "an array of ops", v));
    };
    a.iter()
        .enumerate()
        .map(|(i, op)| parse_op(op, &format!("{at}[{i}]")))
        .collect::<Result<Vec<_>, _>>()
        .map(Into::into)
}

fn parse_op(op: &Value, at: &str) -> Result<Op, Invalid> {
    let Some((k, v)) = op
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
    else {
        return Err(bad(at, "an op: an object with exactly one key", op));
    };
    let here = format!("{at}.{k}");
    Ok(match k.as_str() {
        "log" => match v.as_str() {
            Some(s) if !s.contains('\n') => Op::Log(s.to_string()),
            _ => return Err(bad(&here, "a string without newlines", v)),
        },
        "nextTick" => Op::NextTick(ops(v, &here)?),
        "microtask" => Op::Microtask(ops(v, &here)?),
        "fs" => Op::Fs(ops(v, &here)?),
        "timeout" | "interval" => {
            let optional: &[&str] = if k == "interval" {
                &["id", "times"]
            } else {
                &["id"]
            };
            let m = check_keys(v, &here, &["ms", "do"], optional)?;
            let ms = int(&m["ms"], &format!("{here}.ms"), 0, MAX_MS)?;
            let id = m
                .get("id")
                .map(|i| non_empty(i, &format!("{here}.id")))
                .transpose()?;
            let times = m
                .get("times")
                .map(|t| int(t, &format!("{here}.times"), 1, 1_000_000))
                .transpose()?;
            let body = ops(&m["do"], &format!("{here}.do"))?;
            if k == "timeout" {
                Op::Timeout { ms, id, body }
            } else {
                Op::Interval {
                    ms,
                    id,
                    times: times.unwrap_or(1),
                    body,
                }
            }
        }
        "immediate" => {
            let m = check_keys(v, &here, &["do"], &["id"])?;
            let id = m
                .get("id")
                .map(|i| non_empty(i, &format!("{here}.id")))
                .transpose()?;
            Op::Immediate {
                id,
                body: ops(&m["do"], &format!("{here}.do"))?,
            }
        }
        "clear" => Op::Clear(non_empty(v, &here)?),
        "unref" => Op::Unref(non_empty(v, &here)?),
        "ref" => Op::Ref(non_empty(v, &here)?),
        "busy" => Op::Busy(int(v, &here, 0, MAX_BUSY)?),
        other => return Err(Invalid(format!("{at}: unknown op \"{other}\""))),
    })
}

/// Parses and validates a script from its JSON text.
pub fn parse(text: &str) -> Result<Script, Invalid> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| Invalid(format!("cannot read JSON: {e}")))?;
    let m = check_keys(&v, "(top)", &["name", "about", "main"], &[])?;
    Ok(Script {
        name: non_empty(&m["name"], "name")?,
        about: non_empty(&m["about"], "about")?,
        main: ops(&m["main"], "main")?,
    })
}

/// What an id is bound to.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Timer(Timeout),
    Immediate(Immediate),
}

/// The runner's state: the loop's `D`.
pub struct State {
    out: String,
    bound: HashMap<String, Bound>,
}

type L = Loop<State>;

fn exec(lp: &mut L, st: &mut State, ops: &Ops) {
    for op in ops.iter() {
        step(lp, st, op);
    }
}

fn bind(st: &mut State, id: &Option<String>, b: Bound) {
    if let Some(id) = id {
        st.bound.insert(id.clone(), b);
    }
}

fn step(lp: &mut L, st: &mut State, op: &Op) {
    match op {
        Op::Log(s) => {
            st.out.push_str(s);
            st.out.push('\n');
        }
        Op::NextTick(body) => {
            let body = body.clone();
            lp.next_tick(move |lp, st| exec(lp, st, &body));
        }
        Op::Microtask(body) => {
            let body = body.clone();
            lp.queue_microtask(move |lp, st| exec(lp, st, &body));
        }
        Op::Timeout { ms, id, body } => {
            let body = body.clone();
            let t = lp.set_timeout(*ms, move |lp, st| exec(lp, st, &body));
            bind(st, id, Bound::Timer(t));
        }
        Op::Interval {
            ms,
            id,
            times,
            body,
        } => {
            let (body, times) = (body.clone(), *times);
            let mut runs = 0;
            let t = lp.set_interval(*ms, move |lp, st, me| {
                exec(lp, st, &body);
                runs += 1;
                if runs == times {
                    lp.clear_interval(me);
                }
            });
            bind(st, id, Bound::Timer(t));
        }
        Op::Immediate { id, body } => {
            let body = body.clone();
            let i = lp.set_immediate(move |lp, st| exec(lp, st, &body));
            bind(st, id, Bound::Immediate(i));
        }
        Op::Clear(id) => match st.bound.get(id) {
            Some(Bound::Timer(t)) => {
                lp.clear_timeout(*t);
            }
            Some(Bound::Immediate(i)) => {
                lp.clear_immediate(*i);
            }
            None => {}
        },
        Op::Unref(id) => match st.bound.get(id) {
            Some(Bound::Timer(t)) => lp.timeout_unref(*t),
            Some(Bound::Immediate(i)) => lp.immediate_unref(*i),
            None => {}
        },
        Op::Ref(id) => match st.bound.get(id) {
            Some(Bound::Timer(t)) => lp.timeout_ref(*t),
            Some(Bound::Immediate(i)) => lp.immediate_ref(*i),
            None => {}
        },
        Op::Busy(ms) => {
            let end = Instant::now() + Duration::from_millis(*ms);
            while Instant::now() < end {
                std::hint::spin_loop();
            }
        }
        Op::Fs(body) => fs_stat(lp, body.clone()),
    }
}

/// `fs.stat(".", cb)`: a thread-pool request (loop-fs) whose callback runs
/// in the poll phase, as its own callback.
fn fs_stat(lp: &mut L, body: Ops) {
    loop_fs::fs::stat(lp, ".", move |lp, st, _| exec(lp, st, &body)).expect("thread pool");
}

/// Runs a script to completion and returns what it logged.
pub fn run(script: &Script) -> Result<String, loop_core::Error> {
    let mut lp: L = Loop::new()?;
    let mut st = State {
        out: String::new(),
        bound: HashMap::new(),
    };
    exec(&mut lp, &mut st, &script.main);
    lp.run(RunMode::Default, &mut st)?;
    Ok(st.out)
}

/// A line diff of `expected` and `got` (`-` expected only, `+` got only),
/// from their longest common subsequence.
pub fn diff(expected: &str, got: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", a[i]);
            i += 1;
        }
    }
    out
}
