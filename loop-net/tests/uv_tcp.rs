//! libuv's TCP tests (`test/test-*.c`, see `shared/libuv-tests.md`),
//! ported to loop-net's stream API. Only 127.0.0.1, ::1 and temp paths.

mod common;

use common::*;
use loop_core::{Loop, RunMode};
use loop_net::{Error, ListenOptions, Listener, ReadEvent, Stream};
use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A log of what happened, in order.
type Log = Vec<String>;

fn run<D: 'static>(lp: &mut Loop<D>, d: &mut D) {
    let alive = lp.run(RunMode::Default, d).expect("run");
    assert!(!alive, "the loop should end by itself");
}

/// tcp_ping_pong, tcp_ping_pong_vec, tcp6_ping_pong: 1000 `PING\n` round
/// trips; the connect callback never synchronous; readable and writable
/// once connected.
fn ping_pong(addr: SocketAddr, vectored: bool) {
    let mut lp: Loop<usize> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let (_l, addr, _) = echo_server(&mut lp, addr);
    let in_call = Rc::new(Cell::new(true));
    let ic = in_call.clone();
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        assert!(!ic.get(), "connect callback from inside connect()");
        r.expect("connect");
        assert!(s.is_readable(lp) && s.is_writable(lp));
        ping(lp, s, vectored);
        let mut buffered = 0;
        s.read_start(lp, move |lp, pongs: &mut usize, s, ev| match ev {
            ReadEvent::Data(b) => {
                buffered += b.len();
                while buffered >= 5 {
                    buffered -= 5;
                    *pongs += 1;
                    if *pongs == 1000 {
                        s.write(lp, &b"Q"[..]).unwrap(); // closes the echo server
                        s.close(lp, |_, _| {}).unwrap();
                        return;
                    }
                    ping(lp, s, vectored);
                }
            }
            other => panic!("unexpected {other:?}"),
        })
        .unwrap();
    })
    .unwrap();
    in_call.set(false);
    let mut pongs = 0;
    run(&mut lp, &mut pongs);
    assert_eq!(pongs, 1000);
}

fn ping<D: 'static>(lp: &mut Loop<D>, s: Stream, vectored: bool) {
    if vectored {
        let b: [&[u8]; 5] = [b"P", b"I", b"N", b"G", b"\n"];
        s.write_vectored(lp, &b, |_, _, r| r.unwrap()).unwrap();
    } else {
        s.write(lp, &b"PING\n"[..]).unwrap();
    }
}

#[test]
fn tcp_ping_pong() {
    ping_pong(any_port(), false);
}

#[test]
fn tcp_ping_pong_vec() {
    ping_pong(any_port(), true);
}

#[test]
fn tcp6_ping_pong() {
    if !ipv6_loopback() {
        eprintln!("no ::1 on this host: skipped");
        return;
    }
    ping_pong("[::1]:0".parse().unwrap(), false);
}

/// callback_stack: every callback runs from a fresh stack, never from
/// inside the API call that caused it.
#[test]
fn callback_stack() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    let nested = Rc::new(Cell::new(false));
    macro_rules! call {
        ($n:expr, $e:expr) => {{
            $n.set(true);
            let r = $e;
            $n.set(false);
            r
        }};
    }
    let n = nested.clone();
    let s = call!(
        nested,
        Stream::connect(&mut lp, addr, move |lp, log: &mut Log, s, r| {
            assert!(!n.get(), "connect callback nested");
            r.unwrap();
            log.push("connect".into());
            let n2 = n.clone();
            call!(
                n,
                s.write_with(lp, &b"Hello world\n"[..], move |_, log: &mut Log, r| {
                    assert!(!n2.get(), "write callback nested");
                    r.unwrap();
                    log.push("write".into());
                })
            )
            .unwrap();
            let n3 = n.clone();
            let mut got = 0;
            call!(
                n,
                s.read_start(lp, move |lp, log: &mut Log, s, ev| {
                    assert!(!n3.get(), "read callback nested");
                    match ev {
                        ReadEvent::Data(b) => {
                            got += b.len();
                            if got == 12 {
                                log.push("read".into());
                                // Then a timer, then shutdown, as libuv's test.
                                let n4 = n3.clone();
                                lp.add_timer(10, 0, move |lp, log: &mut Log| {
                                    assert!(!n4.get());
                                    log.push("timer".into());
                                    let n5 = n4.clone();
                                    call!(
                                        n4,
                                        s.shutdown(lp, move |_, log: &mut Log, r| {
                                            assert!(!n5.get(), "shutdown callback nested");
                                            r.unwrap();
                                            log.push("shutdown".into());
                                        })
                                    )
                                    .unwrap();
                                });
                            }
                        }
                        ReadEvent::Eof => {
                            log.push("eof".into());
                            let n6 = n3.clone();
                            call!(
                                n3,
                                s.close(lp, move |lp, log: &mut Log| {
                                    assert!(!n6.get(), "close callback nested");
                                    log.push("close".into());
                                    l.close(lp, |_, _| {}).unwrap();
                                })
                            )
                            .unwrap();
                        }
                        ReadEvent::Error(e) => panic!("{e}"),
                    }
                })
            )
            .unwrap();
        })
    )
    .unwrap();
    let _ = s;
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(
        log,
        ["connect", "write", "read", "timer", "shutdown", "eof", "close"]
    );
}

/// shutdown_eof: read_start twice → EALREADY; `Q` + shutdown; `Q` comes
/// back, then EOF; EOF does not close the handle (a timer does, later).
#[test]
fn shutdown_eof() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (_l, addr, _) = echo_server(&mut lp, any_port());
    Stream::connect(&mut lp, addr, |lp, _, s, r| {
        r.unwrap();
        s.read_start(lp, move |lp, log: &mut Log, s, ev| match ev {
            ReadEvent::Data(b) => log.push(format!("data {}", String::from_utf8_lossy(b))),
            ReadEvent::Eof => {
                log.push("eof".into());
                assert!(s.exists(lp) && !s.is_closing(lp), "EOF closed the handle");
                lp.add_timer(100, 0, move |lp, log: &mut Log| {
                    assert!(s.exists(lp), "still open 100 ms after EOF");
                    s.close(lp, |_, log: &mut Log| log.push("close".into()))
                        .unwrap();
                    log.push("timer".into());
                });
            }
            ReadEvent::Error(e) => panic!("{e}"),
        })
        .unwrap();
        let again = s.read_start(lp, |_, _, _, _| {}).unwrap_err();
        assert_eq!(again.code(), "EALREADY");
        s.write(lp, &b"Q"[..]).unwrap();
        s.shutdown(lp, |_, log: &mut Log, r| {
            r.unwrap();
            log.push("shutdown".into());
        })
        .unwrap();
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["shutdown", "data Q", "eof", "timer", "close"]);
}

/// shutdown_close_tcp: shutdown, then close at once: the shutdown
/// callback runs once (ok or ECANCELED), before the close callback.
#[test]
fn shutdown_close_tcp() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        s.shutdown(lp, |_, log: &mut Log, r| {
            assert!(r.is_ok() || r.as_ref().unwrap_err().is_canceled(), "{r:?}");
            log.push("shutdown".into());
        })
        .unwrap();
        s.close(lp, move |lp, log: &mut Log| {
            log.push("close".into());
            l.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["shutdown", "close"]);
}

/// shutdown_twice: the second shutdown fails with ENOTCONN; the first
/// calls back once with success.
#[test]
fn shutdown_twice() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        s.shutdown(lp, move |lp, log: &mut Log, r| {
            r.unwrap();
            log.push("shutdown".into());
            s.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
        let e = s
            .shutdown(lp, |_, _, _| panic!("second shutdown called back"))
            .unwrap_err();
        assert_eq!(e.code(), "ENOTCONN");
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["shutdown"]);
}

/// not_writable_after_shutdown: `is_writable` is false as soon as
/// shutdown returns; a write then is EPIPE.
#[test]
fn not_writable_after_shutdown() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        assert!(s.is_writable(lp));
        s.shutdown(lp, move |lp, _, _| {
            s.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
        assert!(!s.is_writable(lp));
        let e = s.write(lp, &b"x"[..]).unwrap_err();
        assert_eq!(e.code(), "EPIPE");
        assert!(e.to_string().contains("write after shutdown"), "{e}");
    })
    .unwrap();
    run(&mut lp, &mut Log::new());
}

/// readable_on_eof: after EOF the stream stays readable and writable, and
/// read_start again reports EOF again; a closed stream is neither.
#[test]
fn readable_on_eof() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = l.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.write_all(b"PING").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        // Wait for the client to close.
        let mut sink = Vec::new();
        c.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        let _ = c.read_to_end(&mut sink);
    });
    fn reader(lp: &mut Loop<Log>, log: &mut Log, s: Stream, ev: ReadEvent<'_>) {
        match ev {
            ReadEvent::Data(b) => log.push(format!("data {}", String::from_utf8_lossy(b))),
            ReadEvent::Eof => {
                log.push("eof".into());
                assert!(s.is_readable(lp), "readable after EOF");
                assert!(s.is_writable(lp), "writable after EOF");
                assert!(!s.is_reading(lp));
                if log.iter().filter(|e| *e == "eof").count() == 1 {
                    s.read_start(lp, reader).unwrap();
                } else {
                    s.close(lp, |_, _| {}).unwrap();
                    assert!(!s.is_readable(lp) && !s.is_writable(lp));
                }
            }
            ReadEvent::Error(e) => panic!("{e}"),
        }
    }
    Stream::connect(&mut lp, addr, |lp, _, s, r| {
        r.unwrap();
        s.read_start(lp, reader).unwrap();
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["data PING", "eof", "eof"]);
    peer.join().unwrap();
}

/// tcp_close: 32 writes queued, then close in the connect callback: all 32
/// write callbacks run before the close callback.
#[test]
fn tcp_close() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        for i in 0..32 {
            s.write_with(lp, vec![b'x'; 1024], move |_, log: &mut Log, r| {
                assert!(r.is_ok() || r.as_ref().unwrap_err().is_canceled());
                log.push(format!("w{i}"));
            })
            .unwrap();
        }
        s.close(lp, move |lp, log: &mut Log| {
            log.push("close".into());
            l.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    let mut want: Vec<String> = (0..32).map(|i| format!("w{i}")).collect();
    want.push("close".into());
    assert_eq!(log, want);
}

/// tcp_write_queue_order: many 1 KiB writes to a peer that never reads,
/// closed after a while: every write callback runs exactly once, in order;
/// the first ones succeed, the last ones are ECANCELED.
#[test]
fn tcp_write_queue_order() {
    const N: usize = 20_000;
    let mut lp: Loop<Vec<(usize, bool)>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        |lp, _, l, r| {
            r.unwrap();
            // Accept and never read.
            let s = l.accept(lp).unwrap();
            lp.add_timer(300, 0, move |lp, _| s.close(lp, |_, _| {}).unwrap());
        },
    )
    .unwrap();
    let addr = l.local_addr(&lp).unwrap().as_inet().unwrap();
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        for i in 0..N {
            s.write_with(
                lp,
                vec![b'x'; 1024],
                move |_, out: &mut Vec<(usize, bool)>, r| {
                    if let Err(e) = &r {
                        assert!(e.is_canceled(), "{e}");
                    }
                    out.push((i, r.is_ok()));
                },
            )
            .unwrap();
        }
        lp.add_timer(200, 0, move |lp, _| {
            assert!(s.write_queue_size(lp) > 0, "everything went out: raise N");
            s.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        });
    })
    .unwrap();
    let mut out = Vec::new();
    run(&mut lp, &mut out);
    assert_eq!(out.len(), N);
    assert!(
        out.iter().enumerate().all(|(i, (j, _))| i == *j),
        "in order"
    );
    let ok = out.iter().take_while(|(_, ok)| *ok).count();
    assert!(ok > 0, "some writes succeeded");
    assert!(
        out[ok..].iter().all(|(_, ok)| !ok),
        "then only cancellations"
    );
    assert!(ok < N, "some were canceled");
}

/// tcp_try_write: try_write returns > 0 or EAGAIN; an empty try_write
/// returns 0; the server reads exactly the bytes written.
#[test]
fn tcp_try_write() {
    let mut lp: Loop<usize> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = l.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        // Let the client fill the buffers first, then read all.
        std::thread::sleep(Duration::from_millis(100));
        read_to_end(&c).len()
    });
    Stream::connect(&mut lp, addr, |lp, written: &mut usize, s, r| {
        r.unwrap();
        assert_eq!(s.try_write(lp, b"").unwrap(), 0);
        let buf = [b'x'; 16 * 1024];
        let mut eagain = false;
        for _ in 0..100_000 {
            match s.try_write(lp, &buf) {
                Ok(n) => {
                    assert!(n > 0);
                    *written += n;
                }
                Err(e) => {
                    assert_eq!(e.code(), "EAGAIN", "{e}");
                    eagain = true;
                    break;
                }
            }
        }
        assert!(eagain, "the send buffer never filled");
        assert_eq!(s.bytes_written(lp), *written as u64);
        s.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let mut written = 0;
    run(&mut lp, &mut written);
    assert!(written > 0);
    assert_eq!(peer.join().unwrap(), written);
}

/// tcp_writealot: 3 vectored writes of 4096 × 1 KiB buffers, then
/// shutdown: the shutdown callback after the 3 write callbacks with an
/// empty queue; every byte echoed; EOF, then close.
#[test]
fn tcp_writealot() {
    const BUFS: usize = 4096;
    const CHUNK: usize = 1024;
    const TOTAL: usize = 3 * BUFS * CHUNK;
    let mut lp: Loop<(Log, Vec<u8>)> = Loop::new().unwrap();
    watchdog(&mut lp, 30_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    let data = Rc::new(pattern(TOTAL));
    let d2 = data.clone();
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        for w in 0..3 {
            let bufs: Vec<&[u8]> = (0..BUFS)
                .map(|i| {
                    let at = (w * BUFS + i) * CHUNK;
                    &d2[at..at + CHUNK]
                })
                .collect();
            s.write_vectored(lp, &bufs, move |_, (log, _): &mut (Log, Vec<u8>), r| {
                r.unwrap();
                log.push(format!("write{w}"));
            })
            .unwrap();
        }
        s.shutdown(lp, move |lp, (log, _): &mut (Log, Vec<u8>), r| {
            r.unwrap();
            assert_eq!(s.write_queue_size(lp), 0);
            log.push("shutdown".into());
        })
        .unwrap();
        s.read_start(
            lp,
            move |lp, (log, got): &mut (Log, Vec<u8>), s, ev| match ev {
                ReadEvent::Data(b) => got.extend_from_slice(b),
                ReadEvent::Eof => {
                    log.push("eof".into());
                    s.close(lp, |_, _| {}).unwrap();
                    l.close(lp, |_, _| {}).unwrap();
                }
                ReadEvent::Error(e) => panic!("{e}"),
            },
        )
        .unwrap();
    })
    .unwrap();
    let mut st = (Log::new(), Vec::new());
    run(&mut lp, &mut st);
    assert_eq!(st.0, ["write0", "write1", "write2", "shutdown", "eof"]);
    assert_eq!(st.1.len(), TOTAL);
    assert!(st.1 == *data, "echoed bytes differ");
}

/// tcp_write_fail: an empty buffer list is EINVAL; a write to a stream
/// whose peer is gone calls back with an error (no panic, no SIGPIPE).
#[test]
fn tcp_write_fail() {
    let mut lp: Loop<Vec<Error>> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    let e = s.write_vectored(&mut lp, &[], |_, _, _| {}).unwrap_err();
    assert_eq!(e.code(), "EINVAL");
    drop(b);
    s.write_with(&mut lp, &b"hello"[..], |_, errs: &mut Vec<Error>, r| {
        errs.push(r.unwrap_err())
    })
    .unwrap();
    s.write_with(
        &mut lp,
        &b"again"[..],
        move |lp, errs: &mut Vec<Error>, r| {
            errs.push(r.unwrap_err());
            s.close(lp, |_, _| {}).unwrap();
        },
    )
    .unwrap();
    let mut errs = Vec::new();
    run(&mut lp, &mut errs);
    assert_eq!(errs.len(), 2);
    for e in &errs {
        assert!(matches!(e.code(), "EPIPE" | "ECONNRESET"), "{e}");
        assert_eq!(e.op(), "write");
    }
}

/// tcp_connect_error_after_write: a write queued during a refused connect:
/// the connect callback fails, then the write callback, once each.
#[test]
fn tcp_connect_error_after_write() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let addr = refused_addr();
    let s = Stream::connect(&mut lp, addr, move |_, log: &mut Log, _, r| {
        let e = r.unwrap_err();
        assert_eq!(e.code(), "ECONNREFUSED");
        log.push(format!("connect {e}"));
    })
    .unwrap();
    s.write_with(&mut lp, &b"x"[..], move |lp, log: &mut Log, r| {
        let e = r.unwrap_err();
        log.push(format!("write {}", e.code()));
        s.close(lp, |_, log: &mut Log| log.push("close".into()))
            .unwrap();
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        log[0].starts_with(&format!("connect connect ECONNREFUSED {addr}: ")),
        "{}",
        log[0]
    );
    assert_eq!(log[1], "write ECANCELED");
    assert_eq!(log[2], "close");
}

/// connection_fail and connection_fail_doesnt_auto_close: ECONNREFUSED
/// comes asynchronously, naming the address; the stream is not closed
/// by it: the close callback runs only after the user closes it.
#[test]
fn connection_fail_doesnt_auto_close() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let addr = refused_addr();
    let in_call = Rc::new(Cell::new(true));
    let ic = in_call.clone();
    Stream::connect(&mut lp, addr, move |lp, log: &mut Log, s, r| {
        assert!(!ic.get());
        let e = r.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("connect ECONNREFUSED {addr}: ")),
            "{msg}"
        );
        assert_eq!(e.address(), Some(addr.to_string().as_str()));
        log.push("connect".into());
        lp.add_timer(50, 0, move |lp, log: &mut Log| {
            assert!(s.exists(lp), "closed automatically");
            log.push("timer".into());
            s.close(lp, |_, log: &mut Log| log.push("close".into()))
                .unwrap();
        });
    })
    .unwrap();
    in_call.set(false);
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["connect", "timer", "close"]);
}

/// tcp_close_while_connecting: close during a pending connect: the connect
/// callback gets ECANCELED, then the close callback runs.
#[test]
fn tcp_close_while_connecting() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = l.local_addr().unwrap();
    let s = Stream::connect(&mut lp, addr, |_, log: &mut Log, _, r| {
        let e = r.unwrap_err();
        assert!(e.is_canceled(), "{e}");
        log.push(format!("connect {}", e.code()));
    })
    .unwrap();
    s.write_with(&mut lp, &b"x"[..], |_, log: &mut Log, r| {
        log.push(format!("write {}", r.unwrap_err().code()))
    })
    .unwrap();
    s.close(&mut lp, |_, log: &mut Log| log.push("close".into()))
        .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["connect ECANCELED", "write ECANCELED", "close"]);
    drop(l);
}

/// tcp_connect_error_fault: an invalid address is an error from the call,
/// with no callback.
#[test]
fn tcp_connect_error_fault() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let long = "/tmp/".to_string() + &"x".repeat(200);
    let e = Stream::connect_path(&mut lp, &long, |_, _, _, _| panic!("called back")).unwrap_err();
    assert_eq!(e.code(), "EINVAL", "{e}");
    run(&mut lp, &mut ());
}

/// tcp_bind_error_addrinuse_listen: a second listener on the same address
/// fails with EADDRINUSE, and the message says where.
#[test]
fn tcp_bind_error_addrinuse_listen() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l1 = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        |_, _, _, _| {},
    )
    .unwrap();
    let addr = l1.local_addr(&lp).unwrap().as_inet().unwrap();
    let e =
        Listener::listen(&mut lp, addr, &ListenOptions::default(), |_, _, _, _| {}).unwrap_err();
    assert_eq!(e.code(), "EADDRINUSE");
    assert_eq!(e.op(), "listen");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("listen EADDRINUSE {addr}: ")),
        "{msg}"
    );
    assert!(msg.contains("os error 98"), "{msg}");
    // SO_REUSEPORT on both lets them share the port.
    let opts = ListenOptions {
        reuse_port: true,
        ..ListenOptions::default()
    };
    let r1 = Listener::listen(&mut lp, any_port(), &opts, |_, _, _, _| {}).unwrap();
    let raddr = r1.local_addr(&lp).unwrap().as_inet().unwrap();
    let r2 = Listener::listen(&mut lp, raddr, &opts, |_, _, _, _| {}).unwrap();
    for l in [l1, r1, r2] {
        l.close(&mut lp, |_, _| {}).unwrap();
    }
    run(&mut lp, &mut ());
}

/// tcp_bind_or_listen_error_after_close: a closed listener's id is
/// refused (EBADF), and so is a closed stream's.
#[test]
fn tcp_error_after_close() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        |_, _, _, _| {},
    )
    .unwrap();
    l.close(&mut lp, |_, _| {}).unwrap();
    assert_eq!(l.close(&mut lp, |_, _| {}).unwrap_err().code(), "EBADF");
    assert_eq!(l.accept(&mut lp).unwrap_err().code(), "EBADF");
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.close(&mut lp, |_, _| {}).unwrap();
    assert_eq!(s.write(&mut lp, &b"x"[..]).unwrap_err().code(), "EBADF");
    assert_eq!(s.close(&mut lp, |_, _| {}).unwrap_err().code(), "EBADF");
    run(&mut lp, &mut ());
    assert!(!s.exists(&lp));
    assert_eq!(s.read_stop(&mut lp).unwrap_err().code(), "EBADF");
    assert_eq!(loop_net::stats(&lp).streams, 0);
}

/// delayed_accept: the connection callback does not accept; accepting from
/// a timer later works, for two clients.
#[test]
fn delayed_accept() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        |lp, log: &mut Log, l, r| {
            r.unwrap();
            log.push("connection".into());
            lp.add_timer(100, 0, move |lp, log: &mut Log| {
                let s = l.accept(lp).unwrap();
                log.push("accepted".into());
                s.read_start(lp, move |lp, log: &mut Log, s, ev| {
                    if let ReadEvent::Eof = ev {
                        log.push("eof".into());
                        s.close(lp, |_, _| {}).unwrap();
                        if log.iter().filter(|e| *e == "eof").count() == 2 {
                            l.close(lp, |_, log: &mut Log| log.push("server closed".into()))
                                .unwrap();
                        }
                    }
                })
                .unwrap();
            });
        },
    )
    .unwrap();
    let addr = l.local_addr(&lp).unwrap().as_inet().unwrap();
    for _ in 0..2 {
        Stream::connect(&mut lp, addr, |lp, _, s, r| {
            r.unwrap();
            s.shutdown(lp, move |lp, _, _| s.close(lp, |_, _| {}).unwrap())
                .unwrap();
        })
        .unwrap();
    }
    let mut log = Log::new();
    run(&mut lp, &mut log);
    // The second connection waits for the first accept; an EOF may come
    // before or after the next connection callback (one poll batch).
    assert_eq!(log[..2], ["connection", "accepted"], "{log:?}");
    let count = |what: &str| log.iter().filter(|e| *e == what).count();
    assert_eq!(
        (count("connection"), count("accepted"), count("eof")),
        (2, 2, 2),
        "{log:?}"
    );
    let first_accept = log.iter().position(|e| e == "accepted").unwrap();
    let second_conn = log.iter().rposition(|e| e == "connection").unwrap();
    assert!(second_conn > first_accept, "{log:?}");
    assert_eq!(log.last().unwrap(), "server closed");
}

/// tcp_close_accept: accepted streams closed in the same poll batch in
/// which their data is ready, and a new connect that may reuse one's fd:
/// no stale event reaches the new stream (its connect to a closed port
/// fails instead of a bogus success), and no closed stream is read.
#[test]
fn tcp_close_accept() {
    const N: usize = 4;
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let accepted: Rc<RefCell<Vec<Stream>>> = Rc::default();
    let acc = accepted.clone();
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        move |lp, _, l, r| {
            r.unwrap();
            let s = l.accept(lp).unwrap();
            acc.borrow_mut().push(s);
            if acc.borrow().len() == N {
                // Start reading on all, once the clients have written.
                let acc = acc.clone();
                lp.add_timer(50, 0, move |lp, _| {
                    let all = acc.borrow().clone();
                    for s in all {
                        let acc = acc.clone();
                        s.read_start(lp, move |lp, log: &mut Log, s, ev| {
                            assert!(!s.is_closing(lp), "read callback of a closed stream");
                            if let ReadEvent::Data(_) = ev {
                                log.push("read".into());
                                // Close every accepted stream, with events
                                // still pending in this batch; reuse an fd.
                                for t in acc.borrow().iter() {
                                    if !t.is_closing(lp) {
                                        t.close(lp, |_, _| {}).unwrap();
                                    }
                                }
                                Stream::connect(lp, refused_addr(), |_, log: &mut Log, _, r| {
                                    let e = r.expect_err("a stale event made the connect succeed");
                                    log.push(format!("connect {}", e.code()));
                                })
                                .unwrap();
                            }
                        })
                        .unwrap();
                    }
                });
            }
        },
    )
    .unwrap();
    let addr = l.local_addr(&lp).unwrap().as_inet().unwrap();
    let clients: Vec<_> = (0..N)
        .map(|_| {
            let mut c = peer(addr);
            c.write_all(b"x").unwrap();
            c
        })
        .collect();
    lp.add_timer(500, 0, move |lp, _| l.close(lp, |_, _| {}).unwrap());
    let mut log = Log::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    drop(clients);
    let reads = log.iter().filter(|e| *e == "read").count();
    assert_eq!(reads, 1, "{log:?}");
    assert!(
        log.iter()
            .all(|e| e == "read" || e == "connect ECONNREFUSED"),
        "{log:?}"
    );
}

/// tcp_unexpected_read: data arriving on a stream that never called
/// read_start does not make the loop spin.
#[test]
fn tcp_unexpected_read() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = l.local_addr().unwrap();
    Stream::connect(&mut lp, addr, |lp, _, s, r| {
        r.unwrap();
        lp.add_timer(300, 0, move |lp, _| s.close(lp, |_, _| {}).unwrap());
    })
    .unwrap();
    let (mut c, _) = l.accept().unwrap();
    c.write_all(&[b'x'; 1000]).unwrap();
    let before = lp.metrics().iterations;
    lp.run(RunMode::Default, &mut ()).unwrap();
    let iterations = lp.metrics().iterations - before;
    assert!(
        iterations <= 20,
        "{iterations} iterations in 300 ms: spinning"
    );
}

/// tcp_read_stop: read_stop right after a write: no read callback
/// afterwards, and the write callback still runs.
#[test]
fn tcp_read_stop() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    Stream::connect(&mut lp, addr, move |lp, _, s, r| {
        r.unwrap();
        s.read_start(lp, |_, _, _, _| panic!("read after read_stop"))
            .unwrap();
        s.write_with(lp, &b"PING"[..], |_, log: &mut Log, r| {
            r.unwrap();
            log.push("write".into());
        })
        .unwrap();
        s.read_stop(lp).unwrap();
        lp.add_timer(100, 0, move |lp, log: &mut Log| {
            log.push("timer".into());
            s.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        });
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["write", "timer"]);
}

/// tcp_close_reset_client / _accepted / _after_shutdown: close_reset runs
/// the queued write callbacks before the close callback; the peer sees a
/// reset; close_reset while a shutdown is pending is EINVAL (the shutdown
/// callback still runs); after close_reset the stream refuses operations.
#[test]
fn tcp_close_reset() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = l.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(PEER_TIMEOUT)).unwrap();
        let mut buf = Vec::new();
        (&c).read_to_end(&mut buf).unwrap_err().kind()
    });
    Stream::connect(&mut lp, addr, |lp, _, s, r| {
        r.unwrap();
        for i in 0..4 {
            s.write_with(lp, &b"data"[..], move |_, log: &mut Log, r| {
                assert!(r.is_ok() || r.as_ref().unwrap_err().is_canceled());
                log.push(format!("w{i}"));
            })
            .unwrap();
        }
        s.close_reset(lp, |_, log: &mut Log| log.push("close".into()))
            .unwrap();
        assert_eq!(s.shutdown(lp, |_, _, _| {}).unwrap_err().code(), "EBADF");
    })
    .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["w0", "w1", "w2", "w3", "close"]);
    assert_eq!(peer.join().unwrap(), std::io::ErrorKind::ConnectionReset);

    // close_reset while a shutdown is pending.
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.shutdown(&mut lp, |_, log: &mut Log, r| {
        log.push(format!(
            "shutdown {}",
            r.map_or_else(|e| e.code(), |_| "ok")
        ));
    })
    .unwrap();
    assert_eq!(
        s.close_reset(&mut lp, |_, _| {}).unwrap_err().code(),
        "EINVAL"
    );
    assert!(!s.is_closing(&lp), "a refused close_reset leaves it open");
    s.close(&mut lp, |_, log: &mut Log| log.push("close".into()))
        .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    // The shutdown callback still runs, before the close callback (here
    // canceled: the close came before the loop ran it).
    assert_eq!(log, ["shutdown ECANCELED", "close"]);
}

/// tcp_flags: nodelay, keep-alive on with a delay and off; on with a zero
/// delay is EINVAL.
#[test]
fn tcp_flags() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let s = Stream::open_tcp(&mut lp, c).unwrap();
    s.set_no_delay(&lp, true).unwrap();
    s.set_keep_alive(&lp, true, 60).unwrap();
    s.set_keep_alive(&lp, false, 0).unwrap();
    assert_eq!(s.set_keep_alive(&lp, true, 0).unwrap_err().code(), "EINVAL");
    assert!(s.peer_addr(&lp).unwrap().as_inet().is_some());
    s.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut ());
}

/// tcp_ref, tcp_ref2, tcp_ref2b: an unreferenced listener does not keep
/// the loop alive; closing one still calls back.
#[test]
fn tcp_ref() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let l = Listener::listen(
        &mut lp,
        any_port(),
        &ListenOptions::default(),
        |_, _, _, _| panic!("no connection expected"),
    )
    .unwrap();
    l.unref(&mut lp).unwrap();
    let t0 = Instant::now();
    run(&mut lp, &mut Log::new());
    assert!(t0.elapsed() < Duration::from_secs(5));
    l.close(&mut lp, |_, log: &mut Log| log.push("close".into()))
        .unwrap();
    let mut log = Log::new();
    run(&mut lp, &mut log);
    assert_eq!(log, ["close"]);
}

/// tcp_ref3 / tcp_ref4: a stream unreferenced right after connect: its
/// connect, write and shutdown requests keep the loop alive until their
/// callbacks ran.
#[test]
fn tcp_ref3_requests_keep_alive() {
    let mut lp: Loop<Log> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, addr, _) = echo_server(&mut lp, any_port());
    l.unref(&mut lp).unwrap();
    let s = Stream::connect(&mut lp, addr, |lp, log: &mut Log, s, r| {
        r.unwrap();
        log.push("connect".into());
        s.write_with(lp, &b"x"[..], |_, log: &mut Log, r| {
            r.unwrap();
            log.push("write".into());
        })
        .unwrap();
        s.shutdown(lp, |_, log: &mut Log, r| {
            r.unwrap();
            log.push("shutdown".into());
        })
        .unwrap();
    })
    .unwrap();
    s.unref(&mut lp).unwrap();
    let mut log = Log::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log, ["connect", "write", "shutdown"]);
}

/// The accept loop's fairness bound: a backlog several times
/// ACCEPT_BATCH long is served over several polls (the listener re-arms
/// itself), and every connection is accepted.
#[test]
fn accept_batch_rearms() {
    const N: usize = 5 * loop_net::ACCEPT_BATCH;
    raise_nofile(3 * N as u64 + 64);
    let mut lp: Loop<usize> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let opts = ListenOptions {
        backlog: 1024,
        ..ListenOptions::default()
    };
    let l = Listener::listen(&mut lp, any_port(), &opts, |lp, n: &mut usize, l, r| {
        r.unwrap();
        let s = l.accept(lp).unwrap();
        s.close(lp, |_, _| {}).unwrap();
        *n += 1;
        if *n == N {
            l.close(lp, |_, _| {}).unwrap();
        }
    })
    .unwrap();
    let addr = l.local_addr(&lp).unwrap().as_inet().unwrap();
    // The whole backlog is there before the loop runs.
    let clients: Vec<_> = (0..N).map(|_| peer(addr)).collect();
    let before = lp.metrics().iterations;
    let mut n = 0;
    run(&mut lp, &mut n);
    assert_eq!(n, N);
    let polls = lp.metrics().iterations - before;
    assert!(
        polls >= 5,
        "{N} connections in {polls} polls: the batch bound did not apply"
    );
    drop(clients);
}

/// read_stop inside the read callback with more data waiting, then
/// read_start later: the waiting data arrives (the registration is renewed,
/// since no new edge will come).
#[test]
fn read_stop_then_start_resumes_waiting_data() {
    const LEN: usize = 1 << 20;
    let mut lp: Loop<Vec<u8>> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let writer = std::thread::spawn(move || {
        (&b).write_all(&pattern(LEN)).unwrap();
        b
    });
    let s = Stream::open_unix(&mut lp, a).unwrap();
    fn reader(lp: &mut Loop<Vec<u8>>, got: &mut Vec<u8>, s: Stream, ev: ReadEvent<'_>) {
        match ev {
            ReadEvent::Data(b) => {
                got.extend_from_slice(b);
                if got.len() == LEN {
                    s.close(lp, |_, _| {}).unwrap();
                    return;
                }
                // Stop after every chunk; start again from a timer.
                s.read_stop(lp).unwrap();
                lp.add_timer(0, 0, move |lp, _| s.read_start(lp, reader).unwrap());
            }
            other => panic!("{other:?}"),
        }
    }
    s.read_start(&mut lp, reader).unwrap();
    let mut got = Vec::new();
    run(&mut lp, &mut got);
    let _b = writer.join().unwrap();
    assert!(got == pattern(LEN));
}
