//! The per-loop state of loop-net, kept in the loop as an extension.
//!
//! Invariants:
//! - one `Net<D>` per loop, created on first use, dropped with the loop
//!   (which closes every socket still open);
//! - handles are slab entries named by (index, generation): an id whose
//!   entry was removed, or reused by a newer handle, names nothing;
//! - no user callback runs while an entry is borrowed: a callback is taken
//!   out of its entry, called with `&mut Loop`, and put back only if the
//!   entry still belongs to the same handle and got no new callback;
//! - one read buffer per loop ([`READ_BUF`] bytes), lent to the read being
//!   served and handed to the callback as a slice: no allocation per read,
//!   no buffer per connection.

use crate::listener::ListenerState;
use crate::node::ServerState;
use crate::stream::StreamState;
use loop_core::Loop;
use slab::Slab;
use std::fs::File;

/// Size of the loop-wide read buffer: the most one `read` returns.
pub const READ_BUF: usize = 64 * 1024;

pub(crate) struct Net<D> {
    pub(crate) streams: Slab<StreamState<D>>,
    pub(crate) listeners: Slab<ListenerState<D>>,
    pub(crate) servers: Slab<ServerState<D>>,
    next_gen: u32,
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
            listeners: Slab::new(),
            servers: Slab::new(),
            next_gen: 0,
            buf: Vec::new(),
            reserve: None,
        }
    }

    pub(crate) fn next_gen(&mut self) -> u32 {
        self.next_gen = self.next_gen.wrapping_add(1);
        self.next_gen
    }
}

/// The loop's loop-net state, created on first use.
#[inline]
pub(crate) fn net<D: 'static>(lp: &mut Loop<D>) -> &mut Net<D> {
    if lp.extension::<Net<D>>().is_none() {
        lp.insert_extension(Net::<D>::new());
    }
    lp.extension_mut::<Net<D>>().expect("inserted just above")
}

/// Opens the EMFILE spare fd if it is not open (first listener, or after
/// an EMFILE episode could not re-open it).
pub(crate) fn ensure_reserve<D: 'static>(lp: &mut Loop<D>) {
    let n = net(lp);
    if n.reserve.is_none() {
        n.reserve = File::open("/").ok();
    }
}

/// Lends out the read buffer (a fresh one if it is lent already).
pub(crate) fn take_buf<D: 'static>(lp: &mut Loop<D>) -> Vec<u8> {
    let b = std::mem::take(&mut net(lp).buf);
    if b.len() == READ_BUF {
        b
    } else {
        vec![0; READ_BUF]
    }
}

/// Gives the read buffer back.
pub(crate) fn put_buf<D: 'static>(lp: &mut Loop<D>, buf: Vec<u8>) {
    net(lp).buf = buf;
}

/// Live counts, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Open streams (connections), closing ones included.
    pub streams: usize,
    /// Open listeners, closing ones included.
    pub listeners: usize,
    /// Node.js-level servers.
    pub servers: usize,
    /// Whether the EMFILE spare fd is open.
    pub reserve_fd: bool,
}

/// How many streams, listeners and servers the loop holds.
pub fn stats<D: 'static>(lp: &mut Loop<D>) -> NetStats {
    let n = net(lp);
    NetStats {
        streams: n.streams.len(),
        listeners: n.listeners.len(),
        servers: n.servers.len(),
        reserve_fd: n.reserve.is_some(),
    }
}
