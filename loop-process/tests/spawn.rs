//! Ports of libuv 1.46's `test/test-spawn.c` (behaviour, not code), each
//! run under both reaping modes, plus the options libuv's tests exercise
//! through helpers (env, cwd, argv0, uid) and the ordering of the exit
//! callback in the loop.

mod common;

use common::{child_state, eventually, new_loop, read_all, MODES};
use loop_core::{CallbackKind, HandleKind, Phase, RunMode};
use loop_process::{kill, reaping, spawn, Process, Reaping, SpawnOptions, Stdio};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

/// What the callbacks of a test saw.
#[derive(Default, Debug)]
struct Log {
    exits: Vec<(i64, i32)>,
    closes: u32,
    notes: Vec<&'static str>,
}

fn sh(script: &str) -> SpawnOptions<'static> {
    SpawnOptions::new("/bin/sh").args(["-c", script])
}

/// An exit callback that records and closes the process, as libuv's
/// `exit_cb` does.
fn record_and_close(
    lp: &mut loop_core::Loop<Log>,
    log: &mut Log,
    p: Process,
    status: i64,
    signal: i32,
) {
    log.exits.push((status, signal));
    p.close_with(lp, |_, log: &mut Log| log.closes += 1)
        .expect("open");
}

#[test]
fn spawn_fails() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let err = spawn(
            &mut lp,
            SpawnOptions::new("program-that-had-better-not-exist"),
            |_, _, _, _, _| panic!("fail_cb called"),
        )
        .expect_err("there is no such program");
        assert!(
            matches!(err.code(), Some("ENOENT" | "EACCES")),
            "{mode:?}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "spawn program-that-had-better-not-exist {}",
                err.code().unwrap_or("?")
            )
        );
        assert_eq!(err.op(), "spawn");
        assert_eq!(err.file(), Some("program-that-had-better-not-exist"));
        // No handle is left to close, and nothing keeps the loop alive.
        assert!(lp.handles().is_empty(), "{:?}", lp.handles());
        let mut log = Log::default();
        assert!(!lp.run(RunMode::Default, &mut log).expect("run"));
        assert!(log.exits.is_empty());
    }
}

#[test]
fn spawn_fails_eacces_and_bad_cwd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("not-executable");
    std::fs::write(&plain, "#!/bin/sh\nexit 0\n").expect("write");
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let err = spawn(&mut lp, SpawnOptions::new(&plain), |_, _, _, _, _| {})
            .expect_err("not executable");
        assert_eq!(err.code(), Some("EACCES"));
        assert_eq!(err.to_string(), format!("spawn {} EACCES", plain.display()));
        let err = spawn(
            &mut lp,
            SpawnOptions::new("/bin/true").cwd(dir.path().join("nowhere")),
            |_, _, _, _, _| {},
        )
        .expect_err("no such directory");
        // Node.js: `spawn ls ENOENT` for a bad cwd too.
        assert_eq!(err.to_string(), "spawn /bin/true ENOENT");
    }
}

#[test]
fn spawn_exit_code() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        spawn(&mut lp, sh("exit 42"), record_and_close).expect("spawn");
        assert_eq!(reaping(&lp), Some(mode));
        let mut log = Log::default();
        assert!(!lp.run(RunMode::Default, &mut log).expect("run"));
        assert_eq!(log.exits, [(42, 0)], "{mode:?}");
        assert_eq!(log.closes, 1);
        assert!(lp.handles().is_empty());
    }
}

#[test]
fn spawn_and_kill() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let child = spawn(&mut lp, SpawnOptions::new("sleep").arg("100"), {
            move |lp, log: &mut Log, p: Process, status, signal| {
                log.exits.push((status, signal));
                p.close_with(lp, |_, log: &mut Log| log.closes += 1)
                    .expect("open");
                // Reaped: signal 0 finds no such process, and the handle
                // refuses to signal a pid that may be someone else's now.
                let e = kill(p.pid(), 0).expect_err("reaped");
                assert_eq!(e.code(), Some("ESRCH"));
                assert_eq!(e.to_string(), "kill ESRCH");
                assert_eq!(e.pid(), Some(p.pid()));
                let e = p.kill(lp, 0).expect_err("reaped");
                assert_eq!(e.code(), Some("ESRCH"));
            }
        })
        .expect("spawn");
        let p = child.process;
        // Signal 0 checks that it runs.
        p.kill(&lp, 0).expect("running");
        kill(p.pid(), 0).expect("running");
        lp.add_timer(50, 0, move |lp, log: &mut Log| {
            p.kill(lp, libc::SIGTERM).expect("kill");
            log.notes.push("timer");
        });
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.notes, ["timer"]);
        assert_eq!(log.exits, [(0, libc::SIGTERM)], "{mode:?}");
        assert_eq!(log.closes, 1);
    }
}

#[test]
fn spawn_detached() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let child = spawn(
            &mut lp,
            SpawnOptions::new("sleep").arg("100").detached(true),
            record_and_close,
        )
        .expect("spawn");
        let p = child.process;
        p.unref(&mut lp).expect("unref");
        assert!(!p.has_ref(&lp).expect("open"));
        let mut log = Log::default();
        // Unreferenced: run does not wait for it.
        assert!(!lp.run(RunMode::Default, &mut log).expect("run"));
        assert!(log.exits.is_empty());
        kill(p.pid(), 0).expect("still running");
        // setsid: the child leads its own session (field 6 of its stat).
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.pid())).expect("stat");
        let after = &stat[stat.rfind(')').expect("comm") + 1..];
        let session: u32 = after
            .split_whitespace()
            .nth(3)
            .expect("session")
            .parse()
            .expect("n");
        assert_eq!(
            session,
            p.pid(),
            "{mode:?}: a detached child leads a new session"
        );
        kill(p.pid(), libc::SIGTERM).expect("kill");
        // Referenced again, the loop waits for it and reaps it.
        p.ref_handle(&mut lp).expect("ref");
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, libc::SIGTERM)]);
        assert_eq!(child_state(p.pid()), None);
    }
}

#[test]
fn spawn_stdio_greater_than_3() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let mut child = spawn(
            &mut lp,
            sh("echo 'fourth stdio!' >&3")
                .stdio(0, Stdio::Ignore)
                .stdio(1, Stdio::Ignore)
                .stdio(2, Stdio::Ignore)
                .stdio(3, Stdio::Pipe),
            record_and_close,
        )
        .expect("spawn");
        assert_eq!(child.stdio.len(), 4);
        assert!(child.stdio[..3].iter().all(Option::is_none));
        let pipe = child.take_pipe(3).expect("fd 3 is a pipe");
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, 0)]);
        // EOF comes: the parent kept no copy of the child's end.
        assert_eq!(read_all(pipe), "fourth stdio!\n");
    }
}

#[test]
fn spawn_ignored_stdio() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        // No stdio given: 0, 1 and 2 are /dev/null, and writing works.
        let script = r#"for fd in 0 1 2; do [ "$(readlink /proc/$$/fd/$fd)" = /dev/null ] || exit 1; done; echo out; echo err >&2"#;
        spawn(&mut lp, sh(script), record_and_close).expect("spawn");
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, 0)], "{mode:?}");
    }
}

#[test]
fn spawn_stdin_stdout_pipes() {
    // libuv's spawn_stdin: a pipe each way, through `cat`.
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let mut child = spawn(
            &mut lp,
            SpawnOptions::new("cat")
                .stdio(0, Stdio::Pipe)
                .stdio(1, Stdio::Pipe),
            record_and_close,
        )
        .expect("spawn");
        let stdin = UnixStream::from(child.take_pipe(0).expect("stdin"));
        let stdout = child.take_pipe(1).expect("stdout");
        stdin.set_nonblocking(false).expect("blocking");
        std::io::Write::write_all(&mut &stdin, b"hello-from-spawn_stdin").expect("write");
        drop(stdin);
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, 0)]);
        assert_eq!(read_all(stdout), "hello-from-spawn_stdin");
    }
}

#[test]
fn spawn_inherit_streams() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let (stdin_child, stdin_parent) = UnixStream::pair().expect("pair");
        let (stdout_child, stdout_parent) = UnixStream::pair().expect("pair");
        spawn(
            &mut lp,
            SpawnOptions::new("cat")
                .stdio(0, Stdio::Fd(stdin_child.as_fd()))
                .stdio(1, Stdio::Fd(stdout_child.as_fd())),
            record_and_close,
        )
        .expect("spawn");
        drop(stdin_child);
        drop(stdout_child);
        let ubuf: Vec<u8> = (0..1023u32).map(|i| (i & 255) as u8).collect();
        std::io::Write::write_all(&mut &stdin_parent, &ubuf).expect("write");
        drop(stdin_parent);
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, 0)]);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut &stdout_parent, &mut out).expect("read");
        assert_eq!(out, ubuf, "{mode:?}");
    }
}

#[test]
fn spawn_inherit_same_number() {
    // Stdio::Inherit: the child's fd 2 is the parent's fd 2.
    let me = std::fs::read_link("/proc/self/fd/2").expect("our stderr");
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let mut child = spawn(
            &mut lp,
            sh("readlink /proc/$$/fd/2")
                .stdio(1, Stdio::Pipe)
                .stdio(2, Stdio::Inherit),
            record_and_close,
        )
        .expect("spawn");
        let out = child.take_pipe(1).expect("stdout");
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(read_all(out).trim_end(), me.to_string_lossy());
    }
}

#[test]
fn spawn_auto_unref() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let p = spawn(&mut lp, SpawnOptions::new("true"), |_, _, _, _, _| {})
            .expect("spawn")
            .process;
        let mut log = Log::default();
        // The exited child no longer keeps the loop alive; its handle stays.
        assert!(!lp.run(RunMode::Default, &mut log).expect("run"));
        assert!(!p.is_active(&lp).expect("open"));
        assert!(!lp.is_closing(p.handle()).expect("open"));
        p.close(&mut lp, None).expect("close");
        assert!(lp.is_closing(p.handle()).expect("closing"));
        assert!(!lp.run(RunMode::Default, &mut log).expect("run"));
        assert!(lp.handles().is_empty(), "{mode:?}");
    }
}

#[test]
fn spawn_exercise_sigchld_issue() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        spawn(&mut lp, SpawnOptions::new("true"), record_and_close).expect("spawn");
        for _ in 0..100 {
            let e = spawn(
                &mut lp,
                SpawnOptions::new("program-that-had-better-not-exist"),
                |_, _, _, _, _| panic!("fail_cb called"),
            )
            .expect_err("no such program");
            assert!(matches!(e.code(), Some("ENOENT" | "EACCES")));
        }
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, 0)], "{mode:?}");
        assert_eq!(log.closes, 1);
    }
}

#[test]
fn env_explicit_and_inherited() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let mut explicit = spawn(
            &mut lp,
            sh(r#"echo "$FOO-${HOME:-unset}""#)
                .env([("FOO", "bar")])
                .stdio(1, Stdio::Pipe),
            record_and_close,
        )
        .expect("spawn");
        let mut inherited = spawn(
            &mut lp,
            sh(r#"echo "$PATH""#).stdio(1, Stdio::Pipe),
            record_and_close,
        )
        .expect("spawn");
        let (a, b) = (
            explicit.take_pipe(1).expect("pipe"),
            inherited.take_pipe(1).expect("pipe"),
        );
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(0, 0), (0, 0)]);
        assert_eq!(read_all(a), "bar-unset\n");
        assert_eq!(
            read_all(b).trim_end(),
            std::env::var("PATH").unwrap_or_default()
        );
    }
}

#[test]
fn cwd_and_argv0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let want = dir.path().canonicalize().expect("canonical");
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let mut child = spawn(
            &mut lp,
            SpawnOptions::new("/bin/sh")
                .argv0("renamed")
                .args(["-c", r#"pwd -P; echo "$0""#, "zero"])
                .cwd(dir.path())
                .stdio(1, Stdio::Pipe),
            record_and_close,
        )
        .expect("spawn");
        let out = child.take_pipe(1).expect("pipe");
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        // `$0` of a `-c` script is its first operand, not argv[0].
        assert_eq!(read_all(out), format!("{}\nzero\n", want.display()));
    }
    // argv[0] itself: a child that prints its own /proc/self/cmdline.
    let mut lp = new_loop::<Log>(Reaping::Pidfd);
    let mut child = spawn(
        &mut lp,
        SpawnOptions::new("cat")
            .argv0("my-cat")
            .arg("/proc/self/cmdline")
            .stdio(1, Stdio::Pipe),
        record_and_close,
    )
    .expect("spawn");
    let out = child.take_pipe(1).expect("pipe");
    let mut log = Log::default();
    lp.run(RunMode::Default, &mut log).expect("run");
    assert_eq!(read_all(out), "my-cat\0/proc/self/cmdline\0");
}

#[test]
fn setuid_as_permitted() {
    // libuv's spawn_setuid_setgid (as root) and spawn_setuid_fails (not).
    let root = std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        .expect("Uid line");
    let mut lp = new_loop::<Log>(Reaping::Pidfd);
    if root {
        let mut child = spawn(
            &mut lp,
            SpawnOptions::new("id")
                .args(["-u"])
                .uid(65534)
                .gid(65534)
                .stdio(1, Stdio::Pipe),
            record_and_close,
        )
        .expect("spawn as nobody");
        let out = child.take_pipe(1).expect("pipe");
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(read_all(out), "65534\n");
    } else {
        let err = spawn(
            &mut lp,
            SpawnOptions::new("true").uid(0),
            |_, _, _, _, _| {},
        )
        .expect_err("not root");
        assert_eq!(err.code(), Some("EPERM"));
        assert_eq!(err.to_string(), "spawn true EPERM");
    }
}

#[test]
fn exit_callback_runs_in_the_poll_phase() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        spawn(
            &mut lp,
            SpawnOptions::new("true"),
            |lp, log: &mut Log, p, _, _| {
                log.notes.push("exit");
                lp.next_tick(|_, log: &mut Log| log.notes.push("tick"));
                lp.set_immediate(|_, log: &mut Log| log.notes.push("immediate"));
                p.close(lp, None).expect("open");
            },
        )
        .expect("spawn");
        lp.set_trace(true);
        let mut log = Log::default();
        lp.run(RunMode::Default, &mut log).expect("run");
        // make_callback drains the nextTick queue right after the callback;
        // the immediate waits for the check phase.
        assert_eq!(log.notes, ["exit", "tick", "immediate"]);
        let trace = lp.take_trace();
        let at = trace
            .iter()
            .position(|e| e.kind == CallbackKind::Extension("process exit"))
            .expect("the exit callback is traced");
        let exit = trace[at];
        assert_eq!(exit.phase, Phase::Poll, "{mode:?}: {trace:?}");
        // Inside the callback of the handle that saw the exit: the pidfd's
        // I/O handle, or the SIGCHLD watcher.
        let outer = match mode {
            Reaping::Pidfd => HandleKind::Io,
            Reaping::Sigchld => HandleKind::Signal,
        };
        assert_eq!(trace[at - 1].kind, CallbackKind::Handle(outer));
        assert_eq!(trace[at - 1].iteration, exit.iteration);
        assert_eq!(trace[at + 1].kind, CallbackKind::Tick);
        let imm = trace
            .iter()
            .find(|e| e.kind == CallbackKind::Immediate)
            .expect("immediate traced");
        assert_eq!((imm.phase, imm.iteration), (Phase::Check, exit.iteration));
    }
}

#[test]
fn a_panicking_exit_callback_leaves_the_loop_usable() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        spawn(&mut lp, SpawnOptions::new("true"), |_, _, _, _, _| {
            panic!("boom in exit")
        })
        .expect("spawn");
        let mut log = Log::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lp.run(RunMode::Default, &mut log)
        }));
        assert!(r.is_err(), "the panic resumes out of run");
        // The child was reaped before its callback ran; the next child works.
        spawn(&mut lp, sh("exit 7"), record_and_close).expect("spawn");
        lp.run(RunMode::Default, &mut log).expect("run");
        assert_eq!(log.exits, [(7, 0)], "{mode:?}");
    }
}

#[test]
fn a_closed_process_refuses_kill_and_close() {
    for mode in MODES {
        let mut lp = new_loop::<Log>(mode);
        let p = spawn(
            &mut lp,
            SpawnOptions::new("sleep").arg("100"),
            |_, _, _, _, _| panic!("a closed process's exit callback is dropped"),
        )
        .expect("spawn")
        .process;
        let pid = p.pid();
        kill(pid, 0).expect("running");
        p.close(&mut lp, None).expect("close");
        assert!(p.close(&mut lp, None).is_err(), "second close");
        assert_eq!(p.kill(&lp, 0).expect_err("closed").code(), Some("ESRCH"));
        // The orphan is still reaped: kill it by pid and let the loop see it.
        kill(pid, libc::SIGKILL).expect("kill");
        let mut log = Log::default();
        lp.add_timer(10, 10, move |lp, _: &mut Log| {
            if child_state(pid).is_none() {
                lp.stop();
            }
        });
        lp.run(RunMode::Default, &mut log).expect("run");
        assert!(
            eventually(|| child_state(pid).is_none()),
            "{mode:?}: reaped"
        );
    }
}
