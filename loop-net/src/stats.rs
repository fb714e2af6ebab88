//! What a loop holds, for tests and diagnostics: read-only, so it takes
//! `&Loop` and creates nothing.

use crate::node::NodeNet;
use crate::state::net_ref;
use loop_core::Loop;

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
pub fn stats<D: 'static>(lp: &Loop<D>) -> NetStats {
    let mut s = NetStats::default();
    if let Some(n) = net_ref(lp) {
        s.streams = n.streams.len();
        s.listeners = n.listeners.len();
        s.reserve_fd = n.reserve.is_some();
    }
    if let Some(n) = lp.extension::<NodeNet<D>>() {
        s.servers = n.servers.len();
    }
    s
}
