//! Helpers shared by the libuv ports (`uv_ports`, `uv_bind`) and the async
//! stream tests: the log type, a run that must end by itself, a close
//! callback that logs, a connected TCP pair in one loop, and a
//! reproducible payload. Each helper unwraps: a failure here is the
//! test's failure, with the line of the helper.

use loop_core::{Loop, RunMode};
use loop_net::{ListenOptions, Listener, ReadEvent, Stream};

/// What a test logs, in order.
pub type L = Vec<String>;

/// The default listen options.
pub fn opts() -> ListenOptions {
    ListenOptions::default()
}

/// Runs the loop to its end; it must end by itself (no handle left).
pub fn run<D: 'static>(lp: &mut Loop<D>, d: &mut D) {
    let alive = lp.run(RunMode::Default, d).unwrap();
    assert!(!alive);
}

/// Runs the loop to its end with a fresh log: the log.
pub fn run_log(lp: &mut Loop<L>) -> L {
    let mut log = L::new();
    run(lp, &mut log);
    log
}

/// `log` sorted: for events of two ends whose order between them is not
/// the point.
pub fn sorted(mut log: L) -> L {
    log.sort();
    log
}

/// A close callback that logs `NAME closed`.
pub fn closed(name: &'static str) -> impl FnOnce(&mut Loop<L>, &mut L) {
    move |_, log| log.push(format!("{name} closed"))
}

/// A connected pair in one loop: the client end and the accepted end, each
/// handed to its closure once there.
pub fn pair(
    lp: &mut Loop<L>,
    on_accepted: impl FnOnce(&mut Loop<L>, &mut L, Stream) + 'static,
    on_connected: impl FnOnce(&mut Loop<L>, &mut L, Stream) + 'static,
) -> Listener {
    let mut on_accepted = Some(on_accepted);
    let l = Listener::listen(
        lp,
        super::any_port(),
        &opts(),
        move |lp, log: &mut L, l, r| {
            r.unwrap();
            let a = l.accept(lp).unwrap();
            l.close(lp, |_, _| {}).unwrap();
            if let Some(f) = on_accepted.take() {
                f(lp, log, a);
            }
        },
    )
    .unwrap();
    let to = l.local_addr(lp).unwrap().as_inet().unwrap();
    Stream::connect(lp, to, move |lp, log: &mut L, c, r| {
        r.unwrap();
        on_connected(lp, log, c);
    })
    .unwrap();
    l
}

/// A fresh loop under a watchdog of `watchdog_ms`, a [`pair`] in it, run
/// to its end: the log.
pub fn run_pair(
    watchdog_ms: u64,
    on_accepted: impl FnOnce(&mut Loop<L>, &mut L, Stream) + 'static,
    on_connected: impl FnOnce(&mut Loop<L>, &mut L, Stream) + 'static,
) -> L {
    let mut lp: Loop<L> = Loop::new().unwrap();
    super::watchdog(&mut lp, watchdog_ms);
    pair(&mut lp, on_accepted, on_connected);
    run_log(&mut lp)
}

/// The accepted end of a [`pair`] as a sink: reads and drops the data,
/// closes on EOF or an error.
pub fn sink(lp: &mut Loop<L>, a: Stream) {
    a.read_start(lp, |lp, _, a, ev| {
        if !matches!(ev, ReadEvent::Data(_)) {
            a.close(lp, |_, _| {}).unwrap();
        }
    })
    .unwrap();
}

/// A reproducible pseudo-random payload (xorshift64*).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
