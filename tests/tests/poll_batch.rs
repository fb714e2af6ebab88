//! Order within one poll batch: libuv's `uv__io_poll` runs its signal
//! watcher after every other watcher of the batch, so a signal (SIGCHLD
//! above all: a child's exit) comes after the I/O that was ready in the
//! same poll. loop-core does the same for signals and for I/O handles set
//! `io_set_batch_last` (a pidfd), whatever order the poller gave.
//!
//! The kernel's ready list is FIFO (an fd made ready first is reported
//! first), so each test makes the "last" source ready first.

use loop_core::{IoId, Loop, RunMode};
use loop_tests::util::{manual_loop, watchdog};
use mio::net::UnixStream;
use mio::Interest;
use std::io::Write;

fn raise(signum: libc::c_int) {
    // SAFETY: `raise` has no memory-safety preconditions. The caller
    // watches `signum` with a loop first, so its handler is installed and
    // the default action (which may end the process) does not apply.
    let r = unsafe { libc::raise(signum) };
    assert_eq!(r, 0, "raise({signum})");
}

/// A socket pair end watched by an I/O handle that logs `name` (mio is
/// edge-triggered: one byte, one event).
fn watch(
    lp: &mut Loop<Vec<&'static str>>,
    name: &'static str,
    last: bool,
) -> (IoId, UnixStream, UnixStream) {
    let (writer, mut reader) = UnixStream::pair().unwrap();
    let io = lp.io_init(move |_, log, _ready| log.push(name));
    lp.io_set_batch_last(io, last).unwrap();
    lp.io_register(io, &mut reader, Interest::READABLE).unwrap();
    lp.io_start(io).unwrap();
    (io, writer, reader)
}

fn order(last_a: bool) -> Vec<&'static str> {
    let (mut lp, _clock) = manual_loop::<Vec<&'static str>>(0);
    watchdog(&mut lp, 10_000);
    let (_a, mut wa, _ra) = watch(&mut lp, "a", last_a);
    let (_b, mut wb, _rb) = watch(&mut lp, "b", false);
    wa.write_all(b"1").unwrap();
    wb.write_all(b"1").unwrap();
    let mut log = Vec::new();
    lp.run(RunMode::Once, &mut log).unwrap();
    log
}

#[test]
fn batch_last_handle_runs_after_the_rest_of_its_batch() {
    assert_eq!(order(false), ["a", "b"], "the poller's order");
    assert_eq!(order(true), ["b", "a"], "a, set batch-last, runs last");
}

#[test]
fn signal_runs_after_the_io_of_its_batch() {
    const SIG: libc::c_int = libc::SIGUSR1;
    let (mut lp, _clock) = manual_loop::<Vec<&'static str>>(0);
    watchdog(&mut lp, 10_000);
    let s = lp.signal_init().unwrap();
    lp.signal_start(s, SIG, move |lp, log, _| {
        log.push("signal");
        lp.close(s, None).unwrap();
    })
    .unwrap();
    let (_b, mut wb, _rb) = watch(&mut lp, "io", false);
    raise(SIG); // the signal's pipe is ready first
    wb.write_all(b"1").unwrap();
    let mut log = Vec::new();
    lp.run(RunMode::Once, &mut log).unwrap();
    assert_eq!(log, ["io", "signal"]);
}

#[test]
fn batch_last_needs_a_live_handle() {
    let (mut lp, _clock) = manual_loop::<Vec<&'static str>>(0);
    let io = lp.io_init(|_, _, _| {});
    lp.close(io, None).unwrap();
    assert!(lp.io_set_batch_last(io, true).is_err());
}
