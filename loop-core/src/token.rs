//! Poll tokens: what a mio token says about the source behind an event.
//!
//! The whole encoding lives here:
//! - `usize::MAX`: the async waker (one per loop);
//! - `usize::MAX - 1 - signum` for `signum` in `0..=64`: signal `signum`'s
//!   self-pipe;
//! - anything else: an I/O handle, `generation << 32 | last | slot index`,
//!   where `last` is bit 31, set for a handle whose events are dispatched
//!   after the rest of their poll batch ([`batch_last`]). The
//!   generation lets the loop drop an event for a handle that was closed
//!   earlier in the same poll batch (its slot already reused) instead of
//!   delivering it to the newer handle (libuv's `tcp_close_accept`
//!   pitfall). An I/O token reaches the reserved range only with a slot
//!   index above `2^31 - 67`, two billion live handles: never.
//! - Signal tokens and I/O tokens with the `last` bit sort after the other
//!   events of their batch, as libuv's `uv__io_poll` runs its signal
//!   watcher after every other watcher of the batch.

use crate::handle::HandleId;

/// Highest signal number accepted (Linux real-time signals end at 64).
pub(crate) const MAX_SIGNUM: i32 = 64;

/// Token of the async waker.
pub(crate) const WAKER: mio::Token = mio::Token(usize::MAX);

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Waker,
    Signal(i32),
    Io(HandleId),
}

/// The token of signal `signum`'s pipe.
pub(crate) fn signal(signum: i32) -> mio::Token {
    mio::Token(usize::MAX - 1 - signum as usize)
}

/// Bit 31 of an I/O token: dispatched after the rest of its batch.
const LAST: usize = 1 << 31;

/// The token of an I/O handle; `last` for one whose events run after the
/// rest of their poll batch.
pub(crate) fn io(id: HandleId, last: bool) -> mio::Token {
    let bit = if last { LAST } else { 0 };
    mio::Token(((id.gen as usize) << 32) | bit | (id.index as usize & (LAST - 1)))
}

/// Whether the token's event runs after the other events of its batch: a
/// signal's pipe, or an I/O handle registered with the `last` bit.
#[inline]
pub(crate) fn batch_last(token: mio::Token) -> bool {
    token != WAKER && token.0 & LAST != 0
}

/// Decodes a token.
#[inline]
pub(crate) fn decode(token: mio::Token) -> TokenKind {
    if token == WAKER {
        return TokenKind::Waker;
    }
    if let Some(below) = (usize::MAX - 1).checked_sub(token.0) {
        if below <= MAX_SIGNUM as usize {
            return TokenKind::Signal(below as i32);
        }
    }
    TokenKind::Io(HandleId {
        index: (token.0 & (LAST - 1)) as u32,
        gen: (token.0 >> 32) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(decode(WAKER), TokenKind::Waker);
        for s in [0, 1, 2, 15, MAX_SIGNUM] {
            assert_eq!(decode(signal(s)), TokenKind::Signal(s));
        }
        for (index, gen) in [(0, 0), (7, 1), (1 << 30, u32::MAX), (3, u32::MAX - 70)] {
            let id = HandleId { index, gen };
            for last in [false, true] {
                assert_eq!(decode(io(id, last)), TokenKind::Io(id));
                assert_eq!(batch_last(io(id, last)), last);
            }
        }
        assert!(!batch_last(WAKER));
        for s in [0, 1, 2, 15, MAX_SIGNUM] {
            assert!(batch_last(signal(s)), "signal {s} runs last");
        }
    }
}
