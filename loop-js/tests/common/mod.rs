//! Shared by the loop-js tests: running a JS file under `node` and under
//! `loop-js`, and the phase-script translator.

#![allow(dead_code)] // each test binary uses its own part

pub mod translate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `loop-js` binary cargo built for these tests.
pub fn loop_js() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_loop-js"))
}

/// `../shared` beside the checkout (or `LOOP_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("LOOP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether this is CI (where node and ../shared must be present).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

/// Whether `node` runs here; under CI it must.
pub fn has_node() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok || !in_ci(), "CI must have node");
    if !ok {
        eprintln!("note: node is not installed; nothing to compare with");
    }
    ok
}

/// What a run printed and how it ended.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Run {
    /// stdout, as text.
    pub stdout: String,
    /// The exit code (-1 for a signal).
    pub code: i32,
}

fn to_run(o: Output) -> (Run, String) {
    (
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            code: o.status.code().unwrap_or(-1),
        },
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `file` (with `args`) under `program` in `cwd`; stdout, exit code, stderr.
pub fn run_with(program: &Path, file: &Path, args: &[&str], cwd: &Path) -> (Run, String) {
    let o = Command::new(program)
        .arg(file)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    to_run(o)
}

/// Runs `file` under node and under loop-js; (node, loop-js, loop-js's stderr).
pub fn both(file: &Path, args: &[&str], cwd: &Path) -> (Run, Run, String) {
    let (n, _) = run_with(Path::new("node"), file, args, cwd);
    let (l, err) = run_with(&loop_js(), file, args, cwd);
    (n, l, err)
}
