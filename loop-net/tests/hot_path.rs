//! The stream's hot path and its panic safety: a paused stream costs no
//! wake-up, resuming delivers what waited, and a read callback that
//! panics loses no byte.

mod common;

use common::*;
use loop_core::{CallbackKind, Loop, RunMode};
use loop_net::{ReadEvent, Socket, Stream};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Default)]
struct St {
    got: usize,
    reads: usize,
    eof: bool,
    ticks: usize,
    events_paused: u64,
}

/// Counts what it reads; closes the stream at EOF.
fn count(lp: &mut Loop<St>, st: &mut St, s: Stream, ev: ReadEvent<'_>) {
    match ev {
        ReadEvent::Data(b) => {
            st.got += b.len();
            st.reads += 1;
        }
        ReadEvent::Eof | ReadEvent::Error(_) => {
            st.eof = true;
            s.close(lp, |_, _| {}).unwrap();
        }
    }
}

/// Writes 1 KiB from `peer` every ms, `n` times, then drops it (EOF);
/// records how many I/O events the loop saw meanwhile.
fn keep_writing(lp: &mut Loop<St>, peer: UnixStream, n: usize) {
    let ev0 = lp.metrics().events;
    let t = lp.timer_init();
    let mut peer = Some(peer);
    lp.timer_start(t, 1, 1, move |lp, st: &mut St| {
        st.ticks += 1;
        peer.as_ref().unwrap().write_all(&[7; 1024]).unwrap();
        if st.ticks == n {
            st.events_paused = lp.metrics().events - ev0;
            peer = None; // EOF
            lp.close(t, None).unwrap();
        }
    })
    .unwrap();
}

#[test]
fn a_paused_stream_gets_no_wakeups_and_misses_nothing() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.read_start(&mut lp, count).unwrap();
    (&b).write_all(&[1; 1024]).unwrap();
    let mut st = St::default();
    while st.got < 1024 {
        lp.run(RunMode::Once, &mut st).unwrap();
    }
    s.read_stop(&mut lp).unwrap();
    keep_writing(&mut lp, b, 50);
    // Only the timer keeps the loop alive: the paused stream is inactive.
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.ticks, 50);
    assert_eq!(st.events_paused, 0, "I/O events while paused");
    assert_eq!(st.got, 1024, "nothing delivered while paused");
    // Resumed: what was written meanwhile arrives, then EOF.
    s.read_start(&mut lp, count).unwrap();
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.got, 1024 + 50 * 1024);
    assert!(st.eof);
}

#[test]
fn a_paused_socket_gets_no_wakeups_and_misses_nothing() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let s = Stream::open_unix(&mut lp, a).unwrap();
    let sock = Socket::from_stream(&mut lp, s, false).unwrap();
    sock.set_allow_half_open(&mut lp, true);
    sock.on_data(&mut lp, |_, st: &mut St, _, b| st.got += b.len());
    sock.on_end(&mut lp, |lp, st: &mut St, sock| {
        st.eof = true;
        sock.destroy(lp);
    });
    (&b).write_all(&[1; 1024]).unwrap();
    let mut st = St::default();
    while st.got < 1024 {
        lp.run(RunMode::Once, &mut st).unwrap();
    }
    sock.pause(&mut lp);
    assert!(sock.is_paused(&lp));
    keep_writing(&mut lp, b, 50);
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.events_paused, 0, "I/O events while paused");
    assert_eq!(st.got, 1024);
    sock.resume(&mut lp);
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.got, 1024 + 50 * 1024);
    assert!(st.eof);
}

#[test]
fn a_panicking_read_callback_loses_no_byte() {
    const TOTAL: usize = 150 * 1024;
    let (a, b) = UnixStream::pair().unwrap();
    // More than one read's worth (64 KiB) waits in the socket.
    (&b).write_all(&vec![3; TOTAL]).unwrap();
    drop(b);
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    lp.set_trace(true);
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.read_start(&mut lp, |lp, st: &mut St, s, ev| {
        if let ReadEvent::Data(b) = &ev {
            if st.reads == 0 {
                st.got += b.len();
                st.reads += 1;
                panic!("boom");
            }
        }
        count(lp, st, s, ev);
    })
    .unwrap();
    let mut st = St::default();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut st)));
    assert!(r.is_err(), "the panic comes out of run");
    assert_eq!(st.reads, 1);
    assert!(st.got > 0);
    // Nothing was read that the callback did not get.
    assert_eq!(s.bytes_read(&lp), st.got as u64);
    let trace = lp.take_trace();
    assert!(
        trace
            .iter()
            .any(|e| e.kind == CallbackKind::Extension("read")),
        "the read callback ran through make_callback: {trace:?}"
    );
    // The next run carries on where the panic stopped: every byte, then EOF.
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.got, TOTAL);
    assert!(st.eof);
}

#[test]
fn a_panicking_write_callback_leaves_the_rest_for_the_next_run() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut lp: Loop<Vec<u32>> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let s = Stream::open_unix(&mut lp, a).unwrap();
    s.write_with(&mut lp, &b"one"[..], |_, out: &mut Vec<u32>, r| {
        r.unwrap();
        out.push(1);
        panic!("boom");
    })
    .unwrap();
    s.write_with(&mut lp, &b"two"[..], |_, out: &mut Vec<u32>, r| {
        r.unwrap();
        out.push(2);
    })
    .unwrap();
    let mut out = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut out)));
    assert!(r.is_err());
    assert_eq!(out, [1], "no write callback after the panic");
    lp.run(RunMode::Default, &mut out).unwrap();
    assert_eq!(out, [1, 2]);
    s.close(&mut lp, |_, _| {}).unwrap();
    lp.run(RunMode::Default, &mut out).unwrap();
    drop(b);
}

#[test]
fn a_panicking_data_handler_loses_no_byte() {
    const TOTAL: usize = 150 * 1024;
    let (a, b) = UnixStream::pair().unwrap();
    (&b).write_all(&vec![3; TOTAL]).unwrap();
    drop(b);
    let mut lp: Loop<St> = Loop::new().unwrap();
    watchdog(&mut lp, 20_000);
    let s = Stream::open_unix(&mut lp, a).unwrap();
    let sock = Socket::from_stream(&mut lp, s, false).unwrap();
    sock.on_data(&mut lp, |_, st: &mut St, _, b| {
        st.got += b.len();
        st.reads += 1;
        if st.reads == 1 {
            panic!("boom");
        }
    });
    sock.on_end(&mut lp, |_, st: &mut St, _| st.eof = true);
    let mut st = St::default();
    let r = catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default, &mut st)));
    assert!(r.is_err(), "the panic comes out of run");
    assert_eq!(st.reads, 1, "no handler after the panic");
    assert_eq!(sock.bytes_read(&lp), st.got as u64);
    lp.run(RunMode::Default, &mut st).unwrap();
    assert_eq!(st.got, TOTAL);
    assert!(st.eof);
    assert!(sock.is_destroyed(&lp), "ended both ways, then destroyed");
}
