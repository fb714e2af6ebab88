//! Handle ids: small `Copy` values naming a slot of the loop's handle slab.
//!
//! An id carries a generation, so a stale id (its handle closed and the slot
//! reused) is rejected with [`crate::Error::InvalidHandle`] instead of being
//! confused with the newer handle. Typed wrappers ([`TimerId`], [`IdleId`],
//! …) make it impossible to start an idle handle with a timer's id; every
//! typed id converts into a [`HandleId`] for the operations common to all
//! kinds (`close`, `ref_handle`, `unref`, `is_active`…).

use std::fmt;

/// The id of any handle of a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandleId {
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

impl HandleId {
    /// The slot index; stable for the handle's life, reused after it.
    pub fn index(self) -> u32 {
        self.index
    }
}

impl fmt::Display for HandleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.index, self.gen)
    }
}

/// The kind of a handle, as `uv_handle_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// A timer ([`TimerId`]).
    Timer,
    /// An idle handle ([`IdleId`]).
    Idle,
    /// A prepare handle ([`PrepareId`]).
    Prepare,
    /// A check handle ([`CheckId`]).
    Check,
    /// An async handle ([`AsyncId`]).
    Async,
    /// A signal watcher ([`SignalId`]).
    Signal,
    /// An I/O watcher ([`IoId`]), the base of TCP and pipe handles.
    Io,
}

impl HandleKind {
    /// The name libuv's `uv_print_all_handles` uses.
    pub fn name(self) -> &'static str {
        match self {
            HandleKind::Timer => "timer",
            HandleKind::Idle => "idle",
            HandleKind::Prepare => "prepare",
            HandleKind::Check => "check",
            HandleKind::Async => "async",
            HandleKind::Signal => "signal",
            HandleKind::Io => "io",
        }
    }
}

impl fmt::Display for HandleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of [`crate::Loop::handles`]: what `uv_walk` shows of a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleInfo {
    /// Its id.
    pub id: HandleId,
    /// Its kind.
    pub kind: HandleKind,
    /// Whether it is active (started).
    pub active: bool,
    /// Whether it is referenced (keeps the loop alive while active).
    pub referenced: bool,
    /// Whether it is closing (its close callback is still to run).
    pub closing: bool,
}

impl fmt::Display for HandleInfo {
    /// The `uv_print_all_handles` format: `[R-A] timer #3.7`, where the three
    /// flags are referenced, closing and active.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}{}{}] {:<8} {}",
            if self.referenced { 'R' } else { '-' },
            if self.closing { 'I' } else { '-' },
            if self.active { 'A' } else { '-' },
            self.kind.name(),
            self.id
        )
    }
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub(crate) HandleId);

        impl $name {
            /// The untyped id.
            pub fn id(self) -> HandleId {
                self.0
            }
        }

        impl From<$name> for HandleId {
            fn from(h: $name) -> HandleId {
                h.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", HandleKind::$kind.name(), self.0)
            }
        }
    };
}

typed_id!(
    /// A timer handle (`uv_timer_t`).
    TimerId, Timer
);
typed_id!(
    /// An idle handle (`uv_idle_t`): runs once per iteration and makes poll non-blocking.
    IdleId, Idle
);
typed_id!(
    /// A prepare handle (`uv_prepare_t`): runs right before poll.
    PrepareId, Prepare
);
typed_id!(
    /// A check handle (`uv_check_t`): runs right after poll.
    CheckId, Check
);
typed_id!(
    /// An async handle (`uv_async_t`): a wake-up from any thread.
    AsyncId, Async
);
typed_id!(
    /// A signal watcher (`uv_signal_t`).
    SignalId, Signal
);
typed_id!(
    /// An I/O watcher: a mio source registered under this handle's token.
    IoId, Io
);
