//! Allocations on the hot path, counted by a global allocator (its own
//! test binary): resuming reads (`read_start` after `read_stop`), a
//! `try_write` that would block, and a Node.js socket's `pause`/`resume`
//! allocate nothing.

use loop_core::{Loop, RunMode};
use loop_net::{ReadEvent, Socket, Stream};
use std::io::Write;
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
