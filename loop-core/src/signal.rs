//! Signal watchers (`uv_signal_t`), over signal-hook's self-pipe and mio.
//!
//! The process-wide handler (installed by signal-hook the first time a
//! signal is watched) writes to a pipe; the loop reads it in the poll phase
//! and calls every active watcher of that signal, in slot order. A one-shot
//! watcher stops itself before its callback.
//!
//! Difference from libuv: libuv restores the default disposition when the
//! last watcher of a signal stops; signal-hook cannot uninstall a handler
//! while other registrations may share it, so once watched, a signal stays
//! caught for the life of the process and is ignored while nobody watches.

use crate::error::{Error, Result};
use crate::event_loop::{AnyCb, Body, CbArg, Loop, ACTIVE, SIGNAL_TOKEN};
use crate::handle::{HandleKind, SignalId};
use signal_hook_mio::v1_0::Signals;
use std::collections::HashSet;

/// The loop's signal pipe and what it listens for.
pub(crate) struct SignalState {
    signals: Signals,
    watched: HashSet<i32>,
    /// Signal watcher slots, in creation order.
    handles: Vec<u32>,
}

/// Signals that can never be caught or that signal-hook refuses
/// (SIGKILL, SIGSTOP, SIGILL, SIGFPE, SIGSEGV).
fn forbidden(signum: i32) -> bool {
    signal_hook::consts::FORBIDDEN.contains(&signum)
}

impl<D> Loop<D> {
    /// A new, stopped signal watcher (`uv_signal_init`).
    pub fn signal_init(&mut self) -> Result<SignalId> {
        if self.signals.is_none() {
            let mut signals =
                Signals::new(std::iter::empty::<i32>()).map_err(|source| Error::Io {
                    op: "signal init (self-pipe)",
                    source,
                })?;
            self.poll
                .registry()
                .register(&mut signals, SIGNAL_TOKEN, mio::Interest::READABLE)
                .map_err(|source| Error::Io {
                    op: "signal init (register)",
                    source,
                })?;
            self.registered += 1;
            self.signals = Some(SignalState {
                signals,
                watched: HashSet::new(),
                handles: Vec::new(),
            });
        }
        let id = self.insert_handle(
            HandleKind::Signal,
            Body::Signal {
                signum: 0,
                oneshot: false,
            },
            0,
        );
        if let Some(s) = &mut self.signals {
            // The slot of a closed watcher may come back: list it once.
            if !s.handles.contains(&id.index) {
                s.handles.push(id.index);
            }
        }
        Ok(SignalId(id))
    }

    /// Watches `signum` (`uv_signal_start`): `cb` runs on the loop thread,
    /// in the poll phase, with the signal number, after each delivery
    /// (deliveries between two polls coalesce, as in libuv).
    pub fn signal_start(
        &mut self,
        h: SignalId,
        signum: i32,
        cb: impl FnMut(&mut Loop<D>, &mut D, i32) + 'static,
    ) -> Result<()> {
        self.signal_arm("signal_start", h, signum, false, Box::new(cb))
    }

    /// Like [`Loop::signal_start`], but the watcher stops itself after the
    /// first delivery (`uv_signal_start_oneshot`).
    pub fn signal_start_oneshot(
        &mut self,
        h: SignalId,
        signum: i32,
        cb: impl FnMut(&mut Loop<D>, &mut D, i32) + 'static,
    ) -> Result<()> {
        self.signal_arm("signal_start_oneshot", h, signum, true, Box::new(cb))
    }

    fn signal_arm(
        &mut self,
        op: &'static str,
        h: SignalId,
        signum: i32,
        once: bool,
        cb: crate::event_loop::SignalCb<D>,
    ) -> Result<()> {
        self.slot_mut(op, h.0)?;
        if signum <= 0 || signum >= 65 || forbidden(signum) {
            return Err(Error::InvalidArgument {
                op,
                why: "not a signal that can be watched",
            });
        }
        let state = self.signals.as_mut().expect("created with the handle");
        if state.watched.insert(signum) {
            if let Err(source) = state.signals.add_signal(signum) {
                state.watched.remove(&signum);
                return Err(Error::Io { op, source });
            }
        }
        let slot = &mut self.handles[h.0.index as usize];
        slot.cb = Some(AnyCb::Signal(cb));
        slot.body = Body::Signal {
            signum,
            oneshot: once,
        };
        self.activate(h.0.index);
        Ok(())
    }

    /// Stops watching (`uv_signal_stop`).
    pub fn signal_stop(&mut self, h: SignalId) -> Result<()> {
        self.slot_mut("signal_stop", h.0)?;
        self.signal_stop_idx(h.0.index);
        Ok(())
    }

    pub(crate) fn signal_stop_idx(&mut self, idx: u32) {
        self.deactivate(idx);
    }

    /// The signal a watcher watches (0 if never started).
    pub fn signal_signum(&self, h: SignalId) -> Result<i32> {
        match self.slot_any("signal_signum", h.0)?.body {
            Body::Signal { signum, .. } => Ok(signum),
            _ => unreachable!("a SignalId names a signal watcher"),
        }
    }

    pub(crate) fn dispatch_signals(&mut self, data: &mut D) {
        let Some(state) = &mut self.signals else {
            return;
        };
        let delivered: Vec<i32> = state.signals.pending().collect();
        // Closed watchers leave the list here rather than at close.
        let handles = &self.handles;
        state.handles.retain(|&i| {
            handles.contains(i as usize) && handles[i as usize].kind == HandleKind::Signal
        });
        let list = state.handles.clone();
        for signum in delivered {
            tracing::debug!(signum, "signal delivered");
            for &idx in &list {
                let Some(slot) = self.handles.get(idx as usize) else {
                    continue;
                };
                let (watching, once) = match slot.body {
                    Body::Signal { signum: s, oneshot } => (s == signum, oneshot),
                    _ => (false, false),
                };
                if !watching || slot.flags & ACTIVE == 0 {
                    continue;
                }
                if once {
                    self.deactivate(idx);
                }
                self.invoke(idx, CbArg::Signal(signum), data);
                if self.panic.is_some() {
                    return;
                }
            }
        }
    }
}
