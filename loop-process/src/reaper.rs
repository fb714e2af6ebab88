//! Reaping: learning, on the loop thread, that a child exited, collecting
//! its status (so it never stays a zombie) and running its exit callback.
//!
//! # Ground rules
//!
//! - One table per loop (a loop-core extension), keyed by pid: a pid is
//!   unique among this process's children until it is reaped, and its entry
//!   goes at that moment, so a recycled pid never finds a stale entry.
//! - Only tracked pids are waited for, one by one (`waitpid(pid, WNOHANG)`),
//!   never `waitpid(-1)`: children spawned by other code (another loop, a
//!   library, std's `Command`) are left to their owners.
//! - The default is a pidfd per child (Linux ≥ 5.3), registered in the
//!   loop's poller under the child's own I/O handle: it is readable once
//!   the child exits, and its callback runs in the poll phase. Where
//!   pidfds are not available (an older kernel, a seccomp filter), a
//!   SIGCHLD watcher (loop-core's signal handle, internal and unreferenced)
//!   checks every child that has no pidfd, also in the poll phase.
//! - A child keeps the loop alive through its handle (active while it runs,
//!   referenced unless [`crate::Process::unref`]); the watcher never does.
//! - A child whose handle is closed before it exits stays in the table as an
//!   orphan: still reaped when it exits (its pidfd moves to an internal,
//!   inactive I/O handle), with no callback, and without keeping the loop
//!   alive.
//! - When the loop is dropped, each child still tracked is reaped at once
//!   if it has exited, or else by a thread that waits for it: no child of a
//!   loop is ever left a zombie.

use crate::process::Process;
use crate::sys;
use crate::Error;
use loop_core::mio::unix::SourceFd;
use loop_core::mio::Interest;
use loop_core::{ExtKey, IoId, Loop, SignalId};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};

/// An exit callback: the loop, the embedder's state, the process, its exit
/// code and its terminating signal.
pub(crate) type ExitCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Process, i64, i32)>;

/// How a loop learns that its children exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaping {
    /// A pidfd per child in the loop's poller (Linux ≥ 5.3).
    Pidfd,
    /// A SIGCHLD watcher that checks each child with `waitpid(pid,
    /// WNOHANG)`: the fallback where pidfds are unavailable.
    Sigchld,
}

/// What the table knows of one child.
pub(crate) struct Entry<D> {
    /// The handle the embedder holds (closed, for an orphan).
    pub(crate) io: IoId,
    /// Its pidfd, registered in the poller; `None` under SIGCHLD reaping.
    pub(crate) pidfd: Option<OwnedFd>,
    pub(crate) on_exit: Option<ExitCb<D>>,
    /// Its handle was closed before it exited; the internal handle its
    /// pidfd is registered under, if it has one.
    pub(crate) orphan: Option<Option<IoId>>,
}

/// The children of one loop.
pub(crate) struct Table<D> {
    pub(crate) entries: HashMap<u32, Entry<D>>,
    /// Decided at the first spawn (or by [`crate::set_reaping`]).
    pub(crate) mode: Option<Reaping>,
    pub(crate) sigchld: Option<SignalId>,
}

impl<D> Drop for Table<D> {
    fn drop(&mut self) {
        for (&pid, _) in self.entries.iter() {
            match sys::try_wait(pid) {
                Ok(Some(_)) | Err(_) => continue,
                Ok(None) => {}
            }
            // Still running: wait for it off the (now gone) loop thread.
            let spawned = std::thread::Builder::new()
                .name(format!("loop-process reaper {pid}"))
                .spawn(move || {
                    let _ = sys::wait_blocking(pid);
                });
            if let Err(e) = spawned {
                tracing::error!(pid, error = %e, "cannot start a reaper thread: the child will stay a zombie when it exits");
            }
        }
    }
}

/// The loop's table, attached on first use, and its key.
pub(crate) fn table_key<D: 'static>(lp: &mut Loop<D>) -> ExtKey<Table<D>> {
    lp.extension_or_insert_with(|_| Table::<D> {
        entries: HashMap::new(),
        mode: None,
        sigchld: None,
    });
    lp.extension_key::<Table<D>>()
        .expect("the table was attached just above")
}

/// Whether this system gives pidfds: one for our own process tells.
fn pidfd_works() -> bool {
    match sys::pidfd_open(std::process::id()) {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(error = %e, "pidfd_open unavailable: reaping on SIGCHLD");
            false
        }
    }
}

/// The loop's reaping, decided now if it was not yet.
pub(crate) fn mode<D: 'static>(lp: &mut Loop<D>, key: ExtKey<Table<D>>) -> Reaping {
    let Some(table) = lp.ext_mut(key) else {
        return Reaping::Sigchld;
    };
    *table.mode.get_or_insert_with(|| {
        if pidfd_works() {
            Reaping::Pidfd
        } else {
            Reaping::Sigchld
        }
    })
}

/// Chooses the loop's reaping; refused while it tracks a child.
pub(crate) fn set_mode<D: 'static>(lp: &mut Loop<D>, want: Reaping) -> Result<(), Error> {
    let key = table_key(lp);
    let Some(table) = lp.ext_mut(key) else {
        return Err(Error::from_errno("set_reaping", None, None, libc::EINVAL));
    };
    if !table.entries.is_empty() {
        return Err(Error::from_errno("set_reaping", None, None, libc::EBUSY));
    }
    if want == Reaping::Pidfd && !pidfd_works() {
        return Err(Error::from_errno("set_reaping", None, None, libc::ENOSYS));
    }
    table.mode = Some(want);
    Ok(())
}

/// Starts the SIGCHLD watcher, once per loop. Under SIGCHLD reaping it
/// must run before the fork: a child that exits before the handler is
/// installed would never be reported.
pub(crate) fn ensure_sigchld<D: 'static>(
    lp: &mut Loop<D>,
    key: ExtKey<Table<D>>,
) -> Result<(), loop_core::Error> {
    if lp.ext(key).is_some_and(|t| t.sigchld.is_some()) {
        return Ok(());
    }
    let h = lp.signal_init()?;
    lp.set_internal(h, true)?;
    lp.unref(h)?;
    if let Err(e) = lp.signal_start(h, libc::SIGCHLD, move |lp, data, _| {
        on_sigchld(lp, data, key)
    }) {
        let _ = lp.close(h, None);
        return Err(e);
    }
    if let Some(t) = lp.ext_mut(key) {
        t.sigchld = Some(h);
    }
    Ok(())
}

/// A SIGCHLD arrived: check each child that has no pidfd.
fn on_sigchld<D: 'static>(lp: &mut Loop<D>, data: &mut D, key: ExtKey<Table<D>>) {
    let Some(table) = lp.ext(key) else { return };
    let mut pids: Vec<u32> = table
        .entries
        .iter()
        .filter(|(_, e)| e.pidfd.is_none())
        .map(|(&pid, _)| pid)
        .collect();
    // Spawn order, as far as pids tell: deterministic, unlike a HashMap's.
    pids.sort_unstable();
    for pid in pids {
        check_exit(lp, data, key, pid);
        if lp.is_unwinding() {
            return;
        }
    }
}

/// Makes `pid` (just spawned, its handle `io`) tracked. Under pidfd reaping
/// its pidfd is registered under `io`; if that fails, the child falls back
/// to the SIGCHLD watcher, and a SIGCHLD is raised so that a child already
/// gone is seen. Fails only when neither way can watch it.
pub(crate) fn track<D: 'static>(
    lp: &mut Loop<D>,
    key: ExtKey<Table<D>>,
    pid: u32,
    io: IoId,
    on_exit: ExitCb<D>,
) -> Result<(), Error> {
    let mut pidfd = None;
    if mode(lp, key) == Reaping::Pidfd {
        match sys::pidfd_open(pid) {
            Ok(fd) => {
                let raw = fd.as_raw_fd();
                // After the rest of its poll batch, as libuv runs the
                // SIGCHLD watcher: the child's last output, ready in the
                // same poll, comes before its exit.
                let reg = lp
                    .io_set_batch_last(io, true)
                    .and_then(|()| lp.io_register(io, &mut SourceFd(&raw), Interest::READABLE));
                match reg {
                    Ok(()) => pidfd = Some(fd),
                    Err(e) => {
                        tracing::warn!(pid, error = %e, "pidfd not registered: reaping on SIGCHLD")
                    }
                }
            }
            Err(e) => tracing::warn!(pid, error = %e, "pidfd_open failed: reaping on SIGCHLD"),
        }
        if pidfd.is_none() {
            ensure_sigchld(lp, key)?;
            // The child may be gone already, its SIGCHLD unseen.
            sys::kill(std::process::id(), libc::SIGCHLD)
                .map_err(|e| Error::sys("kill", None, Some(std::process::id()), e))?;
        }
    }
    if let Some(t) = lp.ext_mut(key) {
        t.entries.insert(
            pid,
            Entry {
                io,
                pidfd,
                on_exit: Some(on_exit),
                orphan: None,
            },
        );
    }
    Ok(())
}

/// The child's pidfd is readable (or a SIGCHLD arrived): if it exited, reap
/// it, stop its handle and run its exit callback (through
/// [`Loop::make_callback`]); an orphan is reaped quietly.
pub(crate) fn check_exit<D: 'static>(
    lp: &mut Loop<D>,
    data: &mut D,
    key: ExtKey<Table<D>>,
    pid: u32,
) {
    if !lp.ext(key).is_some_and(|t| t.entries.contains_key(&pid)) {
        return;
    }
    let (exit_status, term_signal) = match sys::try_wait(pid) {
        Ok(Some(status)) => status,
        Ok(None) => return,
        Err(e) => {
            // ECHILD: reaped behind our back (SIGCHLD set to SIG_IGN, or a
            // waitpid(-1) elsewhere); its status is lost.
            tracing::warn!(pid, error = %e, "child already reaped elsewhere: reported as exit 0");
            (0, 0)
        }
    };
    let Some(entry) = lp.ext_mut(key).and_then(|t| t.entries.remove(&pid)) else {
        return;
    };
    if let Some(fd) = &entry.pidfd {
        let _ = lp.registry().deregister(&mut SourceFd(&fd.as_raw_fd()));
    }
    drop(entry.pidfd);
    tracing::debug!(pid, exit_status, term_signal, "child reaped");
    if let Some(orphan_io) = entry.orphan {
        if let Some(h) = orphan_io {
            let _ = lp.close(h, None);
        }
        return;
    }
    let _ = lp.io_stop(entry.io);
    if let Some(cb) = entry.on_exit {
        let process = Process::new(entry.io, pid);
        lp.make_callback(data, "process exit", move |lp, data| {
            cb(lp, data, process, exit_status, term_signal)
        });
    }
}

/// The handle of `pid` is being closed before the child exited: keep
/// reaping it, without a callback and without keeping the loop alive.
pub(crate) fn orphan<D: 'static>(lp: &mut Loop<D>, key: ExtKey<Table<D>>, pid: u32, io: IoId) {
    let raw = match lp.ext(key).and_then(|t| t.entries.get(&pid)) {
        Some(e) if e.io == io && e.orphan.is_none() => e.pidfd.as_ref().map(|fd| fd.as_raw_fd()),
        _ => return,
    };
    let mut orphan_io = None;
    if let Some(raw) = raw {
        // An internal handle, never started: it watches, it does not hold.
        let h = lp.io_init(move |lp, data, _| check_exit(lp, data, key, pid));
        let moved = lp.set_internal(h, true).is_ok()
            && lp.io_token(h).is_ok_and(|token| {
                lp.registry()
                    .reregister(&mut SourceFd(&raw), token, Interest::READABLE)
                    .is_ok()
            });
        if moved {
            orphan_io = Some(h);
        } else {
            let _ = lp.close(h, None);
            let _ = lp.registry().deregister(&mut SourceFd(&raw));
            if let Some(e) = lp.ext_mut(key).and_then(|t| t.entries.get_mut(&pid)) {
                e.pidfd = None;
            }
            if ensure_sigchld(lp, key).is_ok() {
                let _ = sys::kill(std::process::id(), libc::SIGCHLD);
            }
        }
    }
    if let Some(e) = lp.ext_mut(key).and_then(|t| t.entries.get_mut(&pid)) {
        e.orphan = Some(orphan_io);
        e.on_exit = None;
    }
}
