//! Signal watchers (`uv_signal_t`), over signal-hook's self-pipes and mio.
//!
//! For each signal the loop watches, signal-hook's process-wide handler
//! writes one byte per delivery into a socket pair owned by the loop (as
//! libuv's handler writes one message per delivery). The loop reads the
//! socket in the poll phase and, for every byte, calls each active watcher
//! of that signal in slot order. A one-shot watcher stops itself after its
//! callback (unless the callback started it again).
//!
//! Difference from libuv: libuv restores the default disposition when the
//! last watcher of a signal stops; signal-hook cannot uninstall a handler
//! that other registrations may share, so once watched, a signal stays
//! caught for the life of the process and is ignored while nobody watches.

use crate::callback::CbArg;
use crate::error::{Error, Result};
use crate::event_loop::{Body, Loop};
use crate::handle::{HandleKind, SignalId};
use std::collections::HashMap;
use std::io::Read;

use crate::token::{self, MAX_SIGNUM};

/// The read end of one signal's pipe.
struct SignalPipe {
    read: mio::net::UnixStream,
    id: signal_hook::SigId,
}

/// The loop's signal pipes and watchers.
#[derive(Default)]
pub(crate) struct SignalState {
    pipes: HashMap<i32, SignalPipe>,
    /// Signal watcher slots, in creation order.
    handles: Vec<u32>,
}

impl Drop for SignalState {
    fn drop(&mut self) {
        // Removes this loop's actions; the write ends close with them.
        for pipe in self.pipes.values() {
            signal_hook::low_level::unregister(pipe.id);
        }
    }
}

/// A signal by name, for [`Loop::on_signal`]: no `libc` import needed.
///
/// ```
/// use loop_core::Signal;
/// assert_eq!(Signal::Int.name(), "SIGINT");
/// assert_eq!(Signal::from_signum(Signal::Term.signum()), Signal::Term);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `SIGINT` (Ctrl-C).
    Int,
    /// `SIGTERM` (`kill`, a service manager's stop).
    Term,
    /// `SIGHUP` (terminal closed; by convention, reload).
    Hup,
    /// `SIGQUIT` (Ctrl-\).
    Quit,
    /// `SIGUSR1`.
    Usr1,
    /// `SIGUSR2`.
    Usr2,
    /// `SIGPIPE`.
    Pipe,
    /// `SIGWINCH` (terminal resized).
    Winch,
    /// `SIGCHLD`.
    Chld,
    /// `SIGALRM`.
    Alrm,
    /// Any other signal, by number.
    Other(i32),
}

impl Signal {
    /// The signal's number.
    pub fn signum(self) -> i32 {
        use signal_hook::consts::*;
        match self {
            Signal::Int => SIGINT,
            Signal::Term => SIGTERM,
            Signal::Hup => SIGHUP,
            Signal::Quit => SIGQUIT,
            Signal::Usr1 => SIGUSR1,
            Signal::Usr2 => SIGUSR2,
            Signal::Pipe => SIGPIPE,
            Signal::Winch => SIGWINCH,
            Signal::Chld => SIGCHLD,
            Signal::Alrm => SIGALRM,
            Signal::Other(n) => n,
        }
    }

    /// The signal of a number (a named variant when there is one).
    pub fn from_signum(n: i32) -> Signal {
        const NAMED: [Signal; 10] = [
            Signal::Int,
            Signal::Term,
            Signal::Hup,
            Signal::Quit,
            Signal::Usr1,
            Signal::Usr2,
            Signal::Pipe,
            Signal::Winch,
            Signal::Chld,
            Signal::Alrm,
        ];
        NAMED
            .into_iter()
            .find(|s| s.signum() == n)
            .unwrap_or(Signal::Other(n))
    }

    /// `"SIGINT"`…, or `"SIG?"` for [`Signal::Other`].
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
            Signal::Quit => "SIGQUIT",
            Signal::Usr1 => "SIGUSR1",
            Signal::Usr2 => "SIGUSR2",
            Signal::Pipe => "SIGPIPE",
            Signal::Winch => "SIGWINCH",
            Signal::Chld => "SIGCHLD",
            Signal::Alrm => "SIGALRM",
            Signal::Other(_) => "SIG?",
        }
    }
}

/// Signals that can never be caught or that signal-hook refuses
/// (SIGKILL, SIGSTOP, SIGILL, SIGFPE, SIGSEGV).
fn forbidden(signum: i32) -> bool {
    signal_hook::consts::FORBIDDEN.contains(&signum)
}

impl<D> Loop<D> {
    /// A new, stopped signal watcher (`uv_signal_init`).
    pub fn signal_init(&mut self) -> Result<SignalId> {
        let id = self.insert_handle(
            HandleKind::Signal,
            Body::Signal {
                signum: 0,
                oneshot: false,
                arm: 0,
            },
            false,
        );
        let state = self.signals.get_or_insert_with(SignalState::default);
        // The slot of a closed watcher may come back: list it once.
        if !state.handles.contains(&id.index) {
            state.handles.push(id.index);
        }
        Ok(SignalId(id))
    }

    /// Watches `signum` (`uv_signal_start`): `cb` runs on the loop thread,
    /// in the poll phase, with the signal number, once per delivery.
    pub fn signal_start(
        &mut self,
        h: SignalId,
        signum: i32,
        cb: impl FnMut(&mut Loop<D>, &mut D, i32) + 'static,
    ) -> Result<()> {
        self.signal_arm(
            "signal_start",
            h,
            signum,
            false,
            crate::callback::signal(cb),
        )
    }

    /// Like [`Loop::signal_start`], but the watcher stops itself after the
    /// first delivery (`uv_signal_start_oneshot`).
    pub fn signal_start_oneshot(
        &mut self,
        h: SignalId,
        signum: i32,
        cb: impl FnMut(&mut Loop<D>, &mut D, i32) + 'static,
    ) -> Result<()> {
        self.signal_arm(
            "signal_start_oneshot",
            h,
            signum,
            true,
            crate::callback::signal(cb),
        )
    }

    fn signal_arm(
        &mut self,
        op: &'static str,
        h: SignalId,
        signum: i32,
        once: bool,
        cb: crate::callback::AnyCb<D>,
    ) -> Result<()> {
        self.slot_mut(op, h.0)?;
        if !(1..=MAX_SIGNUM).contains(&signum) || forbidden(signum) {
            return Err(Error::InvalidArgument {
                op,
                why: "not a signal that can be watched",
            });
        }
        self.watch_signal(op, signum)?;
        let slot = &mut self.handles[h.0.index as usize];
        slot.cb = Some(cb);
        let arm = match slot.body {
            Body::Signal { arm, .. } => arm.wrapping_add(1),
            _ => 0,
        };
        slot.body = Body::Signal {
            signum,
            oneshot: once,
            arm,
        };
        self.handles.activate(h.0.index);
        Ok(())
    }

    /// Creates the pipe of `signum` and installs the handler, once per loop.
    fn watch_signal(&mut self, op: &'static str, signum: i32) -> Result<()> {
        let state = self.signals.get_or_insert_with(SignalState::default);
        if state.pipes.contains_key(&signum) {
            return Ok(());
        }
        let io = |source| Error::Io { op, source };
        let (read, write) = std::os::unix::net::UnixStream::pair().map_err(io)?;
        read.set_nonblocking(true).map_err(io)?;
        write.set_nonblocking(true).map_err(io)?;
        let mut read = mio::net::UnixStream::from_std(read);
        self.poll
            .registry()
            .register(&mut read, token::signal(signum), mio::Interest::READABLE)
            .map_err(io)?;
        let id = match signal_hook::low_level::pipe::register(signum, write) {
            Ok(id) => id,
            Err(source) => {
                let _ = self.poll.registry().deregister(&mut read);
                return Err(Error::Io { op, source });
            }
        };
        self.registered += 1;
        if let Some(state) = &mut self.signals {
            state.pipes.insert(signum, SignalPipe { read, id });
        }
        Ok(())
    }

    /// Watches `sig` with a new watcher (Node's `process.on('SIGINT')`):
    /// `signal_init` + `signal_start` by name. The watcher keeps the loop
    /// alive while it watches: stop it ([`Loop::signal_stop`]), close it,
    /// or [`Loop::unref`] it so that it does not.
    ///
    /// ```
    /// use loop_core::{Loop, RunMode, Signal};
    ///
    /// let mut lp: Loop<bool> = Loop::new()?;
    /// let h = lp.on_signal(Signal::Int, |lp, stopping, sig| {
    ///     assert_eq!(sig, Signal::Int);
    ///     *stopping = true; // close listeners here, let work drain
    /// })?;
    /// lp.unref(h)?; // a watcher alone should not keep it running
    /// let mut stopping = false;
    /// lp.run(RunMode::Default, &mut stopping)?;
    /// # Ok::<(), loop_core::Error>(())
    /// ```
    pub fn on_signal(
        &mut self,
        sig: Signal,
        mut cb: impl FnMut(&mut Loop<D>, &mut D, Signal) + 'static,
    ) -> Result<SignalId> {
        let h = self.signal_init()?;
        let r = self.signal_start(h, sig.signum(), move |lp, d, n| {
            cb(lp, d, Signal::from_signum(n))
        });
        if let Err(e) = r {
            let _ = self.close(h, None);
            return Err(e);
        }
        Ok(h)
    }

    /// Stops watching (`uv_signal_stop`).
    pub fn signal_stop(&mut self, h: SignalId) -> Result<()> {
        self.slot_mut("signal_stop", h.0)?;
        self.signal_stop_idx(h.0.index);
        Ok(())
    }

    pub(crate) fn signal_stop_idx(&mut self, idx: u32) {
        self.handles.deactivate(idx);
    }

    /// The signal a watcher watches (0 if never started).
    pub fn signal_signum(&self, h: SignalId) -> Result<i32> {
        match self.slot_any("signal_signum", h.0)?.body {
            Body::Signal { signum, .. } => Ok(signum),
            _ => unreachable!("a SignalId names a signal watcher"),
        }
    }

    /// Reads `signum`'s pipe; each byte is one delivery.
    pub(crate) fn dispatch_signal(&mut self, signum: i32, data: &mut D) {
        let Some(state) = &mut self.signals else {
            return;
        };
        let Some(pipe) = state.pipes.get_mut(&signum) else {
            return;
        };
        let mut deliveries = 0usize;
        let mut buf = [0u8; 64];
        loop {
            match pipe.read.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => deliveries += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break, // WouldBlock: drained (edge-triggered)
            }
        }
        let handles = &self.handles;
        state.handles.retain(|&i| {
            handles
                .get(i as usize)
                .is_some_and(|s| s.kind == HandleKind::Signal)
        });
        let list = state.handles.clone();
        tracing::debug!(signum, deliveries, "signal delivered");
        for _ in 0..deliveries {
            for &idx in &list {
                let Some(slot) = self.handles.get(idx as usize) else {
                    continue;
                };
                let (watching, once, arm, gen) = match slot.body {
                    Body::Signal {
                        signum: s,
                        oneshot,
                        arm,
                    } => (s == signum, oneshot, arm, slot.gen),
                    _ => (false, false, 0, 0),
                };
                if !watching || !slot.is_active() {
                    continue;
                }
                self.invoke(idx, CbArg::Signal(signum), data);
                // A one-shot watcher stops after its callback, as libuv's
                // does (unless the callback started it again).
                if once {
                    let same = self.handles.get(idx as usize).is_some_and(|s| {
                        s.gen == gen && matches!(s.body, Body::Signal { arm: a, .. } if a == arm)
                    });
                    if same {
                        self.handles.deactivate(idx);
                    }
                }
                if self.aborting() {
                    return;
                }
            }
        }
    }
}
