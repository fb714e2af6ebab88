//! `phase-script FILE` prints what a phase script logs, run on loop-core.
//! `phase-script --dir DIR` runs every `DIR/NAME.json` against `DIR/NAME.out`,
//! prints a diff for each failure and ends with `N passed, N failed`.
//!
//! A bad script gets one line naming the JSON path and exit status 2, as the
//! Node.js reference runner does.

use loop_tests::script;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: phase-script FILE | phase-script --dir DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, dir] if flag == "--dir" => run_dir(Path::new(dir)),
        [file] if !file.starts_with("--") => run_file(Path::new(file)),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn load(path: &Path) -> Result<script::Script, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    script::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_file(path: &Path) -> ExitCode {
    let s = match load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match script::run(&s) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}

fn run_dir(dir: &Path) -> ExitCode {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
            .collect(),
        Err(e) => {
            eprintln!("{}: cannot read directory: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    names.sort();
    let (mut passed, mut failed) = (0, 0);
    for name in names {
        let json = dir.join(format!("{name}.json"));
        let want = match std::fs::read_to_string(dir.join(format!("{name}.out"))) {
            Ok(w) => w,
            Err(e) => {
                println!("FAIL {name}: no expected output: {e}");
                failed += 1;
                continue;
            }
        };
        let got = load(&json).and_then(|s| script::run(&s).map_err(|e| e.to_string()));
        match got {
            Ok(got) if got == want => {
                println!("ok   {name}");
                passed += 1;
            }
            Ok(got) => {
                println!("FAIL {name}\n{}", script::diff(&want, &got));
                failed += 1;
            }
            Err(e) => {
                println!("FAIL {name}: {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
