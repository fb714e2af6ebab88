//! The fuzzers' saved corpora, replayed on stable as ordinary tests
//! (`fuzz/`, run with cargo-fuzz on nightly: `scripts/check-deep.sh
//! --fuzz SECONDS`). Every input the fuzzers kept, and every input that once
//! crashed a target (`fuzz/regressions/`), must pass again:
//! - `phase_script`: the parser gives a script or an error, never a panic;
//! - `loop_ops`: loop-core agrees with the executable model at every step;
//! - `ipc_framing`: the Node.js IPC channel's framing gives the same lines
//!   however the reads cut the bytes, and parses each without a panic.

use loop_tests::model::{check, Op};
use loop_tests::util::workspace_root;
use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let d = workspace_root().join("fuzz").join(dir).join(target);
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.expect("dir entry").path();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            out.push((p, bytes));
        }
    }
    out.sort();
    out
}

#[test]
fn phase_script_corpus_parses_or_errs_without_panic() {
    let all = inputs("phase_script");
    assert!(
        all.len() >= 30,
        "the corpus is in the repository: {}",
        all.len()
    );
    for (p, bytes) in all {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let r = std::panic::catch_unwind(|| loop_tests::script::parse(text).map(|_| ()));
            assert!(r.is_ok(), "{}: the parser panicked", p.display());
        }
    }
}

#[test]
fn loop_ops_corpus_agrees_with_the_model() {
    let all = inputs("loop_ops");
    assert!(
        all.len() >= 10,
        "the corpus is in the repository: {}",
        all.len()
    );
    for (p, bytes) in all {
        let ops = Op::decode(&bytes);
        if let Err(m) = check(&ops) {
            panic!("{}: {m}", p.display());
        }
    }
}

#[test]
fn ipc_framing_corpus_frames_the_same_however_cut() {
    use loop_process::framing::{parse_line, LineBuffer};
    let all = inputs("ipc_framing");
    assert!(
        all.len() >= 10,
        "the corpus is in the repository: {}",
        all.len()
    );
    for (p, bytes) in all {
        let Some((&seed, input)) = bytes.split_first() else {
            continue;
        };
        let mut want: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        want.pop();
        let mut b = LineBuffer::new();
        let mut got: Vec<Vec<u8>> = Vec::new();
        for chunk in input.chunks(usize::from(seed % 17) + 1) {
            b.push(chunk);
            while let Some(line) = b.next_line() {
                let _ = parse_line(line);
                got.push(line.to_vec());
            }
        }
        assert_eq!(got, want, "{}", p.display());
    }
}
