//! The per-loop state of loop-net's libuv level (streams and listeners),
//! kept in the loop as an extension.
//!
//! Invariants:
//! - one `Net<D>` per loop, created by the first stream or listener (the
//!   only paths that insert it), dropped with the loop (which closes every
//!   socket still open); queries never create it and take `&Loop`;
//! - handles are slab entries named by (index, generation), one table and
//!   one generation counter per kind: an id whose entry was removed, or
//!   reused by a newer handle, names nothing. Listeners are a [`GenSlab`];
//!   streams keep their generation inside their entry, in a plain `Slab`
//!   (the `gen` beside `flags` fills what would be padding): `GenSlab`'s
//!   slot would grow the entry from 80 to 88 bytes (`size_of`, measured),
//!   8 bytes more per open connection;
//! - no user callback runs while an entry is borrowed: a callback is taken
//!   out of its entry, called through [`Loop::make_callback`], and put back
//!   only if the entry still belongs to the same handle and got no new
//!   callback;
//! - one read buffer per loop ([`READ_BUF`] bytes), lent to the read being
//!   served and handed to the callback as a slice: no allocation per read,
//!   no buffer per connection;
//! - the I/O callbacks capture the [`ExtKey`] of their `Net`: the hot path
//!   finds it by index, without a type search.

use crate::listener::ListenerState;
use crate::stream::StreamState;
use loop_core::slots::GenSlab;
use loop_core::{ExtKey, Loop};
use slab::Slab;
use std::fs::File;

/// Size of the loop-wide read buffer: the most one `read` returns.
pub const READ_BUF: usize = 64 * 1024;

pub(crate) struct Net<D> {
    pub(crate) streams: Slab<StreamState<D>>,
    /// The streams' generation counter (wraps).
    streams_gen: u32,
    pub(crate) listeners: GenSlab<ListenerState<D>>,
    /// The read buffer; empty while lent out.
    pub(crate) buf: Vec<u8>,
    /// The spare fd of libuv's EMFILE trick: an open `/`, closed to make
    /// room for one `accept` when the process is out of fds.
    pub(crate) reserve: Option<File>,
}

impl<D> Net<D> {
    fn new() -> Self {
        Net {
            streams: Slab::new(),
            streams_gen: 0,
            listeners: GenSlab::new(),
            buf: Vec::new(),
            reserve: None,
        }
    }

    /// The generation of the next stream (wrapping, as `GenSlab`'s).
    pub(crate) fn next_stream_gen(&mut self) -> u32 {
        self.streams_gen = self.streams_gen.wrapping_add(1);
        self.streams_gen
    }

    /// Lends out the read buffer (a fresh one if it is lent already).
    pub(crate) fn take_buf(&mut self) -> Vec<u8> {
        let b = std::mem::take(&mut self.buf);
        if b.len() == READ_BUF {
            b
        } else {
            vec![0; READ_BUF]
        }
    }
}

/// The loop's loop-net state, created if there is none: for the paths that
/// create a stream or a listener.
#[inline]
pub(crate) fn net<D: 'static>(lp: &mut Loop<D>) -> &mut Net<D> {
    lp.extension_or_insert_with(|_| Net::<D>::new())
}

/// The key of the loop's `Net` (created if there is none), to capture in
/// I/O callbacks.
pub(crate) fn net_key<D: 'static>(lp: &mut Loop<D>) -> ExtKey<Net<D>> {
    net(lp);
    lp.extension_key::<Net<D>>().expect("attached just above")
}

/// The loop's loop-net state, if any stream or listener was ever made.
#[inline]
pub(crate) fn net_ref<D: 'static>(lp: &Loop<D>) -> Option<&Net<D>> {
    lp.extension::<Net<D>>()
}

/// Mutable [`net_ref`]: never inserts.
#[inline]
pub(crate) fn net_mut<D: 'static>(lp: &mut Loop<D>) -> Option<&mut Net<D>> {
    lp.extension_mut::<Net<D>>()
}

/// Opens the EMFILE spare fd if it is not open (first listener, or after
/// an EMFILE episode could not re-open it).
pub(crate) fn ensure_reserve<D: 'static>(lp: &mut Loop<D>) {
    let n = net(lp);
    if n.reserve.is_none() {
        n.reserve = File::open("/").ok();
    }
}
