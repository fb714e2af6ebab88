//! Building a loop: its clock and event buffer ([`LoopBuilder`]).

use crate::clock::{Clock, ClockSource, ManualClock};
use crate::error::{Error, Result};
use crate::event_loop::Loop;
use crate::heap::IndexedHeap;
use crate::node::NodeState;
use crate::trace::{Metrics, Phase};
use std::collections::VecDeque;

/// Options for building a [`Loop`].
#[derive(Debug, Default)]
pub struct LoopBuilder {
    clock: Clock,
    events_capacity: Option<usize>,
}

impl LoopBuilder {
    /// The clock the loop reads (the system clock by default).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A manual clock, shortcut for `.clock(Clock::Manual(clock))`.
    pub fn manual_clock(self, clock: ManualClock) -> Self {
        self.clock(Clock::Manual(clock))
    }

    /// How many I/O events one poll may return (1024 by default).
    pub fn events_capacity(mut self, n: usize) -> Self {
        self.events_capacity = Some(n.max(1));
        self
    }

    /// Builds the loop.
    pub fn build<D>(self) -> Result<Loop<D>> {
        let poll = mio::Poll::new().map_err(|source| Error::Io {
            op: "loop init (epoll_create)",
            source,
        })?;
        let clock = ClockSource::new(self.clock);
        let time = clock.now_ms();
        Ok(Loop {
            handles: Default::default(),
            active_reqs: 0,
            time,
            clock,
            timers: IndexedHeap::new(),
            timer_seq: 0,
            timer_ready: VecDeque::new(),
            timer_rerun: Vec::new(),
            queues: [Vec::new(), Vec::new(), Vec::new()],
            pass: 0,
            queue_spare: Vec::new(),
            pending: VecDeque::new(),
            closing: Vec::new(),
            stop_flag: false,
            running: false,
            phase: Phase::Main,
            poll,
            events: mio::Events::with_capacity(self.events_capacity.unwrap_or(1024)),
            io_events: Vec::new(),
            io_next: 0,
            io_last: Vec::new(),
            registered: 0,
            async_shared: None,
            async_spare: Vec::new(),
            signals: None,
            ticks: VecDeque::new(),
            microtasks: VecDeque::new(),
            host_microtasks: None,
            tasks: Default::default(),
            task_fns: None,
            node: NodeState::default(),
            metrics: Metrics::default(),
            trace: None,
            extensions: Default::default(),
            panic: None,
            unhandled: None,
        })
    }
}

impl Loop {
    /// Options for a new loop (its clock, its event buffer); the state type
    /// is chosen by [`LoopBuilder::build`].
    pub fn builder() -> LoopBuilder {
        LoopBuilder::default()
    }
}
