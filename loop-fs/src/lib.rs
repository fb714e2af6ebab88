//! `loop-fs`: a thread pool for file I/O, name lookups and blocking work,
//! completing on the thread of a [`loop_core::Loop`].
//!
//! Everything a libuv program cannot do without blocking goes to a pool of
//! worker threads; the completion callback runs back on the loop thread, in
//! the poll phase, followed by the nextTick and microtask drain like any
//! other callback, exactly where Node.js runs an `fs` callback.
//!
//! ```
//! use loop_core::{Loop, RunMode};
//! use loop_fs::fs;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("greeting.txt");
//!
//! let mut lp: Loop<Vec<String>> = Loop::new()?;
//! // Write a file, then read it back from the write's callback.
//! fs::write_file(&mut lp, &path, "hello", {
//!     let path = path.clone();
//!     move |lp, log, r| {
//!         r.expect("written");
//!         log.push("written".into());
//!         fs::read_file(lp, &path, |_, log, r| {
//!             log.push(String::from_utf8(r.expect("read")).expect("utf-8"));
//!         })
//!         .expect("queued");
//!     }
//! })?;
//! // Blocking work of your own, with its result delivered on the loop.
//! loop_fs::queue_work(&mut lp, || 6 * 7, |_, log, r| {
//!     log.push(format!("work: {}", r.expect("not canceled")));
//! })?;
//!
//! let mut log = Vec::new();
//! lp.run(RunMode::Default, &mut log)?;
//! log.sort();
//! assert_eq!(log, ["hello", "work: 42", "written"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Contents
//!
//! - the pool: [`PoolBuilder`] (size, `LOOP_THREADPOOL_SIZE`), [`WorkKind`]
//!   (libuv's limit on slow I/O), [`pool_size`], [`pending_requests`];
//! - requests: [`queue_work`] / [`queue_work_with`] for your own work,
//!   [`cancel`] by [`ReqId`];
//! - [`fs`]: libuv's file-system requests, callback style, and their
//!   blocking versions in [`fs::blocking`];
//! - [`future`]: the requests and [`queue_work`] as futures, for tasks of
//!   `loop_core::task` (dropping one cancels its request while queued);
//! - [`dns`]: [`dns::lookup`], `getaddrinfo` on the pool;
//! - errors: [`Error`] (pool setup), [`CancelError`], [`WorkError`], and
//!   [`SysError`], the Node.js-style description inside every `io::Error`
//!   a request hands back (`ENOENT: no such file or directory, open '/x'`).
//!
//! # What runs where
//!
//! | | thread |
//! |---|---|
//! | `queue_work`'s `work`, every fs operation, name resolution | a pool worker |
//! | every callback, the nextTick/microtask drain after each | the loop thread |
//! | canceling, and building a canceled request's error | the loop thread |
//!
//! # Ordering and liveness
//!
//! - A callback never runs from inside the call that queued it: always in
//!   the poll phase of a later loop iteration, as its own callback (the
//!   nextTick and microtask queues drain after it). An immediate queued in
//!   it runs before any timer.
//! - Each request keeps the loop alive until its callback has run; the pool
//!   itself (its async handle) does not.
//! - Callbacks come in completion order; one wake-up of the loop serves the
//!   completions present when it began, so a stream of completions cannot
//!   starve timers and immediates.
//!
//! # Differences from libuv
//!
//! - One pool per loop (libuv has one per process), started on first use,
//!   joined when the loop is dropped: dropping waits for work that is
//!   executing, never for queued work (which is dropped unrun, with its
//!   callback).
//! - A panic in `work` completes the request with [`WorkError::Panicked`];
//!   libuv has no such case.
//! - A worker that finds the queue empty lingers a moment (spins, then
//!   yields the CPU; two workers at most) before it sleeps, and a queued
//!   request wakes a sleeping worker only if no awake one is bound to take
//!   it: a chain of requests, or a stream queued at the workers' pace,
//!   costs no thread wake-up per request (libuv's pool pays one).
//!
//! # Unsafe code
//!
//! Only the private `sys` module has any: the few calls std lacks
//! (`preadv`, `pwritev`, `mkdtemp`, `utimensat`, `access`, `close`,
//! `gai_strerror`), each with its `// SAFETY:` argument.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod builder;
pub mod dns;
mod error;
pub mod fs;
pub mod future;
mod notify;
mod pool;
mod sync;
mod sys;
mod work;
mod write_stream;

pub use builder::{PoolBuilder, DEFAULT_POOL_SIZE, ENV_POOL_SIZE, MAX_POOL_SIZE};
pub use error::{is_canceled, sys_error, CancelError, Error, Panic, SysError, WorkError};
pub use pool::WorkKind;
pub use work::{
    cancel, completion_handle, pending_requests, pool_size, queue_work, queue_work_with, ReqId,
};
pub use write_stream::{WriteStream, WriteStreamOptions, DEFAULT_WRITE_HIGH_WATER_MARK};
