//! The handle table: one slab of slots, each a handle's kind, flags,
//! callback and kind-specific body, named by a [`HandleId`] (index and
//! generation).
//!
//! # Ground rules
//!
//! - A slot's flags change only through the methods here; `active_refd`
//!   (the active and referenced handles, which keep the loop alive) changes
//!   only in `activate`, `deactivate` and `set_ref_idx`, so it is always
//!   the count of slots with both flags.
//! - A lookup by id checks the generation: a stale id gives
//!   [`Error::InvalidHandle`], a closing one [`Error::Closing`] where the
//!   operation needs a live handle.
//! - Internal handles (the Node.js layer's, an extension's) count for
//!   liveness but are left out of [`Loop::handles`].

use crate::callback::AnyCb;
use crate::error::{Error, Result};
use crate::event_loop::Loop;
use crate::handle::{HandleId, HandleInfo, HandleKind};
use slab::Slab;
use std::sync::Arc;

const ACTIVE: u8 = 1;
const REF: u8 = 2;
const CLOSING: u8 = 4;
/// The loop's own or an extension's; hidden from `handles()`.
const INTERNAL: u8 = 8;
/// Its callback is being called right now.
const RUNNING: u8 = 16;
/// An I/O handle whose events run after the rest of their poll batch.
const BATCH_LAST: u8 = 32;

/// Kind-specific state of a handle.
pub(crate) enum Body {
    Timer {
        repeat: u64,
        /// Last due time (kept after stop, for `due_in`, as libuv does).
        due: u64,
        /// Collected as due in the current timers pass, not yet run.
        ready: bool,
        /// Runs again in the same pass when re-armed already due.
        rerun: bool,
    },
    /// Idle, prepare and check: the pass in which it is still to run.
    Queue {
        pass: u64,
    },
    Async(Arc<crate::async_handle::AsyncFlag>),
    Signal {
        signum: i32,
        oneshot: bool,
        /// Counts starts, to tell a one-shot re-armed by its own callback.
        arm: u32,
    },
    Io,
}

/// One handle.
pub(crate) struct Slot<D> {
    pub(crate) gen: u32,
    pub(crate) kind: HandleKind,
    /// ACTIVE and REF change only through [`HandleTable`], which counts them.
    flags: u8,
    pub(crate) cb: Option<AnyCb<D>>,
    pub(crate) body: Body,
}

impl<D> Slot<D> {
    /// Started (`uv_is_active`).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.flags & ACTIVE != 0
    }

    /// Referenced (`uv_has_ref`).
    #[inline]
    pub(crate) fn is_ref(&self) -> bool {
        self.flags & REF != 0
    }

    /// Closed, its close callback still to run.
    #[inline]
    pub(crate) fn is_closing(&self) -> bool {
        self.flags & CLOSING != 0
    }

    /// Hidden from `handles()`.
    #[inline]
    pub(crate) fn is_internal(&self) -> bool {
        self.flags & INTERNAL != 0
    }

    /// Its callback is running right now.
    #[inline]
    pub(crate) fn is_running(&self) -> bool {
        self.flags & RUNNING != 0
    }

    /// Marks it closing (its owner has deactivated it first).
    pub(crate) fn mark_closing(&mut self) {
        debug_assert!(!self.is_active(), "a handle is stopped before it closes");
        self.flags |= CLOSING;
    }

    pub(crate) fn set_internal(&mut self, on: bool) {
        self.set_flag(INTERNAL, on);
    }

    /// Its events run after the rest of their poll batch ([`crate::Loop::io_set_batch_last`]).
    #[inline]
    pub(crate) fn is_batch_last(&self) -> bool {
        self.flags & BATCH_LAST != 0
    }

    pub(crate) fn set_batch_last(&mut self, on: bool) {
        self.set_flag(BATCH_LAST, on);
    }

    #[inline]
    pub(crate) fn set_running(&mut self, on: bool) {
        self.set_flag(RUNNING, on);
    }

    #[inline]
    fn set_flag(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }
}

/// The slab of handles and the count of those that keep the loop alive.
///
/// Not a [`GenSlab`](crate::slots::GenSlab): the generation sits beside
/// `kind` and `flags` in what would be padding, and `GenSlab`'s slot (the
/// value plus a `u32`) would grow the 48-byte slot to 56 (`size_of`,
/// measured), on every handle and every poll event's lookup.
pub(crate) struct HandleTable<D> {
    slots: Slab<Slot<D>>,
    next_gen: u32,
    /// Slots both ACTIVE and REF.
    active_refd: usize,
}

impl<D> Default for HandleTable<D> {
    fn default() -> Self {
        Self {
            slots: Slab::new(),
            next_gen: 0,
            active_refd: 0,
        }
    }
}

impl<D> HandleTable<D> {
    /// A new handle, inactive and referenced.
    pub(crate) fn insert(&mut self, kind: HandleKind, body: Body, internal: bool) -> HandleId {
        self.next_gen = self.next_gen.wrapping_add(1);
        let gen = self.next_gen;
        let index = self.slots.insert(Slot {
            gen,
            kind,
            flags: REF | if internal { INTERNAL } else { 0 },
            cb: None,
            body,
        }) as u32;
        HandleId { index, gen }
    }

    /// Frees a slot (after its close callback). It must be inactive.
    pub(crate) fn remove(&mut self, idx: u32) -> Slot<D> {
        let slot = self.slots.remove(idx as usize);
        debug_assert!(!slot.is_active(), "a handle is stopped before it is freed");
        slot
    }

    #[inline]
    pub(crate) fn get(&self, idx: usize) -> Option<&Slot<D>> {
        self.slots.get(idx)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, idx: usize) -> Option<&mut Slot<D>> {
        self.slots.get_mut(idx)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &Slot<D>)> {
        self.slots.iter()
    }

    /// Active and referenced handles: what keeps the loop alive.
    #[inline]
    pub(crate) fn active_refd(&self) -> usize {
        self.active_refd
    }

    #[inline]
    pub(crate) fn activate(&mut self, idx: u32) {
        let s = &mut self.slots[idx as usize];
        if !s.is_active() {
            s.flags |= ACTIVE;
            if s.is_ref() {
                self.active_refd += 1;
            }
        }
    }

    #[inline]
    pub(crate) fn deactivate(&mut self, idx: u32) {
        let s = &mut self.slots[idx as usize];
        if s.is_active() {
            s.flags &= !ACTIVE;
            if s.is_ref() {
                self.active_refd -= 1;
            }
        }
    }

    pub(crate) fn set_ref(&mut self, idx: u32, on: bool) {
        let s = &mut self.slots[idx as usize];
        if s.is_ref() == on {
            return;
        }
        s.set_flag(REF, on);
        if s.is_active() {
            if on {
                self.active_refd += 1;
            } else {
                self.active_refd -= 1;
            }
        }
    }
}

impl<D> std::ops::Index<usize> for HandleTable<D> {
    type Output = Slot<D>;

    #[inline]
    fn index(&self, idx: usize) -> &Slot<D> {
        &self.slots[idx]
    }
}

impl<D> std::ops::IndexMut<usize> for HandleTable<D> {
    #[inline]
    fn index_mut(&mut self, idx: usize) -> &mut Slot<D> {
        &mut self.slots[idx]
    }
}

impl<D> Loop<D> {
    /// A new handle of `kind` (an I/O handle counts as a registered source).
    pub(crate) fn insert_handle(
        &mut self,
        kind: HandleKind,
        body: Body,
        internal: bool,
    ) -> HandleId {
        if kind == HandleKind::Io {
            self.registered += 1;
        }
        self.handles.insert(kind, body, internal)
    }

    /// The slot of a live, not closing handle of `kind`.
    pub(crate) fn slot_mut(&mut self, op: &'static str, id: HandleId) -> Result<&mut Slot<D>> {
        match self.handles.get_mut(id.index as usize) {
            Some(s) if s.gen == id.gen => {
                if s.is_closing() {
                    Err(Error::Closing { op, id })
                } else {
                    Ok(s)
                }
            }
            _ => Err(Error::InvalidHandle { op, id }),
        }
    }

    /// The slot of a handle that exists, closing or not.
    pub(crate) fn slot_any(&self, op: &'static str, id: HandleId) -> Result<&Slot<D>> {
        match self.handles.get(id.index as usize) {
            Some(s) if s.gen == id.gen => Ok(s),
            _ => Err(Error::InvalidHandle { op, id }),
        }
    }

    /// References a handle (`uv_ref`): while active, it keeps the loop alive.
    pub fn ref_handle(&mut self, h: impl Into<HandleId>) -> Result<()> {
        let id = h.into();
        self.slot_any("ref", id)?;
        self.handles.set_ref(id.index, true);
        Ok(())
    }

    /// Unreferences a handle (`uv_unref`): it no longer keeps the loop alive.
    pub fn unref(&mut self, h: impl Into<HandleId>) -> Result<()> {
        let id = h.into();
        self.slot_any("unref", id)?;
        self.handles.set_ref(id.index, false);
        Ok(())
    }

    /// Whether the handle is referenced (`uv_has_ref`).
    pub fn has_ref(&self, h: impl Into<HandleId>) -> Result<bool> {
        Ok(self.slot_any("has_ref", h.into())?.is_ref())
    }

    /// Whether the handle is active (`uv_is_active`); `false` once closing.
    pub fn is_active(&self, h: impl Into<HandleId>) -> Result<bool> {
        Ok(self.slot_any("is_active", h.into())?.is_active())
    }

    /// Whether the handle is closing (`uv_is_closing`).
    pub fn is_closing(&self, h: impl Into<HandleId>) -> Result<bool> {
        Ok(self.slot_any("is_closing", h.into())?.is_closing())
    }

    /// The kind of a live handle.
    pub fn kind(&self, h: impl Into<HandleId>) -> Result<HandleKind> {
        Ok(self.slot_any("kind", h.into())?.kind)
    }

    /// Marks a handle as the loop's own (or an extension's: loop-fs's
    /// async handle, a runtime's housekeeping timer), or unmarks it.
    /// Internal handles are left out of [`Loop::handles`] and
    /// [`Loop::print_handles`]; they still count for liveness while active
    /// and referenced.
    pub fn set_internal(&mut self, h: impl Into<HandleId>, on: bool) -> Result<()> {
        let id = h.into();
        let slot = self.slot_mut("set_internal", id)?;
        slot.set_internal(on);
        Ok(())
    }

    /// Every live handle with its kind, active, ref and closing state, in
    /// slot order (`uv_walk`). Handles the loop made for itself (the Node.js
    /// layer's timer, idle and check) are left out.
    pub fn handles(&self) -> Vec<HandleInfo> {
        self.handles
            .iter()
            .filter(|(_, s)| !s.is_internal())
            .map(|(i, s)| HandleInfo {
                id: HandleId {
                    index: i as u32,
                    gen: s.gen,
                },
                kind: s.kind,
                active: s.is_active(),
                referenced: s.is_ref(),
                closing: s.is_closing(),
            })
            .collect()
    }

    /// Writes one line per live handle, `uv_print_all_handles` style:
    /// `[R-A] timer    #3.7` (referenced, closing, active).
    pub fn print_handles(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        for h in self.handles() {
            writeln!(out, "{h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// A slot is what every handle costs the loop (an idle TCP connection
    /// has one): keep it at 48 bytes (the callback's thin box, the body,
    /// generation, kind and flags; close callbacks wait in the closing list).
    #[test]
    fn a_slot_is_48_bytes() {
        assert_eq!(std::mem::size_of::<super::Slot<()>>(), 48);
    }
}
