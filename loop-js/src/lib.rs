//! `loop-js`: real JavaScript on the loop. [`run_file`] runs a file as a
//! Node.js main module (CommonJS) on a [`loop_core::Loop`], with the
//! QuickJS-ng engine embedded through `rquickjs`, and prints what Node.js
//! prints: every timer, immediate and nextTick is loop-core's own (its Node
//! layer), and QuickJS's job queue (promise reactions and
//! `queueMicrotask`, one FIFO as in V8) drains exactly where Node runs V8's
//! `runMicrotasks()`: after the nextTick queue, repeatedly until both are
//! empty ([`loop_core::Loop::set_host_microtasks`]).
//!
//! # Layout
//!
//! - `host`: the loop's state `D` ([`Host`]: the engine's runtime and
//!   context, the table from JS timer ids to loop-core timers) and the one
//!   way into JavaScript from a loop callback (`Host::enter`), the job
//!   queue runner and the rejection tracker;
//! - `natives`: the few native functions the JavaScript side calls
//!   (schedule a tick, a timer, an immediate, write to a stream, exit);
//! - `output`: stdout and stderr as Node writes them to files and pipes
//!   (synchronously, in order; stdout buffered until the loop blocks);
//! - `js/`: the JavaScript half (`bootstrap.js`: `process`, timers,
//!   `console`, `require`, `events`; `inspect.js`: `util.inspect` and
//!   `util.format`), evaluated once per runtime.
//!
//! # Invariants
//!
//! - JavaScript runs only inside `Host::enter`, `Host::run_jobs` or the
//!   main script's evaluation, each with the running loop published to
//!   the native functions for the duration (a scoped thread-local: the
//!   loop is borrowed by `run` and handed to callbacks as `&mut`, so a
//!   native reaches it only through that scope, never by a stored pointer).
//! - JS callbacks are never held by Rust: the JS side keeps them in its own
//!   tables keyed by small integer ids, and loop callbacks carry the id.
//!   No `Persistent` other than the bootstrap's entry points exists, so the
//!   engine's garbage collector sees every reference.
//! - After an uncaught exception (or `process.exit`), no more JavaScript
//!   runs except the `'exit'` handlers, and the loop is stopped.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod fs;
mod host;
mod natives;
mod net;
mod output;

pub use host::Host;

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a script could not be started (its own errors are JavaScript
/// exceptions, printed as Node prints them, never this).
#[derive(Debug)]
pub enum Error {
    /// The script file could not be read.
    Read {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The engine or the loop could not be set up.
    Setup(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Setup(what) => write!(f, "cannot set up the runtime: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// Runs `path` as Node.js runs a main module (`node FILE ARGS...`):
/// `process.argv` is `[argv0, the absolute path, ...args]`. Returns the
/// process exit code (`process.exitCode`, 1 after an uncaught exception).
/// `process.exit(n)` ends the process at once, as in Node.js.
pub fn run_file(argv0: &str, path: &Path, args: &[String]) -> Result<i32, Error> {
    let abs = std::path::absolute(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let source = std::fs::read_to_string(&abs).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut argv = vec![argv0.to_string(), abs.display().to_string()];
    argv.extend(args.iter().cloned());
    host::run(&source, argv)
}
