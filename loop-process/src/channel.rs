//! Node.js's IPC channel (`child.send` / `process.on('message')`), byte
//! for byte, on an [`Ipc`] stream: what a Node.js parent started with an
//! `'ipc'` stdio entry talks to, and what a Node.js child started by
//! [`SpawnOptions::node_ipc`](crate::SpawnOptions::node_ipc) finds as its
//! `process.channel`.
//!
//! # The wire (Node.js v20, `serialization: 'json'`)
//!
//! - Each message is `JSON.stringify(message) + "\n"`; the receiver splits
//!   on `\n` and parses each line.
//! - A message whose `cmd` is a string starting with `NODE_` (`"NODE_"`
//!   itself included: Node's test is "longer than 4 and starts with") is
//!   internal: never given to `on_message`.
//! - A handle travels as `{"cmd":"NODE_HANDLE","type":T,"msg":M}` with the
//!   fd attached to that line (`T` is `"net.Server"`, `"net.Socket"` or
//!   `"dgram.Socket"`, `M` the user's message; a `dgram.Socket` adds
//!   `"dgramType":"udp4"` or `"udp6"` after `msg`). The receiver answers
//!   `{"cmd":"NODE_HANDLE_ACK"}`, or `{"cmd":"NODE_HANDLE_NACK"}` when the
//!   line came without its fd; the sender keeps one handle in flight: the
//!   messages sent meanwhile wait in a queue until the ACK, and a NACK
//!   makes it send the handle again (three times at most, as Node), with
//!   a new copy of the fd, kept until the ACK.
//! - A disconnect is the channel's close: the peer reads EOF. A
//!   `disconnect` while a handle is in flight waits for its ACK.
//!
//! The lines Node writes for its own messages (`NODE_HANDLE`, the ACKs)
//! are reproduced byte for byte. A user's object is written with
//! serde_json's key order (sorted), where `JSON.stringify` keeps
//! insertion order: the peer parses the same value.
//!
//! # Invariants
//!
//! - Received handles become loop-net objects as Node's `handleConversion`
//!   makes them: a `net.Server` is a [`Server`] listening on the fd
//!   (`server.listen(handle)`), a `net.Socket` a [`Socket`] reading from
//!   it, a `dgram.Socket` a [`DgramSocket`] of the `dgramType` bound to it
//!   and receiving (`socket.bind(handle)`); the ACK is written before the
//!   message is handed over. With [`Channel::on_handle`] set, the fd is
//!   handed over as it is instead.
//! - A `dgram.Socket` is sent only bound, as Node (whose `uv_write2`
//!   fails with `EBADF` on a UDP handle without a socket): `send_handle`
//!   refuses an unbound one with `write EBADF`. As in Node, the sender's
//!   socket stays open: both processes then receive from it.
//! - The `on_message` and `on_disconnect` callbacks run through
//!   [`Loop::make_callback`] (the [`Ipc`] read callback's, then each
//!   handler's).

use crate::framing::{parse_line, LineBuffer, Message};
use crate::ipc::{HandleType, Ipc, IpcEvent};
use crate::Error;
use loop_core::slots::{GenSlab, Key};
use loop_core::Loop;
use loop_net::{DgramOptions, DgramSocket, DgramType, Server, ServerOptions, Socket, Stream};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::os::fd::OwnedFd;

/// How often a handle is sent again after a NACK (Node's
/// `MAX_HANDLE_RETRANSMISSIONS`).
pub const MAX_HANDLE_RETRANSMISSIONS: u32 = 3;

/// A Node.js IPC channel: a small `Copy` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel {
    index: u32,
    gen: u32,
}

impl Channel {
    /// The id's [`Key`] in its table.
    #[inline]
    fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

/// A handle to send with a message (`child.send(msg, handle)`): the fd of
/// a listening socket (`net.Server`), of a connection (`net.Socket`) or of
/// a bound UDP socket (`dgram.Socket`). The fd is ours to close once the
/// peer acknowledged it.
#[derive(Debug)]
pub enum SendHandle {
    /// A listening TCP or Unix socket, received as a `net.Server`.
    Server(OwnedFd),
    /// A connected socket, received as a `net.Socket`.
    Socket(OwnedFd),
    /// A bound UDP socket, received as a `dgram.Socket` of its family
    /// (from [`DgramSocket::try_clone_fd`] or
    /// [`loop_net::Udp::try_clone_fd`], say).
    Dgram(OwnedFd),
}

impl SendHandle {
    fn type_name(&self) -> &'static str {
        match self {
            SendHandle::Server(_) => "net.Server",
            SendHandle::Socket(_) => "net.Socket",
            SendHandle::Dgram(_) => "dgram.Socket",
        }
    }

    fn fd(&self) -> &OwnedFd {
        match self {
            SendHandle::Server(fd) | SendHandle::Socket(fd) | SendHandle::Dgram(fd) => fd,
        }
    }
}

/// A handle that came with a message, as Node.js gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A `net.Server`, listening on the received socket.
    Server(Server),
    /// A `net.Socket` on the received connection (reading).
    Socket(Socket),
    /// A `dgram.Socket` on the received UDP socket: bound, receiving
    /// (`listening` comes on the next tick).
    Dgram(DgramSocket),
}

/// The `dgramType` of a UDP socket to send: `"udp4"` or `"udp6"`;
/// `EINVAL` if it is not a UDP socket, `write EBADF` if it is not bound.
fn dgram_type(fd: &OwnedFd) -> Result<&'static str, Error> {
    use socket2::{Domain, SockRef, Type};
    let s = SockRef::from(fd);
    let einval = || Error::from_errno("send", None, None, libc::EINVAL);
    if s.r#type().map_err(|_| einval())? != Type::DGRAM {
        return Err(einval());
    }
    let bound = s
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .is_some_and(|a| a.port() != 0);
    if !bound {
        return Err(Error::from_errno("write", None, None, libc::EBADF));
    }
    match s.domain().map_err(|_| einval())? {
        Domain::IPV4 => Ok("udp4"),
        Domain::IPV6 => Ok("udp6"),
        _ => Err(einval()),
    }
}

type MessageCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Channel, Value, Option<Received>)>;
type DisconnectCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Channel)>;
type HandleCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Channel, Value, HandleType, OwnedFd)>;

struct InFlight {
    line: Vec<u8>,
    handle: SendHandle,
    retransmissions: u32,
}

struct ChannelState<D> {
    ipc: Ipc,
    connected: bool,
    /// A `disconnect` waits for the handle in flight.
    disconnect_wanted: bool,
    lines: LineBuffer,
    in_flight: Option<InFlight>,
    /// Messages (and handles) sent while a handle is in flight.
    queue: VecDeque<(Value, Option<SendHandle>)>,
    on_message: Option<MessageCb<D>>,
    on_disconnect: Option<DisconnectCb<D>>,
    /// Set: received handles are given raw, not converted.
    on_handle: Option<HandleCb<D>>,
}

struct Table<D> {
    slab: GenSlab<ChannelState<D>>,
}

fn get<D: 'static>(lp: &mut Loop<D>, c: Channel) -> Option<&mut ChannelState<D>> {
    lp.extension_mut::<Table<D>>()?.slab.get_mut(c.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, c: Channel) -> Option<&ChannelState<D>> {
    lp.extension::<Table<D>>()?.slab.get(c.key())
}

fn line_of(v: &Value) -> Vec<u8> {
    let mut line = serde_json::to_vec(v).expect("a Value always serializes");
    line.push(b'\n');
    line
}

fn epipe(op: &'static str) -> Error {
    Error::from_errno(op, None, None, libc::EPIPE)
}

impl Channel {
    /// Makes a channel of an [`Ipc`] stream and starts reading it. The
    /// channel is unreferenced until [`Channel::on_message`] is set (as
    /// Node refs `process.channel` for a `'message'` listener).
    pub fn open<D: 'static>(lp: &mut Loop<D>, ipc: Ipc) -> Result<Channel, Error> {
        lp.extension_or_insert_with(|_| Table::<D> {
            slab: GenSlab::new(),
        });
        let t = lp.extension_mut::<Table<D>>().expect("inserted above");
        let Key { index, gen } = t.slab.insert(ChannelState {
            ipc,
            connected: true,
            disconnect_wanted: false,
            lines: LineBuffer::new(),
            in_flight: None,
            queue: VecDeque::new(),
            on_message: None,
            on_disconnect: None,
            on_handle: None,
        });
        let c = Channel { index, gen };
        ipc.read_start(lp, move |lp, d, _, ev| on_read(lp, d, c, ev))?;
        ipc.unref(lp)?;
        Ok(c)
    }

    /// The channel a Node.js parent gave this process: the fd named by
    /// `NODE_CHANNEL_FD`, if set. `ENOTSUP` unless
    /// `NODE_CHANNEL_SERIALIZATION_MODE` is unset or `json`; `EINVAL` for
    /// a value that is not an fd number or an fd that is not a Unix
    /// socket; `EALREADY` if the channel was opened already (the fd is
    /// adopted once per process).
    pub fn from_env<D: 'static>(lp: &mut Loop<D>) -> Result<Option<Channel>, Error> {
        let Some(v) = std::env::var_os("NODE_CHANNEL_FD") else {
            return Ok(None);
        };
        match std::env::var_os("NODE_CHANNEL_SERIALIZATION_MODE") {
            None => {}
            Some(m) if m == "json" => {}
            Some(_) => return Err(Error::from_errno("ipc", None, None, libc::ENOTSUP)),
        }
        let fd: i32 = v
            .to_str()
            .and_then(|s| s.parse().ok())
            .filter(|&n| n >= 0)
            .ok_or_else(|| Error::from_errno("ipc", None, None, libc::EINVAL))?;
        let fd = crate::sys::adopt_channel_fd(fd).map_err(|e| Error::sys("ipc", None, None, e))?;
        let ipc = Ipc::open(lp, fd)?;
        Channel::open(lp, ipc).map(Some)
    }

    /// The message handler (`process.on('message')`); it also refs the
    /// channel, which then keeps the loop alive until disconnected.
    pub fn on_message<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Channel, Value, Option<Received>) + 'static,
    ) {
        let Some(st) = get(lp, self) else { return };
        st.on_message = Some(Box::new(f));
        let ipc = st.ipc;
        let _ = ipc.ref_handle(lp);
    }

    /// The `'disconnect'` handler.
    pub fn on_disconnect<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Channel) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_disconnect = Some(Box::new(f));
        }
    }

    /// Takes received handles raw: a message that comes with a handle goes
    /// to `f` with the handle's type and fd (the ACK written already)
    /// instead of becoming a loop-net [`Server`] or [`Socket`] given to
    /// `on_message`. For a receiver that serves the socket at the libuv
    /// level ([`loop_net::Listener::open`], [`Stream::open_fd`]), as
    /// echo-app's cluster workers do. Messages without a handle still go
    /// to `on_message`.
    pub fn on_handle<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Channel, Value, HandleType, OwnedFd) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_handle = Some(Box::new(f));
        }
    }

    /// Whether the channel is connected (`child.connected`).
    pub fn is_connected<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.connected)
    }

    /// The IPC stream under the channel.
    pub fn ipc<D: 'static>(self, lp: &Loop<D>) -> Option<Ipc> {
        get_ref(lp, self).map(|st| st.ipc)
    }

    /// Sends `msg` (`child.send(msg)`). `EPIPE` once disconnected.
    pub fn send<D: 'static>(self, lp: &mut Loop<D>, msg: Value) -> Result<(), Error> {
        self.send_impl(lp, msg, None)
    }

    /// Sends `msg` with a handle (`child.send(msg, server)`): wrapped in
    /// `NODE_HANDLE`, one handle in flight at a time. A
    /// [`SendHandle::Dgram`] must be a bound UDP socket: `write EBADF` if
    /// unbound (Node's error, given here at once), `EINVAL` if not UDP.
    pub fn send_handle<D: 'static>(
        self,
        lp: &mut Loop<D>,
        msg: Value,
        handle: SendHandle,
    ) -> Result<(), Error> {
        self.send_impl(lp, msg, Some(handle))
    }

    fn send_impl<D: 'static>(
        self,
        lp: &mut Loop<D>,
        msg: Value,
        handle: Option<SendHandle>,
    ) -> Result<(), Error> {
        let st = get(lp, self).ok_or_else(|| epipe("send"))?;
        if !st.connected || st.disconnect_wanted {
            return Err(epipe("send"));
        }
        if let Some(SendHandle::Dgram(fd)) = &handle {
            dgram_type(fd)?;
        }
        if st.in_flight.is_some() {
            st.queue.push_back((msg, handle));
            return Ok(());
        }
        transmit(lp, self, msg, handle)
    }

    /// Closes the channel (`child.disconnect()`): at once, or once the
    /// handle in flight is acknowledged. `'disconnect'` follows on the
    /// next tick, as in Node.
    pub fn disconnect<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        let st = get(lp, self).ok_or_else(|| epipe("disconnect"))?;
        if !st.connected {
            return Err(Error::from_errno("disconnect", None, None, libc::EPIPE));
        }
        if st.in_flight.is_some() {
            st.disconnect_wanted = true;
            return Ok(());
        }
        finish_disconnect(lp, self);
        Ok(())
    }
}

/// Writes one message now: a plain line, or a `NODE_HANDLE` line with a
/// copy of the fd, the handle then in flight until its ACK.
fn transmit<D: 'static>(
    lp: &mut Loop<D>,
    c: Channel,
    msg: Value,
    handle: Option<SendHandle>,
) -> Result<(), Error> {
    let ipc = get(lp, c).ok_or_else(|| epipe("send"))?.ipc;
    match handle {
        None => ipc.write(lp, line_of(&msg), None, |_, _, _| {}),
        Some(h) => {
            // Node's key order (JSON.stringify keeps insertion order):
            // `dgramType` is added by the handle conversion, after `msg`.
            let mut line =
                format!(r#"{{"cmd":"NODE_HANDLE","type":"{}","msg":"#, h.type_name()).into_bytes();
            serde_json::to_writer(&mut line, &msg).expect("a Value always serializes");
            if let SendHandle::Dgram(fd) = &h {
                let t = dgram_type(fd)?;
                line.extend_from_slice(format!(r#","dgramType":"{t}""#).as_bytes());
            }
            line.extend_from_slice(b"}\n");
            let copy = h
                .fd()
                .try_clone()
                .map_err(|e| Error::sys("send", None, None, e))?;
            ipc.write(lp, line.clone(), Some(copy), |_, _, _| {})?;
            if let Some(st) = get(lp, c) {
                st.in_flight = Some(InFlight {
                    line,
                    handle: h,
                    retransmissions: 0,
                });
            }
            Ok(())
        }
    }
}

fn write_internal<D: 'static>(lp: &mut Loop<D>, c: Channel, cmd: &str) {
    let Some(ipc) = get(lp, c).map(|st| st.ipc) else {
        return;
    };
    // As Node: failing to ACK is not the user's error.
    let _ = ipc.write(lp, line_of(&json!({ "cmd": cmd })), None, |_, _, _| {});
}

fn finish_disconnect<D: 'static>(lp: &mut Loop<D>, c: Channel) {
    let Some(st) = get(lp, c) else { return };
    if !st.connected {
        return;
    }
    st.connected = false;
    st.queue.clear();
    st.in_flight = None;
    let ipc = st.ipc;
    let _ = ipc.close(lp, |_, _| {});
    lp.next_tick(move |lp, d| {
        let f = get(lp, c).and_then(|st| st.on_disconnect.take());
        if let Some(t) = lp.extension_mut::<Table<D>>() {
            t.slab.remove(c.key());
        }
        if let Some(mut f) = f {
            f(lp, d, c);
        }
    });
}

fn on_read<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: Channel, ev: IpcEvent<'_>) {
    match ev {
        IpcEvent::Data(bytes) => {
            let Some(st) = get(lp, c) else { return };
            st.lines.push(bytes);
            let mut msgs = Vec::new();
            while let Some(line) = st.lines.next_line() {
                msgs.push(parse_line(line));
            }
            for m in msgs {
                if lp.is_unwinding() || !get(lp, c).is_some_and(|st| st.connected) {
                    return;
                }
                match m {
                    Ok(m) => handle_message(lp, d, c, m),
                    Err(e) => tracing::warn!(error = %e, "ipc: a line that is not JSON"),
                }
            }
        }
        IpcEvent::Eof | IpcEvent::Error(_) => finish_disconnect(lp, c),
    }
}

fn handle_message<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: Channel, m: Message) {
    match m {
        Message::User(v) => deliver(lp, d, c, v, None),
        Message::Handle {
            ty: want,
            msg,
            dgram_type,
        } => {
            let Some(ipc) = get(lp, c).map(|st| st.ipc) else {
                return;
            };
            let Some((ty, fd)) = ipc.take_handle(lp) else {
                write_internal(lp, c, "NODE_HANDLE_NACK");
                return;
            };
            write_internal(lp, c, "NODE_HANDLE_ACK");
            if let Some(mut f) = get(lp, c).and_then(|st| st.on_handle.take()) {
                lp.make_callback(d, "ipc_message", |lp, d| f(lp, d, c, msg, ty, fd));
                if let Some(st) = get(lp, c) {
                    if st.on_handle.is_none() {
                        st.on_handle = Some(f);
                    }
                }
                return;
            }
            let received = match (want.as_deref(), ty) {
                (Some("net.Server"), HandleType::TcpListener | HandleType::UnixListener) => {
                    let srv = Server::new(lp, ServerOptions::default());
                    match srv.listen_fd(lp, fd) {
                        Ok(()) => Some(Received::Server(srv)),
                        Err(e) => {
                            tracing::warn!(error = %e, "ipc: a received server");
                            None
                        }
                    }
                }
                (Some("net.Socket"), HandleType::TcpStream | HandleType::UnixStream) => {
                    match Stream::open_fd(lp, fd).and_then(|s| Socket::from_stream(lp, s, false)) {
                        Ok(s) => Some(Received::Socket(s)),
                        Err(e) => {
                            tracing::warn!(error = %e, "ipc: a received socket");
                            None
                        }
                    }
                }
                (Some("dgram.Socket"), HandleType::Udp) => {
                    // Node's `new dgram.Socket(message.dgramType)`.
                    let kind = match dgram_type.as_deref() {
                        Some("udp4") => Some(DgramType::Udp4),
                        Some("udp6") => Some(DgramType::Udp6),
                        _ => None,
                    };
                    match kind {
                        Some(kind) => {
                            let s = DgramSocket::create(lp, DgramOptions::new(kind));
                            match s.bind_fd(lp, fd) {
                                Ok(()) => Some(Received::Dgram(s)),
                                Err(e) => {
                                    tracing::warn!(error = %e, "ipc: a received dgram socket");
                                    let _ = s.close(lp, None);
                                    None
                                }
                            }
                        }
                        None => {
                            tracing::warn!(?dgram_type, "ipc: a dgram socket of a bad type");
                            None
                        }
                    }
                }
                (t, ty) => {
                    tracing::warn!(?t, ?ty, "ipc: a handle of a type not handled");
                    None
                }
            };
            deliver(lp, d, c, msg, received);
        }
        Message::Ack(ack) => on_ack(lp, c, ack),
        Message::Internal => {}
    }
}

fn on_ack<D: 'static>(lp: &mut Loop<D>, c: Channel, ack: bool) {
    let Some(st) = get(lp, c) else { return };
    let Some(mut f) = st.in_flight.take() else {
        return;
    };
    if !ack && f.retransmissions < MAX_HANDLE_RETRANSMISSIONS {
        f.retransmissions += 1;
        let ipc = st.ipc;
        let copy = f.handle.fd().try_clone();
        let line = f.line.clone();
        st.in_flight = Some(f);
        match copy {
            Ok(copy) => {
                let _ = ipc.write(lp, line, Some(copy), |_, _, _| {});
            }
            Err(e) => tracing::warn!(error = %e, "ipc: retransmit"),
        }
        return;
    }
    if !ack {
        tracing::warn!("Handle did not reach the receiving process correctly");
    }
    // The handle is ours to close now (f dropped); send what waited.
    while let Some(st) = get(lp, c) {
        if st.in_flight.is_some() {
            break;
        }
        let Some((msg, h)) = st.queue.pop_front() else {
            break;
        };
        if transmit(lp, c, msg, h).is_err() {
            break;
        }
    }
    if get(lp, c).is_some_and(|st| st.disconnect_wanted && st.in_flight.is_none()) {
        finish_disconnect(lp, c);
    }
}

fn deliver<D: 'static>(lp: &mut Loop<D>, d: &mut D, c: Channel, v: Value, r: Option<Received>) {
    let Some(mut f) = get(lp, c).and_then(|st| st.on_message.take()) else {
        return;
    };
    lp.make_callback(d, "ipc_message", |lp, d| f(lp, d, c, v, r));
    if let Some(st) = get(lp, c) {
        if st.on_message.is_none() {
            st.on_message = Some(f);
        }
    }
}
