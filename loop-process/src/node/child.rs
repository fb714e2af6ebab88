//! `ChildProcess`: a child with Node.js's events, its pipes as loop-net
//! sockets, its IPC channel, on the libuv-level [`crate::spawn`].
//!
//! Invariants:
//! - a child's state is in the table from [`spawn`] until its `close` ran
//!   (or, for a child that gets none, until it exited and its pipes and
//!   channel closed); every callback of a lower layer finds it by id and
//!   generation and does nothing once it is gone;
//! - `close` is emitted once, when `closes_got` reaches `closes_needed`:
//!   1 for the exit, 1 per readable pipe, 1 for a channel the child
//!   closed (Node's `_closesNeeded`);
//! - every handler runs through [`Loop::make_callback`]; after a panic
//!   this layer returns at once, its state in order, and starts nothing
//!   more (a closes count still counts, the `close` waits).

use super::options::{Options, StdioOption};
use super::signals::signal_name;
use crate::{Channel, Error, Process, Received, SendHandle, SpawnOptions, Stdio};
use loop_core::slots::{GenSlab, Key};
use loop_core::Loop;
use loop_net::{Socket, Stream};
use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::net::UnixStream;

/// A child process at Node.js's level (`ChildProcess`): a small `Copy` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildProcess {
    index: u32,
    gen: u32,
}

impl ChildProcess {
    /// The id's [`Key`] in its table.
    #[inline]
    fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

type EventCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, ChildProcess)>;
type ErrorCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, ChildProcess, Error)>;
type ExitCb<D> =
    Box<dyn FnMut(&mut Loop<D>, &mut D, ChildProcess, Option<i64>, Option<&'static str>)>;
type MessageCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, ChildProcess, Value, Option<Received>)>;

struct Handlers<D> {
    spawn: Option<EventCb<D>>,
    error: Option<ErrorCb<D>>,
    exit: Option<ExitCb<D>>,
    close: Option<ExitCb<D>>,
    message: Option<MessageCb<D>>,
    disconnect: Option<EventCb<D>>,
}

struct ChildState<D> {
    file: String,
    args: Vec<String>,
    /// The libuv-level handle, until the exit.
    process: Option<Process>,
    pid: Option<u32>,
    exit_code: Option<i64>,
    signal_code: Option<&'static str>,
    killed: bool,
    exited: bool,
    /// The parent's end of each `'pipe'` entry, by the child's fd.
    stdio: Vec<Option<Socket>>,
    channel: Option<Channel>,
    /// [`ChildProcess::disconnect`] was called: the channel's close does
    /// not count toward `close` (Node counts only the EOF it reads).
    disconnect_requested: bool,
    /// Readable pipes not closed yet.
    open_pipes: u32,
    closes_needed: u32,
    closes_got: u32,
    h: Handlers<D>,
}

struct Children<D> {
    slab: GenSlab<ChildState<D>>,
}

fn get<D: 'static>(lp: &mut Loop<D>, c: ChildProcess) -> Option<&mut ChildState<D>> {
    lp.extension_mut::<Children<D>>()?.slab.get_mut(c.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, c: ChildProcess) -> Option<&ChildState<D>> {
    lp.extension::<Children<D>>()?.slab.get(c.key())
}

fn remove<D: 'static>(lp: &mut Loop<D>, c: ChildProcess) {
    if let Some(t) = lp.extension_mut::<Children<D>>() {
        t.slab.remove(c.key());
    }
}

/// What running a handler came to.
#[derive(PartialEq, Eq)]
enum Emit {
    Ran,
    NoHandler,
    /// It panicked: return at once, start nothing more.
    Panicked,
}

/// Calls handler `$field` with `$args` through `make_callback` (taken out
/// of the state during the call, put back unless replaced). Evaluates to
/// an [`Emit`].
macro_rules! emit {
    ($lp:expr, $d:expr, $c:expr, $field:ident $(, $arg:expr)*) => {{
        let taken = get($lp, $c).and_then(|st| st.h.$field.take());
        match taken {
            Some(mut f) => {
                let r = $lp.make_callback($d, concat!("child.", stringify!($field)), |lp, d| {
                    f(lp, d, $c $(, $arg)*)
                });
                if let Some(st) = get($lp, $c) {
                    if st.h.$field.is_none() {
                        st.h.$field = Some(f);
                    }
                }
                if r.is_some() { Emit::Ran } else { Emit::Panicked }
            }
            None => Emit::NoHandler,
        }
    }};
}

/// The errors Node.js emits as `'error'` instead of throwing them
/// (`child_process.js`: `UV_EACCES`, `UV_EAGAIN`, `UV_EMFILE`,
/// `UV_ENFILE`, `UV_ENOENT`).
fn is_runtime_error(errno: i32) -> bool {
    matches!(
        errno,
        libc::EACCES | libc::EAGAIN | libc::EMFILE | libc::ENFILE | libc::ENOENT
    )
}

/// `child_process.spawn(file, args, options)`.
///
/// The child is running (its program `exec`ed) when this returns `Ok`,
/// and `on_spawn` follows on the next tick; or it could not be started
/// for one of the reasons Node.js reports as an event (`ENOENT`,
/// `EACCES`, `EAGAIN`, `EMFILE`, `ENFILE`), and `on_error` follows on the
/// next tick instead, then `on_close(Some(-errno), None)`. Any other
/// failure (a bad `cwd` is `ENOENT` too, as in Node; `EPERM` for a
/// `uid`; two `'ipc'` entries, `EINVAL`) is this function's `Err`, as
/// Node throws it, and nothing is left behind.
///
/// ```
/// use loop_core::{Loop, RunMode};
/// use loop_process::node;
///
/// let mut lp: Loop<Vec<String>> = Loop::new()?;
/// let child = node::spawn(&mut lp, "sh", ["-c", "echo hi; exit 3"], node::Options::new())?;
/// let stdout = child.stdout(&lp).expect("a pipe");
/// stdout.on_data(&mut lp, |_, out, _, data| out.push(String::from_utf8_lossy(data).into()));
/// child.on_close(&mut lp, |_, out, _, code, signal| out.push(format!("close {code:?} {signal:?}")));
/// let mut out = Vec::new();
/// lp.run(RunMode::Default, &mut out)?;
/// assert_eq!(out, ["hi\n", "close Some(3) None"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn spawn<D: 'static, F, I, S>(
    lp: &mut Loop<D>,
    file: F,
    args: I,
    options: Options<'_>,
) -> Result<ChildProcess, Error>
where
    F: AsRef<OsStr>,
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let file_os = file.as_ref().to_owned();
    let file_str = file_os.to_string_lossy().into_owned();
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut stdio = options.stdio.clone();
    // Node: at least 3 entries, the missing ones of 0-2 'pipe'.
    while stdio.len() < 3 {
        stdio.push(StdioOption::Pipe);
    }
    let ipc_fds: Vec<usize> = stdio
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, StdioOption::Ipc))
        .map(|(i, _)| i)
        .collect();
    if ipc_fds.len() > 1 {
        // Node's ERR_IPC_ONE_PIPE.
        return Err(Error::from_errno(
            "spawn",
            Some(&file_str),
            None,
            libc::EINVAL,
        ));
    }

    let mut so = SpawnOptions::new(&file_os).args(&args);
    if let Some(a) = &options.argv0 {
        so = so.argv0(a);
    }
    if let Some(env) = options.env.clone() {
        so = so.env(env);
    }
    if let Some(dir) = &options.cwd {
        so = so.cwd(dir);
    }
    if let Some(uid) = options.uid {
        so = so.uid(uid);
    }
    if let Some(gid) = options.gid {
        so = so.gid(gid);
    }
    so = so.detached(options.detached);
    if let Some(&fd) = ipc_fds.first() {
        // After `env`: it adds NODE_CHANNEL_FD to the environment given.
        so = so.node_ipc(fd);
    }
    for (i, e) in stdio.iter().enumerate() {
        so = match *e {
            StdioOption::Pipe => so.stdio(i, Stdio::Pipe),
            StdioOption::Ignore => so.stdio(i, Stdio::Ignore),
            StdioOption::Inherit => so.stdio(i, Stdio::Inherit),
            StdioOption::Fd(fd) => so.stdio(i, Stdio::Fd(fd)),
            StdioOption::Ipc => so,
        };
    }

    // The id first: the exit callback needs it.
    let t = lp.extension_or_insert_with(|_| Children::<D> {
        slab: GenSlab::new(),
    });
    let Key { index, gen } = t.slab.vacant_key();
    let c = ChildProcess { index, gen };
    let mut spawnargs = vec![options
        .argv0
        .as_ref()
        .unwrap_or(&file_os)
        .to_string_lossy()
        .into_owned()];
    spawnargs.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
    let state = ChildState {
        file: file_str,
        args: spawnargs,
        process: None,
        pid: None,
        exit_code: None,
        signal_code: None,
        killed: false,
        exited: false,
        stdio: vec![None; stdio.len()],
        channel: None,
        disconnect_requested: false,
        open_pipes: 0,
        closes_needed: 1,
        closes_got: 0,
        h: Handlers {
            spawn: None,
            error: None,
            exit: None,
            close: None,
            message: None,
            disconnect: None,
        },
    };

    let spawned = crate::spawn(lp, so, move |lp, d, _process, status, signal| {
        on_exit(lp, d, c, status, signal)
    });
    let mut spawned = match spawned {
        Ok(s) => s,
        Err(e) if e.errno().is_some_and(is_runtime_error) => {
            failed_later(lp, c, state, &stdio, e);
            return Ok(c);
        }
        Err(e) => return Err(e),
    };
    let process = spawned.process;
    let mut state = state;
    state.process = Some(process);
    state.pid = Some(process.pid());
    insert(lp, c, state);

    let mut opened = Ok(());
    for (i, e) in stdio.iter().enumerate() {
        let r = match e {
            StdioOption::Pipe => match spawned.take_stream(lp, i) {
                Some(Ok(s)) => attach_pipe(lp, c, i, s),
                Some(Err(e)) => Err(e),
                None => Ok(()),
            },
            StdioOption::Ipc => match spawned.take_channel(lp, i) {
                Some(Ok(ch)) => {
                    attach_channel(lp, c, ch);
                    Ok(())
                }
                Some(Err(e)) => Err(e),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if r.is_err() {
            opened = r;
            break;
        }
    }
    if let Err(e) = opened {
        // Node would throw here: nothing may be left running.
        let _ = process.kill(lp, libc::SIGKILL);
        let _ = process.close(lp, None);
        let socks: Vec<Socket> = get(lp, c)
            .map(|st| st.stdio.iter().flatten().copied().collect())
            .unwrap_or_default();
        let ch = get(lp, c).and_then(|st| st.channel);
        remove(lp, c);
        for s in socks {
            s.destroy(lp);
        }
        if let Some(ch) = ch {
            let _ = ch.disconnect(lp);
        }
        return Err(e);
    }
    lp.next_tick(move |lp, d| {
        emit!(lp, d, c, spawn);
    });
    Ok(c)
}

fn insert<D: 'static>(lp: &mut Loop<D>, c: ChildProcess, state: ChildState<D>) {
    let t = lp
        .extension_mut::<Children<D>>()
        .expect("inserted by spawn");
    let key = t.slab.insert(state);
    debug_assert_eq!(key, c.key());
}

/// A runtime failure (Node's `onErrorNT`): the child's pipes and channel
/// exist and read EOF at once (libuv made them before the fork), but with
/// `EMFILE` and `ENFILE`, where Node stops before making them; the error
/// and the exit code `-errno` come on the next tick.
fn failed_later<D: 'static>(
    lp: &mut Loop<D>,
    c: ChildProcess,
    state: ChildState<D>,
    stdio: &[StdioOption<'_>],
    e: Error,
) {
    insert(lp, c, state);
    let errno = e.errno().unwrap_or(libc::EINVAL);
    if errno != libc::EMFILE && errno != libc::ENFILE {
        for (i, entry) in stdio.iter().enumerate() {
            if !matches!(entry, StdioOption::Pipe | StdioOption::Ipc) {
                continue;
            }
            // The child's end closes here: the parent's reads EOF.
            let Ok((ours, _theirs)) = UnixStream::pair() else {
                continue;
            };
            let made = if matches!(entry, StdioOption::Ipc) {
                crate::Ipc::open(lp, ours.into())
                    .and_then(|ipc| Channel::open(lp, ipc))
                    .map(|ch| attach_channel(lp, c, ch))
            } else {
                Stream::open_unix(lp, ours)
                    .map_err(Error::from)
                    .and_then(|s| attach_pipe(lp, c, i, s))
            };
            if let Err(err) = made {
                tracing::debug!(error = %err, "spawn failed: a pipe not made");
            }
        }
    }
    lp.next_tick(move |lp, d| {
        let code = -i64::from(errno);
        exited(lp, d, c, Some(code), None, Some(e));
    });
}

/// Makes the parent's end of the pipe at the child's fd `i` a socket:
/// stdin is write-only (Node's `readable: false`: it closes once its
/// `end()` is flushed), the others read and count toward `close`.
fn attach_pipe<D: 'static>(
    lp: &mut Loop<D>,
    c: ChildProcess,
    i: usize,
    s: Stream,
) -> Result<(), Error> {
    let readable = i > 0;
    let made = if readable {
        Socket::from_stream(lp, s, false)
    } else {
        Socket::from_stream_write_only(lp, s)
    };
    let sock = match made {
        Ok(sock) => sock,
        Err(e) => {
            let _ = s.close(lp, |_, _| {});
            return Err(e.into());
        }
    };
    if readable {
        sock.on_close_first(lp, move |lp, d, _, _| {
            if let Some(st) = get(lp, c) {
                st.open_pipes = st.open_pipes.saturating_sub(1);
            }
            maybe_close(lp, d, c);
        });
    }
    if let Some(st) = get(lp, c) {
        st.stdio[i] = Some(sock);
        if readable {
            st.open_pipes += 1;
            st.closes_needed += 1;
        }
    }
    Ok(())
}

/// The child's channel: its messages and its close are this layer's
/// (Node's `setupChannel`); it keeps the loop alive until disconnected.
fn attach_channel<D: 'static>(lp: &mut Loop<D>, c: ChildProcess, ch: Channel) {
    ch.on_message(lp, move |lp, d, _, msg, handle| {
        emit!(lp, d, c, message, msg, handle);
    });
    ch.on_disconnect(lp, move |lp, d, _| channel_closed(lp, d, c));
    if let Some(st) = get(lp, c) {
        st.channel = Some(ch);
        st.closes_needed += 1;
    }
}

/// The channel closed (the next tick after it did): a close the child
/// made counts toward `close` (Node's `maybeClose` at the EOF, before
/// `'disconnect'`), then `'disconnect'`.
fn channel_closed<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: ChildProcess) {
    let Some(st) = get(lp, c) else { return };
    st.channel = None;
    let counts = !st.disconnect_requested;
    // Taken first: a `close` emitted by the count drops the state.
    let f = st.h.disconnect.take();
    if counts {
        maybe_close(lp, d, c);
    }
    if let Some(mut f) = f {
        if lp.is_unwinding() {
            return;
        }
        lp.make_callback(d, "child.disconnect", |lp, d| f(lp, d, c));
        if let Some(st) = get(lp, c) {
            if st.h.disconnect.is_none() {
                st.h.disconnect = Some(f);
            }
        }
    }
    if !counts {
        maybe_release(lp, c);
    }
}

/// The libuv-level exit callback (poll phase, after the other events of
/// its batch: the reaper's pidfd is `io_set_batch_last`, and the SIGCHLD
/// fallback is a signal, which loop-core runs last too, as libuv's
/// `uv__io_poll` runs its signal watcher). So the last data and EOF of
/// the child's pipes, which the kernel makes ready just before the exit,
/// come before `exit` even when the pidfd was registered first (a child
/// that ended before `spawn` returned).
fn on_exit<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: ChildProcess, status: i64, signal: i32) {
    let Some(st) = get(lp, c) else { return };
    let p = st.process.take();
    if let Some(p) = p {
        let _ = p.close(lp, None);
    }
    let (code, sig) = if signal != 0 {
        (None, Some(signal_name(signal)))
    } else {
        (Some(status), None)
    };
    exited(lp, d, c, code, sig, None);
}

/// Node's `onexit`: the codes, stdin destroyed, `'error'` (a failed
/// spawn) or `'exit'`, then one close counted.
fn exited<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    c: ChildProcess,
    code: Option<i64>,
    signal: Option<&'static str>,
    error: Option<Error>,
) {
    let Some(st) = get(lp, c) else { return };
    st.exit_code = code;
    st.signal_code = signal;
    st.exited = true;
    st.process = None;
    let stdin = st.stdio.first().copied().flatten();
    if let Some(s) = stdin {
        s.destroy(lp);
    }
    let ran = match error {
        Some(e) => emit_error(lp, d, c, e),
        None => emit!(lp, d, c, exit, code, signal) != Emit::Panicked,
    };
    if !ran {
        return;
    }
    maybe_close(lp, d, c);
}

/// `'error'`, or, with no handler, the error for `run` to return (Node
/// throws an `'error'` nobody listens to). False if the handler panicked.
fn emit_error<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: ChildProcess, e: Error) -> bool {
    match get(lp, c).and_then(|st| st.h.error.take()) {
        Some(mut f) => {
            let r = lp.make_callback(d, "child.error", |lp, d| f(lp, d, c, e));
            if let Some(st) = get(lp, c) {
                if st.h.error.is_none() {
                    st.h.error = Some(f);
                }
            }
            r.is_some()
        }
        None => {
            lp.report_unhandled("child.on_error", Box::new(e));
            true
        }
    }
}

/// Node's `maybeClose`: one more close; `'close'` when all are in.
fn maybe_close<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: ChildProcess) {
    let Some(st) = get(lp, c) else { return };
    st.closes_got += 1;
    if st.closes_got < st.closes_needed {
        maybe_release(lp, c);
        return;
    }
    let (code, signal) = (st.exit_code, st.signal_code);
    if !lp.is_unwinding() {
        emit!(lp, d, c, close, code, signal);
    }
    remove(lp, c);
}

/// Drops the state of a child that will get no `close` (its channel was
/// closed by us) once nothing of it is left.
fn maybe_release<D: 'static>(lp: &mut Loop<D>, c: ChildProcess) {
    let Some(st) = get(lp, c) else { return };
    if st.exited && st.open_pipes == 0 && st.channel.is_none() && st.disconnect_requested {
        remove(lp, c);
    }
}

impl ChildProcess {
    /// The `'spawn'` event: the program was started.
    pub fn on_spawn<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, ChildProcess) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.h.spawn = Some(Box::new(f));
        }
    }

    /// The `'error'` event: the program could not be started (`spawn nope
    /// ENOENT`; the error's [`Error::code`], [`Error::file`]), or a
    /// signal could not be sent. With no handler, [`Loop::run`] returns
    /// the error as [`loop_core::Error::Unhandled`].
    pub fn on_error<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, ChildProcess, Error) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.h.error = Some(Box::new(f));
        }
    }

    /// The `'exit'` event: `(Some(code), None)`, or `(None,
    /// Some("SIGTERM"))` for a child a signal ended. Its pipes may still
    /// be open.
    pub fn on_exit<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, ChildProcess, Option<i64>, Option<&'static str>) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.h.exit = Some(Box::new(f));
        }
    }

    /// The `'close'` event, with `exit`'s values: the child exited and its
    /// readable pipes (and a channel it closed) are closed. Last of the
    /// child's events; its state is dropped after it.
    pub fn on_close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, ChildProcess, Option<i64>, Option<&'static str>) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.h.close = Some(Box::new(f));
        }
    }

    /// The `'message'` event of an `'ipc'` child: a message, and the
    /// `net.Server` or `net.Socket` that came with it.
    pub fn on_message<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, ChildProcess, Value, Option<Received>) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.h.message = Some(Box::new(f));
        }
    }

    /// The `'disconnect'` event: the channel closed, from either side.
    pub fn on_disconnect<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, ChildProcess) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.h.disconnect = Some(Box::new(f));
        }
    }

    /// `child.pid`: `None` when the program could not be started.
    pub fn pid<D: 'static>(self, lp: &Loop<D>) -> Option<u32> {
        get_ref(lp, self)?.pid
    }

    /// `child.exitCode`: once exited normally (`-errno` after a failed
    /// spawn's `error`).
    pub fn exit_code<D: 'static>(self, lp: &Loop<D>) -> Option<i64> {
        get_ref(lp, self)?.exit_code
    }

    /// `child.signalCode`: the signal that ended the child.
    pub fn signal_code<D: 'static>(self, lp: &Loop<D>) -> Option<&'static str> {
        get_ref(lp, self)?.signal_code
    }

    /// `child.killed`: a [`ChildProcess::kill`] delivered a signal.
    pub fn killed<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.killed)
    }

    /// `child.spawnfile`.
    pub fn spawnfile<D: 'static>(self, lp: &Loop<D>) -> Option<&str> {
        get_ref(lp, self).map(|st| st.file.as_str())
    }

    /// `child.spawnargs`: `argv[0]` and the arguments.
    pub fn spawnargs<D: 'static>(self, lp: &Loop<D>) -> Option<&[String]> {
        get_ref(lp, self).map(|st| st.args.as_slice())
    }

    /// `child.stdin`: a socket that writes to the child's fd 0 (with
    /// backpressure: `write` is `false` at the high-water mark, then
    /// `on_drain`), and never reads; `end()` gives the child EOF and closes
    /// the socket once flushed (`on_finish`, `on_close`). Destroyed at the
    /// exit if still open.
    pub fn stdin<D: 'static>(self, lp: &Loop<D>) -> Option<Socket> {
        self.stdio(lp, 0)
    }

    /// `child.stdout`: a socket reading the child's fd 1.
    pub fn stdout<D: 'static>(self, lp: &Loop<D>) -> Option<Socket> {
        self.stdio(lp, 1)
    }

    /// `child.stderr`: a socket reading the child's fd 2.
    pub fn stderr<D: 'static>(self, lp: &Loop<D>) -> Option<Socket> {
        self.stdio(lp, 2)
    }

    /// `child.stdio[fd]`: the parent's end of a `'pipe'` entry.
    pub fn stdio<D: 'static>(self, lp: &Loop<D>, fd: usize) -> Option<Socket> {
        get_ref(lp, self)?.stdio.get(fd).copied().flatten()
    }

    /// `child.channel`: the IPC channel while connected. Set handlers on
    /// the child ([`ChildProcess::on_message`],
    /// [`ChildProcess::on_disconnect`]), not on the channel: the child's
    /// `close` counts with them.
    pub fn channel<D: 'static>(self, lp: &Loop<D>) -> Option<Channel> {
        get_ref(lp, self)?.channel
    }

    /// `child.connected`.
    pub fn is_connected<D: 'static>(self, lp: &Loop<D>) -> bool {
        self.channel(lp).is_some_and(|ch| ch.is_connected(lp))
    }

    /// `child.send(msg)`; `EPIPE` when there is no channel (any more).
    pub fn send<D: 'static>(self, lp: &mut Loop<D>, msg: Value) -> Result<(), Error> {
        self.connected_channel(lp)?.send(lp, msg)
    }

    /// `child.send(msg, handle)`: a `net.Server` or `net.Socket`'s fd.
    pub fn send_handle<D: 'static>(
        self,
        lp: &mut Loop<D>,
        msg: Value,
        handle: SendHandle,
    ) -> Result<(), Error> {
        self.connected_channel(lp)?.send_handle(lp, msg, handle)
    }

    fn connected_channel<D: 'static>(self, lp: &Loop<D>) -> Result<Channel, Error> {
        self.channel(lp)
            .filter(|ch| ch.is_connected(lp))
            .ok_or_else(|| Error::from_errno("send", None, self.pid(lp), libc::EPIPE))
    }

    /// `child.disconnect()`: closes the channel; `'disconnect'` follows on
    /// the next tick. `EPIPE` when not connected (Node's
    /// `ERR_IPC_DISCONNECTED`). As in Node 20, a channel closed from this
    /// side does not count toward `close`.
    pub fn disconnect<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        let ch = self
            .channel(lp)
            .ok_or_else(|| Error::from_errno("disconnect", None, self.pid(lp), libc::EPIPE))?;
        ch.disconnect(lp)?;
        if let Some(st) = get(lp, self) {
            st.disconnect_requested = true;
        }
        Ok(())
    }

    /// `child.kill(sig)` (`libc::SIGTERM` is Node's default; 0 checks
    /// that the child runs): `Ok(true)` when the signal was sent (and
    /// [`ChildProcess::killed`] is then true), `Ok(false)` when the child
    /// has exited or never ran (`ESRCH`). `EINVAL` (no such signal) and
    /// `ENOSYS` are `Err`, as Node throws them; any other failure
    /// (`EPERM`) goes to `on_error` on the next tick and is `Ok(false)`.
    pub fn kill<D: 'static>(self, lp: &mut Loop<D>, sig: i32) -> Result<bool, Error> {
        let Some(p) = get_ref(lp, self).and_then(|st| st.process) else {
            return Ok(false);
        };
        match p.kill(lp, sig) {
            Ok(()) => {
                if let Some(st) = get(lp, self) {
                    st.killed = true;
                }
                Ok(true)
            }
            Err(e) if e.errno() == Some(libc::ESRCH) => Ok(false),
            Err(e) if matches!(e.errno(), Some(libc::EINVAL | libc::ENOSYS)) => Err(e),
            Err(e) => {
                lp.next_tick(move |lp, d| {
                    if get(lp, self).is_some() {
                        emit_error(lp, d, self, e);
                    }
                });
                Ok(false)
            }
        }
    }

    /// `child.ref()`: the running child keeps the loop alive (the
    /// default).
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        match get_ref(lp, self).and_then(|st| st.process) {
            Some(p) => p.ref_handle(lp),
            None => Ok(()),
        }
    }

    /// `child.unref()`: the loop may end while the child runs (its pipes
    /// and channel, while open, still keep it alive, as in Node).
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        match get_ref(lp, self).and_then(|st| st.process) {
            Some(p) => p.unref(lp),
            None => Ok(()),
        }
    }
}
