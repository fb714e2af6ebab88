//! The natives behind `require('net')`: servers and sockets are
//! loop-net's Node layer (`loop_net::node::{Server, Socket}`), each known
//! to JavaScript by a small id; every event loop-net emits enters
//! JavaScript with `[event, ...args]` for that id.
//!
//! # Invariants
//!
//! - A JS id maps to its loop-net handle in `Shared::servers` /
//!   `Shared::sockets` until the handle's `'close'`; after that the id is
//!   gone and calls on it do nothing (as on a destroyed Node socket).
//! - An accepted socket gets its handlers in the `'connection'` callback,
//!   before JavaScript sees it, so no event can come before its listeners.
//! - Bytes cross as latin1 strings into Rust and `ArrayBuffer`s out.

use crate::fs::latin1;
use crate::host::{kind, Host, Shared, LP};
use loop_core::Loop;
use loop_net::{Address, Error, Server, ServerOptions, Socket};
use rquickjs::{Array, ArrayBuffer, Ctx, Exception, Function, Object, Result, Value};
use std::rc::Rc;

/// The description of a loop-net error for the JS side (Node's fields).
fn err_to_js<'js>(ctx: &Ctx<'js>, e: &Error) -> Result<Value<'js>> {
    let o = Object::new(ctx.clone())?;
    let message = if e.raw_os_error().is_some() {
        match e.address() {
            Some(a) => format!("{} {} {a}", e.op(), e.code()),
            None => format!("{} {}", e.op(), e.code()),
        }
    } else {
        e.io_error().to_string()
    };
    o.set("message", message)?;
    if let Some(n) = e.raw_os_error() {
        o.set("errno", -n)?;
    }
    o.set("code", e.code())?;
    o.set("syscall", e.op())?;
    if let Some(a) = e.address() {
        match a.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => {
                o.set(
                    "address",
                    host.trim_start_matches('[').trim_end_matches(']'),
                )?;
                o.set("port", port.parse::<u16>().unwrap_or(0))?;
            }
            _ => o.set("address", a)?,
        }
    }
    Ok(o.into_value())
}

/// `[address, family, port]` of an address, for `address()` and friends.
fn addr_to_js<'js>(ctx: &Ctx<'js>, a: Option<Address>) -> Result<Value<'js>> {
    let Some(a) = a else {
        return Ok(Value::new_undefined(ctx.clone()));
    };
    let arr = Array::new(ctx.clone())?;
    match a {
        Address::Inet(sa) => {
            arr.set(0, sa.ip().to_string())?;
            arr.set(1, if sa.is_ipv4() { "IPv4" } else { "IPv6" })?;
            arr.set(2, sa.port())?;
        }
        Address::Unix(p) => {
            arr.set(0, p.display().to_string())?;
        }
    }
    Ok(arr.into_value())
}

/// What `remoteAddress`, `bytesRead` and friends read.
struct Info {
    remote: Option<Address>,
    local: Option<Address>,
    read: u64,
    written: u64,
    pending: usize,
}

impl Info {
    fn of(lp: &mut Loop<Host>, s: Socket) -> Info {
        Info {
            remote: s.remote_address(lp),
            local: s.local_address(lp),
            read: s.bytes_read(lp),
            written: s.bytes_written(lp),
            pending: s.writable_length(lp),
        }
    }

    /// `[remote, local, bytesRead, bytesWritten, writableLength]`.
    fn into_js<'js>(self, ctx: &Ctx<'js>) -> Result<Array<'js>> {
        let arr = Array::new(ctx.clone())?;
        arr.set(0, addr_to_js(ctx, self.remote)?)?;
        arr.set(1, addr_to_js(ctx, self.local)?)?;
        arr.set(2, self.read as f64)?;
        arr.set(3, self.written as f64)?;
        arr.set(4, self.pending as f64)?;
        Ok(arr)
    }
}

/// Enters JavaScript with event `ev` for object `id`, args built by `f`.
fn emit(
    lp: &mut Loop<Host>,
    h: &mut Host,
    id: u32,
    ev: &'static str,
    f: impl for<'js> FnOnce(&Ctx<'js>, &Array<'js>) -> Result<()>,
) {
    h.enter_value(lp, kind::NET, id, move |ctx, _| {
        let arr = Array::new(ctx.clone())?;
        arr.set(0, ev)?;
        f(ctx, &arr)?;
        Ok(arr.into_value())
    });
}

/// Registers every socket event of `s`, known to JavaScript as `id`.
fn wire_socket(lp: &mut Loop<Host>, s: Socket, id: u32) {
    s.on_connect(lp, move |lp, h, _| {
        emit(lp, h, id, "connect", |_, _| Ok(()))
    });
    s.on_data(lp, move |lp, h, _, bytes| {
        let b = bytes.to_vec();
        emit(lp, h, id, "data", move |ctx, a| {
            a.set(1, ArrayBuffer::new(ctx.clone(), b)?)
        })
    });
    s.on_end(lp, move |lp, h, _| emit(lp, h, id, "end", |_, _| Ok(())));
    s.on_drain(lp, move |lp, h, _| emit(lp, h, id, "drain", |_, _| Ok(())));
    s.on_timeout(lp, move |lp, h, _| {
        emit(lp, h, id, "timeout", |_, _| Ok(()))
    });
    s.on_error(lp, move |lp, h, _, e| {
        emit(lp, h, id, "error", move |ctx, a| {
            a.set(1, err_to_js(ctx, &e)?)
        })
    });
    s.on_close(lp, move |lp, h, s, had_error| {
        h.shared.sockets.borrow_mut().remove(&id);
        let info = Info::of(lp, s);
        emit(lp, h, id, "close", move |ctx, a| {
            a.set(1, had_error)?;
            a.set(2, info.into_js(ctx)?)
        })
    });
}

fn with_loop<'js, R>(ctx: &Ctx<'js>, f: impl FnOnce(&mut Loop<Host>) -> R) -> Result<R> {
    if LP.is_set() {
        Ok(LP.with(f))
    } else {
        Err(Exception::throw_internal(ctx, "loop-js: no loop"))
    }
}

fn throw_net<'js>(ctx: &Ctx<'js>, e: &Error) -> rquickjs::Error {
    match err_to_js(ctx, e).and_then(|d| {
        let marked = Object::new(ctx.clone())?;
        marked.set("__netError", d)?;
        Ok(marked)
    }) {
        Ok(m) => ctx.throw(m.into_value()),
        Err(e) => e,
    }
}

fn set<'js, P>(
    ctx: &Ctx<'js>,
    o: &Object<'js>,
    name: &str,
    f: impl rquickjs::function::IntoJsFunc<'js, P> + 'js,
) -> Result<()> {
    o.set(name, Function::new(ctx.clone(), f)?.with_name(name)?)
}

/// Adds the net natives to `o`.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, o: &Object<'js>, shared: Rc<Shared>) -> Result<()> {
    // createServer(allowHalfOpen, pauseOnConnect): the server's JS id.
    let sh = shared.clone();
    set(
        ctx,
        o,
        "serverNew",
        move |ctx: Ctx<'js>, half_open: bool, paused: bool| -> Result<u32> {
            let id = sh.next_net_id();
            let opts = ServerOptions {
                allow_half_open: half_open,
                pause_on_connect: paused,
                ..ServerOptions::default()
            };
            let srv = with_loop(&ctx, |lp| {
                let srv = Server::new(lp, opts);
                srv.on_connection(lp, move |lp, h, s| {
                    let sid = h.shared.next_net_id();
                    h.shared.sockets.borrow_mut().insert(sid, s);
                    wire_socket(lp, s, sid);
                    emit(lp, h, id, "connection", move |_, a| a.set(1, sid))
                });
                srv.on_listening(lp, move |lp, h| emit(lp, h, id, "listening", |_, _| Ok(())));
                srv.on_error(lp, move |lp, h, e| {
                    emit(lp, h, id, "error", move |ctx, a| {
                        a.set(1, err_to_js(ctx, &e)?)
                    })
                });
                srv
            })?;
            sh.servers.borrow_mut().insert(id, srv);
            Ok(id)
        },
    )?;

    let sh = shared.clone();
    set(
        ctx,
        o,
        "serverListen",
        move |ctx: Ctx<'js>,
              id: u32,
              port: u16,
              host: Option<String>,
              path: Option<String>|
              -> Result<()> {
            let Some(srv) = sh.servers.borrow().get(&id).copied() else {
                return Ok(());
            };
            let r = with_loop(&ctx, |lp| match &path {
                Some(p) => srv.listen_path(lp, p),
                None => srv.listen(lp, port, host.as_deref()),
            })?;
            r.map_err(|e| throw_net(&ctx, &e))
        },
    )?;

    let sh = shared.clone();
    set(
        ctx,
        o,
        "serverClose",
        move |ctx: Ctx<'js>, id: u32| -> Result<bool> {
            let Some(srv) = sh.servers.borrow().get(&id).copied() else {
                return Ok(false);
            };
            with_loop(&ctx, |lp| {
                srv.close_with(lp, move |lp, h, r| {
                    let err = r.err();
                    emit(lp, h, id, "close", move |ctx, a| match &err {
                        Some(e) => a.set(1, err_to_js(ctx, e)?),
                        None => Ok(()),
                    })
                })
            })?;
            Ok(true)
        },
    )?;

    let sh = shared.clone();
    set(ctx, o, "serverAddress", move |ctx: Ctx<'js>, id: u32| {
        let srv = sh.servers.borrow().get(&id).copied();
        let a = match srv {
            Some(srv) => with_loop(&ctx, |lp| srv.address(lp))?,
            None => None,
        };
        addr_to_js(&ctx, a)
    })?;

    let sh = shared.clone();
    set(
        ctx,
        o,
        "serverRef",
        move |ctx: Ctx<'js>, id: u32, on: bool| -> Result<()> {
            let Some(srv) = sh.servers.borrow().get(&id).copied() else {
                return Ok(());
            };
            let _ = with_loop(&ctx, |lp| {
                if on {
                    srv.ref_handle(lp)
                } else {
                    srv.unref(lp)
                }
            })?;
            Ok(())
        },
    )?;

    // connect: host and port, or a path. Returns the socket's JS id.
    let sh = shared.clone();
    set(
        ctx,
        o,
        "connect",
        move |ctx: Ctx<'js>, port: u16, host: String, path: Option<String>| {
            let id = sh.next_net_id();
            let s = with_loop(&ctx, |lp| {
                let r = match &path {
                    Some(p) => Socket::connect_path(lp, p),
                    None => match host.parse::<std::net::IpAddr>() {
                        Ok(ip) => Socket::connect(lp, std::net::SocketAddr::new(ip, port)),
                        Err(_) => Socket::connect_host(lp, &host, port),
                    },
                };
                if let Ok(s) = &r {
                    wire_socket(lp, *s, id);
                }
                r
            })?
            .map_err(|e| throw_net(&ctx, &e))?;
            sh.sockets.borrow_mut().insert(id, s);
            Ok::<_, rquickjs::Error>(id)
        },
    )?;

    // write(id, bytes, callbackId): returns write()'s boolean; a non-zero
    // callbackId is called back with ['written', callbackId, err].
    let sh = shared.clone();
    set(
        ctx,
        o,
        "socketWrite",
        move |ctx: Ctx<'js>, id: u32, data: String, cb: u32| -> Result<bool> {
            let Some(s) = sh.sockets.borrow().get(&id).copied() else {
                return Ok(false);
            };
            let bytes = latin1(&data);
            with_loop(&ctx, |lp| {
                if cb == 0 {
                    s.write(lp, bytes)
                } else {
                    s.write_with(lp, bytes, move |lp, h, r| {
                        let err = r.err();
                        emit(lp, h, id, "written", move |ctx, a| {
                            a.set(1, cb)?;
                            match &err {
                                Some(e) => a.set(2, err_to_js(ctx, e)?),
                                None => Ok(()),
                            }
                        })
                    })
                }
            })
        },
    )?;

    // The socket operations without a result: end, destroy, pause,
    // resume, ref, unref, setNoDelay, setKeepAlive, setTimeout, allowHalfOpen.
    let sh = shared.clone();
    set(
        ctx,
        o,
        "socketOp",
        move |ctx: Ctx<'js>, id: u32, op: String, n: f64| -> Result<()> {
            let Some(s) = sh.sockets.borrow().get(&id).copied() else {
                return Ok(());
            };
            with_loop(&ctx, |lp| match op.as_str() {
                "end" => s.end(lp),
                "destroy" => s.destroy(lp),
                "pause" => s.pause(lp),
                "resume" => s.resume(lp),
                "ref" => {
                    let _ = s.ref_handle(lp);
                }
                "unref" => {
                    let _ = s.unref(lp);
                }
                "noDelay" => {
                    let _ = s.set_no_delay(lp, n != 0.0);
                }
                "keepAlive" => {
                    let _ = s.set_keep_alive(lp, n >= 0.0, n.max(0.0) as u64);
                }
                "timeout" => s.set_timeout(lp, n.clamp(0.0, u32::MAX as f64) as u32),
                "allowHalfOpen" => s.set_allow_half_open(lp, n != 0.0),
                _ => {}
            })
        },
    )?;

    // [remote, local, bytesRead, bytesWritten, writableLength]
    let sh = shared.clone();
    set(
        ctx,
        o,
        "socketInfo",
        move |ctx: Ctx<'js>, id: u32| -> Result<Array<'js>> {
            let Some(s) = sh.sockets.borrow().get(&id).copied() else {
                return Array::new(ctx.clone());
            };
            let info = with_loop(&ctx, |lp| Info::of(lp, s))?;
            info.into_js(&ctx)
        },
    )?;

    // process.on('SIGINT') and friends: a loop-core signal watcher per
    // signal; the handler enters JavaScript with ['signal', name].
    let sh = shared.clone();
    set(
        ctx,
        o,
        "signalWatch",
        move |ctx: Ctx<'js>, signum: i32, on: bool| -> Result<bool> {
            let existing = sh.signals.borrow_mut().remove(&signum);
            with_loop(&ctx, |lp| {
                if let Some(h) = existing {
                    let _ = lp.signal_stop(h);
                    let _ = lp.close(h, None);
                }
                if !on {
                    return Ok(false);
                }
                let h = lp.signal_init()?;
                lp.signal_start(h, signum, move |lp, host: &mut Host, sig| {
                    host.enter_value(lp, kind::SIGNAL, sig as u32, |ctx, _| {
                        Ok(Value::new_undefined(ctx.clone()))
                    });
                })?;
                // A signal listener does not keep the loop alive (Node).
                lp.unref(h)?;
                sh.signals.borrow_mut().insert(signum, h);
                Ok(true)
            })?
            .map_err(|e: loop_core::Error| Exception::throw_internal(&ctx, &format!("signal: {e}")))
        },
    )?;
    Ok(())
}
