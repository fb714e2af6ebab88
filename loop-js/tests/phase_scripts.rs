//! Every phase script as JavaScript: each case (`tests/cases`, the public
//! cases of `../shared/conformance/cases`) and `gen.js` seeds is translated
//! to the program `node-runner.js` interprets it as, and run under `node`
//! and under `loop-js`: identical stdout and exit code required. For the
//! cases with an `.out`, node's run of the translation must also print
//! the `.out` (the translator is checked against the runner).
//!
//! Cost: the scripts sleep on timers (up to 1.5 s each) and spin (`busy`,
//! up to 400 ms); they run 3 at a time (`LOOP_JS_JOBS`), node and loop-js
//! one after the other for each script: about 100 s for the default 200
//! seeds (`LOOP_JS_SEEDS`) on 2 cores, 10 s for all the cases. A script
//! whose node output varies between two runs is reported, not failed
//! (node is the reference only where it is deterministic); one where
//! loop-js differs once but matches on a second run is reported too (a
//! process stall past the script's timing margins: an ordering bug
//! repeats).

mod common;

use common::{both, loop_js, run_with, shared_dir, translate, Run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn jobs() -> usize {
    std::env::var("LOOP_JS_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// One script to compare: a name, its JSON, and the expected output if known.
struct Case {
    name: String,
    json: String,
    want: Option<String>,
}

fn cases_in(dir: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| Case {
            name: f.file_stem().unwrap().to_string_lossy().into_owned(),
            json: std::fs::read_to_string(f).expect("readable case"),
            want: std::fs::read_to_string(f.with_extension("out")).ok(),
        })
        .collect()
}

/// Compares every case, `jobs()` at a time; returns the failures.
fn compare(cases: Vec<Case>, tmp: &Path) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs() {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                if let Some(f) = compare_one(c, tmp) {
                    failures.lock().unwrap().push(f);
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

fn compare_one(c: &Case, tmp: &Path) -> Option<String> {
    let js = translate::to_js(&c.json).unwrap_or_else(|e| panic!("{}: {e}", c.name));
    let file = tmp.join(format!("{}.js", c.name));
    std::fs::write(&file, js).expect("write the program");
    let (node, lj, err) = both(&file, &[], tmp);
    let ok = |r: &Run| r.code == 0;
    if let Some(want) = &c.want {
        if node.stdout != *want || !ok(&node) {
            return Some(format!(
                "{}: node's run of the translation differs from the .out\n--- .out\n{want}--- node\n{}",
                c.name, node.stdout
            ));
        }
    }
    if node == lj {
        return None;
    }
    // Node is the reference only where it is deterministic.
    let (again, _) = run_with(Path::new("node"), &file, &[], tmp);
    if again != node {
        eprintln!("note: {}: node itself is not deterministic here", c.name);
        return None;
    }
    // The scripts' margins hold on a loaded machine, not on any: a
    // process stalled past them (these run several at a time) shows as a
    // difference that the same run does not repeat. An ordering bug does.
    let (lj_again, _) = run_with(&loop_js(), &file, &[], tmp);
    if lj_again == node {
        eprintln!(
            "note: {}: loop-js differed once, matched on a second run (a stall)",
            c.name
        );
        return None;
    }
    Some(format!(
        "{} ({})\n--- node (exit {})\n{}--- loop-js (exit {})\n{}--- loop-js stderr\n{err}",
        c.name,
        file.display(),
        node.code,
        node.stdout,
        lj.code,
        lj.stdout
    ))
}

fn temp(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("loop-js-{tag}-"))
        .tempdir()
        .expect("temp dir")
}

/// Keeps the programs of a failed run for a look.
fn keep_if(failures: &[String], tmp: tempfile::TempDir) {
    if !failures.is_empty() {
        eprintln!("programs kept in {}", tmp.keep().display());
    }
}

#[test]
fn project_cases_run_as_javascript() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::has_node() {
        return;
    }
    assert!(loop_js().is_file());
    let cases = cases_in(&common::workspace_root().join("tests/cases"));
    assert!(cases.len() >= 20, "the project's cases are there");
    let tmp = temp("cases");
    let n = cases.len();
    let failures = compare(cases, tmp.path());
    keep_if(&failures, tmp);
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn public_cases_run_as_javascript() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = shared_dir().join("conformance/cases");
    if !dir.is_dir() {
        assert!(!common::in_ci(), "CI must have {}", dir.display());
        eprintln!("note: {} missing; public cases not compared", dir.display());
        return;
    }
    if !common::has_node() {
        return;
    }
    let cases = cases_in(&dir);
    let tmp = temp("public");
    let n = cases.len();
    let failures = compare(cases, tmp.path());
    keep_if(&failures, tmp);
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn generated_scripts_run_as_javascript() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let gen = shared_dir().join("conformance/gen.js");
    if !gen.is_file() {
        assert!(!common::in_ci(), "CI must have {}", gen.display());
        eprintln!("note: gen.js missing; generated scripts not compared");
        return;
    }
    if !common::has_node() {
        return;
    }
    let seeds: u64 = std::env::var("LOOP_JS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let cases: Vec<Case> = (1..=seeds)
        .map(|seed| {
            let out = Command::new("node")
                .arg(&gen)
                .arg(seed.to_string())
                .output()
                .expect("node gen.js");
            assert!(out.status.success(), "gen.js {seed}");
            Case {
                name: format!("gen-{seed}"),
                json: String::from_utf8(out.stdout).expect("utf-8"),
                want: None,
            }
        })
        .collect();
    let tmp = temp("gen");
    let failures = compare(cases, tmp.path());
    keep_if(&failures, tmp);
    assert!(
        failures.is_empty(),
        "{} of {seeds} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
