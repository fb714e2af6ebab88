//! More of libuv 1.46's stream tests, rewritten for this API (their
//! asserted results, not their code): test-ref.c (`tcp_ref` on an
//! unconnected handle, `tcp_ref2b`, the `pipe_ref` family),
//! test-pipe-connect-error.c, test-pipe-getsockname.c,
//! test-pipe-server-close.c, test-pipe-connect-multiple.c,
//! test-shutdown-close.c (`shutdown_close_pipe`),
//! test-shutdown-simultaneous.c, test-tcp-try-write-error.c,
//! test-tcp-rst.c, test-tcp-write-to-half-open-connection.c,
//! test-tcp-read-stop-start.c, test-tcp-write-in-a-row.c,
//! test-tcp-shutdown-after-write.c, test-tcp-close-after-read-timeout.c,
//! test-close-fd.c, test-tcp-oob.c, test-tcp-write-after-connect.c.

mod common;

use common::ports::{closed, opts, run, run_log, run_pair, sink, sorted, L};
use common::{any_port, echo_server_unix, watchdog};
use loop_core::{Loop, RunMode};
use loop_net::{Address, ListenOptions, Listener, ReadEvent, Stream};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// `tcp_ref` / `pipe_ref`: an unconnected handle, unreferenced, does not
/// keep the loop alive (nor would it referenced: it is not active); its
/// close callback runs once.
#[test]
fn tcp_ref_unconnected() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    let s = Stream::new(&mut lp);
    s.unref(&mut lp).unwrap();
    let mut log = L::new();
    run(&mut lp, &mut log);
    s.close(&mut lp, closed("s")).unwrap();
    run(&mut lp, &mut log);
    assert_eq!(log, ["s closed"]);
}

/// `tcp_ref2b`: an unreferenced listener closed before `run`: its close
/// callback still runs (a closing handle keeps the loop alive).
#[test]
fn tcp_ref2b() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    let l = Listener::listen(&mut lp, any_port(), &opts(), |_, _, _, _| {
        panic!("no connection expected")
    })
    .unwrap();
    l.unref(&mut lp).unwrap();
    l.close(&mut lp, closed("l")).unwrap();
    let log = run_log(&mut lp);
    assert_eq!(log, ["l closed"]);
}

/// `pipe_ref2`: an unreferenced Unix listener: `run` returns at once.
/// `pipe_ref3` / `pipe_ref4`: a Unix stream unreferenced right after
/// connect: its connect, write and shutdown requests keep the loop alive.
#[test]
fn pipe_ref_family() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    let (l, _) = echo_server_unix(&mut lp, &path);
    l.unref(&mut lp).unwrap();
    let t0 = Instant::now();
    run(&mut lp, &mut L::new());
    assert!(t0.elapsed() < Duration::from_secs(5));
    watchdog(&mut lp, 10_000);
    let s = Stream::connect_path(&mut lp, &path, |lp, log: &mut L, s, r| {
        r.unwrap();
        log.push("connect".into());
        s.write_with(lp, &b"x"[..], |_, log: &mut L, r| {
            r.unwrap();
            log.push("write".into());
        })
        .unwrap();
        s.shutdown(lp, |_, log: &mut L, r| {
            r.unwrap();
            log.push("shutdown".into());
        })
        .unwrap();
    })
    .unwrap();
    s.unref(&mut lp).unwrap();
    let mut log = L::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log, ["connect", "write", "shutdown"]);
    s.close(&mut lp, |_, _| {}).unwrap();
    l.close(&mut lp, |_, _| {}).unwrap();
    run(&mut lp, &mut log);
}

/// `pipe_connect_bad_name`: `ENOENT`, to the callback, not from the call;
/// the stream is not closed for us. `pipe_connect_to_file`: a path that
/// is a regular file is `ECONNREFUSED`.
#[test]
fn pipe_connect_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a socket").unwrap();
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let mut log = L::new();
    for (name, path) in [
        ("bad name", dir.path().join("nothing-here")),
        ("file", file),
    ] {
        Stream::connect_path(&mut lp, &path, move |lp, log: &mut L, s, r| {
            log.push(format!("{name}: {}", r.unwrap_err().code()));
            assert!(!s.is_closing(lp), "not closed automatically");
            s.close(lp, closed(name)).unwrap();
        })
        .unwrap();
    }
    log.push("returned".into());
    run(&mut lp, &mut log);
    assert_eq!(
        log,
        [
            "returned",
            "bad name: ENOENT",
            "file: ECONNREFUSED",
            "file closed",
            "bad name closed"
        ]
    );
}

/// `pipe_getsockname`: the listener's name is its path; a client's peer
/// is that path and its own name is empty (unnamed); the accepted end's
/// name is the path and its peer unnamed.
#[test]
fn pipe_getsockname() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let p = path.clone();
    let l = Listener::listen_path(&mut lp, &path, &opts(), move |lp, log: &mut L, l, r| {
        r.unwrap();
        let a = l.accept(lp).unwrap();
        let local = a.local_addr(lp).unwrap();
        let peer = a.peer_addr(lp).unwrap();
        log.push(format!(
            "accepted: local is the path {}, peer unnamed {}",
            local.as_path() == Some(&*p),
            peer == Address::Unix(Default::default())
        ));
        a.close(lp, |_, _| {}).unwrap();
        l.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    assert_eq!(l.local_addr(&lp).unwrap().as_path(), Some(&*path));
    let p = path.clone();
    Stream::connect_path(&mut lp, &path, move |lp, log: &mut L, c, r| {
        r.unwrap();
        let peer = c.peer_addr(lp).unwrap();
        let local = c.local_addr(lp).unwrap();
        log.push(format!(
            "client: peer is the path {}, local unnamed {} ({local})",
            peer.as_path() == Some(&*p),
            local.as_path().is_none()
        ));
        c.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let log = sorted(run_log(&mut lp));
    assert_eq!(
        log,
        [
            "accepted: local is the path true, peer unnamed true",
            "client: peer is the path true, local unnamed true ((unnamed))",
        ]
    );
}

/// `pipe_server_close`: listen with backlog 0, one client connects, both
/// closed from its connect callback: two close callbacks.
#[test]
fn pipe_server_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("close.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let backlog0 = ListenOptions {
        backlog: 0,
        ..ListenOptions::default()
    };
    let l = Listener::listen_path(&mut lp, &path, &backlog0, |_, _, _, _| {}).unwrap();
    Stream::connect_path(&mut lp, &path, move |lp, log: &mut L, c, r| {
        r.unwrap();
        log.push("connect".into());
        c.close(lp, closed("client")).unwrap();
        l.close(lp, closed("server")).unwrap();
    })
    .unwrap();
    let log = sorted(run_log(&mut lp));
    assert_eq!(log, ["client closed", "connect", "server closed"]);
    assert!(!path.exists());
}

/// `pipe_connect_multiple`: 10 clients at once (backlog 128): 10
/// connections, 10 connect callbacks. Past a full backlog a Unix connect
/// is `EAGAIN`, to the callback, as libuv's.
#[test]
fn pipe_connect_multiple() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let backlog = ListenOptions {
        backlog: 128,
        ..ListenOptions::default()
    };
    let accepted = Rc::new(Cell::new(0));
    let n = accepted.clone();
    let l = Listener::listen_path(&mut lp, &path, &backlog, move |lp, _, l, r| {
        r.unwrap();
        let a = l.accept(lp).unwrap();
        a.close(lp, |_, _| {}).unwrap();
        n.set(n.get() + 1);
        if n.get() == 10 {
            l.close(lp, closed("server")).unwrap();
        }
    })
    .unwrap();
    let _ = l;
    for _ in 0..10 {
        Stream::connect_path(&mut lp, &path, |lp, log: &mut L, c, r| {
            r.unwrap();
            log.push("connect".into());
            c.close(lp, |_, _| {}).unwrap();
        })
        .unwrap();
    }
    let log = run_log(&mut lp);
    assert_eq!(accepted.get(), 10);
    assert_eq!(log.iter().filter(|e| *e == "connect").count(), 10);
    assert_eq!(log.last().map(String::as_str), Some("server closed"));
}

/// `shutdown_close_pipe`: shutdown then close at once on a connected Unix
/// stream: the shutdown callback runs once (0 or `ECANCELED`), before the
/// close callback.
#[test]
fn shutdown_close_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sc.sock");
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let (l, _) = echo_server_unix(&mut lp, &path);
    Stream::connect_path(&mut lp, &path, move |lp, _, c, r| {
        r.unwrap();
        c.shutdown(lp, |_, log: &mut L, r| {
            let ok = r
                .as_ref()
                .map_or_else(|e| e.code() == "ECANCELED", |_| true);
            log.push(format!("shutdown ok-or-canceled {ok}"));
        })
        .unwrap();
        assert!(!c.is_closing(lp));
        c.close(lp, closed("client")).unwrap();
        assert!(c.is_closing(lp));
        l.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let log = run_log(&mut lp);
    assert_eq!(log, ["shutdown ok-or-canceled true", "client closed"]);
}

/// `shutdown_simultaneous`: both ends shut down their side at once: each
/// gets its shutdown callback (0) and reads EOF, and neither is closed
/// before it closes it.
#[test]
fn shutdown_simultaneous() {
    fn both(lp: &mut Loop<L>, name: &'static str, s: Stream) {
        let eof = Rc::new(Cell::new(false));
        let done = Rc::new(Cell::new(false));
        let (e2, d2) = (eof.clone(), done.clone());
        s.read_start(lp, move |lp, log: &mut L, s, ev| match ev {
            ReadEvent::Eof => {
                log.push(format!("{name} eof"));
                e2.set(true);
                if d2.get() {
                    s.close(lp, |_, _| {}).unwrap();
                }
            }
            other => panic!("{other:?}"),
        })
        .unwrap();
        s.shutdown(lp, move |lp, log: &mut L, r| {
            r.unwrap();
            log.push(format!("{name} shutdown"));
            done.set(true);
            if eof.get() {
                s.close(lp, |_, _| {}).unwrap();
            }
        })
        .unwrap();
    }
    let log = sorted(run_pair(
        10_000,
        |lp, _, a| both(lp, "server", a),
        |lp, _, c| both(lp, "client", c),
    ));
    assert_eq!(
        log,
        [
            "client eof",
            "client shutdown",
            "server eof",
            "server shutdown"
        ]
    );
}

/// `tcp_try_write_error`: once the peer closed, `try_write` fails with
/// `EPIPE` or `ECONNRESET` (after some writes that the kernel took), and
/// nothing is queued.
#[test]
fn tcp_try_write_error() {
    let log = run_pair(
        10_000,
        |lp, _, a| a.close(lp, |_, _| {}).unwrap(),
        |lp, _, c| {
            // Poll from a timer until the peer's close shows.
            fn attempt(lp: &mut Loop<L>, c: Stream, tries: u32) {
                match c.try_write(lp, b"x") {
                    Ok(_) | Err(_) if tries > 2000 => panic!("try_write never failed"),
                    Ok(_) => {
                        lp.set_timeout(1, move |lp, _| attempt(lp, c, tries + 1));
                    }
                    Err(e) if e.code() == "EAGAIN" => {
                        lp.set_timeout(1, move |lp, _| attempt(lp, c, tries + 1));
                    }
                    Err(e) => {
                        assert!(
                            matches!(e.code(), "EPIPE" | "ECONNRESET" | "ECONNABORTED"),
                            "{e}"
                        );
                        assert_eq!(c.write_queue_size(lp), 0);
                        c.close(lp, |lp: &mut Loop<L>, log: &mut L| {
                            let _ = lp;
                            log.push("failed, closed".into())
                        })
                        .unwrap();
                    }
                }
            }
            attempt(lp, c, 0);
        },
    );
    assert_eq!(log, ["failed, closed"]);
}

/// `tcp_rst`: the peer closes with an RST while we read: the read
/// callback gets `ECONNRESET`; the stream stays open until closed.
#[test]
fn tcp_rst() {
    let log = run_pair(
        10_000,
        |lp, _, a| {
            a.read_start(lp, |lp, _, a, ev| {
                if let ReadEvent::Data(_) = ev {
                    a.close_reset(lp, |_, _| {}).unwrap();
                }
            })
            .unwrap();
        },
        |lp, _, c| {
            c.read_start(lp, |lp, log: &mut L, c, ev| match ev {
                ReadEvent::Error(e) => {
                    log.push(format!("read {}", e.code()));
                    assert!(!c.is_closing(lp));
                    c.close(lp, closed("client")).unwrap();
                }
                other => panic!("{other:?}"),
            })
            .unwrap();
            assert_eq!(c.try_write(lp, b"QSH").unwrap(), 3);
        },
    );
    assert_eq!(log, ["read ECONNRESET", "client closed"]);
}

/// `tcp_write_to_half_open_connection`: the client closes right after
/// connecting; the server's write still succeeds (the kernel takes it),
/// and its read then sees `ECONNRESET` or EOF.
#[test]
fn tcp_write_to_half_open_connection() {
    let log = run_pair(
        10_000,
        |lp, _, a| {
            a.read_start(lp, |lp, log: &mut L, a, ev| {
                let what = match ev {
                    ReadEvent::Eof => "EOF".to_string(),
                    ReadEvent::Error(e) => e.code().to_string(),
                    ReadEvent::Data(_) => return,
                };
                log.push(format!(
                    "read ECONNRESET-or-EOF {}",
                    what == "EOF" || what == "ECONNRESET"
                ));
                a.close(lp, |_, _| {}).unwrap();
            })
            .unwrap();
            a.write_with(lp, &b"hello"[..], |_, log: &mut L, r| {
                log.push(format!("write {}", r.is_ok()))
            })
            .unwrap();
        },
        |lp, _, c| c.close(lp, |_, _| {}).unwrap(),
    );
    assert_eq!(log, ["write true", "read ECONNRESET-or-EOF true"]);
}

/// `tcp_read_stop_start`: `read_stop` then `read_start` with another
/// callback from inside the read callback: the new one gets what follows
/// (here EOF); at least two read callbacks in all.
#[test]
fn tcp_read_stop_start() {
    let log = run_pair(
        10_000,
        |lp, _, a| {
            a.read_start(lp, |lp, log: &mut L, a, ev| {
                assert!(matches!(ev, ReadEvent::Data(_)), "{ev:?}");
                log.push("read1".into());
                a.read_stop(lp).unwrap();
                a.read_start(lp, |lp, log: &mut L, a, ev| {
                    if let ReadEvent::Data(_) = ev {
                        return;
                    }
                    log.push(format!("read2 end {}", matches!(ev, ReadEvent::Eof)));
                    a.close(lp, |_, _| {}).unwrap();
                })
                .unwrap();
            })
            .unwrap();
        },
        |lp, _, c| {
            c.write_with(lp, &b"x"[..], |_, _, r| r.unwrap()).unwrap();
            c.shutdown(lp, move |lp, _, r| {
                r.unwrap();
                c.close(lp, |_, _| {}).unwrap();
            })
            .unwrap();
        },
    );
    assert_eq!(log, ["read1", "read2 end true"]);
}

/// `tcp_write_in_a_row`: a small write that queues (the socket is full),
/// then a big one: the queue grows by exactly the second's size; both
/// callbacks run, each seeing the queue drained as far as it went.
#[test]
fn tcp_write_in_a_row() {
    let log = run_pair(
        20_000,
        |lp, _, a| sink(lp, a),
        |lp, _, c| {
            // Fill the socket, so the writes below queue.
            while c.try_write(lp, &[0u8; 65536]).is_ok() {}
            c.write_with(lp, &b"small"[..], |_, log: &mut L, r| {
                r.unwrap();
                log.push("small".into());
            })
            .unwrap();
            let q0 = c.write_queue_size(lp);
            assert_eq!(q0, 5);
            c.write_with(lp, vec![1u8; 1 << 20], move |lp, log: &mut L, r| {
                r.unwrap();
                log.push(format!("big, queue {}", c.write_queue_size(lp)));
                c.close(lp, |_, _| {}).unwrap();
            })
            .unwrap();
            assert_eq!(c.write_queue_size(lp), q0 + (1 << 20));
        },
    );
    assert_eq!(log, ["small", "big, queue 0"]);
}

/// `tcp_shutdown_after_write`: a write then a shutdown issued from a
/// timer: the write callback (0), then the shutdown callback (0), then
/// close; each once.
#[test]
fn tcp_shutdown_after_write() {
    let log = run_pair(
        10_000,
        |lp, _, a| sink(lp, a),
        |lp, _, c| {
            lp.set_timeout(25, move |lp, _| {
                c.write_with(lp, &b"x"[..], |_, log: &mut L, r| {
                    log.push(format!("write {}", r.is_ok()))
                })
                .unwrap();
                c.shutdown(lp, move |lp, log: &mut L, r| {
                    log.push(format!("shutdown {}", r.is_ok()));
                    c.close(lp, closed("conn")).unwrap();
                })
                .unwrap();
            });
        },
    );
    assert_eq!(log, ["write true", "shutdown true", "conn closed"]);
}

/// `tcp_close_after_read_timeout`: a client reading a silent server stops
/// reading and closes from a timer; no read callback ran; the server then
/// reads EOF.
#[test]
fn tcp_close_after_read_timeout() {
    let mut log = run_pair(
        10_000,
        |lp, _, a| {
            a.read_start(lp, |lp, log: &mut L, a, ev| {
                log.push(format!("server read EOF {}", matches!(ev, ReadEvent::Eof)));
                a.close(lp, |_, _| {}).unwrap();
            })
            .unwrap();
        },
        |lp, _, c| {
            c.read_start(lp, |_, _, _, ev| panic!("no read expected: {ev:?}"))
                .unwrap();
            lp.set_timeout(50, move |lp, log: &mut L| {
                log.push("timeout".into());
                c.read_stop(lp).unwrap();
                c.close(lp, closed("client")).unwrap();
            });
        },
    );
    // The timer runs at the end of its iteration (libuv 1.46): the close
    // callback and the server's EOF both come in the next one.
    assert_eq!(log[0], "timeout");
    log.sort();
    assert_eq!(log, ["client closed", "server read EOF true", "timeout"]);
}

/// test-close-fd.c (`close_fd`): the read end of a pipe opened as a
/// stream; one byte written and the write end closed: the first read
/// gets the byte and stops reading, `run` returns (not active); a second
/// `read_start` gets EOF; then closed.
#[test]
fn close_fd() {
    use std::io::Write;
    let (r, mut w) = std::io::pipe().unwrap();
    let mut lp: Loop<L> = Loop::new().unwrap();
    let s = Stream::open_fd(&mut lp, r.into()).unwrap();
    w.write_all(b"x").unwrap();
    drop(w);
    let on_read = |lp: &mut Loop<L>, log: &mut L, s: Stream, ev: ReadEvent<'_>| match ev {
        ReadEvent::Data(b) => {
            log.push(format!("read {}", b.len()));
            s.read_stop(lp).unwrap();
        }
        ReadEvent::Eof => {
            log.push("eof".into());
            s.close(lp, |_, _| {}).unwrap();
        }
        ReadEvent::Error(e) => panic!("{e}"),
    };
    s.read_start(&mut lp, on_read).unwrap();
    let mut log = run_log(&mut lp);
    assert_eq!(log, ["read 1"]);
    assert!(!s.is_reading(&lp));
    s.read_start(&mut lp, on_read).unwrap();
    run(&mut lp, &mut log);
    assert_eq!(log, ["read 1", "eof"]);
    assert!(!s.exists(&lp), "closed");
}

/// test-tcp-oob.c (`tcp_oob`): the peer sends `hello` twice with
/// `MSG_OOB`: reads get the in-band bytes, never an error, and the
/// urgent data does not make the loop spin (a few iterations in 200 ms).
#[test]
fn tcp_oob() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let got = Rc::new(Cell::new(0usize));
    let g = got.clone();
    let l = Listener::listen(&mut lp, any_port(), &opts(), move |lp, _, l, r| {
        r.unwrap();
        let a = l.accept(lp).unwrap();
        let g = g.clone();
        a.read_start(lp, move |_, _, _, ev| match ev {
            ReadEvent::Data(b) => g.set(g.get() + b.len()),
            other => panic!("{other:?}"),
        })
        .unwrap();
        lp.add_timer(200, 0, move |lp, _| {
            a.close(lp, |_, _| {}).unwrap();
            l.close(lp, |_, _| {}).unwrap();
        });
    })
    .unwrap();
    let to = l.local_addr(&lp).unwrap().as_inet().unwrap();
    let c = std::net::TcpStream::connect(to).unwrap();
    c.set_nodelay(true).unwrap();
    let s = socket2::SockRef::from(&c);
    assert_eq!(s.send_out_of_band(b"hello").unwrap(), 5);
    assert_eq!(s.send_out_of_band(b"hello").unwrap(), 5);
    let before = lp.metrics().iterations;
    run(&mut lp, &mut L::new());
    let iterations = lp.metrics().iterations - before;
    assert!(
        iterations <= 20,
        "{iterations} iterations in 200 ms: spinning"
    );
    // Each send's last byte is urgent: out of band unless inlined.
    assert!((8..=10).contains(&got.get()), "{} bytes", got.get());
    drop(c);
}

/// test-tcp-write-after-connect.c (`tcp_write_after_connect`): a write
/// queued while a connect to a closed port runs: the connect callback
/// gets `ECONNREFUSED`, then the write callback `ECANCELED`.
#[test]
fn tcp_write_after_connect() {
    let mut lp: Loop<L> = Loop::new().unwrap();
    watchdog(&mut lp, 10_000);
    let s = Stream::connect(&mut lp, common::refused_addr(), |_, log: &mut L, _, r| {
        log.push(format!("connect {}", r.unwrap_err().code()))
    })
    .unwrap();
    s.write_with(&mut lp, &b"x"[..], move |lp, log: &mut L, r| {
        log.push(format!("write {}", r.unwrap_err().code()));
        s.close(lp, |_, _| {}).unwrap();
    })
    .unwrap();
    let log = run_log(&mut lp);
    assert_eq!(log, ["connect ECONNREFUSED", "write ECANCELED"]);
}
