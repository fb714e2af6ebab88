//! Poll tokens: what a mio token says about the source behind an event.
//!
//! The whole encoding lives here:
//! - `usize::MAX`: the async waker (one per loop);
//! - `usize::MAX - 1 - signum` for `signum` in `0..=64`: signal `signum`'s
//!   self-pipe;
//! - anything else: an I/O handle, `generation << 32 | slot index`. The
//!   generation lets the loop drop an event for a handle that was closed
//!   earlier in the same poll batch (its slot already reused) instead of
//!   delivering it to the newer handle (libuv's `tcp_close_accept`
//!   pitfall). An I/O token reaches the reserved range only with a slot
//!   index above `u32::MAX - 66`, four billion live handles: never.

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

/// The token of an I/O handle.
pub(crate) fn io(id: HandleId) -> mio::Token {
    mio::Token(((id.gen as usize) << 32) | id.index as usize)
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
        index: token.0 as u32,
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
            assert_eq!(decode(io(id)), TokenKind::Io(id));
        }
    }
}
