//! Event order of `loop_process::node::spawn` against Node.js: each
//! scenario runs once with the installed `node` (`tests/js/child_events.js`
//! prints one line per event) and once here, under each reaping mode; the
//! lines must be the same. The expected lines are never written down:
//! they are what node prints, at test time.

mod common;

use common::{new_loop, MODES};
use loop_core::{Loop, RunMode};
use loop_process::node::{self, ChildProcess, Options, StdioOption};
use loop_process::Reaping;
use loop_testkit::HangGuard;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Default)]
struct Out {
    lines: Vec<String>,
    bytes: usize,
}

impl Out {
    fn push(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }
}

/// JavaScript's `String(x)` of an optional value: `null` for none.
fn js<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

fn twin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js/child_events.js")
}

/// What node prints for `scenario`.
fn node_lines(scenario: &str) -> Vec<String> {
    let out = std::process::Command::new("node")
        .arg(twin())
        .arg(scenario)
        .output()
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node {scenario}: {stderr}");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.len() >= 4, "node {scenario}: {lines:?} {stderr}");
    lines
}

/// The child's own events, as the twin's `watch(c, [])` prints them.
fn watch_child(lp: &mut Loop<Out>, c: ChildProcess) {
    c.on_spawn(lp, |_, out, _| out.push("spawn"));
    c.on_error(lp, |_, out, _, e| {
        out.push(format!(
            "error {} {e} {}",
            e.code().unwrap_or("?"),
            e.file().unwrap_or("undefined")
        ))
    });
    c.on_exit(lp, |_, out, _, code, sig| {
        out.push(format!("exit {} {}", js(code), js(sig)))
    });
    c.on_close(lp, |_, out, _, code, sig| {
        out.push(format!("close {} {}", js(code), js(sig)))
    });
    c.on_disconnect(lp, |_, out, _| out.push("disconnect"));
    c.on_message(lp, |_, out, _, m, _| out.push(format!("message {m}")));
}

/// Data, end and close of stdout and stderr, as the twin prints them.
fn watch_pipes(lp: &mut Loop<Out>, c: ChildProcess) {
    for (name, fd) in [("stdout", 1), ("stderr", 2)] {
        let s = c.stdio(lp, fd).expect("a pipe");
        s.on_data(lp, move |_, out, _, d| {
            let text = serde_json::to_string(&String::from_utf8_lossy(d)).expect("a string");
            out.push(format!("{name} data {text}"));
        });
        s.on_end(lp, move |_, out, _| out.push(format!("{name} end")));
        s.on_close(lp, move |_, out, _, _| out.push(format!("{name} close")));
    }
}

/// `sh -c 'echo out; echo err >&2; exit 3'`, its events and pipes
/// watched.
fn sh_out_err_exit_3(lp: &mut Loop<Out>) -> ChildProcess {
    let c = node::spawn(
        lp,
        "sh",
        ["-c", "echo out; echo err >&2; exit 3"],
        Options::new(),
    )
    .expect("spawn");
    watch_child(lp, c);
    watch_pipes(lp, c);
    c
}

/// Stdin, stdout and stderr ignored, fd 3 the IPC channel (the twin's
/// `stdio: ['ignore', 'ignore', 'ignore', 'ipc']`).
fn ipc_only() -> Options<'static> {
    Options::new().stdio([
        StdioOption::Ignore,
        StdioOption::Ignore,
        StdioOption::Ignore,
        StdioOption::Ipc,
    ])
}

/// Blocks until the child has exited (a zombie: the loop, which reaps it,
/// has not run), as the twin's `waitForExit`: the loop's first poll then
/// sees everything the child did, however fast this process polls.
fn wait_for_exit(pid: u32) {
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the child's stat");
        let state = stat.rfind(')').and_then(|i| stat[i + 2..].chars().next());
        if state == Some('Z') {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn run(lp: &mut Loop<Out>, mut out: Out) -> Vec<String> {
    lp.run(RunMode::Default, &mut out).expect("run");
    out.lines
}

fn ours(scenario: &str, mode: Reaping) -> Vec<String> {
    let mut lp: Loop<Out> = new_loop(mode);
    let lp = &mut lp;
    let mut out = Out::default();
    match scenario {
        "sh" => {
            let c = sh_out_err_exit_3(lp);
            wait_for_exit(c.pid(lp).expect("running"));
        }
        "sh_immediate" => {
            let c = sh_out_err_exit_3(lp);
            let s = c.stdio(lp, 1).expect("a pipe");
            s.on_data(lp, |lp, out, _, d| {
                let text = serde_json::to_string(&String::from_utf8_lossy(d)).expect("a string");
                out.push(format!("stdout data {text}"));
                lp.set_immediate(|_, out: &mut Out| out.push("immediate"));
            });
            wait_for_exit(c.pid(lp).expect("running"));
        }
        "term" => {
            let opts = Options::new().stdio([StdioOption::Ignore; 3]);
            let c = node::spawn(lp, "sleep", ["10"], opts).expect("spawn");
            watch_child(lp, c);
            c.on_spawn(lp, |lp, out, c| {
                out.push("spawn");
                let sent = c.kill(lp, libc::SIGTERM).expect("kill");
                out.push(format!("kill {sent} killed {}", c.killed(lp)));
            });
            c.on_exit(lp, |lp, out, c, code, sig| {
                out.push(format!("exit {} {}", js(code), js(sig)));
                let sent = c.kill(lp, libc::SIGTERM).expect("kill");
                out.push(format!("kill after exit {sent} killed {}", c.killed(lp)));
            });
        }
        "missing" => {
            let c = node::spawn(lp, "loop-process-no-such-program", ["a"], Options::new())
                .expect("an error event, not an Err");
            out.push(format!(
                "pid {}",
                c.pid(lp).map_or("undefined".into(), |p| p.to_string())
            ));
            watch_child(lp, c);
            watch_pipes(lp, c);
        }
        "ipc_send" => {
            let child = r#"process.on("message", (m) => process.send({echo: m}, () => process.disconnect()))"#;
            let opts = ipc_only();
            let c = node::spawn(lp, "node", ["-e", child], opts).expect("spawn");
            watch_child(lp, c);
            let sent = c.send(lp, serde_json::json!({"n": [1, "é\n\""]}));
            out.push(format!("send {}", sent.is_ok()));
        }
        "missing_ipc" => {
            let opts = ipc_only();
            let c = node::spawn(lp, "loop-process-no-such-program", [] as [&str; 0], opts)
                .expect("an error event, not an Err");
            watch_child(lp, c);
            out.push(format!("connected {}", c.is_connected(lp)));
        }
        "early" => {
            let c = node::spawn(
                lp,
                "sh",
                [
                    "-c",
                    "exec 1>&-; sleep 0.1; echo late >&2; exec 2>&-; sleep 0.1",
                ],
                Options::new(),
            )
            .expect("spawn");
            watch_child(lp, c);
            watch_pipes(lp, c);
        }
        "cat" => {
            let opts = Options::new().stdio_at(2, StdioOption::Ignore);
            let c = node::spawn(lp, "cat", [] as [&str; 0], opts).expect("spawn");
            watch_child(lp, c);
            let stdout = c.stdout(lp).expect("a pipe");
            stdout.on_data(lp, |_, out, _, d| out.bytes += d.len());
            stdout.on_end(lp, |_, out, _| {
                let n = out.bytes;
                out.push(format!("stdout end {n}"))
            });
            let stdin = c.stdin(lp).expect("a pipe");
            let ok = stdin.write(lp, vec![b'x'; 1 << 20]);
            out.push(format!("write {ok}"));
            stdin.on_finish(lp, |_, out, _| out.push("stdin finish"));
            stdin.on_close(lp, |_, out, _, _| out.push("stdin close"));
            stdin.on_drain(lp, |lp, out, s| {
                out.push("drain");
                s.end(lp);
            });
        }
        "ipc" => {
            let child = r#"process.send({hi: [1, "two"]}, () => { process.disconnect(); setTimeout(() => {}, 100); })"#;
            let opts = ipc_only();
            let c = node::spawn(lp, "node", ["-e", child], opts).expect("spawn");
            watch_child(lp, c);
            c.on_message(lp, |lp, out, c, m, _| {
                out.push(format!("message {m}"));
                out.push(format!("connected {}", c.is_connected(lp)));
            });
            c.on_disconnect(lp, |lp, out, c| {
                out.push("disconnect");
                out.push(format!("connected {}", c.is_connected(lp)));
            });
        }
        other => panic!("no scenario {other}"),
    }
    run(lp, out)
}

fn check(scenario: &str) {
    let _guard = HangGuard::new(scenario, Duration::from_secs(60));
    let want = node_lines(scenario);
    for mode in MODES {
        let got = ours(scenario, mode);
        assert_eq!(got, want, "{scenario} under {mode:?} reaping");
    }
}

/// `sh -c 'echo out; echo err >&2; exit 3'`: data and end of each pipe,
/// exit, then the closes, the child's before its last pipe's. The loop
/// runs once the child has exited, in node and here.
#[test]
fn a_child_that_writes_to_both_pipes_and_exits_3() {
    check("sh");
}

/// The same child with an immediate queued by stdout's data handler: the
/// exit runs in the poll phase, after the batch's pipe events and before
/// the immediate (the check phase), as Node's SIGCHLD does.
#[test]
fn a_childs_exit_comes_before_an_immediate_queued_by_its_output() {
    check("sh_immediate");
}

/// SIGTERM: `exit null SIGTERM`, and `kill` after the exit is false.
#[test]
fn a_child_killed_by_sigterm() {
    check("term");
}

/// ENOENT: `error` on the next tick, no `exit`, the pipes' EOF, then
/// `close -2 null`.
#[test]
fn a_missing_executable() {
    check("missing");
}

/// A message to an `'ipc'` child (a newline, a quote and `é` inside),
/// its answer, its disconnect, its exit.
#[test]
fn a_message_to_an_ipc_child_and_its_answer() {
    check("ipc_send");
}

/// ENOENT with an `'ipc'` entry: the channel exists, reads EOF, counts
/// toward `close`, and `disconnect` comes last.
#[test]
fn a_missing_executable_with_ipc() {
    check("missing_ipc");
}

/// A child that closes its stdout at once: that pipe's end and close come
/// long before the rest (`sh -c 'exec 1>&-; sleep 0.1; echo late >&2'`,
/// which then also closes stderr 0.1 s before it exits: its EOF and its
/// exit would otherwise race, in node as here).
#[test]
fn a_child_that_closes_stdout_early() {
    check("early");
}

/// 1 MiB into `cat`: `write` is false (backpressure), `drain`, `end`
/// (stdin's `finish` and `close` right after: it is write-only), and
/// every byte comes back.
#[test]
fn stdin_piped_to_cat_with_backpressure() {
    check("cat");
}

/// An `'ipc'` child: its message, its disconnect, its exit.
#[test]
fn an_ipc_child_that_sends_a_message_and_exits() {
    check("ipc");
}
