//! Helpers the integration tests share.

use loop_core::{Loop, ManualClock};
use std::path::{Path, PathBuf};

/// A loop on a manual clock reading `start_ms` that jumps to the next timer
/// whenever the loop would sleep for it: timer tests never sleep.
pub fn manual_loop<D>(start_ms: u64) -> (Loop<D>, ManualClock) {
    let clock = ManualClock::new(start_ms);
    clock.set_auto_advance(true);
    let lp = Loop::builder()
        .manual_clock(clock.clone())
        .build()
        .expect("loop");
    (lp, clock)
}

/// An unreferenced timer that fails the test if the loop ever waits `ms` for
/// it: turns a hang into a failure.
pub fn watchdog<D>(lp: &mut Loop<D>, ms: u64) {
    let t = lp.timer_init();
    lp.timer_start(t, ms, 0, move |_, _| {
        panic!("watchdog: the loop waited {ms} ms where it should not block")
    })
    .expect("fresh timer");
    lp.unref(t).expect("fresh timer");
}

/// The workspace root (the folder with the README and `docs/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The project's phase-script cases, `tests/cases/`.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}
