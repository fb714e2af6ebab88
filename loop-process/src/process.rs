//! `spawn` and the process handle (`uv_spawn`, `uv_process_t`).
//!
//! # Ground rules
//!
//! - `spawn` returns only once the child has either `exec`ed its program or
//!   failed to: a failure (`ENOENT`, `EACCES`, a bad `cwd`, `setuid`…) is
//!   `spawn`'s own error, synchronously, and that child is already reaped.
//! - The child gets exactly fds `0..max(3, n)` as the options say, and
//!   nothing else of ours: every fd this crate opens is close-on-exec, and
//!   the child marks every fd from `max(3, n)` up close-on-exec before
//!   `exec`.
//! - Sources are first copied to fds numbered `max(3, n)` or above in the
//!   parent, then moved to their targets in the child: no move overwrites
//!   a source still to be moved, so swapping 1 and 2 works.
//! - The exit callback runs once, in the poll phase, through
//!   [`Loop::make_callback`]; the handle stays valid (inactive) until
//!   [`Process::close`], as in libuv.

use crate::options::{SpawnOptions, Stdio};
use crate::reaper::{self, ExitCb};
use crate::sys::{self, ChildPlan};
use crate::Error;
use loop_core::{HandleId, IoId, Job, Loop};
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// A child process of a loop: a small `Copy` id (its loop-core handle and
/// its pid), like every loop-core handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Process {
    io: IoId,
    pid: u32,
}

/// What [`spawn`] hands back: the process and the parent's ends of the
/// pipes it created.
#[derive(Debug)]
pub struct Spawned {
    /// The child.
    pub process: Process,
    /// Indexed by the child's fd: the parent's end of each [`Stdio::Pipe`]
    /// (a Unix-domain socket, non-blocking, close-on-exec), `None` for the
    /// other entries. [`Spawned::take_stream`] opens one as a loop-net
    /// stream, [`Spawned::take_pipe`] hands it over as it is.
    pub stdio: Vec<Option<OwnedFd>>,
}

impl Spawned {
    /// Takes the parent's end of the pipe at the child's fd `fd`.
    pub fn take_pipe(&mut self, fd: usize) -> Option<OwnedFd> {
        self.stdio.get_mut(fd)?.take()
    }

    /// Takes the parent's end of the pipe at the child's fd `fd` as a
    /// loop-net stream of `lp` (libuv's `uv_pipe_t` of a
    /// `UV_CREATE_PIPE` entry): readable and writable whatever the
    /// child's end is for, since it is a socket; `None` if `fd` is not a
    /// pipe or was taken already.
    pub fn take_stream<D: 'static>(
        &mut self,
        lp: &mut Loop<D>,
        fd: usize,
    ) -> Option<Result<loop_net::Stream, Error>> {
        let end = self.take_pipe(fd)?;
        Some(loop_net::Stream::open_fd(lp, end).map_err(Error::from))
    }

    /// Takes the parent's end of the pipe at the child's fd `fd` as an
    /// [`crate::Ipc`] stream (fds can cross it).
    pub fn take_ipc<D: 'static>(
        &mut self,
        lp: &mut Loop<D>,
        fd: usize,
    ) -> Option<Result<crate::Ipc, Error>> {
        let end = self.take_pipe(fd)?;
        Some(crate::Ipc::open(lp, end))
    }

    /// Takes the parent's end of the pipe at the child's fd `fd` as a
    /// Node.js channel (see [`crate::SpawnOptions::node_ipc`]).
    pub fn take_channel<D: 'static>(
        &mut self,
        lp: &mut Loop<D>,
        fd: usize,
    ) -> Option<Result<crate::Channel, Error>> {
        let ipc = match self.take_ipc(lp, fd)? {
            Ok(ipc) => ipc,
            Err(e) => return Some(Err(e)),
        };
        Some(crate::Channel::open(lp, ipc))
    }
}

/// Starts a child process (`uv_spawn`). `on_exit` runs in the poll phase
/// once the child has exited and been reaped, with its exit code and its
/// terminating signal (one of the two is 0); close the process there or
/// later.
///
/// The child's fds, `argv`, environment, directory, ids and session are as
/// `options` says; its signal dispositions are the defaults and its signal
/// mask is empty.
pub fn spawn<D: 'static>(
    lp: &mut Loop<D>,
    options: SpawnOptions<'_>,
    on_exit: impl FnOnce(&mut Loop<D>, &mut D, Process, i64, i32) + 'static,
) -> Result<Spawned, Error> {
    let file = options.file.to_string_lossy().into_owned();
    let err = |e: io::Error| Error::sys("spawn", Some(&file), None, e);
    if options.file.is_empty() {
        return Err(Error::from_errno("spawn", Some(&file), None, libc::EINVAL));
    }
    let key = reaper::table_key(lp);
    if reaper::mode(lp, key) == reaper::Reaping::Sigchld {
        // Before the fork: the child may exit at once.
        reaper::ensure_sigchld(lp, key)?;
    }

    let count = options.stdio.len().max(3);
    let above =
        RawFd::try_from(count).map_err(|_| err(io::Error::from_raw_os_error(libc::EMFILE)))?;
    let mut parent_ends: Vec<Option<OwnedFd>> = (0..count).map(|_| None).collect();
    let mut sources: Vec<Option<OwnedFd>> = Vec::with_capacity(count);
    for (i, parent_end) in parent_ends.iter_mut().enumerate() {
        let what = options.stdio.get(i).unwrap_or(&Stdio::Ignore);
        let source = match what {
            Stdio::Ignore if i < 3 => {
                let null = OpenOptions::new()
                    .read(true)
                    .write(i != 0)
                    .open("/dev/null")
                    .map_err(err)?;
                Some(sys::dup_above(null.as_raw_fd(), above).map_err(err)?)
            }
            Stdio::Ignore => None,
            Stdio::Pipe => {
                let (parent, child) = UnixStream::pair().map_err(err)?;
                parent.set_nonblocking(true).map_err(err)?;
                *parent_end = Some(OwnedFd::from(parent));
                Some(sys::dup_above(child.as_raw_fd(), above).map_err(err)?)
            }
            Stdio::Inherit => Some(sys::dup_above(i as RawFd, above).map_err(err)?),
            Stdio::Fd(fd) => Some(sys::dup_above(fd.as_raw_fd(), above).map_err(err)?),
        };
        sources.push(source);
    }

    let mut cmd = Command::new(&options.file);
    cmd.arg0(options.argv0.as_ref().unwrap_or(&options.file));
    cmd.args(&options.args);
    if let Some(env) = &options.env {
        cmd.env_clear();
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
    }
    if let Some(dir) = &options.cwd {
        cmd.current_dir(dir);
    }
    if let Some(uid) = options.uid {
        cmd.uid(uid);
    }
    if let Some(gid) = options.gid {
        cmd.gid(gid);
    }
    let mut plan = ChildPlan {
        count: above,
        detached: options.detached,
        ..ChildPlan::default()
    };
    // Sources of fds 3 and up stay open here until the fork is done.
    let mut high = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        match (i, source) {
            (0, Some(fd)) => {
                cmd.stdin(fd);
            }
            (1, Some(fd)) => {
                cmd.stdout(fd);
            }
            (2, Some(fd)) => {
                cmd.stderr(fd);
            }
            (i, Some(fd)) => {
                plan.moves.push((fd.as_raw_fd(), i as RawFd));
                high.push(fd);
            }
            (i, None) => plan.ignored.push(i as RawFd),
        }
    }
    sys::install_child_setup(&mut cmd, plan);
    let spawned = cmd.spawn();
    // Our copies of the child's ends close now, whatever happened.
    drop(cmd);
    drop(high);
    let child = spawned.map_err(err)?;
    let pid = child.id();
    drop(child);
    tracing::debug!(pid, file = %file, "spawned");

    let io = lp.io_init(move |lp, data, _| reaper::check_exit(lp, data, key, pid));
    let on_exit: ExitCb<D> = Box::new(on_exit);
    let watched = reaper::track(lp, key, pid, io, on_exit).and_then(|()| {
        lp.io_start(io)?;
        Ok(())
    });
    if let Err(e) = watched {
        // A child nobody can reap must not outlive this call.
        let _ = sys::kill(pid, libc::SIGKILL);
        let _ = sys::wait_blocking(pid);
        if let Some(t) = lp.ext_mut(key) {
            t.entries.remove(&pid);
        }
        let _ = lp.close(io, None);
        return Err(match e {
            Error::Sys {
                op, errno, source, ..
            } => Error::Sys {
                op,
                file: Some(file),
                pid: Some(pid),
                errno,
                source,
            },
            other => other,
        });
    }
    Ok(Spawned {
        process: Process { io, pid },
        stdio: parent_ends,
    })
}

/// Sends `sig` to process `pid` (`uv_kill`); 0 only checks that it exists.
/// `pid` 0 and values above `i32::MAX` (process groups) are `EINVAL`.
pub fn kill(pid: u32, sig: i32) -> Result<(), Error> {
    if pid == 0 || pid > i32::MAX as u32 {
        return Err(Error::from_errno("kill", None, Some(pid), libc::EINVAL));
    }
    sys::kill(pid, sig).map_err(|e| Error::sys("kill", None, Some(pid), e))
}

impl Process {
    pub(crate) fn new(io: IoId, pid: u32) -> Process {
        Process { io, pid }
    }

    /// The child's pid. It names this child until the exit callback runs;
    /// after that the system may give it to another process.
    pub fn pid(self) -> u32 {
        self.pid
    }

    /// The loop-core handle behind the process (for `handles()`, traces).
    pub fn handle(self) -> HandleId {
        self.io.into()
    }

    /// Sends `sig` to the child (`uv_process_kill`); 0 only checks that it
    /// runs. Once it was reaped (its exit callback ran) or its handle was
    /// closed, this is `ESRCH` and no signal is sent: its pid may already
    /// be another process's. Under pidfd reaping the signal goes through
    /// the pidfd, which cannot name another process.
    pub fn kill<D: 'static>(self, lp: &Loop<D>, sig: i32) -> Result<(), Error> {
        let entry = lp
            .extension::<reaper::Table<D>>()
            .and_then(|t| t.entries.get(&self.pid))
            .filter(|e| e.io == self.io && e.orphan.is_none());
        let esrch = || Error::from_errno("kill", None, Some(self.pid), libc::ESRCH);
        let Some(entry) = entry else {
            return Err(esrch());
        };
        let sent = match &entry.pidfd {
            Some(fd) => sys::pidfd_send_signal(std::os::fd::AsFd::as_fd(fd), sig),
            None => sys::kill(self.pid, sig),
        };
        sent.map_err(|e| Error::sys("kill", None, Some(self.pid), e))
    }

    /// Whether the child is still running (its exit callback has not run).
    pub fn is_active<D>(self, lp: &Loop<D>) -> Result<bool, Error> {
        Ok(lp.is_active(self.io)?)
    }

    /// References the process (`uv_ref`): while it runs, it keeps the loop
    /// alive. A new process is referenced.
    pub fn ref_handle<D>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        Ok(lp.ref_handle(self.io)?)
    }

    /// Unreferences the process (`uv_unref`): `run` may return while it
    /// still runs; it is still reaped, and its exit callback still runs if
    /// the loop runs when it exits.
    pub fn unref<D>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        Ok(lp.unref(self.io)?)
    }

    /// Whether the process is referenced (`uv_has_ref`).
    pub fn has_ref<D>(self, lp: &Loop<D>) -> Result<bool, Error> {
        Ok(lp.has_ref(self.io)?)
    }

    /// Closes the handle (`uv_close`); `on_close` runs in the close phase.
    /// A child still running is not signalled: it keeps running, is reaped
    /// when it exits (even after the loop is dropped), and its exit
    /// callback is dropped unrun.
    pub fn close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        on_close: Option<Job<D>>,
    ) -> Result<(), Error> {
        // The loop refuses a second close; a closed handle gets no event,
        // so the pidfd moves to an orphan handle right after.
        lp.close(self.io, on_close)?;
        if let Some(key) = lp.extension_key::<reaper::Table<D>>() {
            reaper::orphan(lp, key, self.pid, self.io);
        }
        Ok(())
    }

    /// [`Process::close`] with a close callback.
    pub fn close_with<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<(), Error> {
        self.close(lp, Some(Box::new(f)))
    }
}
