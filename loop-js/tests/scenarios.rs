//! Scenario tests modeled on Node's own suite (test/parallel/
//! test-next-tick-*, test-timers-*, test-microtask-queue-*,
//! test-queue-microtask, fs ordering, uncaught exceptions and rejections,
//! console formatting, require), and the two classic examples: each
//! `tests/scenarios/*.js` and `examples/classic-*.js` runs under `node`
//! and under `loop-js`; stdout and the exit code must be identical. The
//! expected output is always node's, never written by hand.

mod common;

use common::{both, loop_js, run_with};
use std::path::{Path, PathBuf};

fn scripts(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "js")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

/// Runs each file under both; a file whose node output differs between
/// two runs is a broken test (it must be deterministic), not a pass.
fn compare(files: &[PathBuf]) {
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for f in files {
        let dir = f.parent().expect("a parent");
        let (node, lj, err) = both(f, &[], dir);
        if node != lj {
            let (again, _, _) = both(f, &[], dir);
            let note = if again != node {
                "node itself varies: the test is not deterministic"
            } else {
                ""
            };
            failures.push(format!(
                "{} {note}\n--- node (exit {})\n{}--- loop-js (exit {})\n{}--- loop-js stderr\n{err}",
                f.display(),
                node.code,
                node.stdout,
                lj.code,
                lj.stdout
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn scenarios_print_what_node_prints() {
    if !common::has_node() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let files = scripts(&dir, "");
    assert!(files.len() >= 20, "the scenarios are there");
    compare(&files);
}

#[test]
fn classic_examples_print_what_node_prints() {
    if !common::has_node() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let files = scripts(&dir, "classic-");
    assert_eq!(files.len(), 2);
    compare(&files);
}

#[test]
fn exit_codes_and_stderr() {
    if !common::has_node() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let (node, lj, err) = both(&dir.join("uncaught-in-timer.js"), &[], &dir);
    assert_eq!(node.code, 1);
    assert_eq!(lj, node);
    assert!(err.contains("Error: boom in a timer"), "stderr: {err}");
    let (node, lj, err) = both(&dir.join("timers-delays.js"), &[], &dir);
    assert_eq!(lj, node);
    assert!(
        err.contains(
            "TimeoutOverflowWarning: 2147483648 does not fit into a 32-bit signed integer."
        ),
        "stderr: {err}"
    );
}

/// What a fatal report says before its stack frames: the source excerpt
/// (file, line, caret), the error's first line and its properties, and
/// any warning, with the pid masked. The frames themselves are engine's.
fn report_head(stderr: &str) -> String {
    let mut out = Vec::new();
    for line in stderr.lines() {
        if line.starts_with("    at ") || line.starts_with("Node.js ") {
            continue;
        }
        let line = match line.strip_prefix("(node:") {
            Some(rest) => match rest.split_once(')') {
                Some((_, tail)) => format!("(node:PID){tail}"),
                None => line.to_string(),
            },
            None => line.to_string(),
        };
        out.push(line);
    }
    out.join("\n")
}

/// stderr where it is deterministic: the uncaught-exception report from
/// each source (excerpt with the caret, message, properties), the
/// unhandled rejection of a non-error, the TimeoutOverflowWarning.
#[test]
fn fatal_reports_on_stderr_match_node() {
    if !common::has_node() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut failures = Vec::new();
    for name in [
        "uncaught-in-timer.js",
        "uncaught-in-tick.js",
        "uncaught-in-immediate.js",
        "uncaught-in-microtask.js",
        "uncaught-in-fs-callback.js",
        "uncaught-in-net-callback.js",
        "unhandled-rejection.js",
        "unhandled-rejection-sources.js",
        "timers-delays.js",
    ] {
        let f = dir.join(name);
        let (_, node_err) = run_with(Path::new("node"), &f, &[], &dir);
        let (_, lj_err) = run_with(&loop_js(), &f, &[], &dir);
        let (n, l) = (report_head(&node_err), report_head(&lj_err));
        assert!(!n.is_empty(), "{name}: node printed nothing on stderr");
        if n != l {
            failures.push(format!("{name}\n--- node\n{n}\n--- loop-js\n{l}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
