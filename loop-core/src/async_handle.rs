//! Async handles (`uv_async_t`): wake the loop from any thread.
//!
//! One mio `Waker` (an eventfd) per loop serves every async handle, created
//! with the first one. A send sets the handle's pending flag; only the send
//! that flips it from clear to set queues the handle and wakes the loop, so
//! sends that arrive before the loop services the handle coalesce into one
//! callback. The loop clears the flag *before* calling back, so a send made
//! from inside the callback (or racing with it) is never lost.

use crate::callback::{self, CbArg};
use crate::error::{Error, Result};
use crate::event_loop::{Body, Loop};
use crate::handle::{AsyncId, HandleId, HandleKind};
use crate::wakeup::{Closed, Flag, WakeQueue};
use std::sync::Arc;

/// What a loop shares with the senders of all its async handles: the
/// eventfd and the queue of handles whose flag flipped (`wakeup.rs`).
pub(crate) struct AsyncShared {
    waker: mio::Waker,
    wake: WakeQueue<HandleId>,
}

impl AsyncShared {
    /// Whether a send may be waiting for the loop: lets a non-blocking poll
    /// that has only the waker to watch skip `epoll_wait`.
    pub(crate) fn has_queued(&self) -> bool {
        self.wake.has_queued()
    }
}

/// The per-handle flags a sender holds.
pub(crate) type AsyncFlag = Flag;

/// The sending side of an async handle: `Send + Clone`, usable from any
/// thread (`uv_async_send`).
#[derive(Clone)]
pub struct AsyncSender {
    shared: Arc<AsyncShared>,
    flag: Arc<AsyncFlag>,
    id: HandleId,
}

impl std::fmt::Debug for AsyncSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSender").field("id", &self.id).finish()
    }
}

impl AsyncSender {
    /// Wakes the loop and makes it call the handle's callback once, however
    /// many sends arrive before it does. Fails with
    /// [`Error::Disconnected`] once the handle is closed or its loop dropped.
    pub fn send(&self) -> Result<()> {
        match self.shared.wake.send(&self.flag, self.id) {
            Err(Closed) => Err(Error::Disconnected),
            Ok(false) => Ok(()),
            Ok(true) => self.shared.waker.wake().map_err(|source| Error::Io {
                op: "async send (eventfd write)",
                source,
            }),
        }
    }
}

impl<D> Loop<D> {
    /// A new async handle (`uv_async_init`), active and referenced: it keeps
    /// the loop alive until closed or unreferenced. `cb` runs on the loop
    /// thread, in the poll phase, after one or more sends.
    pub fn async_init(
        &mut self,
        cb: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<AsyncId> {
        if self.async_shared.is_none() {
            let waker =
                mio::Waker::new(self.poll.registry(), crate::token::WAKER).map_err(|source| {
                    Error::Io {
                        op: "async init (eventfd)",
                        source,
                    }
                })?;
            self.async_shared = Some(Arc::new(AsyncShared {
                waker,
                wake: WakeQueue::new(),
            }));
            self.registered += 1;
        }
        let id = self.insert_handle(
            HandleKind::Async,
            Body::Async(Arc::new(AsyncFlag::default())),
            false,
        );
        self.handles[id.index as usize].cb = Some(callback::plain(cb));
        self.handles.activate(id.index);
        Ok(AsyncId(id))
    }

    /// A sender for the handle, to move to other threads.
    pub fn async_sender(&self, h: AsyncId) -> Result<AsyncSender> {
        let slot = self.slot_any("async_sender", h.0)?;
        if slot.is_closing() {
            return Err(Error::Closing {
                op: "async_sender",
                id: h.0,
            });
        }
        let Body::Async(flag) = &slot.body else {
            unreachable!("an AsyncId names an async handle");
        };
        Ok(AsyncSender {
            shared: Arc::clone(self.async_shared.as_ref().expect("created with the handle")),
            flag: Arc::clone(flag),
            id: h.0,
        })
    }

    /// Sends from the loop thread itself; same as `async_sender(h)?.send()`.
    pub fn async_send(&self, h: AsyncId) -> Result<()> {
        self.async_sender(h)?.send()
    }

    /// Serves every async handle sent to since the last time.
    pub(crate) fn dispatch_async(&mut self, data: &mut D) {
        let Some(shared) = self.async_shared.clone() else {
            return;
        };
        let mut ids = std::mem::take(&mut self.async_spare);
        shared.wake.take(&mut ids);
        let mut i = 0;
        while i < ids.len() {
            let id = ids[i];
            i += 1;
            let live = match self.handles.get(id.index as usize) {
                Some(s) if s.gen == id.gen && !s.is_closing() => match &s.body {
                    // Cleared before the callback: a send from inside it
                    // (or racing with it) queues the handle again.
                    Body::Async(flag) => {
                        flag.begin_callback();
                        true
                    }
                    _ => false,
                },
                _ => false,
            };
            if live {
                self.invoke(id.index, CbArg::None, data);
                if self.aborting() {
                    // Not yet served: their flags are still set, queue them again.
                    if shared.wake.requeue(&ids[i..]) {
                        let _ = shared.waker.wake();
                    }
                    break;
                }
            }
        }
        ids.clear();
        self.async_spare = ids;
    }
}
