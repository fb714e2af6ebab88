//! Idle, prepare and check handles (`uv_idle_t`, `uv_prepare_t`, `uv_check_t`).
//!
//! Each kind has a queue; the loop runs it in its phase (idle and prepare
//! before poll, check after). Order: most recently started first, as libuv
//! inserts at the head of the queue. A handle started during its own phase
//! runs from the next iteration on. `start` on an active handle keeps the
//! callback it already has (libuv returns 0 and changes nothing). An active
//! idle handle, referenced or not, makes poll non-blocking.
//!
//! The queues are `Vec`s: removal is O(n) in the number of *active* handles of
//! one kind, which stays small in practice (Node.js has one of each).

use crate::callback::AnyCb;
use crate::error::Result;
use crate::event_loop::{Body, Loop};
use crate::handle::{CheckId, HandleId, HandleKind, IdleId, PrepareId};
use crate::queue::{CHECK, IDLE, PREPARE};

impl<D> Loop<D> {
    fn queue_init(&mut self, kind: HandleKind, internal: bool) -> HandleId {
        self.insert_handle(kind, Body::Queue { pass: 0 }, internal)
    }

    pub(crate) fn queue_start_idx(&mut self, q: usize, idx: u32, cb: Option<AnyCb<D>>) {
        let slot = &mut self.handles[idx as usize];
        if slot.is_active() {
            return;
        }
        // `None`: an internal handle that only needs to be active.
        slot.cb = cb;
        self.queues[q].insert(0, idx);
        self.handles.activate(idx);
    }

    pub(crate) fn queue_stop_idx(&mut self, q: usize, idx: u32) {
        let slot = &mut self.handles[idx as usize];
        if !slot.is_active() {
            return;
        }
        if let Body::Queue { pass } = &mut slot.body {
            *pass = 0;
        }
        if let Some(at) = self.queues[q].iter().position(|&i| i == idx) {
            self.queues[q].remove(at);
        }
        self.handles.deactivate(idx);
    }

    pub(crate) fn idle_init_internal(&mut self) -> IdleId {
        IdleId(self.queue_init(HandleKind::Idle, true))
    }

    pub(crate) fn check_init_internal(&mut self) -> CheckId {
        CheckId(self.queue_init(HandleKind::Check, true))
    }
}

macro_rules! queue_handle {
    ($id:ident, $q:ident, $kind:literal, $init:ident, $start:ident, $stop:ident) => {
        impl<D> Loop<D> {
            #[doc = concat!("A new, stopped ", $kind, " handle (`uv_", $kind, "_init`).")]
            pub fn $init(&mut self) -> $id {
                $id(self.queue_init(HandleKind::from_queue($q), false))
            }

            #[doc = concat!("Starts a ", $kind, " handle (`uv_", $kind, "_start`): `cb` runs in every ",
                $kind, " phase until stopped. Starting an active handle changes nothing.")]
            pub fn $start(
                &mut self,
                h: $id,
                cb: impl FnMut(&mut Loop<D>, &mut D) + 'static,
            ) -> Result<()> {
                self.slot_mut(concat!($kind, "_start"), h.0)?;
                self.queue_start_idx($q, h.0.index, Some(crate::callback::plain(cb)));
                Ok(())
            }

            #[doc = concat!("Stops a ", $kind, " handle (`uv_", $kind, "_stop`); stopping a stopped one is fine.")]
            pub fn $stop(&mut self, h: $id) -> Result<()> {
                self.slot_mut(concat!($kind, "_stop"), h.0)?;
                self.queue_stop_idx($q, h.0.index);
                Ok(())
            }
        }
    };
}

queue_handle!(IdleId, IDLE, "idle", idle_init, idle_start, idle_stop);
queue_handle!(
    PrepareId,
    PREPARE,
    "prepare",
    prepare_init,
    prepare_start,
    prepare_stop
);
queue_handle!(CheckId, CHECK, "check", check_init, check_start, check_stop);

impl HandleKind {
    const fn from_queue(q: usize) -> HandleKind {
        match q {
            IDLE => HandleKind::Idle,
            PREPARE => HandleKind::Prepare,
            _ => HandleKind::Check,
        }
    }
}
