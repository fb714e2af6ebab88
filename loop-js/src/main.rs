//! `loop-js FILE.js [ARGS...]`: runs FILE as Node.js runs a main module,
//! on loop-core, and exits with its exit code.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args();
    let argv0 = args.next().unwrap_or_else(|| "loop-js".to_string());
    let Some(file) = args.next() else {
        eprintln!("usage: loop-js FILE.js [ARGS...]");
        return ExitCode::from(9);
    };
    let rest: Vec<String> = args.collect();
    match loop_js::run_file(&argv0, Path::new(&file), &rest) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("loop-js: {e}");
            ExitCode::from(1)
        }
    }
}
