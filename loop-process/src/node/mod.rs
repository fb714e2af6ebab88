//! The Node.js level: `child_process.spawn` ([`spawn`], [`ChildProcess`]),
//! built on this crate's libuv-level surface ([`crate::spawn`],
//! [`crate::Process`], [`crate::Spawned`], [`crate::Channel`]) and on
//! loop-net's Node [`Socket`](loop_net::Socket), as Node's
//! `lib/internal/child_process.js` is built on `ProcessWrap` and
//! `net.Socket`.
//!
//! # Layering
//!
//! Nothing below knows of this layer: a child process is a [`Process`]
//! whose exit callback is this module's, sockets made of its pipes with
//! [`Socket::from_stream`], and, for an `'ipc'` entry, a [`Channel`] whose
//! message and disconnect handlers are this module's. Its own state (the
//! handlers, the exit code, the count of closes) lives in a loop extension
//! of its own, indexed by the child's id and checked against its
//! generation.
//!
//! # The events, as Node.js 20 emits them
//!
//! - `spawn` on the next tick after [`spawn`] returned, when the program
//!   was `exec`ed (Node's `process.nextTick(onSpawnNT)`).
//! - `error` instead, on the next tick, when it could not be: `ENOENT`,
//!   `EACCES`, `EAGAIN`, `EMFILE`, `ENFILE` (Node's list; any other
//!   failure is [`spawn`]'s `Err`, as Node throws it). The child then
//!   counts as exited with code `-errno`; its pipes (but with `EMFILE` and
//!   `ENFILE`, where Node stops before making them) exist and read EOF at
//!   once, so their `end` and `close` follow, then `close(-errno, None)`.
//!   With no `on_error` handler, [`Loop::run`] returns the error (Node
//!   throws an `'error'` nobody listens to): `spawn nope ENOENT`.
//! - `exit(code, signal)` once the child was reaped: `(Some(code), None)`
//!   or `(None, Some("SIGTERM"))`. Before it, stdin is destroyed (Node's
//!   `this.stdin.destroy()`). It runs in the poll phase, after every other
//!   event of its poll batch: Node learns of an exit from SIGCHLD, which
//!   libuv handles after the other events of a poll, and loop-core runs
//!   the reaper's pidfd (and its SIGCHLD watcher) there too, so the
//!   child's last data and EOF (made ready by the kernel just before the
//!   exit) come first.
//! - `close(code, signal)` once the exit happened **and** every readable
//!   pipe (stdout, stderr, extra pipes) has closed **and** the IPC channel
//!   was closed by the child: Node's `_closesNeeded` count, incremented by
//!   the listener that `spawn` puts on each pipe's `'close'` before the
//!   user can, so the child's `close` runs before its last pipe's user
//!   `close` handler ([`Socket::on_close_first`]).
//! - `disconnect` on the next tick after the channel closed, from either
//!   side. As Node 20, a channel that the parent closed itself
//!   ([`ChildProcess::disconnect`]) never counts toward `close`: such a
//!   child gets `exit` and no `close`.
//!
//! Every handler runs through [`Loop::make_callback`]; the nextTick and
//! microtask queues drain after each.
//!
//! # Differences from Node.js
//!
//! - stdout and stderr always flow: data read with no `on_data` handler
//!   is dropped, not kept until one is set (Node buffers it and, after
//!   `exit`, resumes the streams nobody reads: `flushStdio`).
//! - `kill` takes a signal number; a failure other than `ESRCH`,
//!   `EINVAL` and `ENOSYS` goes to `on_error` on the next tick (Node
//!   emits it before `kill` returns).
//! - No `stdio: 'overlapped'`, `'inherit'` of a stream object, or
//!   `serialization: 'advanced'`; messages are `serde_json` values.
//! - A child's state is dropped once its `close` has run (or, for a
//!   child that gets no `close`, once it exited and its pipes and channel
//!   closed): [`ChildProcess::exit_code`] and the others are `None` after
//!   that.
//!
//! [`Process`]: crate::Process
//! [`Channel`]: crate::Channel
//! [`Socket::from_stream`]: loop_net::Socket::from_stream
//! [`Socket::on_close_first`]: loop_net::Socket::on_close_first
//! [`Loop::make_callback`]: loop_core::Loop::make_callback
//! [`Loop::run`]: loop_core::Loop::run

mod child;
mod options;
mod signals;

pub use child::{spawn, ChildProcess};
pub use options::{Options, StdioOption};
pub use signals::{signal_name, signal_number};
