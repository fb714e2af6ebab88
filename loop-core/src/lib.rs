//! `loop-core`: a libuv-style event loop with Node.js-exact ordering.
//!
//! One thread, one [`Loop`]. Each iteration runs libuv's phases in libuv
//! 1.46's order (the libuv Node.js v20 ships): pending, idle, prepare, poll
//! (I/O over mio), check, close, then timers, with timers also run once
//! before the first iteration. On top sits Node.js's layer: `next_tick` and
//! microtask queues that drain after every callback, `set_timeout`,
//! `set_interval` and `set_immediate` with Node's exact ordering.
//!
//! ```
//! use loop_core::{Loop, RunMode};
//!
//! // The classic: what runs first after the main program?
//! let mut lp: Loop<Vec<String>> = Loop::new()?;
//! lp.set_immediate(|_, out| out.push("immediate".into()));
//! lp.next_tick(|_, out| out.push("nextTick".into()));
//! lp.queue_microtask(|_, out| out.push("microtask".into()));
//! let mut out = vec!["main".to_string()];
//! lp.run(RunMode::Default, &mut out)?;
//! assert_eq!(out, ["main", "nextTick", "microtask", "immediate"]);
//! # Ok::<(), loop_core::Error>(())
//! ```
//!
//! # Contents
//!
//! The loop and its run:
//! - `event_loop`: [`Loop`], [`Loop::run`] as libuv's `uv_run` (the list
//!   of phases), [`RunMode`], liveness, `stop`; `builder` ([`LoopBuilder`]);
//!   `time` (the cached clock, [`Loop::now`]);
//! - the phases, one module each: `pending` ([`Loop::defer`]), `queue`
//!   (idle, prepare, check), `poll` (the wait and I/O dispatch), `close`,
//!   and the timers phase in `timer`;
//! - `callback`: how every callback runs (trace, panic safety, then the
//!   nextTick/microtask drain) and the public entry for crates built on
//!   loop-core, [`Loop::make_callback`].
//!
//! Handles, as small typed ids into one table:
//! - `handle` (ids: [`HandleId`], [`TimerId`]…), `handle_table` (the slab,
//!   flags, ref/unref, [`Loop::handles`]), `token` (poll tokens);
//! - timers ([`Loop::timer_start`]) over an indexed min-heap (`heap`);
//!   idle, prepare and check handles ([`Loop::idle_start`]…); async handles
//!   ([`Loop::async_init`], [`AsyncSender`]); signal watchers
//!   ([`Loop::signal_start`]); I/O watchers ([`Loop::io_init`]), the base
//!   of `loop-net`; requests ([`Loop::req_start`], [`ActiveRequest`]).
//!
//! Above and beside:
//! - the Node.js layer ([`Loop::next_tick`], [`Loop::set_timeout`]…);
//! - [`task`]: `async` Rust on the loop ([`Loop::spawn_local`],
//!   [`task::JoinHandle`], [`task::sleep`], [`task::immediate`],
//!   [`task::yield_now`], the context [`task::with`]), whose wake-ups are
//!   microtasks (below);
//! - `extension`: per-loop state of the crates built on loop-core
//!   ([`Loop::extension_or_insert_with`], [`ExtKey`]);
//! - [`errno`]: the workspace's one errno table;
//! - [`slots`]: [`slots::GenSlab`], the generational table the other
//!   crates keep their handles' state in;
//! - clocks ([`Clock`], [`ManualClock`]) for tests that never sleep;
//! - instrumentation ([`Metrics`], [`TraceEvent`], `tracing` events).

//! # Sharing state with callbacks
//!
//! Callbacks are `FnMut(&mut Loop<D>, &mut D)`: the loop, to schedule,
//! cancel or close anything (the callback's own handle included), and the
//! embedder's state `D`, passed to [`Loop::run`]. This is calloop's pattern;
//! it avoids `Rc<RefCell<…>>` and cannot double-borrow, because the loop
//! takes a callback out of its slot before calling it.
//!
//! # Tasks: async/await with JavaScript's ordering
//!
//! A task ([`Loop::spawn_local`]) is polled at once, as an `async
//! function` call runs its body up to the first `await`; when woken, it is
//! polled as a microtask, in the same FIFO as [`Loop::queue_microtask`],
//! so its continuation runs right after the callback that woke it, where
//! a JavaScript `await` continuation runs in Node.js. A task reaches the
//! loop and the state while it is polled through [`task::with`].
//!
//! ```
//! use loop_core::{task, Loop, RunMode};
//!
//! let mut lp: Loop<Vec<&str>> = Loop::new()?;
//! let mut out = vec![];
//! lp.spawn_local(&mut out, async {
//!     task::with(|_, out: &mut Vec<&str>| out.push("body"));
//!     task::yield_now().await; // JavaScript's `await null`
//!     task::with(|_, out: &mut Vec<&str>| out.push("continuation"));
//! })
//! .detach();
//! lp.queue_microtask(|_, out| out.push("microtask"));
//! out.push("main");
//! lp.run(RunMode::Default, &mut out)?;
//! assert_eq!(out, ["body", "main", "continuation", "microtask"]);
//! # Ok::<(), loop_core::Error>(())
//! ```
//!
//! The task context is a scoped thread-local of the `scoped-tls-hkt`
//! crate (the one dependency beyond the core's usual ones, with
//! `pin-project-lite` for the task's box): it hands a poll `&mut Loop<D>`
//! and `&mut D` for exactly its duration without unsafe code here. See
//! docs/async.md for the model and what differs from JavaScript and tokio.
//!
//! # Panics
//!
//! A panic in a callback propagates out of [`Loop::run`] after the loop has
//! put its queues back in order; the loop can be run again. An error an
//! extension reports with no handler for it ([`Loop::report_unhandled`]:
//! a `net.Server`'s failed `listen` with no `on_error`) leaves `run` the
//! same way, as [`Error::Unhandled`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod async_handle;
mod builder;
mod callback;
mod clock;
mod close;
pub mod errno;
mod error;
mod event_loop;
mod extension;
mod handle;
mod handle_table;
mod heap;
mod idle;
mod io;
mod node;
mod pending;
mod poll;
mod queue;
mod request;
mod signal;
pub mod slots;
mod sync;
pub mod task;
mod time;
mod timer;
mod token;
mod trace;
mod wakeup;

pub use async_handle::AsyncSender;
pub use builder::LoopBuilder;
pub use callback::{HostMicrotasks, Job};
pub use clock::{Clock, ManualClock};
pub use error::{Error, Result};
pub use event_loop::{Loop, RunMode};
pub use extension::ExtKey;
pub use handle::{
    AsyncId, CheckId, HandleId, HandleInfo, HandleKind, IdleId, IoId, PrepareId, SignalId, TimerId,
};
pub use heap::IndexedHeap;
pub use io::Ready;
pub use node::{Immediate, Timeout};
pub use request::ActiveRequest;
pub use signal::Signal;
pub use trace::{CallbackKind, Metrics, Phase, TraceEvent};

/// Re-export of mio, whose sources and registry the I/O handles use.
pub use mio;
