//! Closing handles (`uv_close`) and the close phase.
//!
//! # Ground rules
//!
//! - `close` stops the handle at once; its close callback runs in the close
//!   phase of this iteration. Close callbacks run in reverse order of
//!   `close`, as libuv's closing list; one closed from a close callback
//!   waits for the next pass.
//! - The id stays valid (closing, inactive) until its close callback has
//!   run; the slot is freed right after, so its index may be reused.

use crate::callback::Job;
use crate::error::Result;
use crate::event_loop::{Body, Loop};
use crate::handle::{HandleId, HandleKind};
use crate::queue::{CHECK, IDLE, PREPARE};
use crate::trace::{CallbackKind, Phase};

impl<D> Loop<D> {
    /// Closes a handle (`uv_close`): stops it if active, and runs `on_close`
    /// in the close phase of this iteration (close callbacks run in reverse
    /// order of `close`; one closed from a close callback waits a pass).
    /// Closing a closing or closed handle is an error. The id is invalid once
    /// the close callback has been called.
    ///
    /// An I/O handle's source is not deregistered by the loop: its owner
    /// deregisters (or drops) it.
    pub fn close(&mut self, h: impl Into<HandleId>, on_close: Option<Job<D>>) -> Result<()> {
        let id = h.into();
        let kind = self.slot_mut("close", id)?.kind;
        self.stop_any(id.index, kind);
        if let Body::Timer { rerun: true, .. } = self.handles[id.index as usize].body {
            self.timer_rerun.retain(|&i| i != id.index);
        }
        let slot = &mut self.handles[id.index as usize];
        slot.mark_closing();
        if let Body::Async(flag) = &slot.body {
            flag.close();
        }
        // The close callback waits in the closing list, not in the slot:
        // slots stay small, and only closing handles pay for it.
        self.closing.push((id.index, on_close));
        Ok(())
    }

    /// Closes a handle with a close callback; shortcut for
    /// `close(h, Some(Box::new(f)))`.
    pub fn close_with(
        &mut self,
        h: impl Into<HandleId>,
        f: impl FnOnce(&mut Loop<D>, &mut D) + 'static,
    ) -> Result<()> {
        self.close(h, Some(Box::new(f)))
    }

    fn stop_any(&mut self, idx: u32, kind: HandleKind) {
        match kind {
            HandleKind::Timer => self.timer_stop_idx(idx),
            HandleKind::Idle => self.queue_stop_idx(IDLE, idx),
            HandleKind::Prepare => self.queue_stop_idx(PREPARE, idx),
            HandleKind::Check => self.queue_stop_idx(CHECK, idx),
            HandleKind::Signal => self.signal_stop_idx(idx),
            HandleKind::Async | HandleKind::Io => self.handles.deactivate(idx),
        }
    }

    #[inline]
    pub(crate) fn run_closing(&mut self, data: &mut D) {
        if self.closing.is_empty() {
            return;
        }
        self.enter(Phase::Close);
        // Handles closed from a close callback wait for the next pass.
        let mut batch = std::mem::take(&mut self.closing);
        while let Some((idx, close_cb)) = batch.pop() {
            // The id stays valid (closing, inactive) during its close
            // callback, as in libuv; the slot goes right after it.
            let slot = &mut self.handles[idx as usize];
            let kind = slot.kind;
            let id = HandleId {
                index: idx,
                gen: slot.gen,
            };
            drop(slot.cb.take());
            if let Some(f) = close_cb {
                tracing::trace!(kind = kind.name(), handle = %id, "close callback");
                self.record(CallbackKind::Close(kind), Some(id));
                self.invoke_job(f, data);
            }
            self.handles.remove(idx);
            if kind == HandleKind::Io {
                self.registered -= 1;
            }
            if self.aborting() {
                batch.append(&mut self.closing);
                self.closing = batch;
                return;
            }
        }
    }
}
