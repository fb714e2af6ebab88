//! A loop binary runs under valgrind: loop-core reads its clock through
//! libc (rustix's libc backend), which valgrind understands; rustix's own
//! vDSO parsing made every loop binary die with SIGSEGV in `Loop::new`
//! under memcheck and callgrind alike (rustix issue #1559).
//!
//! valgrind is a required tool of this suite: `.ci/run` installs it. The
//! phase-script runner runs project cases (timers, ticks, immediates, and
//! one through loop-fs's thread pool) under memcheck with
//! `--error-exitcode=1`, and must print exactly Node.js's output.

use loop_tests::util::cases_dir;
use std::process::Command;

fn under_memcheck(case: &str) {
    let json = cases_dir().join(format!("{case}.json"));
    let want = std::fs::read_to_string(cases_dir().join(format!("{case}.out"))).unwrap();
    let out = Command::new("valgrind")
        .args(["-q", "--error-exitcode=1", "--leak-check=no"])
        .arg(env!("CARGO_BIN_EXE_phase-script"))
        .arg(&json)
        .output()
        .expect("valgrind is installed (.ci/run installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "valgrind: {:?}\n{stderr}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{stderr}");
}

#[test]
fn the_classic_example_runs_under_memcheck() {
    under_memcheck("classic-example-a");
}

#[test]
fn an_fs_callback_through_the_pool_runs_under_memcheck() {
    under_memcheck("fs-callback-immediate-then-timeout");
}
