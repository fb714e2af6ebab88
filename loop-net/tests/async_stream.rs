//! `loop_net::future`: streams for tasks, against real sockets. A byte-
//! exact echo of a large random payload with half-close (TCP and Unix),
//! connect errors naming the address, an accept burst past the queue's
//! bound losing nothing, read backpressure, and dropping each future mid-
//! way leaving the stream consistent; `futures-io` with futures-util's
//! line reader.

mod common;

use common::ports::random_bytes;
use futures_util::future::{select, Either};
use futures_util::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use loop_core::{task, Loop};
use loop_net::future::{AsyncListener, AsyncStream, READ_HIGH_WATER, WRITE_HIGH_WATER};
use loop_net::ListenOptions;
use loop_testkit::{run_to_end, HangGuard};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// The echo of one connection: read, write back, until EOF; then
/// shut down (the half-close).
async fn echo(s: AsyncStream) -> loop_net::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut n_total = 0;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        n_total += n as u64;
        s.write_all(&buf[..n]).await?;
    }
    s.shutdown().await?;
    Ok(n_total)
}

/// Writes `data` in pieces of `piece`, shuts down, and reads to EOF, the
/// two at once (joined): the echo comes back while the client writes.
async fn client(s: AsyncStream, data: Vec<u8>, piece: usize) -> loop_net::Result<Vec<u8>> {
    let write = async {
        for c in data.chunks(piece) {
            s.write_all(c).await?;
        }
        s.shutdown().await
    };
    let read = async {
        let mut got = Vec::new();
        while s.read_chunk(&mut got).await? > 0 {}
        Ok::<_, loop_net::Error>(got)
    };
    let (w, r) = futures_util::future::join(write, read).await;
    w?;
    r
}

#[test]
fn tcp_echo_of_a_large_random_payload_is_byte_exact_with_half_close() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = AsyncListener::bind(&mut lp, local()).unwrap();
    let addr = l.local_addr().as_inet().unwrap();
    let mut server = lp.spawn_local(&mut (), async move {
        let s = l.accept().await?;
        echo(s).await
    });
    let data = random_bytes(8 << 20, 7);
    let conn = AsyncStream::connect(&mut lp, addr);
    let expect = data.clone();
    let mut cl = lp.spawn_local(
        &mut (),
        async move { client(conn.await?, data, 100_000).await },
    );
    run_to_end(&mut lp, &mut ());
    let got = cl.try_take().unwrap().unwrap().unwrap();
    assert_eq!(got.len(), expect.len());
    assert!(got == expect, "echo differs");
    assert_eq!(server.try_take().unwrap().unwrap().unwrap(), 8 << 20);
}

#[test]
fn unix_echo_is_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = AsyncListener::bind_path(&mut lp, &path).unwrap();
    lp.spawn_local(&mut (), async move { echo(l.accept().await?).await })
        .detach();
    let data = random_bytes(1 << 20, 11);
    let conn = AsyncStream::connect_path(&mut lp, &path);
    let expect = data.clone();
    let mut cl = lp.spawn_local(
        &mut (),
        async move { client(conn.await?, data, 4096).await },
    );
    run_to_end(&mut lp, &mut ());
    assert!(cl.try_take().unwrap().unwrap().unwrap() == expect);
    assert!(
        !path.exists(),
        "the socket file is removed with the listener"
    );
}

#[test]
fn a_refused_connect_names_op_code_and_address() {
    let free = std::net::TcpListener::bind(local()).unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let mut lp: Loop<()> = Loop::new().unwrap();
    let conn = AsyncStream::connect(&mut lp, addr);
    let mut h = lp.spawn_local(&mut (), async move { conn.await.map(|_| ()) });
    run_to_end(&mut lp, &mut ());
    let e = h.try_take().unwrap().unwrap().unwrap_err();
    assert_eq!((e.op(), e.code()), ("connect", "ECONNREFUSED"));
    assert_eq!(e.address(), Some(addr.to_string().as_str()));
}

#[test]
fn a_burst_past_the_accept_queue_loses_no_connection() {
    const N: usize = 40;
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = AsyncListener::bind_with(&mut lp, local(), &ListenOptions::default(), 2).unwrap();
    let addr = l.local_addr().as_inet().unwrap();
    // N clients connect before the loop runs: the kernel completes the
    // handshakes, the whole burst is in the backlog at the first poll.
    let _g = HangGuard::new("the burst's clients", Duration::from_secs(30));
    let mut peers: Vec<_> = (0..N)
        .map(|i| {
            let mut p = std::net::TcpStream::connect(addr).unwrap();
            p.write_all(&[i as u8]).unwrap();
            p
        })
        .collect();
    let mut h = lp.spawn_local(&mut (), async move {
        let mut seen = Vec::new();
        for _ in 0..N {
            let s = l.accept().await?;
            // Slow acceptor: a hop to the back of the queue per
            // connection, while the listener's callbacks come.
            task::immediate().await;
            let mut b = [0u8; 1];
            assert_eq!(s.read(&mut b).await?, 1);
            seen.push(b[0]);
            s.write_all(b"k").await?;
        }
        Ok::<_, loop_net::Error>(seen)
    });
    run_to_end(&mut lp, &mut ());
    let mut seen = h.try_take().unwrap().unwrap().unwrap();
    seen.sort_unstable();
    assert_eq!(seen, (0..N as u8).collect::<Vec<_>>());
    for p in &mut peers {
        let mut b = [0u8; 2];
        assert_eq!(
            p.read(&mut b).unwrap(),
            1,
            "each client got its answer, then EOF"
        );
        assert_eq!(p.read(&mut b).unwrap(), 0);
    }
}

/// A connected pair inside one loop: (task-side stream, std peer).
fn pair(lp: &mut Loop<()>) -> (AsyncStream, std::os::unix::net::UnixStream) {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let s = loop_net::Stream::open_unix(lp, a).unwrap();
    (AsyncStream::from_stream(lp, s), b)
}

#[test]
fn reading_pauses_past_the_high_water_mark_and_loses_nothing() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (s, peer) = pair(&mut lp);
    let id = s.id();
    let total = 3 * READ_HIGH_WATER;
    let data = random_bytes(total, 3);
    let expect = data.clone();
    let _g = HangGuard::new("the writing peer", Duration::from_secs(30));
    let writer = std::thread::spawn(move || {
        (&peer).write_all(&data).unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        peer
    });
    let mut h = lp.spawn_local(&mut (), async move {
        let mut first = [0u8; 1];
        assert_eq!(s.read(&mut first).await?, 1);
        // Let the rest arrive without reading: the stream pauses.
        let mut paused_seen = false;
        for _ in 0..200 {
            task::sleep(1).await;
            if task::with(|lp: &mut Loop<()>, _| !id.is_reading(lp)) {
                paused_seen = true;
                break;
            }
        }
        let mut got = first.to_vec();
        let mut buf = vec![0u8; 7000];
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        Ok::<_, loop_net::Error>((paused_seen, got))
    });
    run_to_end(&mut lp, &mut ());
    drop(writer.join().unwrap());
    let (paused, got) = h.try_take().unwrap().unwrap().unwrap();
    assert!(paused, "reading never paused with {total} bytes unread");
    assert!(got == expect, "bytes lost or reordered across the pause");
}

#[test]
fn a_read_dropped_mid_way_loses_no_byte() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (s, peer) = pair(&mut lp);
    let mut h = lp.spawn_local(&mut (), async move {
        let mut buf = [0u8; 64];
        // A read raced against a timer: the timer wins, the read is
        // dropped while it waits.
        let r = select(s.read(&mut buf), task::sleep(5)).await;
        let lost_race = matches!(r, Either::Right(_));
        drop(r);
        (&peer).write_all(b"after the drop").unwrap();
        let n = s.read(&mut buf).await?;
        Ok::<_, loop_net::Error>((lost_race, buf[..n].to_vec(), peer))
    });
    run_to_end(&mut lp, &mut ());
    let (lost_race, got, _peer) = h.try_take().unwrap().unwrap().unwrap();
    assert!(lost_race);
    assert_eq!(got, b"after the drop");
}

#[test]
fn a_write_all_dropped_while_it_waits_wrote_nothing() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (s, peer) = pair(&mut lp);
    let mut h = lp.spawn_local(&mut (), async move {
        // Fill the kernel's buffers and the queue past the high-water
        // mark: the peer does not read yet.
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0usize;
        loop {
            let w = select(s.write_all(&chunk), task::sleep(20)).await;
            match w {
                Either::Left((r, _)) => {
                    r?;
                    sent += chunk.len();
                }
                // Waiting on backpressure: dropped with nothing written.
                Either::Right(_) => break,
            }
        }
        let queued = task::with(|lp: &mut Loop<()>, _| s.id().write_queue_size(lp));
        assert!(queued > WRITE_HIGH_WATER, "queue {queued}");
        // The peer drains everything; the stream is still whole: a last
        // write and the half-close go through in order.
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            (&peer).read_to_end(&mut all).unwrap();
            all
        });
        s.write_all(b"end").await?;
        s.shutdown().await?;
        Ok::<_, loop_net::Error>((sent, reader))
    });
    let _g = HangGuard::new("the draining peer", Duration::from_secs(30));
    run_to_end(&mut lp, &mut ());
    let (sent, reader) = h.try_take().unwrap().unwrap().unwrap();
    let all = reader.join().unwrap();
    assert_eq!(all.len(), sent + 3, "the dropped write_all wrote nothing");
    assert!(all[..sent].iter().all(|&b| b == b'a'));
    assert_eq!(&all[sent..], b"end");
}

#[test]
fn a_connect_dropped_mid_way_closes_its_stream() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = AsyncListener::bind(&mut lp, local()).unwrap();
    let addr = l.local_addr().as_inet().unwrap();
    let conn = AsyncStream::connect(&mut lp, addr);
    let mut h = lp.spawn_local(&mut (), async move {
        drop(conn); // before it completed
                    // The server side sees the connection, then its EOF.
        let s = l.accept().await?;
        let mut b = [0u8; 8];
        s.read(&mut b).await
    });
    run_to_end(&mut lp, &mut ());
    assert_eq!(h.try_take().unwrap().unwrap().unwrap(), 0);
    assert_eq!(loop_net::stats(&lp).streams, 0, "no stream left open");
}

#[test]
fn a_stream_dropped_by_its_task_is_closed() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (s, peer) = pair(&mut lp);
    lp.spawn_local(&mut (), async move {
        s.write_all(b"bye").await.unwrap();
    })
    .detach();
    run_to_end(&mut lp, &mut ());
    let mut all = Vec::new();
    (&peer).read_to_end(&mut all).unwrap();
    assert_eq!(all, b"bye");
    assert_eq!(loop_net::stats(&lp).streams, 0);
}

#[test]
fn futures_io_lines_through_a_buf_reader() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let l = AsyncListener::bind(&mut lp, local()).unwrap();
    let addr = l.local_addr().as_inet().unwrap();
    // The server upper-cases lines with the ecosystem's traits only.
    lp.spawn_local(&mut (), async move {
        let s = l.accept().await.unwrap();
        let mut lines = BufReader::new(&s).lines();
        let mut w = &s;
        while let Some(line) = futures_util::StreamExt::next(&mut lines).await {
            let line = line.unwrap().to_uppercase() + "\n";
            w.write_all(line.as_bytes()).await.unwrap();
        }
        w.close().await.unwrap();
    })
    .detach();
    let conn = AsyncStream::connect(&mut lp, addr);
    let mut h = lp.spawn_local(&mut (), async move {
        let mut s = conn.await.unwrap();
        s.write_all(b"one\ntwo\nthree\n").await.unwrap();
        AsyncWriteExt::close(&mut s).await.unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).await.unwrap();
        got
    });
    run_to_end(&mut lp, &mut ());
    assert_eq!(h.try_take().unwrap().unwrap(), "ONE\nTWO\nTHREE\n");
}

#[test]
fn polled_outside_a_task_is_an_error_not_a_panic() {
    let mut lp: Loop<()> = Loop::new().unwrap();
    let (s, _peer) = pair(&mut lp);
    let mut buf = [0u8; 4];
    let mut fut = pin!(s.read(&mut buf));
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(e)) => {
            assert_eq!((e.op(), e.code()), ("read", "EINVAL"));
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

use std::future::Future;

#[test]
fn udp_send_to_and_recv_from_in_order_past_the_queue_bound() {
    use loop_net::future::{AsyncUdp, RECV_QUEUE};
    const N: usize = 3 * RECV_QUEUE;
    let mut lp: Loop<()> = Loop::new().unwrap();
    let a = AsyncUdp::bind(&mut lp, local()).unwrap();
    let b = AsyncUdp::bind(&mut lp, local()).unwrap();
    let mut h = lp.spawn_local(&mut (), async move {
        let to = b.local_addr()?;
        let from = a.local_addr()?;
        // The receiver starts (first recv_from), then N datagrams come
        // while it does not read: past RECV_QUEUE it stops receiving and
        // the kernel's buffer keeps the rest.
        let mut buf = [0u8; 16];
        let first = select(b.recv_from(&mut buf), task::immediate()).await;
        assert!(matches!(first, Either::Right(_)), "nothing sent yet");
        for i in 0..N as u32 {
            assert_eq!(a.send_to(&i.to_be_bytes(), to).await?, 4);
        }
        task::sleep(10).await;
        let mut got = Vec::new();
        for _ in 0..N {
            let (n, sender) = b.recv_from(&mut buf).await?;
            assert_eq!((n, sender), (4, from));
            got.push(u32::from_be_bytes(buf[..4].try_into().unwrap()));
        }
        Ok::<_, loop_net::Error>(got)
    });
    run_to_end(&mut lp, &mut ());
    let got = h.try_take().unwrap().unwrap().unwrap();
    assert_eq!(got, (0..N as u32).collect::<Vec<_>>());
}

#[test]
fn udp_send_to_an_unbound_address_family_names_it() {
    use loop_net::future::AsyncUdp;
    let mut lp: Loop<()> = Loop::new().unwrap();
    let a = AsyncUdp::bind(&mut lp, local()).unwrap();
    let mut h = lp.spawn_local(&mut (), async move {
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        a.send_to(b"x", v6).await.map(|_| ())
    });
    run_to_end(&mut lp, &mut ());
    let e = h.try_take().unwrap().unwrap().unwrap_err();
    assert_eq!(e.op(), "send", "{e}");
    assert!(e.address().is_some_and(|a| a.contains("::1")), "{e}");
}
