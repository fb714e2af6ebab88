//! `net.Server`: a listener that makes a [`Socket`] of every connection,
//! counts them, and drains on `close`; built on the listener's public
//! surface. Every handler runs through [`Loop::make_callback`].

use super::node;
use super::socket::{self, on_read, Socket, SocketState, DEFAULT_HIGH_WATER_MARK};
use crate::error::{bad_handle, Address, Error, Result};
use crate::listener::{ListenOptions, Listener, DEFAULT_BACKLOG};
use loop_core::slots::Key;
use loop_core::Loop;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// Options of a [`Server`] (`net.createServer(options)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// `allowHalfOpen` for its sockets (default `false`: reading the
    /// client's FIN ends our side too).
    pub allow_half_open: bool,
    /// `pauseOnConnect`: sockets start paused; call [`Socket::resume`].
    pub pause_on_connect: bool,
    /// `noDelay`: `TCP_NODELAY` on every accepted socket.
    pub no_delay: bool,
    /// `keepAlive` with `keepAliveInitialDelay` in ms: `Some(delay)` turns
    /// keep-alive on for every accepted socket.
    pub keep_alive: Option<u64>,
    /// `highWaterMark` of its sockets (default 16 KiB).
    pub high_water_mark: usize,
    /// The `listen` backlog (default 511).
    pub backlog: u32,
    /// `SO_REUSEPORT` (Node's `reusePort`).
    pub reuse_port: bool,
    /// `ipv6Only`.
    pub ipv6_only: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            allow_half_open: false,
            pause_on_connect: false,
            no_delay: false,
            keep_alive: None,
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
            ipv6_only: false,
        }
    }
}

/// A Node.js-style server (`net.Server`). A small `Copy` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Server {
    index: u32,
    gen: u32,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server #{}.{}", self.index, self.gen)
    }
}

impl Server {
    /// The id's [`Key`] in its table.
    #[inline]
    pub(crate) fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

type ConnCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Socket)>;
type ErrCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, Error)>;
type PlainCb<D> = Box<dyn FnMut(&mut Loop<D>, &mut D)>;
type CloseCb<D> = Box<dyn FnOnce(&mut Loop<D>, &mut D, Result<()>)>;

/// `close()` was called and `'close'` is still to come.
const CLOSING: u8 = 1;
/// `'close'` is queued on the next tick.
const CLOSE_QUEUED: u8 = 2;
/// A host name is being resolved for `listen`.
const RESOLVING: u8 = 4;
/// `unref()` was called: the listener, once there is one, is unref'd
/// (Node's `server._unref`, kept across `listen`).
const UNREF: u8 = 8;

/// A server's state, in the Node table.
pub(crate) struct ServerState<D> {
    flags: u8,
    listener: Option<Listener>,
    opts: ServerOptions,
    max_connections: Option<usize>,
    connections: usize,
    dropped: u64,
    on_connection: Option<ConnCb<D>>,
    on_error: Option<ErrCb<D>>,
    on_listening: Option<PlainCb<D>>,
    on_close: Option<PlainCb<D>>,
    close_cbs: Vec<CloseCb<D>>,
}

fn get<D: 'static>(lp: &mut Loop<D>, srv: Server) -> Option<&mut ServerState<D>> {
    lp.extension_mut::<super::NodeNet<D>>()?
        .servers
        .get_mut(srv.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, srv: Server) -> Option<&ServerState<D>> {
    lp.extension::<super::NodeNet<D>>()?.servers.get(srv.key())
}

/// Calls handler `$field` through `make_callback` (taken out during the
/// call, put back unless replaced, before the tick queues drain: a tick
/// may emit the same event). Evaluates to `false` if it panicked.
macro_rules! emit {
    ($lp:expr, $d:expr, $srv:expr, $field:ident $(, $arg:expr)*) => {{
        let mut taken = get($lp, $srv).and_then(|st| st.$field.take());
        match taken.is_some() {
            true => {
                let r = $lp.make_callback($d, concat!("server.", stringify!($field)), |lp, d| {
                    if let Some(f) = taken.as_mut() {
                        f(lp, d $(, $arg)*);
                    }
                    // Back before the tick queues drain: a tick may emit
                    // the same event (close, then listen again).
                    if let Some(st) = get(lp, $srv) {
                        if st.$field.is_none() {
                            st.$field = taken.take();
                        }
                    }
                });
                if let (Some(f), Some(st)) = (taken, get($lp, $srv)) {
                    // After a panic in the handler.
                    if st.$field.is_none() {
                        st.$field = Some(f);
                    }
                }
                r.is_some()
            }
            false => true,
        }
    }};
}

impl Server {
    /// `net.createServer(options)`: a server, not listening yet.
    pub fn new<D: 'static>(lp: &mut Loop<D>, opts: ServerOptions) -> Server {
        let n = node(lp);
        let Key { index, gen } = n.servers.insert(ServerState {
            flags: 0,
            listener: None,
            opts,
            max_connections: None,
            connections: 0,
            dropped: 0,
            on_connection: None,
            on_error: None,
            on_listening: None,
            on_close: None,
            close_cbs: Vec::new(),
        });
        Server { index, gen }
    }

    /// The `'connection'` event: a new socket, reading already (unless
    /// `pause_on_connect`). Set its handlers here.
    pub fn on_connection<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Socket) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_connection = Some(Box::new(f));
        }
    }

    /// The `'error'` event: a failed `listen` (`EADDRINUSE`…), or an accept
    /// error.
    ///
    /// With no `on_error` handler the error is not lost: as Node.js throws
    /// an `'error'` nobody listens to, [`Loop::run`] returns it (as
    /// [`loop_core::Error::Unhandled`], whose message names the operation
    /// and address, `listen EADDRINUSE 127.0.0.1:8080: …`) after the
    /// current callback; the loop stays usable and can be run again.
    pub fn on_error<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, Error) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_error = Some(Box::new(f));
        }
    }

    /// The `'listening'` event, on the next tick after a successful
    /// `listen`.
    pub fn on_listening<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_listening = Some(Box::new(f));
        }
    }

    /// The `'close'` event: after `close()`, once every connection ended.
    pub fn on_close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_close = Some(Box::new(f));
        }
    }

    /// `server.listen(port, host)`. No host: every address (`::`
    /// dual-stack, or `0.0.0.0` without IPv6). A host name is resolved on
    /// loop-fs's pool first. Errors (`EADDRINUSE`…) go to `on_error` on the
    /// next tick, as Node.js; the call itself fails only when the server
    /// is listening already (`ERR_SERVER_ALREADY_LISTEN`) or closed.
    pub fn listen<D: 'static>(self, lp: &mut Loop<D>, port: u16, host: Option<&str>) -> Result<()> {
        let opts = self.check_idle(lp)?;
        match host.map(|h| (h, h.parse::<IpAddr>())) {
            None => {
                let r = Listener::listen_any(lp, port, &opts, move |lp, d, l, r| {
                    on_listener(lp, d, self, l, r)
                });
                self.listened(lp, r);
            }
            Some((_, Ok(ip))) => self.listen_addr_inner(lp, SocketAddr::new(ip, port), &opts),
            Some((name, Err(_))) => {
                let name = name.to_string();
                let srv = self;
                let r = loop_fs::dns::lookup(lp, name.clone(), port, move |lp, _, r| {
                    let Some(st) = get(lp, srv) else { return };
                    st.flags &= !RESOLVING;
                    if st.flags & CLOSING != 0 {
                        return;
                    }
                    match r {
                        Ok(addrs) if !addrs.is_empty() => {
                            srv.listen_addr_inner(lp, addrs[0], &opts);
                        }
                        Ok(_) => {
                            let e = io::Error::new(io::ErrorKind::NotFound, "no address found");
                            srv.listened(lp, Err(Error::io("getaddrinfo", e, Some(&name))));
                        }
                        Err(e) => srv.listened(lp, Err(Error::io("getaddrinfo", e, Some(&name)))),
                    }
                });
                match r {
                    Ok(_) => {
                        if let Some(st) = get(lp, self) {
                            st.flags |= RESOLVING;
                        }
                    }
                    Err(e) => {
                        let e = Error::io(
                            "getaddrinfo",
                            io::Error::other(e),
                            Some(&host.unwrap_or_default()),
                        );
                        self.listened(lp, Err(e));
                    }
                }
            }
        }
        Ok(())
    }

    /// `server.listen({port, host})` with an address.
    pub fn listen_addr<D: 'static>(self, lp: &mut Loop<D>, addr: SocketAddr) -> Result<()> {
        let opts = self.check_idle(lp)?;
        self.listen_addr_inner(lp, addr, &opts);
        Ok(())
    }

    /// `server.listen(path)`: a Unix-domain socket.
    pub fn listen_path<D: 'static>(self, lp: &mut Loop<D>, path: impl AsRef<Path>) -> Result<()> {
        let opts = self.check_idle(lp)?;
        let r = Listener::listen_path(lp, path, &opts, move |lp, d, l, r| {
            on_listener(lp, d, self, l, r)
        });
        self.listened(lp, r);
        Ok(())
    }

    /// `server.listen(handle)` / `server.listen({fd})`: listens on a
    /// socket that is listening already, such as one received over IPC
    /// (see [`Listener::open`]). Errors go to `on_error` on the next tick.
    pub fn listen_fd<D: 'static>(self, lp: &mut Loop<D>, fd: std::os::fd::OwnedFd) -> Result<()> {
        self.check_idle(lp)?;
        let r = Listener::open(lp, fd, move |lp, d, l, r| on_listener(lp, d, self, l, r));
        self.listened(lp, r);
        Ok(())
    }

    fn check_idle<D: 'static>(self, lp: &mut Loop<D>) -> Result<ListenOptions> {
        let st = get(lp, self).ok_or_else(|| bad_handle("listen"))?;
        if st.listener.is_some() || st.flags & RESOLVING != 0 {
            return Err(Error::node(
                "listen",
                "ERR_SERVER_ALREADY_LISTEN",
                io::ErrorKind::AddrInUse,
                "Listen method has been called more than once without closing.",
            ));
        }
        Ok(ListenOptions {
            backlog: st.opts.backlog,
            reuse_port: st.opts.reuse_port,
            ipv6_only: st.opts.ipv6_only,
        })
    }

    fn listen_addr_inner<D: 'static>(
        self,
        lp: &mut Loop<D>,
        addr: SocketAddr,
        opts: &ListenOptions,
    ) {
        let r = Listener::listen(lp, addr, opts, move |lp, d, l, r| {
            on_listener(lp, d, self, l, r)
        });
        self.listened(lp, r);
    }

    /// The outcome of listen: `'listening'` or `'error'`, on the next tick.
    fn listened<D: 'static>(self, lp: &mut Loop<D>, r: Result<Listener>) {
        let srv = self;
        match r {
            Ok(l) => {
                match get(lp, srv) {
                    Some(st) => {
                        st.listener = Some(l);
                        if st.flags & UNREF != 0 {
                            let _ = l.unref(lp);
                        }
                    }
                    None => {
                        let _ = l.close(lp, |_, _| {});
                        return;
                    }
                }
                lp.next_tick(move |lp, d| {
                    // Node's emitListeningNT: only while still listening
                    // (`listen()` then `close()` at once emits nothing).
                    if get(lp, srv).is_some_and(|st| st.listener.is_some()) {
                        emit!(lp, d, srv, on_listening);
                    }
                });
            }
            Err(e) => {
                tracing::debug!(server = %srv, error = %e, "listen failed");
                lp.next_tick(move |lp, d| emit_error(lp, d, srv, e));
            }
        }
    }

    /// `server.close()`: stop accepting now; `'close'` once every
    /// connection ended.
    pub fn close<D: 'static>(self, lp: &mut Loop<D>) {
        self.close_impl(lp, None);
    }

    /// `server.close(cb)`: `cb(Ok)` once every connection ended, on the
    /// next tick after the last one is destroyed; `cb(Err)` with
    /// `ERR_SERVER_NOT_RUNNING` if the server was not listening.
    pub fn close_with<D: 'static>(
        self,
        lp: &mut Loop<D>,
        cb: impl FnOnce(&mut Loop<D>, &mut D, Result<()>) + 'static,
    ) {
        self.close_impl(lp, Some(Box::new(cb)));
    }

    fn close_impl<D: 'static>(self, lp: &mut Loop<D>, cb: Option<CloseCb<D>>) {
        let not_running = || {
            Error::node(
                "close",
                "ERR_SERVER_NOT_RUNNING",
                io::ErrorKind::NotConnected,
                "Server is not running.",
            )
        };
        let Some(st) = get(lp, self) else {
            if let Some(cb) = cb {
                let e = not_running();
                lp.next_tick(move |lp, d| cb(lp, d, Err(e)));
            }
            return;
        };
        let resolving = st.flags & RESOLVING != 0;
        let Some(l) = st.listener.take() else {
            if resolving {
                // Closed during the name lookup: never listen.
                st.flags |= CLOSING;
                st.flags &= !RESOLVING;
                if let Some(cb) = cb {
                    st.close_cbs.push(cb);
                }
                emit_close_if_drained(lp, self);
            } else if let Some(cb) = cb {
                let e = not_running();
                lp.next_tick(move |lp, d| cb(lp, d, Err(e)));
            }
            return;
        };
        st.flags |= CLOSING;
        if let Some(cb) = cb {
            st.close_cbs.push(cb);
        }
        let _ = l.close(lp, |_, _| {});
        emit_close_if_drained(lp, self);
    }

    /// `server.address()`: the address listened on, port 0 resolved.
    pub fn address<D: 'static>(self, lp: &Loop<D>) -> Option<Address> {
        let l = get_ref(lp, self)?.listener?;
        l.local_addr(lp).ok()
    }

    /// `server.listening`.
    pub fn is_listening<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.listener.is_some())
    }

    /// `server.maxConnections`: connections beyond it are closed right
    /// after accept (their clients see the connection closed). `None`: no
    /// limit.
    pub fn set_max_connections<D: 'static>(self, lp: &mut Loop<D>, max: Option<usize>) {
        if let Some(st) = get(lp, self) {
            st.max_connections = max;
        }
    }

    /// `server.getConnections()`: open connections (destroyed ones no
    /// longer count).
    pub fn connection_count<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self).map_or(0, |st| st.connections)
    }

    /// Connections closed at accept because of `max_connections` (the
    /// number of Node's `'drop'` events).
    pub fn dropped_count<D: 'static>(self, lp: &Loop<D>) -> u64 {
        get_ref(lp, self).map_or(0, |st| st.dropped)
    }

    /// The listener, while listening.
    pub fn listener<D: 'static>(self, lp: &Loop<D>) -> Option<Listener> {
        get_ref(lp, self)?.listener
    }

    /// `server.unref()`: the listening socket no longer keeps the loop
    /// alive. Called before `listen`, it is kept and applies once the
    /// server listens (Node.js). Fails only on a server that is gone.
    pub fn unref<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let st = get(lp, self).ok_or_else(|| bad_handle("unref"))?;
        st.flags |= UNREF;
        match st.listener {
            Some(l) => l.unref(lp),
            None => Ok(()),
        }
    }

    /// `server.ref()`: undoes [`Server::unref`], before or after `listen`.
    pub fn ref_handle<D: 'static>(self, lp: &mut Loop<D>) -> Result<()> {
        let st = get(lp, self).ok_or_else(|| bad_handle("ref"))?;
        st.flags &= !UNREF;
        match st.listener {
            Some(l) => l.ref_handle(lp),
            None => Ok(()),
        }
    }
}

fn emit_error<D: 'static>(lp: &mut Loop<D>, d: &mut D, srv: Server, e: Error) {
    let taken = get(lp, srv).and_then(|st| st.on_error.take());
    match taken {
        Some(mut f) => {
            lp.make_callback(d, "server.on_error", |lp, d| f(lp, d, e));
            if let Some(st) = get(lp, srv) {
                if st.on_error.is_none() {
                    st.on_error = Some(f);
                }
            }
        }
        // Node throws an `'error'` nobody listens to: `run` returns it.
        None => lp.report_unhandled("server.on_error", Box::new(e)),
    }
}

/// The listener's connection callback: Node's `onconnection`.
fn on_listener<D: 'static>(lp: &mut Loop<D>, d: &mut D, srv: Server, l: Listener, r: Result<()>) {
    if let Err(e) = r {
        emit_error(lp, d, srv, e);
        return;
    }
    let s = match l.accept(lp) {
        Ok(s) => s,
        Err(e) => {
            emit_error(lp, d, srv, e);
            return;
        }
    };
    let Some(st) = get(lp, srv) else {
        let _ = s.close(lp, |_, _| {});
        return;
    };
    if st.max_connections.is_some_and(|max| st.connections >= max) {
        st.dropped += 1;
        tracing::debug!(server = %srv, connections = st.connections, "max_connections: dropping a connection");
        let _ = s.close(lp, |_, _| {});
        return;
    }
    st.connections += 1;
    let o = st.opts.clone();
    socket::attach(
        lp,
        SocketState::new(
            s,
            Some(srv),
            o.allow_half_open,
            o.pause_on_connect,
            o.high_water_mark,
        ),
    );
    if o.no_delay {
        let _ = s.set_no_delay(lp, true);
    }
    if let Some(ms) = o.keep_alive {
        let _ = Socket(s).set_keep_alive(lp, true, ms);
    }
    if !o.pause_on_connect {
        let _ = s.read_start(lp, on_read);
    }
    emit!(lp, d, srv, on_connection, Socket(s));
}

/// A socket of the server was destroyed or closed.
pub(crate) fn connection_gone<D: 'static>(lp: &mut Loop<D>, srv: Server) {
    if let Some(st) = get(lp, srv) {
        st.connections = st.connections.saturating_sub(1);
    }
    emit_close_if_drained(lp, srv);
}

/// Node's `_emitCloseIfDrained`: `'close'` on the next tick once closed
/// and without connections.
fn emit_close_if_drained<D: 'static>(lp: &mut Loop<D>, srv: Server) {
    let Some(st) = get(lp, srv) else { return };
    if st.flags & (CLOSING | CLOSE_QUEUED) != CLOSING || st.listener.is_some() || st.connections > 0
    {
        return;
    }
    st.flags |= CLOSE_QUEUED;
    lp.next_tick(move |lp, d| {
        let Some(st) = get(lp, srv) else { return };
        st.flags &= !(CLOSING | CLOSE_QUEUED);
        let cbs = std::mem::take(&mut st.close_cbs);
        tracing::debug!(server = %srv, "close");
        if !emit!(lp, d, srv, on_close) {
            return; // the close callbacks are dropped uncalled
        }
        for cb in cbs {
            if lp
                .make_callback(d, "server.close", |lp, d| cb(lp, d, Ok(())))
                .is_none()
            {
                return;
            }
        }
    });
}
