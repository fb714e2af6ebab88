//! I/O watchers: the base that TCP and pipe handles stand on.
//!
//! An I/O handle owns a token; its owner registers a mio source under that
//! token with [`Loop::registry`], and the handle's callback runs in the poll
//! phase with the readiness. The token carries the handle's generation, so
//! an event for a handle closed earlier in the same poll batch (its slot
//! already reused) is dropped instead of reaching the newer handle (libuv's
//! `tcp_close_accept` pitfall).
//!
//! mio is edge-triggered: a callback should read or write until
//! `WouldBlock`, or remember that more is pending.

use crate::error::{Error, Result};
use crate::event_loop::{Body, Loop};
use crate::handle::{HandleKind, IoId};

/// The readiness an I/O callback is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// Readable (or a listener with a connection to accept).
    pub readable: bool,
    /// Writable.
    pub writable: bool,
    /// An error is pending on the source.
    pub error: bool,
    /// The peer closed its writing side (EPOLLRDHUP / EOF ahead).
    pub read_closed: bool,
    /// The writing side is closed (EPOLLHUP).
    pub write_closed: bool,
}

impl Ready {
    pub(crate) fn from_event(ev: &mio::event::Event) -> Ready {
        Ready {
            readable: ev.is_readable(),
            writable: ev.is_writable(),
            error: ev.is_error(),
            read_closed: ev.is_read_closed(),
            write_closed: ev.is_write_closed(),
        }
    }
}

impl<D> Loop<D> {
    /// A new I/O handle, inactive, whose `cb` runs on readiness of the
    /// source registered under [`Loop::io_token`].
    pub fn io_init(&mut self, cb: impl FnMut(&mut Loop<D>, &mut D, Ready) + 'static) -> IoId {
        let id = self.insert_handle(HandleKind::Io, Body::Io, false);
        self.handles[id.index as usize].cb = Some(crate::callback::io(cb));
        IoId(id)
    }

    /// The token to register the handle's source with.
    pub fn io_token(&self, h: IoId) -> Result<mio::Token> {
        let s = self.slot_any("io_token", h.0)?;
        Ok(crate::token::io(h.0, s.is_batch_last()))
    }

    /// Makes the handle's events run after every other event of their poll
    /// batch, as libuv runs its signal watcher (and so the SIGCHLD that
    /// reaps a child) after the batch's other watchers: a child's exit
    /// seen through a pidfd then comes after the last output read in the
    /// same poll, as Node.js reports it. Signal watchers run last already.
    ///
    /// The option is part of the handle's token ([`Loop::io_token`]): set
    /// it before registering the source (or reregister it after).
    pub fn io_set_batch_last(&mut self, h: IoId, on: bool) -> Result<()> {
        self.slot_mut("io_set_batch_last", h.0)?.set_batch_last(on);
        Ok(())
    }

    /// The poller's registry, to register, reregister and deregister sources.
    pub fn registry(&self) -> &mio::Registry {
        self.poll.registry()
    }

    /// Marks the handle active: it keeps the loop alive (if referenced)
    /// while it waits for I/O.
    pub fn io_start(&mut self, h: IoId) -> Result<()> {
        self.slot_mut("io_start", h.0)?;
        self.handles.activate(h.0.index);
        Ok(())
    }

    /// Marks the handle inactive. Events still reach its callback while its
    /// source stays registered.
    pub fn io_stop(&mut self, h: IoId) -> Result<()> {
        self.slot_mut("io_stop", h.0)?;
        self.handles.deactivate(h.0.index);
        Ok(())
    }

    /// Registers `source` under the handle's token, with context in errors.
    pub fn io_register(
        &mut self,
        h: IoId,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> Result<()> {
        let token = self.io_token(h)?;
        self.poll
            .registry()
            .register(source, token, interest)
            .map_err(|source| Error::Io {
                op: "io register (epoll_ctl ADD)",
                source,
            })
    }
}
