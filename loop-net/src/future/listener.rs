//! [`AsyncListener`]: a listener whose connections a task takes with
//! `accept().await`.
//!
//! # Invariants
//!
//! - The listener's connection callback accepts into a queue of at most
//!   `bound` connections and wakes the accepting task. With the queue
//!   full, it does not accept: the stream layer pauses the listener, the
//!   connection stays pending and the rest of a burst waits in the
//!   kernel's backlog. The `accept` that makes room takes the pending
//!   connection (`Listener::accept`), which resumes the listener. So a
//!   burst loses nothing, and a slow acceptor holds at most `bound`
//!   accepted connections.
//! - Accept errors (`EMFILE` while the spare fd is gone…) are queued in
//!   order with the connections, when there is room; the listener retries
//!   by itself.
//! - Dropping the listener closes it and the connections still queued,
//!   when dropped in a task's poll or by the loop; dropped elsewhere, the
//!   next connection callback does it.

use super::ops::{ops, Ops};
use super::stream::AsyncStream;
use crate::error::{Address, Result};
use crate::{ListenOptions, Listener, Stream};
use loop_core::task::with_any_loop;
use loop_core::Loop;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// How many accepted connections an [`AsyncListener`] keeps for its
/// acceptor by default.
pub const ACCEPT_QUEUE: usize = 128;

struct State {
    queue: VecDeque<Result<Stream>>,
    bound: usize,
    /// The callback declined a connection (queue full): the listener is
    /// paused with one connection pending.
    declined: bool,
    waker: Option<Waker>,
    orphaned: bool,
}

/// A listening TCP or Unix socket for tasks; see the module docs of
/// [`crate::future`].
pub struct AsyncListener {
    l: Listener,
    addr: Address,
    st: Rc<RefCell<State>>,
    ops: &'static Ops,
}

impl std::fmt::Debug for AsyncListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncListener")
            .field("listener", &self.l)
            .field("addr", &self.addr)
            .finish()
    }
}

impl AsyncListener {
    /// Binds and listens on `addr` (port 0 picks one: see
    /// [`AsyncListener::local_addr`]), with default options and an
    /// accept queue of [`ACCEPT_QUEUE`].
    pub fn bind<D: 'static>(lp: &mut Loop<D>, addr: SocketAddr) -> Result<AsyncListener> {
        Self::bind_with(lp, addr, &ListenOptions::default(), ACCEPT_QUEUE)
    }

    /// [`AsyncListener::bind`] with options and the accept queue's bound
    /// (at least 1).
    pub fn bind_with<D: 'static>(
        lp: &mut Loop<D>,
        addr: SocketAddr,
        opts: &ListenOptions,
        bound: usize,
    ) -> Result<AsyncListener> {
        let st = new_state(bound);
        let cb = on_connection::<D>(Rc::clone(&st));
        let l = Listener::listen(lp, addr, opts, cb)?;
        Self::finish(lp, l, st)
    }

    /// Binds and listens on a Unix-socket path (removed on close).
    pub fn bind_path<D: 'static>(
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
    ) -> Result<AsyncListener> {
        let st = new_state(ACCEPT_QUEUE);
        let cb = on_connection::<D>(Rc::clone(&st));
        let l = Listener::listen_path(lp, path, &ListenOptions::default(), cb)?;
        Self::finish(lp, l, st)
    }

    fn finish<D: 'static>(
        lp: &mut Loop<D>,
        l: Listener,
        st: Rc<RefCell<State>>,
    ) -> Result<AsyncListener> {
        let addr = match l.local_addr(lp) {
            Ok(a) => a,
            Err(e) => {
                let _ = l.close(lp, |_, _| {});
                return Err(e);
            }
        };
        Ok(AsyncListener {
            l,
            addr,
            st,
            ops: ops::<D>(),
        })
    }

    /// The address listened on (port 0 resolved).
    pub fn local_addr(&self) -> &Address {
        &self.addr
    }

    /// The stream-layer id.
    pub fn id(&self) -> Listener {
        self.l
    }

    /// The next connection (in accept order), or the accept error the
    /// listener met. Cancel-safe: dropped before it is ready, it took no
    /// connection.
    pub fn accept(&self) -> Accept<'_> {
        Accept { l: self }
    }

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<Result<AsyncStream>> {
        let mut st = self.st.borrow_mut();
        let item = st.queue.pop_front();
        if st.declined && st.queue.len() < st.bound {
            // Room again: take the connection the callback left pending,
            // which resumes the listener.
            st.declined = false;
            let (l, ops) = (self.l, self.ops);
            match with_any_loop(|lp| (ops.accept)(lp, l)) {
                Some(Ok(s)) => st.queue.push_back(Ok(s)),
                Some(Err(e)) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Some(Err(e)) => st.queue.push_back(Err(e)),
                None => st.declined = true,
            }
        }
        match item {
            Some(Ok(s)) => Poll::Ready(Ok(AsyncStream::adopt(s, self.ops))),
            Some(Err(e)) => Poll::Ready(Err(e)),
            None => match st.queue.pop_front() {
                Some(Ok(s)) => Poll::Ready(Ok(AsyncStream::adopt(s, self.ops))),
                Some(Err(e)) => Poll::Ready(Err(e)),
                None => {
                    match &st.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => st.waker = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            },
        }
    }
}

fn new_state(bound: usize) -> Rc<RefCell<State>> {
    Rc::new(RefCell::new(State {
        queue: VecDeque::new(),
        bound: bound.max(1),
        declined: false,
        waker: None,
        orphaned: false,
    }))
}

/// The listener's connection callback.
fn on_connection<D: 'static>(
    st: Rc<RefCell<State>>,
) -> impl FnMut(&mut Loop<D>, &mut D, Listener, Result<()>) + 'static {
    move |lp, _, l, r| {
        let mut s = st.borrow_mut();
        if s.orphaned {
            drop(s);
            close_all(lp, l, &st);
            return;
        }
        let room = s.queue.len() < s.bound;
        match r {
            Ok(()) if room => match l.accept(lp) {
                Ok(c) => s.queue.push_back(Ok(c)),
                Err(e) => s.queue.push_back(Err(e)),
            },
            Ok(()) => s.declined = true,
            Err(e) if room => s.queue.push_back(Err(e)),
            Err(e) => tracing::debug!(listener = %l, error = %e, "accept error, queue full"),
        }
        let w = s.waker.take();
        drop(s);
        if let Some(w) = w {
            w.wake();
        }
    }
}

fn close_all<D: 'static>(lp: &mut Loop<D>, l: Listener, st: &RefCell<State>) {
    let queued: Vec<_> = st.borrow_mut().queue.drain(..).collect();
    for s in queued.into_iter().flatten() {
        let _ = s.close(lp, |_, _| {});
    }
    if !l.is_closing(lp) {
        let _ = l.close(lp, |_, _| {});
    }
}

impl Drop for AsyncListener {
    fn drop(&mut self) {
        let (l, ops) = (self.l, self.ops);
        let queued: Vec<_> = self.st.borrow_mut().queue.drain(..).collect();
        let done = with_any_loop(|lp| {
            for s in queued.iter().flatten() {
                (ops.close)(lp, *s);
            }
            (ops.close_listener)(lp, l);
        });
        if done.is_none() {
            let mut st = self.st.borrow_mut();
            st.queue.extend(queued);
            st.orphaned = true;
        }
    }
}

/// The future of [`AsyncListener::accept`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Accept<'a> {
    l: &'a AsyncListener,
}

impl Future for Accept<'_> {
    type Output = Result<AsyncStream>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<AsyncStream>> {
        self.l.poll_accept(cx)
    }
}
