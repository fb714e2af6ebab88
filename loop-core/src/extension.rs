//! Extensions: per-loop state that crates built on loop-core keep inside
//! the loop (loop-fs's thread pool, loop-net's stream table…), created on
//! first use and dropped with the loop, without the embedder's `D` knowing.
//!
//! # Ground rules
//!
//! - At most one value per type `T`; each has a slot index that never
//!   changes while the value is attached.
//! - A lookup by type compares `TypeId`s stored beside the values (no
//!   virtual call per entry) and remembers where it last found a hit, so
//!   the common case is one comparison. An [`ExtKey`] skips even that: it
//!   is the slot index, checked against the type on every use, so a key
//!   whose value was removed finds nothing rather than another type.
//! - Lookups never insert: read-only queries take `&self`.
//! - Values drop with the loop, in slot order.

use crate::event_loop::Loop;
use std::any::{Any, TypeId};
use std::cell::Cell;
use std::marker::PhantomData;

/// The extensions of one loop.
#[derive(Default)]
pub(crate) struct Extensions {
    slots: Vec<Option<(TypeId, Box<dyn Any>)>>,
    /// The slot of the last lookup by type that hit.
    last: Cell<usize>,
}

impl Extensions {
    #[inline]
    fn position(&self, ty: TypeId) -> Option<usize> {
        let last = self.last.get();
        if let Some(Some((t, _))) = self.slots.get(last) {
            if *t == ty {
                return Some(last);
            }
        }
        let at = self
            .slots
            .iter()
            .position(|s| matches!(s, Some((t, _)) if *t == ty))?;
        self.last.set(at);
        Some(at)
    }
}

/// A typed key to a loop's extension of type `T`: its slot index, from
/// [`Loop::extension_key`]. Looking up by key is an index and one type
/// check. Keys are `Copy`; capture one in the callbacks of a hot path.
pub struct ExtKey<T> {
    index: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for ExtKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ExtKey<T> {}

impl<T> std::fmt::Debug for ExtKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExtKey({})", self.index)
    }
}

impl<D> Loop<D> {
    /// The value of type `T` attached to this loop, if any. Never inserts.
    #[inline]
    pub fn extension<T: 'static>(&self) -> Option<&T> {
        let at = self.extensions.position(TypeId::of::<T>())?;
        self.extensions.slots[at].as_ref()?.1.downcast_ref::<T>()
    }

    /// The value of type `T` attached to this loop, mutably. Never inserts.
    #[inline]
    pub fn extension_mut<T: 'static>(&mut self) -> Option<&mut T> {
        let at = self.extensions.position(TypeId::of::<T>())?;
        self.extensions.slots[at].as_mut()?.1.downcast_mut::<T>()
    }

    /// The `T` attached to this loop, attaching `init(self)` first if there
    /// is none. `init` gets the loop, to create the handles the extension
    /// owns (mark them with [`Loop::set_internal`]).
    pub fn extension_or_insert_with<T: 'static>(
        &mut self,
        init: impl FnOnce(&mut Loop<D>) -> T,
    ) -> &mut T {
        let at = match self.extensions.position(TypeId::of::<T>()) {
            Some(at) => at,
            None => {
                let value = init(self);
                // `init` may have attached a `T` itself: it is replaced.
                self.insert_extension(value);
                self.extensions
                    .position(TypeId::of::<T>())
                    .expect("inserted just above")
            }
        };
        self.extensions.slots[at]
            .as_mut()
            .and_then(|(_, v)| v.downcast_mut::<T>())
            .expect("the slot holds a T: its TypeId matched")
    }

    /// Attaches `value`, replacing (and returning) a previous `T`, which
    /// keeps its slot (and so its [`ExtKey`]).
    pub fn insert_extension<T: 'static>(&mut self, value: T) -> Option<T> {
        let ty = TypeId::of::<T>();
        if let Some(at) = self.extensions.position(ty) {
            let old = self.extensions.slots[at].replace((ty, Box::new(value)));
            return old.and_then(|(_, v)| v.downcast::<T>().ok()).map(|b| *b);
        }
        let slots = &mut self.extensions.slots;
        match slots.iter().position(Option::is_none) {
            Some(free) => slots[free] = Some((ty, Box::new(value))),
            None => slots.push(Some((ty, Box::new(value)))),
        }
        None
    }

    /// Detaches and returns the `T`, if any. Its [`ExtKey`] finds nothing
    /// from then on (until a `T` is attached again in the same slot).
    pub fn remove_extension<T: 'static>(&mut self) -> Option<T> {
        let at = self.extensions.position(TypeId::of::<T>())?;
        let (_, v) = self.extensions.slots[at].take()?;
        v.downcast::<T>().ok().map(|b| *b)
    }

    /// The key of the attached `T`, if any: a lookup by key skips the type
    /// search ([`Loop::ext`], [`Loop::ext_mut`]).
    pub fn extension_key<T: 'static>(&self) -> Option<ExtKey<T>> {
        let index = self.extensions.position(TypeId::of::<T>())?;
        Some(ExtKey {
            index,
            _t: PhantomData,
        })
    }

    /// The `T` behind `key`, if still attached.
    #[inline]
    pub fn ext<T: 'static>(&self, key: ExtKey<T>) -> Option<&T> {
        self.extensions
            .slots
            .get(key.index)?
            .as_ref()?
            .1
            .downcast_ref()
    }

    /// The `T` behind `key`, mutably, if still attached.
    #[inline]
    pub fn ext_mut<T: 'static>(&mut self, key: ExtKey<T>) -> Option<&mut T> {
        self.extensions
            .slots
            .get_mut(key.index)?
            .as_mut()?
            .1
            .downcast_mut()
    }
}
