//! The Node.js level of UDP: `dgram.Socket` ([`DgramSocket`]), Node.js
//! v20's `lib/dgram.js` on the libuv-level [`Udp`]'s public surface.
//!
//! # Invariants
//!
//! - **Addresses are looked up, always asynchronously**: an IP literal
//!   resolves on the next tick (Node's `dns.lookup` does
//!   `process.nextTick`), a name on loop-fs's pool; so `bind` never binds
//!   from inside the call and `listening` comes on a later tick.
//! - **Queued until listening.** A `send`, `connect` or `close` made while
//!   the socket binds (explicitly, or by the implicit bind of a first
//!   `send`/`connect`) waits in a queue run right after the `listening`
//!   listeners registered before it, in order (Node's `enqueue`).
//! - **Completions on the next tick**: a datagram sent at once (Node tries
//!   `uv_udp_try_send` first) has its callback on the next tick; one that
//!   waited has it from the libuv level's send callback. `close` emits
//!   `close` on the next tick.
//! - **`message` in the poll phase**, through [`Loop::make_callback`] (so
//!   the nextTick and microtask queues drain after each datagram).
//! - **One emit, one callback context.** The other events are emitted from
//!   inside a callback that is already a `MakeCallback` (a nextTick
//!   callback, a loop-fs completion, the libuv level's receive callback):
//!   their listeners are called in a row, as Node's `emit` does, and the
//!   queues drain once after them all; draining between two listeners
//!   would reorder ticks against Node (the ordering test catches it).
//! - Events fire once where Node's do (`listening`, `connect`, `close`):
//!   the handlers and the callbacks given to `bind`/`connect`/`close` are
//!   kept in registration order and called once.
//!
//! # Differences from Node.js
//!
//! - Misuse Node throws (`ERR_SOCKET_DGRAM_NOT_RUNNING`,
//!   `ERR_SOCKET_ALREADY_BOUND`, `ERR_SOCKET_DGRAM_IS_CONNECTED`,
//!   `ERR_SOCKET_DGRAM_NOT_CONNECTED`, `ERR_SOCKET_BAD_PORT`) is an `Err`
//!   with the same code and message.
//! - An `error` with no `on_error` handler is not thrown: it is handed to
//!   [`Loop::report_unhandled`] and `run` returns it
//!   (`Error::Unhandled { op: "dgram.on_error", .. }`) once the current
//!   callback is over.
//! - `on_message` etc. hold one handler each (a new one replaces the old).

use crate::error::{Error, Result};
use crate::udp::{BindFlags, Udp};
use loop_core::Loop;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A datagram socket's family (`dgram.createSocket('udp4' | 'udp6')`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DgramType {
    /// IPv4.
    Udp4,
    /// IPv6 (and IPv4 through mapped addresses, unless `ipv6_only`).
    Udp6,
}

/// Options of [`DgramSocket::create`] (`dgram.createSocket(options)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DgramOptions {
    /// The family.
    pub kind: DgramType,
    /// `reuseAddr`: `SO_REUSEADDR` on bind.
    pub reuse_addr: bool,
    /// `ipv6Only`: `IPV6_V6ONLY` on bind (udp6).
    pub ipv6_only: bool,
}

impl DgramOptions {
    /// Default options for `kind`.
    pub fn new(kind: DgramType) -> DgramOptions {
        DgramOptions {
            kind,
            reuse_addr: false,
            ipv6_only: false,
        }
    }
}

/// The sender of a datagram (Node's `rinfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteInfo {
    /// The sender's address.
    pub address: IpAddr,
    /// `"IPv4"` or `"IPv6"`.
    pub family: &'static str,
    /// The sender's port.
    pub port: u16,
    /// The datagram's size.
    pub size: usize,
}

/// A `dgram.Socket`: a small `Copy` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DgramSocket(Udp);

/// A once-callback of a socket event (`listening`, `connect`, `close`).
pub type DgramCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, DgramSocket)>;
type MessageCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, DgramSocket, &[u8], RemoteInfo)>;
type ErrorCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, DgramSocket, Error)>;
/// A `send` callback: `(err, bytes)` as a `Result`.
pub type DgramSendCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Result<usize>)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum BindState {
    Unbound,
    Binding,
    Bound,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ConnectState {
    Disconnected,
    Connecting,
    Connected,
}

enum Listening<D> {
    User(DgramCb<D>),
    /// Runs the queue (Node's `onListenSuccess`).
    Flush,
}

enum Job<D> {
    Send(Vec<u8>, Option<u16>, Option<String>, Option<DgramSendCb<D>>),
    Connect(u16, Option<String>),
    Close,
}

struct State<D> {
    opts: DgramOptions,
    bind: BindState,
    connect: ConnectState,
    closed: bool,
    queue: Vec<Job<D>>,
    listening: Vec<Listening<D>>,
    connect_cbs: Vec<DgramCb<D>>,
    close_cbs: Vec<DgramCb<D>>,
    on_message: Option<MessageCb<D>>,
    on_error: Option<ErrorCb<D>>,
}

struct Dgrams<D>(HashMap<Udp, State<D>>);

fn table<D: 'static>(lp: &mut Loop<D>) -> &mut HashMap<Udp, State<D>> {
    &mut lp
        .extension_or_insert_with(|_| Dgrams::<D>(HashMap::new()))
        .0
}

fn st<D: 'static>(lp: &mut Loop<D>, s: DgramSocket) -> Option<&mut State<D>> {
    lp.extension_mut::<Dgrams<D>>()?.0.get_mut(&s.0)
}

fn st_ref<D: 'static>(lp: &Loop<D>, s: DgramSocket) -> Option<&State<D>> {
    lp.extension::<Dgrams<D>>()?.0.get(&s.0)
}

fn not_running(op: &'static str) -> Error {
    Error::node(
        op,
        "ERR_SOCKET_DGRAM_NOT_RUNNING",
        io::ErrorKind::NotConnected,
        "Not running",
    )
}

fn running<'a, D: 'static>(
    lp: &'a mut Loop<D>,
    s: DgramSocket,
    op: &'static str,
) -> Result<&'a mut State<D>> {
    match st(lp, s) {
        Some(x) if !x.closed => Ok(x),
        _ => Err(not_running(op)),
    }
}

fn already_bound() -> Error {
    Error::node(
        "bind",
        "ERR_SOCKET_ALREADY_BOUND",
        io::ErrorKind::AddrInUse,
        "Socket is already bound",
    )
}

fn is_connected(op: &'static str) -> Error {
    Error::node(
        op,
        "ERR_SOCKET_DGRAM_IS_CONNECTED",
        io::ErrorKind::AlreadyExists,
        "Already connected",
    )
}

fn not_connected(op: &'static str) -> Error {
    Error::node(
        op,
        "ERR_SOCKET_DGRAM_NOT_CONNECTED",
        io::ErrorKind::NotConnected,
        "Not connected",
    )
}

/// Resolves `host` for the socket's family: an IP literal on the next
/// tick, a name on the pool (its first address of the family).
fn lookup<D: 'static>(
    lp: &mut Loop<D>,
    kind: DgramType,
    host: &str,
    port: u16,
    cb: impl FnOnce(&mut Loop<D>, &mut D, Result<SocketAddr>) + 'static,
) {
    if let Ok(ip) = host.parse::<IpAddr>() {
        let a = SocketAddr::new(ip, port);
        lp.next_tick(move |lp, d| cb(lp, d, Ok(a)));
        return;
    }
    let h = host.to_string();
    let want_v6 = kind == DgramType::Udp6;
    // Shared: the pool's callback, or the failure to submit, calls it.
    let cb = std::rc::Rc::new(std::cell::Cell::new(Some(cb)));
    let cb2 = cb.clone();
    let r = loop_fs::dns::lookup(lp, host, port, move |lp, d, r| {
        let r = r
            .and_then(|v| {
                v.into_iter()
                    .find(|a| a.is_ipv6() == want_v6)
                    .ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotFound, "no address of the family")
                    })
            })
            .map_err(|e| Error::io("getaddrinfo", e, Some(&h)));
        if let Some(cb) = cb2.take() {
            cb(lp, d, r)
        }
    });
    if let Err(e) = r {
        let err = Error::io("getaddrinfo", io::Error::other(e), Some(&host));
        if let Some(cb) = cb.take() {
            lp.next_tick(move |lp, d| cb(lp, d, Err(err)));
        }
    }
}

/// Emits `error` (Node's `emit('error')`); with no handler, Node throws:
/// the error reaches `run`'s result ([`Loop::report_unhandled`]).
fn emit_error<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: DgramSocket, err: Error) {
    let Some(mut cb) = st(lp, s).and_then(|x| x.on_error.take()) else {
        lp.report_unhandled("dgram.on_error", Box::new(err));
        return;
    };
    cb(lp, d, s, err);
    if let Some(x) = st(lp, s) {
        if x.on_error.is_none() {
            x.on_error = Some(cb);
        }
    }
}

fn any_addr(kind: DgramType) -> &'static str {
    match kind {
        DgramType::Udp4 => "0.0.0.0",
        DgramType::Udp6 => "::",
    }
}

impl DgramSocket {
    /// `dgram.createSocket(options)`.
    pub fn create<D: 'static>(lp: &mut Loop<D>, opts: DgramOptions) -> DgramSocket {
        let u = Udp::new(lp);
        table(lp).insert(
            u,
            State {
                opts,
                bind: BindState::Unbound,
                connect: ConnectState::Disconnected,
                closed: false,
                queue: Vec::new(),
                listening: Vec::new(),
                connect_cbs: Vec::new(),
                close_cbs: Vec::new(),
                on_message: None,
                on_error: None,
            },
        );
        DgramSocket(u)
    }

    /// The libuv-level handle below, for the options this layer does not
    /// wrap.
    pub fn udp(self) -> Udp {
        self.0
    }

    /// `socket.on('message', f)`: runs in the poll phase per datagram.
    pub fn on_message<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, DgramSocket, &[u8], RemoteInfo) + 'static,
    ) {
        if let Some(x) = st(lp, self) {
            x.on_message = Some(Box::new(f));
        }
    }

    /// `socket.on('error', f)`. Without one, an error (a failed bind, a
    /// failed lookup of a `send` without a callback, a receive error) is
    /// what Node throws: `run` returns it as `Error::Unhandled { op:
    /// "dgram.on_error", .. }`.
    pub fn on_error<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, DgramSocket, Error) + 'static,
    ) {
        if let Some(x) = st(lp, self) {
            x.on_error = Some(Box::new(f));
        }
    }

    /// `socket.on('listening', f)` (fires once).
    pub fn on_listening<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnOnce(&mut Loop<D>, &mut D, DgramSocket) + 'static,
    ) {
        if let Some(x) = st(lp, self) {
            x.listening.push(Listening::User(Box::new(f)));
        }
    }

    /// `socket.on('close', f)` (fires once).
    pub fn on_close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnOnce(&mut Loop<D>, &mut D, DgramSocket) + 'static,
    ) {
        if let Some(x) = st(lp, self) {
            x.close_cbs.push(Box::new(f));
        }
    }

    /// `socket.on('connect', f)` (fires once per connect).
    pub fn on_connect<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnOnce(&mut Loop<D>, &mut D, DgramSocket) + 'static,
    ) {
        if let Some(x) = st(lp, self) {
            x.connect_cbs.push(Box::new(f));
        }
    }

    /// `socket.bind(port, address, cb)`: `address` defaults to `0.0.0.0`
    /// (udp4) or `::` (udp6); `cb` becomes a `listening` listener.
    /// `listening` comes on a later tick, or `error` (`bind EADDRINUSE
    /// 0.0.0.0:41234`). `ERR_SOCKET_ALREADY_BOUND` if bound or binding.
    pub fn bind<D: 'static>(
        self,
        lp: &mut Loop<D>,
        port: u16,
        address: Option<&str>,
        cb: Option<DgramCb<D>>,
    ) -> Result<()> {
        let x = running(lp, self, "bind")?;
        if x.bind != BindState::Unbound {
            return Err(already_bound());
        }
        x.bind = BindState::Binding;
        if let Some(cb) = cb {
            x.listening.push(Listening::User(cb));
        }
        let kind = x.opts.kind;
        let host = address.unwrap_or(any_addr(kind)).to_string();
        lookup(lp, kind, &host, port, move |lp, d, r| bound(lp, d, self, r));
        Ok(())
    }

    /// `socket.bind(handle)`: takes an already bound UDP socket (one
    /// received over IPC, Node's `dgram.Socket` handle conversion) and
    /// starts receiving on it at once: the socket is bound on return
    /// (`address`, `send` work), `listening` comes on the next tick.
    /// `ERR_SOCKET_ALREADY_BOUND` if bound or binding; `EINVAL` (the fd
    /// closed) if `fd` is not a UDP socket.
    pub fn bind_fd<D: 'static>(self, lp: &mut Loop<D>, fd: std::os::fd::OwnedFd) -> Result<()> {
        let x = running(lp, self, "bind")?;
        if x.bind != BindState::Unbound {
            return Err(already_bound());
        }
        let udp = socket2::SockRef::from(&fd)
            .r#type()
            .is_ok_and(|t| t == socket2::Type::DGRAM);
        if !udp {
            return Err(Error::misuse("bind", libc::EINVAL, "not a UDP socket"));
        }
        self.0.open(lp, std::net::UdpSocket::from(fd))?;
        self.0.recv_start(lp, on_recv)?;
        if let Some(x) = st(lp, self) {
            x.bind = BindState::Bound;
        }
        // Node emits `listening` from inside `bind(handle)`; here no
        // callback runs from inside a call: it comes on the next tick.
        lp.next_tick(move |lp, d| emit_listening(lp, d, self));
        Ok(())
    }

    /// A copy of the socket's fd, to send it to another process
    /// (`child.send(msg, socket)`: loop-process's `SendHandle::Dgram`).
    /// The socket must be bound: `write EBADF` otherwise, as Node's
    /// `send` of an unbound `dgram.Socket`.
    pub fn try_clone_fd<D: 'static>(self, lp: &mut Loop<D>) -> Result<std::os::fd::OwnedFd> {
        let x = running(lp, self, "write")?;
        if x.bind != BindState::Bound {
            return Err(Error::misuse(
                "write",
                libc::EBADF,
                "the socket is not bound",
            ));
        }
        self.0.try_clone_fd(lp).map_err(|e| e.with_op("write"))
    }

    /// The socket's family (`socket.type`).
    pub fn kind<D: 'static>(self, lp: &Loop<D>) -> Option<DgramType> {
        st_ref(lp, self).map(|x| x.opts.kind)
    }

    /// `socket.send(msg, port, address, cb)`: `port` and `address` are
    /// `None` on a connected socket; `address` defaults to `127.0.0.1` or
    /// `::1`. An unbound socket binds first (to port 0), the datagram
    /// waiting until it listens. `cb` gets the bytes sent or the error.
    pub fn send<D: 'static>(
        self,
        lp: &mut Loop<D>,
        bufs: &[&[u8]],
        port: Option<u16>,
        address: Option<&str>,
        cb: Option<DgramSendCb<D>>,
    ) -> Result<()> {
        let x = running(lp, self, "send")?;
        let connected = x.connect == ConnectState::Connected;
        match port {
            Some(_) if connected => return Err(is_connected("send")),
            Some(0) | None if !connected => {
                return Err(Error::node(
                    "send",
                    "ERR_SOCKET_BAD_PORT",
                    io::ErrorKind::InvalidInput,
                    "Port should be > 0 and < 65536",
                ))
            }
            _ => {}
        }
        let data = bufs.concat();
        let job = Job::Send(data, port, address.map(str::to_string), cb);
        self.run_or_queue(lp, job)
    }

    /// Runs `job` now if bound, else queues it (binding first if unbound).
    fn run_or_queue<D: 'static>(self, lp: &mut Loop<D>, job: Job<D>) -> Result<()> {
        let x = running(lp, self, "send")?;
        match x.bind {
            BindState::Bound => {
                run_job(lp, self, job);
                Ok(())
            }
            BindState::Binding => {
                enqueue(x, job);
                Ok(())
            }
            BindState::Unbound => {
                self.bind(lp, 0, None, None)?;
                if let Some(x) = st(lp, self) {
                    enqueue(x, job);
                }
                Ok(())
            }
        }
    }

    /// `socket.connect(port, address, cb)`: binds first if unbound; `connect`
    /// (or `cb`) on a later tick, or `error` (`connect ECONNREFUSED …`).
    /// `ERR_SOCKET_DGRAM_IS_CONNECTED` if connected or connecting.
    pub fn connect<D: 'static>(
        self,
        lp: &mut Loop<D>,
        port: u16,
        address: Option<&str>,
        cb: Option<DgramCb<D>>,
    ) -> Result<()> {
        let x = running(lp, self, "connect")?;
        if x.connect != ConnectState::Disconnected {
            return Err(is_connected("connect"));
        }
        x.connect = ConnectState::Connecting;
        if let Some(cb) = cb {
            x.connect_cbs.push(cb);
        }
        self.run_or_queue(lp, Job::Connect(port, address.map(str::to_string)))
    }

    /// `socket.disconnect()`; `ERR_SOCKET_DGRAM_NOT_CONNECTED` if not
    /// connected.
    pub fn disconnect<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let x = running(lp, self, "disconnect")?;
        if x.connect != ConnectState::Connected {
            return Err(not_connected("disconnect"));
        }
        x.connect = ConnectState::Disconnected;
        self.0.disconnect(lp)
    }

    /// `socket.remoteAddress()`; `ERR_SOCKET_DGRAM_NOT_CONNECTED` if not
    /// connected.
    pub fn remote_address<D: 'static>(self, lp: &Loop<D>) -> Result<SocketAddr> {
        let x = st_ref(lp, self)
            .filter(|x| !x.closed)
            .ok_or_else(|| not_running("remoteAddress"))?;
        if x.connect != ConnectState::Connected {
            return Err(not_connected("remoteAddress"));
        }
        self.0.peer_addr(lp)
    }

    /// `socket.address()`: `getsockname EBADF` before binding.
    pub fn address<D: 'static>(self, lp: &Loop<D>) -> Result<SocketAddr> {
        if st_ref(lp, self).is_none_or(|x| x.closed) {
            return Err(not_running("address"));
        }
        self.0.local_addr(lp)
    }

    /// `socket.close(cb)`: `cb` becomes a `close` listener; `close` is
    /// emitted on the next tick (after the queued sends and connects, if
    /// any wait for `listening`). `ERR_SOCKET_DGRAM_NOT_RUNNING` if closed.
    pub fn close<D: 'static>(self, lp: &mut Loop<D>, cb: Option<DgramCb<D>>) -> Result<()> {
        let x = running(lp, self, "close")?;
        if let Some(cb) = cb {
            x.close_cbs.push(cb);
        }
        // Node queues the close only behind queued work (`state.queue`);
        // a bare bind in progress is abandoned: its lookup finds the
        // socket closed and `listening` never comes.
        if !x.queue.is_empty() {
            enqueue(x, Job::Close);
            return Ok(());
        }
        close_now(lp, self);
        Ok(())
    }

    /// `socket.setBroadcast(on)`.
    pub fn set_broadcast<D: 'static>(self, lp: &Loop<D>, on: bool) -> Result<()> {
        self.0
            .set_broadcast(lp, on)
            .map_err(|e| e.with_op("setBroadcast"))
    }

    /// `socket.setTTL(ttl)`.
    pub fn set_ttl<D: 'static>(self, lp: &Loop<D>, ttl: u32) -> Result<()> {
        self.0.set_ttl(lp, ttl).map_err(|e| e.with_op("setTTL"))
    }

    /// `socket.setMulticastTTL(ttl)`.
    pub fn set_multicast_ttl<D: 'static>(self, lp: &Loop<D>, ttl: u32) -> Result<()> {
        self.0
            .set_multicast_ttl(lp, ttl)
            .map_err(|e| e.with_op("setMulticastTTL"))
    }

    /// `socket.setMulticastLoopback(on)`.
    pub fn set_multicast_loopback<D: 'static>(self, lp: &Loop<D>, on: bool) -> Result<()> {
        self.0
            .set_multicast_loop(lp, on)
            .map_err(|e| e.with_op("setMulticastLoopback"))
    }

    /// `socket.addMembership(group, iface)` for an IPv4 group.
    pub fn add_membership<D: 'static>(
        self,
        lp: &Loop<D>,
        group: Ipv4Addr,
        iface: Option<Ipv4Addr>,
    ) -> Result<()> {
        let iface = iface.unwrap_or(Ipv4Addr::UNSPECIFIED);
        self.0
            .set_membership_v4(lp, group, iface, crate::udp::Membership::Join)
            .map_err(|e| e.with_op("addMembership"))
    }

    /// `socket.dropMembership(group, iface)` for an IPv4 group.
    pub fn drop_membership<D: 'static>(
        self,
        lp: &Loop<D>,
        group: Ipv4Addr,
        iface: Option<Ipv4Addr>,
    ) -> Result<()> {
        let iface = iface.unwrap_or(Ipv4Addr::UNSPECIFIED);
        self.0
            .set_membership_v4(lp, group, iface, crate::udp::Membership::Leave)
            .map_err(|e| e.with_op("dropMembership"))
    }

    /// `socket.setRecvBufferSize(size)`.
    pub fn set_recv_buffer_size<D: 'static>(self, lp: &Loop<D>, size: usize) -> Result<()> {
        self.0.set_recv_buffer_size(lp, size)
    }

    /// `socket.setSendBufferSize(size)`.
    pub fn set_send_buffer_size<D: 'static>(self, lp: &Loop<D>, size: usize) -> Result<()> {
        self.0.set_send_buffer_size(lp, size)
    }
}

fn enqueue<D: 'static>(x: &mut State<D>, job: Job<D>) {
    if x.queue.is_empty() {
        x.listening.push(Listening::Flush);
    }
    x.queue.push(job);
}

/// The bind's lookup came back: bind, start receiving, emit `listening`.
fn bound<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: DgramSocket, r: Result<SocketAddr>) {
    let Some(x) = st(lp, s).filter(|x| !x.closed) else {
        return;
    };
    let opts = x.opts;
    let r = r.and_then(|addr| {
        let flags = BindFlags {
            ipv6_only: opts.ipv6_only,
            reuse_addr: opts.reuse_addr,
        };
        s.0.bind(lp, addr, flags)
    });
    if let Err(e) = r {
        if let Some(x) = st(lp, s) {
            x.bind = BindState::Unbound;
        }
        emit_error(lp, d, s, e);
        return;
    }
    if let Err(e) = s.0.recv_start(lp, on_recv) {
        emit_error(lp, d, s, e.with_op("recvStart"));
        return;
    }
    let Some(x) = st(lp, s) else { return };
    x.bind = BindState::Bound;
    emit_listening(lp, d, s);
}

/// `listening`: its listeners and the queue's run, in registration order.
fn emit_listening<D: 'static>(lp: &mut Loop<D>, d: &mut D, s: DgramSocket) {
    let Some(x) = st(lp, s).filter(|x| !x.closed) else {
        return;
    };
    let listeners = std::mem::take(&mut x.listening);
    for l in listeners {
        if lp.is_unwinding() {
            return;
        }
        match l {
            Listening::User(cb) => cb(lp, d, s),
            Listening::Flush => {
                let jobs = st(lp, s)
                    .map(|x| std::mem::take(&mut x.queue))
                    .unwrap_or_default();
                for j in jobs {
                    run_job(lp, s, j);
                }
            }
        }
    }
}

fn run_job<D: 'static>(lp: &mut Loop<D>, s: DgramSocket, job: Job<D>) {
    if st(lp, s).is_none_or(|x| x.closed) {
        return;
    }
    match job {
        Job::Send(data, port, host, cb) => do_send(lp, s, data, port, host, cb),
        Job::Connect(port, host) => do_connect(lp, s, port, host),
        Job::Close => close_now(lp, s),
    }
}

fn default_host(kind: DgramType) -> String {
    match kind {
        DgramType::Udp4 => Ipv4Addr::LOCALHOST.to_string(),
        DgramType::Udp6 => Ipv6Addr::LOCALHOST.to_string(),
    }
}

fn do_send<D: 'static>(
    lp: &mut Loop<D>,
    s: DgramSocket,
    data: Vec<u8>,
    port: Option<u16>,
    host: Option<String>,
    cb: Option<DgramSendCb<D>>,
) {
    let Some(x) = st(lp, s) else { return };
    let kind = x.opts.kind;
    let Some(port) = port else {
        // Connected: no lookup.
        send_now(lp, s, data, None, cb);
        return;
    };
    let host = host.unwrap_or_else(|| default_host(kind));
    lookup(lp, kind, &host, port, move |lp, d, r| {
        if st(lp, s).is_none_or(|x| x.closed) {
            return;
        }
        match r {
            Ok(a) => send_now(lp, s, data, Some(a), cb),
            Err(e) => match cb {
                Some(cb) => cb(lp, d, Err(e)),
                None => emit_error(lp, d, s, e),
            },
        }
    });
}

/// Node's `UDPWrap::Send`: `try_send` first when nothing is queued, the
/// callback on the next tick; else the libuv send queue.
fn send_now<D: 'static>(
    lp: &mut Loop<D>,
    s: DgramSocket,
    data: Vec<u8>,
    addr: Option<SocketAddr>,
    cb: Option<DgramSendCb<D>>,
) {
    let tried = if s.0.send_queue_count(lp) == 0 {
        match s.0.try_send(lp, &[&data], addr) {
            Err(e) if e.code() == "EAGAIN" => None,
            r => Some(r),
        }
    } else {
        None
    };
    match tried {
        Some(r) => {
            if let Some(cb) = cb {
                lp.next_tick(move |lp, d| cb(lp, d, r.map_err(|e| e.with_op("send"))));
            }
        }
        None => {
            let r = s.0.send(lp, &[&data], addr, move |lp, d, r| {
                if let Some(cb) = cb {
                    cb(lp, d, r);
                }
            });
            if let Err(e) = r {
                tracing::debug!(socket = ?s, error = %e, "send failed");
            }
        }
    }
}

fn do_connect<D: 'static>(lp: &mut Loop<D>, s: DgramSocket, port: u16, host: Option<String>) {
    let Some(x) = st(lp, s) else { return };
    let kind = x.opts.kind;
    let host = host.unwrap_or_else(|| default_host(kind));
    lookup(lp, kind, &host, port, move |lp, d, r| {
        if st(lp, s).is_none_or(|x| x.closed) {
            return;
        }
        let r = r.and_then(|a| s.0.connect(lp, a));
        let Some(x) = st(lp, s) else { return };
        match r {
            Ok(()) => {
                x.connect = ConnectState::Connected;
                lp.next_tick(move |lp, d| {
                    let cbs = st(lp, s)
                        .map(|x| std::mem::take(&mut x.connect_cbs))
                        .unwrap_or_default();
                    for cb in cbs {
                        cb(lp, d, s);
                    }
                });
            }
            Err(e) => {
                x.connect = ConnectState::Disconnected;
                x.connect_cbs.clear();
                lp.next_tick(move |lp, d| emit_error(lp, d, s, e));
            }
        }
        let _ = d;
    });
}

fn close_now<D: 'static>(lp: &mut Loop<D>, s: DgramSocket) {
    let Some(x) = st(lp, s) else { return };
    x.closed = true;
    x.queue.clear();
    let _ = s.0.recv_stop(lp);
    let _ = s.0.close(lp, move |lp, _| {
        if let Some(t) = lp.extension_mut::<Dgrams<D>>() {
            t.0.remove(&s.0);
        }
    });
    lp.next_tick(move |lp, d| {
        let cbs = st(lp, s)
            .map(|x| std::mem::take(&mut x.close_cbs))
            .unwrap_or_default();
        for cb in cbs {
            cb(lp, d, s);
        }
    });
}

/// The libuv-level receive callback: `message` (or `error`).
fn on_recv<D: 'static>(lp: &mut Loop<D>, d: &mut D, u: Udp, r: Result<crate::udp::Datagram<'_>>) {
    let s = DgramSocket(u);
    match r {
        Ok(dg) => {
            let Some(mut cb) = st(lp, s).and_then(|x| x.on_message.take()) else {
                return;
            };
            let info = RemoteInfo {
                address: dg.from.ip(),
                family: if dg.from.is_ipv6() { "IPv6" } else { "IPv4" },
                port: dg.from.port(),
                size: dg.data.len(),
            };
            let data = dg.data;
            lp.make_callback(d, "dgram message", |lp, d| cb(lp, d, s, data, info));
            if let Some(x) = st(lp, s) {
                if x.on_message.is_none() {
                    x.on_message = Some(cb);
                }
            }
        }
        Err(e) => emit_error(lp, d, s, e.with_op("recvmsg")),
    }
}
