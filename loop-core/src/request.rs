//! Requests: work in flight that keeps the loop alive until it completes
//! (`uv_req_t`'s active count), such as a pool job or a connect.
//!
//! Invariant: every [`ActiveRequest`] handed out is given back exactly
//! once (the type is not `Clone` and must be used), so the count is exact.

use crate::event_loop::Loop;

/// Proof of an active request, from [`Loop::req_start`]; give it back to
/// [`Loop::req_done`].
#[derive(Debug)]
#[must_use = "a request keeps the loop alive until given to req_done"]
pub struct ActiveRequest(());

impl<D> Loop<D> {
    /// Marks the start of a request (work that keeps the loop alive until it
    /// completes, and cannot be unreferenced). Pair with [`Loop::req_done`].
    pub fn req_start(&mut self) -> ActiveRequest {
        self.active_reqs += 1;
        ActiveRequest(())
    }

    /// Marks a request as complete.
    pub fn req_done(&mut self, req: ActiveRequest) {
        let ActiveRequest(()) = req;
        self.active_reqs -= 1;
    }

    /// Number of active requests.
    pub fn active_requests(&self) -> usize {
        self.active_reqs
    }
}
