//! [`AsyncUdp`]: UDP for tasks — `send_to().await`, `recv_from().await`,
//! on the libuv-level [`Udp`].
//!
//! # Invariants
//!
//! - Receiving starts at the first `recv_from` and goes on while fewer
//!   than [`RECV_QUEUE`] datagrams wait; at the bound it stops
//!   (`recv_stop`: later datagrams wait in the kernel's buffer, which
//!   drops what does not fit, as UDP does) and the `recv_from` that makes
//!   room resumes it. Datagrams are kept in order, each in a buffer taken
//!   from a pool of emptied ones: steady state allocates no buffer.
//! - `send_to` tries the send at once (`try_send`); when the socket (or
//!   the handle's queue) is full, it queues the datagram (`Udp::send`) and
//!   waits for its completion. Dropped while waiting, the datagram still
//!   goes (it was handed over).
//! - Dropping the socket closes it, as [`super::AsyncStream`] does.

use super::ops::on;
use crate::error::{Error, Result};
use crate::{BindFlags, Datagram, Udp};
use loop_core::task::{with_any_loop, AnyLoop};
use loop_core::Loop;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Most datagrams an [`AsyncUdp`] keeps unread before it stops receiving.
pub const RECV_QUEUE: usize = 64;

struct State {
    /// Received, in order: (payload, sender).
    queue: VecDeque<(Vec<u8>, SocketAddr)>,
    /// Emptied buffers, reused for the next datagrams.
    pool: Vec<Vec<u8>>,
    receiving: bool,
    err: Option<Error>,
    waker: Option<Waker>,
    orphaned: bool,
}

type Shared = RefCell<State>;

/// The completion of one queued send.
type SendCell = Rc<RefCell<(Option<Result<usize>>, Option<Waker>)>>;

/// Queues a datagram whose completion goes to a [`SendCell`].
type SendFn = fn(&mut dyn AnyLoop, Udp, &[u8], SocketAddr, SendCell) -> Result<()>;

struct Ops {
    recv_start: fn(&mut dyn AnyLoop, Udp, &Rc<Shared>) -> Result<()>,
    try_send: fn(&mut dyn AnyLoop, Udp, &[u8], SocketAddr) -> Result<usize>,
    send: SendFn,
    local_addr: fn(&mut dyn AnyLoop, Udp) -> Result<SocketAddr>,
    close: fn(&mut dyn AnyLoop, Udp),
}

struct For<D>(PhantomData<fn() -> D>);

impl<D: 'static> For<D> {
    const OPS: Ops = Ops {
        recv_start: recv_start::<D>,
        try_send: try_send::<D>,
        send: send::<D>,
        local_addr: local_addr::<D>,
        close: close::<D>,
    };
}

fn recv_start<D: 'static>(lp: &mut dyn AnyLoop, u: Udp, sh: &Rc<Shared>) -> Result<()> {
    let lp = on::<D>(lp, "recv_start")?;
    let sh = Rc::clone(sh);
    u.recv_start(lp, move |lp: &mut Loop<D>, _: &mut D, u, r| {
        on_recv(lp, u, &sh, r)
    })
}

fn try_send<D: 'static>(lp: &mut dyn AnyLoop, u: Udp, b: &[u8], to: SocketAddr) -> Result<usize> {
    u.try_send(on::<D>(lp, "send")?, &[b], Some(to))
}

fn send<D: 'static>(
    lp: &mut dyn AnyLoop,
    u: Udp,
    b: &[u8],
    to: SocketAddr,
    cell: SendCell,
) -> Result<()> {
    u.send(
        on::<D>(lp, "send")?,
        &[b],
        Some(to),
        move |_, _: &mut D, r| {
            let w = {
                let mut c = cell.borrow_mut();
                c.0 = Some(r);
                c.1.take()
            };
            if let Some(w) = w {
                w.wake();
            }
        },
    )
}

fn local_addr<D: 'static>(lp: &mut dyn AnyLoop, u: Udp) -> Result<SocketAddr> {
    u.local_addr(on::<D>(lp, "getsockname")?)
}

fn close<D: 'static>(lp: &mut dyn AnyLoop, u: Udp) {
    if let Ok(lp) = on::<D>(lp, "close") {
        if u.exists(lp) && !u.is_closing(lp) {
            let _ = u.close(lp, |_, _| {});
        }
    }
}

/// The receive callback: queue (in a pooled buffer), stop at the bound,
/// wake the receiver.
fn on_recv<D: 'static>(lp: &mut Loop<D>, u: Udp, sh: &Shared, r: Result<Datagram<'_>>) {
    let mut st = sh.borrow_mut();
    if st.orphaned {
        drop(st);
        let _ = u.close(lp, |_, _| {});
        return;
    }
    match r {
        Ok(d) => {
            let mut b = st.pool.pop().unwrap_or_default();
            b.extend_from_slice(d.data);
            st.queue.push_back((b, d.from));
        }
        Err(e) => st.err = Some(e),
    }
    let stop = st.queue.len() >= RECV_QUEUE;
    if stop {
        st.receiving = false;
    }
    let w = st.waker.take();
    drop(st);
    if stop {
        let _ = u.recv_stop(lp);
    }
    if let Some(w) = w {
        w.wake();
    }
}

/// A UDP socket for tasks; see the module docs of [`crate::future`].
pub struct AsyncUdp {
    u: Udp,
    sh: Rc<Shared>,
    ops: &'static Ops,
}

impl std::fmt::Debug for AsyncUdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncUdp").field("udp", &self.u).finish()
    }
}

impl AsyncUdp {
    /// A socket bound to `addr` (port 0 picks one: [`AsyncUdp::local_addr`]).
    pub fn bind<D: 'static>(lp: &mut Loop<D>, addr: SocketAddr) -> Result<AsyncUdp> {
        let u = Udp::new(lp);
        if let Err(e) = u.bind(lp, addr, BindFlags::default()) {
            let _ = u.close(lp, |_, _| {});
            return Err(e);
        }
        Ok(AsyncUdp {
            u,
            sh: Rc::new(RefCell::new(State {
                queue: VecDeque::new(),
                pool: Vec::new(),
                receiving: false,
                err: None,
                waker: None,
                orphaned: false,
            })),
            ops: &For::<D>::OPS,
        })
    }

    /// The libuv-level handle, for options (`set_broadcast`, memberships…).
    pub fn id(&self) -> Udp {
        self.u
    }

    /// The bound address (inside a task of its loop).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        let (u, ops) = (self.u, self.ops);
        with_any_loop(|lp| (ops.local_addr)(lp, u)).unwrap_or_else(|| Err(outside("getsockname")))
    }

    /// The next datagram, copied into `buf` (cut to its size, as
    /// `recvfrom` does): its length as copied and its sender; or a receive
    /// error. Cancel-safe: dropped before ready, it took no datagram.
    pub fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> RecvFrom<'a> {
        RecvFrom { u: self, buf }
    }

    /// Sends `buf` to `to`: the size sent, or the error naming the
    /// address (`send EMSGSIZE 127.0.0.1:9`).
    pub fn send_to<'a>(&'a self, buf: &'a [u8], to: SocketAddr) -> SendTo<'a> {
        SendTo {
            u: self,
            buf,
            to,
            cell: None,
        }
    }

    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<(usize, SocketAddr)>> {
        let mut st = self.sh.borrow_mut();
        if let Some((mut b, from)) = st.queue.pop_front() {
            let n = b.len().min(buf.len());
            buf[..n].copy_from_slice(&b[..n]);
            b.clear();
            st.pool.push(b);
            if !st.receiving && st.err.is_none() && st.queue.len() < RECV_QUEUE / 2 {
                if let Err(e) = self.start(&mut st) {
                    st.err = Some(e); // the next recv_from's
                }
            }
            return Poll::Ready(Ok((n, from)));
        }
        if let Some(e) = st.err.take() {
            return Poll::Ready(Err(e));
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        if !st.receiving {
            if let Err(e) = self.start(&mut st) {
                st.waker = None;
                return Poll::Ready(Err(e));
            }
        }
        Poll::Pending
    }

    fn start(&self, st: &mut State) -> Result<()> {
        let (u, ops, sh) = (self.u, self.ops, &self.sh);
        let r = with_any_loop(|lp| (ops.recv_start)(lp, u, sh))
            .unwrap_or_else(|| Err(outside("recv_start")));
        st.receiving = r.is_ok();
        r
    }
}

fn outside(op: &'static str) -> Error {
    Error::misuse(op, libc::EINVAL, "polled outside a task of its loop")
}

impl Drop for AsyncUdp {
    fn drop(&mut self) {
        let (u, ops) = (self.u, self.ops);
        if with_any_loop(|lp| (ops.close)(lp, u)).is_none() {
            self.sh.borrow_mut().orphaned = true;
        }
    }
}

/// The future of [`AsyncUdp::recv_from`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct RecvFrom<'a> {
    u: &'a AsyncUdp,
    buf: &'a mut [u8],
}

impl Future for RecvFrom<'_> {
    type Output = Result<(usize, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.u.poll_recv(cx, this.buf)
    }
}

/// The future of [`AsyncUdp::send_to`].
#[must_use = "futures do nothing unless awaited"]
pub struct SendTo<'a> {
    u: &'a AsyncUdp,
    buf: &'a [u8],
    to: SocketAddr,
    cell: Option<SendCell>,
}

impl std::fmt::Debug for SendTo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendTo")
            .field("to", &self.to)
            .field("queued", &self.cell.is_some())
            .finish()
    }
}

impl Future for SendTo<'_> {
    type Output = Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let this = self.get_mut();
        if let Some(cell) = &this.cell {
            let mut c = cell.borrow_mut();
            if let Some(r) = c.0.take() {
                return Poll::Ready(r);
            }
            c.1 = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let (u, ops, buf, to) = (this.u.u, this.u.ops, this.buf, this.to);
        let r = with_any_loop(|lp| match (ops.try_send)(lp, u, buf, to) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                let cell: SendCell = Rc::new(RefCell::new((None, None)));
                (ops.send)(lp, u, buf, to, Rc::clone(&cell)).map(|()| Err(cell))
            }
            r => r.map(Ok),
        });
        match r {
            None => Poll::Ready(Err(outside("send"))),
            Some(Ok(Ok(n))) => Poll::Ready(Ok(n)),
            Some(Ok(Err(cell))) => {
                cell.borrow_mut().1 = Some(cx.waker().clone());
                this.cell = Some(cell);
                Poll::Pending
            }
            Some(Err(e)) => Poll::Ready(Err(e.with_op("send"))),
        }
    }
}
