//! The ping-pong of two tasks, shared by the `async_tasks` bench and the
//! `task_alloc` test (included with `#[path]`): two players hand a turn
//! back and forth through a shared cell and each other's wakers, each
//! step one wake-up and one poll. Plain futures (`poll_fn`), so the same
//! code runs on any executor.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Two players and a turn.
pub struct Table {
    pub turn: Cell<usize>,
    pub steps: Cell<u64>,
    pub wakers: [RefCell<Option<Waker>>; 2],
}

/// A table at step 0, player 0's turn.
pub fn table() -> Rc<Table> {
    Rc::new(Table {
        turn: Cell::new(0),
        steps: Cell::new(0),
        wakers: [RefCell::new(None), RefCell::new(None)],
    })
}

/// Player `me` (0 or 1): takes its turn until `n` steps are done in all,
/// then wakes the other so that it sees the end too.
pub fn player(table: Rc<Table>, me: usize, n: u64) -> impl Future<Output = ()> {
    poll_fn(move |cx| loop {
        if table.steps.get() >= n {
            // Let the other player see the end too.
            if let Some(w) = table.wakers[1 - me].borrow_mut().take() {
                w.wake();
            }
            return Poll::Ready(());
        }
        if table.turn.get() != me {
            *table.wakers[me].borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        table.steps.set(table.steps.get() + 1);
        table.turn.set(1 - me);
        if let Some(w) = table.wakers[1 - me].borrow_mut().take() {
            w.wake();
        }
    })
}
