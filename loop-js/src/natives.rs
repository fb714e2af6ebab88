//! The native functions the JavaScript side calls: the loop's Node layer
//! (ticks, timers, immediates) by small integer ids, output, exit, clocks,
//! compiling a module. Everything else is JavaScript (`js/`).
//!
//! # Invariants
//!
//! - A native reaches the loop only through [`LP`], set while JavaScript
//!   runs from the loop; called outside (never, by construction) it throws.
//! - Loop callbacks carry the JS id only; the callback itself stays in the
//!   JS side's tables, so no JS value is kept alive from Rust.
//! - A one-shot timeout's id leaves [`Shared::timers`] when it fires (its
//!   loop-core `Timeout` is then stale); an interval's stays until cleared.

use crate::host::{kind, Host, Shared, LP};
use loop_core::Loop;
use rquickjs::context::EvalOptions;
use rquickjs::{Ctx, Exception, Function, Object, Promise, Result, Value};
use std::rc::Rc;

/// Runs `f` with the running loop, or throws if JavaScript runs outside it.
fn with_loop<'js, R>(ctx: &Ctx<'js>, f: impl FnOnce(&mut Loop<Host>) -> R) -> Result<R> {
    if LP.is_set() {
        Ok(LP.with(f))
    } else {
        Err(Exception::throw_internal(
            ctx,
            "loop-js: no loop to schedule on",
        ))
    }
}

/// Node's timer delay: `after` already coerced to a number by the JS side;
/// below 1, above 2^31-1 or NaN run as 1 ms; a fraction rounds up (loop
/// time is whole milliseconds: a 2.5 ms timer is due 3 ms later in Node too).
fn delay(ms: f64) -> u64 {
    if (1.0..=2_147_483_647.0).contains(&ms) {
        ms.ceil() as u64
    } else {
        1
    }
}

fn set_fn<'js, P>(
    ctx: &Ctx<'js>,
    o: &Object<'js>,
    name: &str,
    f: impl rquickjs::function::IntoJsFunc<'js, P> + 'js,
) -> Result<()> {
    o.set(name, Function::new(ctx.clone(), f)?.with_name(name)?)
}

/// Builds the `natives` object handed to the bootstrap.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, shared: Rc<Shared>) -> Result<Object<'js>> {
    let o = Object::new(ctx.clone())?;

    // One loop-core tick for a segment of JS ticks (see bootstrap.js);
    // it tells the JS side whether anything is queued behind it.
    set_fn(ctx, &o, "nextTick", |ctx: Ctx<'js>| {
        with_loop(&ctx, |lp| {
            lp.next_tick(|lp, h: &mut Host| {
                let clean = lp.queued_ticks().0 == 0;
                h.enter(lp, kind::TICK, u32::from(clean));
            })
        })
    })?;

    let sh = shared.clone();
    set_fn(
        ctx,
        &o,
        "setTimer",
        move |ctx: Ctx<'js>, id: u32, ms: f64, repeat: bool| -> Result<()> {
            let ms = delay(ms);
            let t = with_loop(&ctx, |lp| {
                if repeat {
                    lp.set_interval(ms, move |lp, h: &mut Host, _| {
                        h.enter(lp, kind::TIMER, id);
                    })
                } else {
                    lp.set_timeout(ms, move |lp, h: &mut Host| {
                        h.shared.timers.borrow_mut().remove(&id);
                        h.enter(lp, kind::TIMER, id);
                    })
                }
            })?;
            sh.timers.borrow_mut().insert(id, t);
            Ok(())
        },
    )?;

    let sh = shared.clone();
    set_fn(ctx, &o, "clearTimer", move |ctx: Ctx<'js>, id: u32| {
        let t = sh.timers.borrow_mut().remove(&id);
        match t {
            Some(t) => with_loop(&ctx, |lp| lp.clear_timeout(t)),
            None => Ok(false),
        }
    })?;

    let sh = shared.clone();
    set_fn(
        ctx,
        &o,
        "timerRef",
        move |ctx: Ctx<'js>, id: u32, on: bool| {
            let t = sh.timers.borrow().get(&id).copied();
            match t {
                Some(t) => with_loop(&ctx, |lp| {
                    if on {
                        lp.timeout_ref(t)
                    } else {
                        lp.timeout_unref(t)
                    }
                }),
                None => Ok(()),
            }
        },
    )?;

    let sh = shared.clone();
    set_fn(ctx, &o, "timerRefresh", move |ctx: Ctx<'js>, id: u32| {
        let t = sh.timers.borrow().get(&id).copied();
        match t {
            Some(t) => with_loop(&ctx, |lp| lp.timeout_refresh(t)),
            None => Ok(false),
        }
    })?;

    let sh = shared.clone();
    set_fn(
        ctx,
        &o,
        "setImmediate",
        move |ctx: Ctx<'js>, id: u32| -> Result<()> {
            let im = with_loop(&ctx, |lp| {
                lp.set_immediate(move |lp, h: &mut Host| {
                    h.shared.immediates.borrow_mut().remove(&id);
                    h.enter(lp, kind::IMMEDIATE, id);
                })
            })?;
            sh.immediates.borrow_mut().insert(id, im);
            Ok(())
        },
    )?;

    let sh = shared.clone();
    set_fn(ctx, &o, "clearImmediate", move |ctx: Ctx<'js>, id: u32| {
        let im = sh.immediates.borrow_mut().remove(&id);
        match im {
            Some(im) => with_loop(&ctx, |lp| lp.clear_immediate(im)),
            None => Ok(false),
        }
    })?;

    let sh = shared.clone();
    set_fn(
        ctx,
        &o,
        "immediateRef",
        move |ctx: Ctx<'js>, id: u32, on: bool| {
            let im = sh.immediates.borrow().get(&id).copied();
            match im {
                Some(im) => with_loop(&ctx, |lp| {
                    if on {
                        lp.immediate_ref(im)
                    } else {
                        lp.immediate_unref(im)
                    }
                }),
                None => Ok(()),
            }
        },
    )?;

    let sh = shared.clone();
    set_fn(
        ctx,
        &o,
        "write",
        move |fd: i32, s: rquickjs::String<'js>| -> Result<()> {
            sh.out.write(fd, &s.to_string()?);
            Ok(())
        },
    )?;

    let sh = shared.clone();
    set_fn(ctx, &o, "fatal", move |code: i32| {
        sh.code.set(code);
        sh.fatal.set(true);
    })?;

    let sh = shared.clone();
    set_fn(ctx, &o, "exit", move |code: i32| -> () {
        sh.out.flush();
        std::process::exit(code & 0xff)
    })?;

    // Milliseconds since the runtime started, with sub-ms precision.
    let sh = shared.clone();
    set_fn(ctx, &o, "now", move || {
        sh.start.elapsed().as_secs_f64() * 1000.0
    })?;

    // Compiles a CommonJS module as Node does: wrapped in a function of
    // (exports, require, module, __filename, __dirname), on the source's
    // first line so that line numbers stay the file's.
    set_fn(
        ctx,
        &o,
        "compile",
        |ctx: Ctx<'js>, src: String, filename: String| -> Result<Function<'js>> {
            // A shebang line is a comment to Node.
            let body = match src.strip_prefix("#!") {
                Some(rest) => format!("//{rest}"),
                None => src,
            };
            let wrapped = format!(
                "(function (exports, require, module, __filename, __dirname) {{ {body}\n}})"
            );
            let mut opts = EvalOptions::default();
            opts.global = true;
            opts.strict = false;
            opts.filename = Some(filename);
            ctx.eval_with_options(wrapped, opts)
        },
    )?;

    set_fn(ctx, &o, "readFile", |ctx: Ctx<'js>, path: String| {
        std::fs::read_to_string(&path)
            .map_err(|e| Exception::throw_message(&ctx, &format!("{e}: {path}")))
    })?;

    set_fn(ctx, &o, "isFile", |path: String| {
        std::fs::metadata(path)
            .map(|m| m.is_file())
            .unwrap_or(false)
    })?;

    // [state, result]: 0 pending, 1 fulfilled, 2 rejected (for inspect).
    set_fn(
        ctx,
        &o,
        "promiseState",
        |ctx: Ctx<'js>, p: Promise<'js>| -> Result<Vec<Value<'js>>> {
            use rquickjs::promise::PromiseState;
            Ok(match p.state() {
                PromiseState::Pending => vec![Value::new_int(ctx, 0)],
                PromiseState::Resolved => {
                    let v: Value = p
                        .result()
                        .and_then(|r| r.ok())
                        .unwrap_or_else(|| Value::new_undefined(ctx.clone()));
                    vec![Value::new_int(ctx, 1), v]
                }
                PromiseState::Rejected => {
                    let v = match p.result::<Value>() {
                        Some(Err(rquickjs::Error::Exception)) => ctx.catch(),
                        _ => Value::new_undefined(ctx.clone()),
                    };
                    vec![Value::new_int(ctx, 2), v]
                }
            })
        },
    )?;

    // Buffers: UTF-8 in and out; bytes travel as latin1 strings.
    set_fn(ctx, &o, "utf8Encode", |ctx: Ctx<'js>, s: String| {
        rquickjs::ArrayBuffer::new(ctx, s.into_bytes())
    })?;
    set_fn(ctx, &o, "utf8Decode", |s: String| {
        String::from_utf8_lossy(&crate::fs::latin1(&s)).into_owned()
    })?;
    crate::fs::install(ctx, &o, shared.clone())?;
    crate::net::install(ctx, &o, shared.clone())?;

    o.set("pid", std::process::id())?;
    o.set("ppid", std::os::unix::process::parent_id())?;
    set_fn(ctx, &o, "cwd", || {
        std::env::current_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "/".to_string())
    })?;

    Ok(o)
}
