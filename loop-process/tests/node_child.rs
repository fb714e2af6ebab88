//! `loop_process::node::spawn` beyond event order: options (env, cwd,
//! stdio inherit and fd), an `error` nobody handles reaching `run`, the
//! errors Node throws rather than emits, ref/unref, and no zombie left.

mod common;

use common::{new_loop, zombies, MODES};
use loop_core::{Loop, RunMode};
use loop_process::node::{self, Options, StdioOption};
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

#[derive(Default)]
struct Out {
    stdout: String,
    events: Vec<String>,
}

#[test]
fn env_and_cwd_reach_the_child() {
    for mode in MODES {
        let mut lp: Loop<Out> = new_loop(mode);
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = Options::new()
            .env([("FOO", "bar"), ("PATH", "/usr/bin:/bin")])
            .cwd(dir.path());
        let c = node::spawn(
            &mut lp,
            "sh",
            ["-c", "echo $FOO; pwd; echo ${HOME:-unset}"],
            opts,
        )
        .expect("spawn");
        let stdout = c.stdout(&lp).expect("a pipe");
        stdout.on_data(&mut lp, |_, out, _, d| {
            out.stdout.push_str(&String::from_utf8_lossy(d))
        });
        c.on_close(&mut lp, |_, out, _, code, _| {
            out.events.push(format!("close {code:?}"))
        });
        let mut out = Out::default();
        lp.run(RunMode::Default, &mut out).expect("run");
        let cwd = dir.path().canonicalize().expect("canonical");
        assert_eq!(
            out.stdout,
            format!("bar\n{}\nunset\n", cwd.display()),
            "{mode:?}"
        );
        assert_eq!(out.events, ["close Some(0)"]);
    }
}

#[test]
fn stdio_inherit_ignore_and_an_fd() {
    let mut lp: Loop<Out> = new_loop(MODES[0]);
    let (mut ours, theirs) = UnixStream::pair().expect("socketpair");
    let opts = Options::new().stdio([
        StdioOption::Ignore,
        StdioOption::Fd(theirs.as_fd()),
        StdioOption::Inherit,
        StdioOption::Fd(theirs.as_fd()),
    ]);
    let c =
        node::spawn(&mut lp, "sh", ["-c", "echo one; echo three >&3; cat"], opts).expect("spawn");
    drop(theirs);
    assert!(c.stdin(&lp).is_none(), "'ignore' makes no socket");
    assert!(c.stdout(&lp).is_none(), "an fd makes no socket");
    c.on_close(&mut lp, |_, out, _, code, sig| {
        out.events.push(format!("close {code:?} {sig:?}"))
    });
    let mut out = Out::default();
    lp.run(RunMode::Default, &mut out).expect("run");
    // `cat` read /dev/null: it exited at once, and no one else holds
    // the pair's other end.
    assert_eq!(out.events, ["close Some(0) None"]);
    let mut got = String::new();
    ours.read_to_string(&mut got).expect("read");
    assert_eq!(got, "one\nthree\n");
}

#[test]
fn an_error_nobody_handles_is_runs_error() {
    let mut lp: Loop<Out> = new_loop(MODES[0]);
    let c = node::spawn(
        &mut lp,
        "loop-process-no-such-program",
        [] as [&str; 0],
        Options::new(),
    )
    .expect("an event, not an Err");
    assert_eq!(c.pid(&lp), None);
    let mut out = Out::default();
    let err = lp.run(RunMode::Default, &mut out).expect_err("unhandled");
    match &err {
        loop_core::Error::Unhandled { op, source } => {
            assert_eq!(*op, "child.on_error");
            assert_eq!(
                source.to_string(),
                "spawn loop-process-no-such-program ENOENT"
            );
        }
        other => panic!("{other}"),
    }
    // The loop stays usable: the pipes' closes still come.
    lp.run(RunMode::Default, &mut out).expect("second run");
}

#[test]
fn errors_node_throws_are_spawns_err() {
    let mut lp: Loop<Out> = new_loop(MODES[0]);
    let two_ipc = Options::new()
        .stdio_at(3, StdioOption::Ipc)
        .stdio_at(4, StdioOption::Ipc);
    let e = node::spawn(&mut lp, "true", [] as [&str; 0], two_ipc).expect_err("two ipc");
    assert_eq!(e.code(), Some("EINVAL"));
    let e = node::spawn(&mut lp, "", [] as [&str; 0], Options::new()).expect_err("empty file");
    assert_eq!(e.code(), Some("EINVAL"));
    assert_eq!(lp.handles().len(), 0, "nothing left behind");
}

#[test]
fn an_unreferenced_child_does_not_keep_the_loop_alive() {
    for mode in MODES {
        let mut lp: Loop<Out> = new_loop(mode);
        let opts = Options::new().stdio([StdioOption::Ignore; 3]);
        let c = node::spawn(&mut lp, "sleep", ["10"], opts).expect("spawn");
        c.on_exit(&mut lp, |_, out, _, code, sig| {
            out.events.push(format!("exit {code:?} {sig:?}"))
        });
        c.unref(&mut lp).expect("unref");
        let mut out = Out::default();
        lp.run(RunMode::Default, &mut out).expect("run");
        assert!(out.events.is_empty(), "{mode:?}: {:?}", out.events);
        let pid = c.pid(&lp).expect("running");
        assert!(c.kill(&mut lp, libc::SIGKILL).expect("kill"), "{mode:?}");
        assert!(c.killed(&lp));
        c.ref_handle(&mut lp).expect("ref");
        lp.run(RunMode::Default, &mut out).expect("run");
        assert_eq!(out.events, [r#"exit None Some("SIGKILL")"#], "{mode:?}");
        assert!(!zombies().contains(&pid), "{mode:?}: {pid} reaped");
        assert!(
            !c.kill(&mut lp, libc::SIGTERM).expect("kill"),
            "after the exit"
        );
    }
}

#[test]
fn eacces_is_an_error_event_too() {
    let mut lp: Loop<Out> = new_loop(MODES[0]);
    let c = node::spawn(&mut lp, "/etc/passwd", [] as [&str; 0], Options::new())
        .expect("an event, not an Err");
    c.on_error(&mut lp, |_, out, _, e| {
        out.events.push(format!("error {e}"))
    });
    c.on_exit(&mut lp, |_, out, _, _, _| out.events.push("exit".into()));
    c.on_close(&mut lp, |_, out, _, code, sig| {
        out.events.push(format!("close {code:?} {sig:?}"))
    });
    let mut out = Out::default();
    lp.run(RunMode::Default, &mut out).expect("run");
    let code = -i64::from(libc::EACCES);
    assert_eq!(
        out.events,
        [
            "error spawn /etc/passwd EACCES".to_owned(),
            format!("close Some({code}) None")
        ]
    );
}
