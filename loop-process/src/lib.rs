//! `loop-process`: child processes on a [`loop_core::Loop`], at libuv's
//! level (`uv_spawn`, `uv_process_t`, `uv_process_kill`, `uv_kill`).
//!
//! ```
//! use loop_core::{Loop, RunMode};
//! use loop_process::{spawn, SpawnOptions};
//!
//! let mut lp: Loop<Vec<(i64, i32)>> = Loop::new()?;
//! let opts = SpawnOptions::new("sh").args(["-c", "exit 3"]);
//! spawn(&mut lp, opts, |lp, out, process, status, signal| {
//!     out.push((status, signal));
//!     process.close(lp, None).expect("open");
//! })?;
//! let mut out = Vec::new();
//! lp.run(RunMode::Default, &mut out)?;
//! assert_eq!(out, [(3, 0)]);
//!
//! // A program that cannot run is spawn's own error, as Node.js words it.
//! let err = spawn(&mut lp, SpawnOptions::new("nope"), |_, _, _, _, _| {}).unwrap_err();
//! assert_eq!(err.to_string(), "spawn nope ENOENT");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Contents
//!
//! - [`spawn`] with [`SpawnOptions`] (file, arguments, environment,
//!   directory, fds as [`Stdio`], detached, uid/gid), returning
//!   [`Spawned`]: the [`Process`] and the parent's ends of its pipes;
//! - [`Process`]: `pid`, `kill`, ref/unref, `close`; [`kill`] by pid;
//! - pipes as loop-net [`Stream`](loop_net::Stream)s: a child's pipes
//!   ([`Spawned::take_stream`]), [`socketpair`], [`stdin`], [`stdout`],
//!   [`stderr`] (and any pipe or socket fd through
//!   [`loop_net::Stream::open_fd`]);
//! - [`Ipc`]: IPC streams that carry fds (`SCM_RIGHTS`), with
//!   [`HandleType`]d pending handles accepted as loop-net handles
//!   ([`Spawned::take_ipc`]);
//! - [`Channel`]: Node.js's JSON IPC channel, byte for byte, with
//!   `NODE_HANDLE` handle passing ([`SendHandle`], [`Received`]); a child
//!   of a Node.js parent finds it with [`Channel::from_env`], a parent
//!   makes one with [`SpawnOptions::node_ipc`] and
//!   [`Spawned::take_channel`];
//! - reaping: [`Reaping`], [`reaping`], [`set_reaping`];
//! - [`Error`]: the operation, file, pid and errno, formatted as Node.js;
//! - [`node`]: Node.js's `child_process.spawn` on all of the above, a
//!   [`node::ChildProcess`] with its events (`spawn`, `error`, `exit`,
//!   `close`, `message`, `disconnect`) and its pipes as loop-net Node
//!   sockets.
//!
//! # How a child is started: std's `Command`, plus a `pre_exec` step
//!
//! `spawn` builds a [`std::process::Command`] and gives it one `pre_exec`
//! step (in `sys`, the crate's only `unsafe`) rather than calling `fork`
//! and `exec` itself. std already does, and has been audited doing, what
//! is easiest to get wrong: `argv` and `envp` are built before the fork
//! (nothing is allocated in the child), the `PATH` search is the child's,
//! fds 0 to 2 are placed with `dup2`, uid/gid (with `setgroups(0)` when
//! dropping root) and the directory are set, and a close-on-exec error pipe
//! carries the errno of any step that fails back to the parent, which then
//! reaps the child before `spawn` returns the error. What libuv's child
//! does beyond that is the `pre_exec` step:
//!
//! - `setsid` for a detached child;
//! - fds 3 and up placed with `dup2`, from sources that the parent copied
//!   above the child's last fd (so no placement overwrites a source still
//!   to be placed, and 1 and 2 can be swapped);
//! - `O_NONBLOCK` cleared on fds 0 to 2, as libuv does;
//! - every fd above the child's last marked close-on-exec (`close_range`,
//!   Linux ≥ 5.11): ours all are already, this covers a library's that
//!   are not;
//! - every signal disposition reset to the default (an ignored signal
//!   would stay ignored across `exec`), the real-time ones included, and
//!   the signal mask emptied (std keeps the parent's mask).
//!
//! # Reaping
//!
//! Each child is waited for by pid, `waitpid(pid, WNOHANG)`, never
//! `waitpid(-1)`. The loop learns that it exited from a pidfd registered
//! in its poller (Linux ≥ 5.3), or, where `pidfd_open` fails, from a
//! SIGCHLD watcher; either way the exit callback runs in the poll phase,
//! through [`Loop::make_callback`](loop_core::Loop::make_callback), so the
//! nextTick and microtask queues drain after it. No child is left a
//! zombie: not after a failed `exec`, not when its handle is closed while
//! it runs (it is reaped in the background), not when the loop is dropped
//! (a thread waits for each child still running). See the `reaper` module
//! for the ground rules and `docs/process.md` for a walk through.
//!
//! # Differences from libuv
//!
//! - An `exec` failure is `spawn`'s error and no handle is created (libuv
//!   returns the error too, and the handle must still be closed).
//! - A handle closed before its child exits does not leave a zombie
//!   behind: libuv stops waiting for it.
//! - [`Process::kill`] after the exit callback is `ESRCH` without a signal
//!   sent (the pid may have been recycled); under pidfd reaping signals go
//!   through the pidfd.
//! - The child resets signals 32 to 64 too (libuv stops at 31), and marks
//!   every fd above its last close-on-exec (libuv relies on the parent's
//!   fds having the flag): neither an ignored real-time signal nor a
//!   library's fd without the flag reaches the program.
//! - Pipes are Unix-domain socket pairs handed back as [`OwnedFd`]s,
//!   opened as loop-net streams on demand ([`Spawned::take_stream`]);
//!   libuv creates the `uv_pipe_t` before the spawn.
//!
//! [`OwnedFd`]: std::os::fd::OwnedFd

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod channel;
mod error;
pub mod framing;
mod ipc;
pub mod node;
mod options;
mod pipe;
mod process;
mod reaper;
mod sys;

pub use channel::{Channel, Received, SendHandle, MAX_HANDLE_RETRANSMISSIONS};
pub use error::Error;
pub use ipc::{HandleType, Ipc, IpcEvent};
pub use options::{SpawnOptions, Stdio};
pub use pipe::{socketpair, stderr, stdin, stdout};
pub use process::{kill, spawn, Process, Spawned};
pub use reaper::Reaping;

use loop_core::Loop;

/// How `lp` reaps its children: decided at its first [`spawn`] (a pidfd
/// per child where the kernel has them), `None` before.
pub fn reaping<D: 'static>(lp: &Loop<D>) -> Option<Reaping> {
    lp.extension::<reaper::Table<D>>()?.mode
}

/// Chooses how `lp` reaps its children; `EBUSY` while it has a child,
/// `ENOSYS` for [`Reaping::Pidfd`] where pidfds are unavailable. Tests use
/// it to run the SIGCHLD fallback on a kernel with pidfds.
pub fn set_reaping<D: 'static>(lp: &mut Loop<D>, mode: Reaping) -> Result<(), Error> {
    reaper::set_mode(lp, mode)
}
