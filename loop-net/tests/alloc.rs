//! Allocations on the hot path, counted by a global allocator (its own
//! test binary): resuming reads (`read_start` after `read_stop`), a
//! `try_write` that would block, a Node.js socket's `pause`/`resume`, and
//! a task's read/write round trip on a `loop_net::future::AsyncStream`
//! (`read` into its buffer and `read_chunk`) allocate nothing.

use loop_core::{Loop, RunMode};
use loop_net::{ReadEvent, Socket, Stream};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocs, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A read callback capturing a value: the same closure type every call.
fn reader(tag: u64) -> impl FnMut(&mut Loop<u64>, &mut u64, Stream, ReadEvent<'_>) + 'static {
    move |_, got, _, ev| {
        if let ReadEvent::Data(b) = ev {
            *got += b.len() as u64 + tag - tag;
        }
    }
}

#[test]
fn resuming_reads_allocates_nothing() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut lp: Loop<u64> = Loop::new().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.read_start(&mut lp, reader(1)).unwrap();
    (&b).write_all(b"warm up").unwrap();
    let mut got = 0;
    while got < 7 {
        lp.run(RunMode::Once, &mut got).unwrap();
    }
    for i in 0..100 {
        let n = allocs(|| {
            s.read_stop(&mut lp).unwrap();
            s.read_start(&mut lp, reader(i)).unwrap();
        });
        assert_eq!(n, 0, "read_stop + read_start allocated (round {i})");
    }
    // And the stream still reads with the callback given last.
    (&b).write_all(b"after").unwrap();
    while got < 12 {
        lp.run(RunMode::Once, &mut got).unwrap();
    }
    s.close(&mut lp, |_, _| {}).unwrap();
    lp.run(RunMode::Default, &mut got).unwrap();
}

#[test]
fn a_would_block_try_write_allocates_nothing() {
    let (a, _b) = UnixStream::pair().unwrap();
    let mut lp: Loop<u64> = Loop::new().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    // Fill the socket's buffers until the kernel takes nothing more.
    loop {
        match s.try_write(&mut lp, &chunk) {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.code(), "EAGAIN");
                break;
            }
        }
    }
    for _ in 0..100 {
        let n = allocs(|| {
            let e = s.try_write(&mut lp, &chunk).unwrap_err();
            assert_eq!(e.code(), "EAGAIN");
        });
        assert_eq!(n, 0, "a would-block try_write allocated");
    }
    // With writes queued, EAGAIN too, and no allocation either (once the
    // shared error exists: the first one makes it).
    s.write(&mut lp, &b"queued"[..]).unwrap();
    let _ = s.try_write(&mut lp, b"x");
    let n = allocs(|| {
        let e = s.try_write(&mut lp, b"x").unwrap_err();
        assert_eq!(e.code(), "EAGAIN");
    });
    assert_eq!(n, 0);
    s.close(&mut lp, |_, _| {}).unwrap();
    let mut d = 0;
    lp.run(RunMode::Default, &mut d).unwrap();
}

#[test]
fn pausing_and_resuming_a_socket_allocates_nothing() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut lp: Loop<u64> = Loop::new().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    let sock = Socket::from_stream(&mut lp, s, false).unwrap();
    sock.on_data(&mut lp, |_, got, _, b| *got += b.len() as u64);
    (&b).write_all(b"warm up").unwrap();
    let mut got = 0;
    while got < 7 {
        lp.run(RunMode::Once, &mut got).unwrap();
    }
    for i in 0..100 {
        let n = allocs(|| {
            sock.pause(&mut lp);
            sock.resume(&mut lp);
        });
        assert_eq!(n, 0, "pause + resume allocated (round {i})");
    }
    sock.destroy(&mut lp);
    lp.run(RunMode::Default, &mut got).unwrap();
}

/// Echo round trips through a task on an `AsyncStream` (the read
/// callback, the wake-up, the poll, `read` or `read_chunk`, `write_all`):
/// after a warm-up, not one allocation per round trip.
fn async_round_trips_allocate_nothing(chunked: bool) {
    use loop_net::future::AsyncStream;
    let (a, b) = UnixStream::pair().unwrap();
    let mut lp: Loop<u64> = Loop::new().unwrap();
    let s = Stream::open_unix(&mut lp, a).unwrap();
    let s = AsyncStream::from_stream(&mut lp, s);
    let mut got = 0;
    let task = lp.spawn_local(&mut got, async move {
        let mut buf = [0u8; 256];
        let mut chunk = Vec::new();
        loop {
            let n = if chunked {
                chunk.clear();
                let n = s.read_chunk(&mut chunk).await.unwrap();
                s.write_all(&chunk).await.unwrap();
                n
            } else {
                let n = s.read(&mut buf).await.unwrap();
                s.write_all(&buf[..n]).await.unwrap();
                n
            };
            if n == 0 {
                break;
            }
            loop_core::task::with(|_, got: &mut u64| *got += n as u64);
        }
    });
    let mut back = [0u8; 64];
    let mut round = |lp: &mut Loop<u64>, got: &mut u64| {
        let before = *got;
        (&b).write_all(&[7u8; 64]).unwrap();
        while *got < before + 64 {
            lp.run(RunMode::Once, got).unwrap();
        }
        (&b).read_exact(&mut back).unwrap();
    };
    for _ in 0..10 {
        round(&mut lp, &mut got);
    }
    for i in 0..200 {
        let n = allocs(|| round(&mut lp, &mut got));
        assert_eq!(
            n, 0,
            "an async round trip allocated (round {i}, chunked {chunked})"
        );
    }
    b.shutdown(std::net::Shutdown::Write).unwrap();
    lp.run(RunMode::Default, &mut got).unwrap();
    assert!(task.is_finished());
    assert_eq!(got, 210 * 64);
}

#[test]
fn an_async_read_into_a_buffer_allocates_nothing() {
    async_round_trips_allocate_nothing(false);
}

#[test]
fn an_async_read_chunk_allocates_nothing() {
    async_round_trips_allocate_nothing(true);
}
