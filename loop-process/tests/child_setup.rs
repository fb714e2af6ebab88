//! The child's set-up as seen from a child whose parent is set up the way
//! the check needs: this binary runs itself as that middle process
//! (`--helper NAME`), which spawns the real child with loop-process.
//!
//! - `spawn_stdout_and_stderr_to_file_swap` (libuv's): the middle
//!   process's fds 1 and 2 are two files; it gives its child fd 2 as
//!   stdout and fd 1 as stderr, so the sources are the very fds being
//!   replaced, and the child's output must land swapped.
//! - signal dispositions: the middle process starts with SIGUSR1, SIGHUP
//!   and the real-time signal 40 ignored (a shell `trap ""` before
//!   `exec`), which survive `exec`; its child must start with no signal
//!   ignored and none blocked.
//!
//! No libtest harness (`harness = false`): `main` runs each check and
//! fails the binary if one fails.

#[path = "common/mod.rs"]
mod common;

use loop_core::{Loop, RunMode};
use loop_process::{spawn, SpawnOptions, Stdio};
use std::os::fd::AsFd;

/// Runs `opts` to completion on a new loop; its exit code and signal.
fn run_child(opts: SpawnOptions<'_>) -> (i64, i32) {
    let mut lp: Loop<Option<(i64, i32)>> = Loop::new().expect("loop");
    loop_testkit::watchdog(&mut lp, 60_000);
    spawn(&mut lp, opts, |lp, end, p, status, signal| {
        *end = Some((status, signal));
        p.close(lp, None).expect("open");
    })
    .expect("spawn");
    let mut end = None;
    lp.run(RunMode::Default, &mut end).expect("run");
    end.expect("the exit callback ran")
}

fn me() -> std::path::PathBuf {
    std::env::current_exe().expect("current_exe")
}

/// The middle process of the swap check: stdout gets fd 2, stderr fd 1.
fn helper_swap() -> i32 {
    let out = std::io::stdout();
    let err = std::io::stderr();
    let end = run_child(
        SpawnOptions::new("/bin/sh")
            .args(["-c", "echo hello world; echo hello errworld >&2"])
            .stdio(1, Stdio::Fd(err.as_fd()))
            .stdio(2, Stdio::Fd(out.as_fd())),
    );
    i32::from(end != (0, 0))
}

fn check_swap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (
        dir.path().join("stdout_file"),
        dir.path().join("stderr_file"),
    );
    let out = std::fs::File::create(&out_path).expect("create");
    let err = std::fs::File::create(&err_path).expect("create");
    let end = run_child(
        SpawnOptions::new(me())
            .args(["--helper", "swap"])
            .stdio(1, Stdio::Fd(out.as_fd()))
            .stdio(2, Stdio::Fd(err.as_fd())),
    );
    assert_eq!(end, (0, 0), "the middle process succeeded");
    let out = std::fs::read_to_string(&out_path).expect("read");
    let err = std::fs::read_to_string(&err_path).expect("read");
    assert_eq!(
        out, "hello errworld\n",
        "stdout_file holds the child's stderr"
    );
    assert_eq!(err, "hello world\n", "stderr_file holds the child's stdout");
}

/// A `SigIgn:`/`SigBlk:` mask of a /proc status text.
fn sig_mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} line"));
    u64::from_str_radix(line[field.len()..].trim(), 16).expect("hex mask")
}

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// The middle process of the signal check.
fn helper_signals() -> i32 {
    let own = std::fs::read_to_string("/proc/self/status").expect("status");
    let ignored = sig_mask(&own, "SigIgn:");
    // The check means something only if we do ignore them.
    let want = bit(libc::SIGUSR1) | bit(libc::SIGHUP) | bit(40);
    if ignored & want != want {
        eprintln!("helper: SIGUSR1/SIGHUP/40 not ignored (SigIgn {ignored:x})");
        return 2;
    }
    let mut lp: Loop<Option<(i64, i32)>> = Loop::new().expect("loop");
    loop_testkit::watchdog(&mut lp, 60_000);
    let mut child = spawn(
        &mut lp,
        SpawnOptions::new("cat")
            .arg("/proc/self/status")
            .stdio(1, Stdio::Pipe),
        |lp, end, p, status, signal| {
            *end = Some((status, signal));
            p.close(lp, None).expect("open");
        },
    )
    .expect("spawn");
    let pipe = child.take_pipe(1).expect("pipe");
    let mut end = None;
    lp.run(RunMode::Default, &mut end).expect("run");
    let status = common::read_all(pipe);
    let (ign, blk) = (sig_mask(&status, "SigIgn:"), sig_mask(&status, "SigBlk:"));
    if end != Some((0, 0)) || ign != 0 || blk != 0 {
        eprintln!(
            "helper: child ended {end:?}, SigIgn {ign:x}, SigBlk {blk:x}; own SigIgn {ignored:x}"
        );
        return 1;
    }
    0
}

fn check_signals() {
    let end = run_child(
        SpawnOptions::new("/bin/sh")
            .args(["-c", r#"trap "" USR1 HUP 40; exec "$0" --helper signals"#])
            .arg(me())
            .stdio(2, Stdio::Inherit),
    );
    assert_eq!(
        end,
        (0, 0),
        "the child of a process ignoring signals ignores none"
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--helper") {
        let code = match args.get(at + 1).map(String::as_str) {
            Some("swap") => helper_swap(),
            Some("signals") => helper_signals(),
            other => {
                eprintln!("unknown helper {other:?}");
                3
            }
        };
        std::process::exit(code);
    }
    let checks: [(&str, fn()); 2] = [
        ("spawn_stdout_and_stderr_to_file_swap", check_swap),
        ("signal_dispositions_and_mask_reset", check_signals),
    ];
    for (name, check) in checks {
        check();
        println!("test {name} ... ok");
    }
}
