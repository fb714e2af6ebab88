//! Node.js's `child_process.spawn` on a loop: three children and every
//! event they get, printed as they come.
//!
//! ```sh
//! cargo run -p loop-process --example node_spawn
//! ```
//!
//! - `sh` reads a line from its stdin (written and ended here), answers it
//!   on stdout, writes to stderr and exits 3;
//! - `sleep 10` is killed with SIGTERM once spawned (`exit null SIGTERM`);
//! - a program that does not exist: `error spawn … ENOENT`, no `exit`,
//!   then `close -2 null`.
//!
//! The same script with node prints the same lines (the children run at
//! the same time, so lines of different children may interleave
//! differently from run to run).

use loop_core::{Loop, RunMode};
use loop_process::node::{self, ChildProcess, Options, StdioOption};

/// `String(x)` in JavaScript: `null` for none.
fn js<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// Prints the child's events, prefixed with `name`.
fn watch(lp: &mut Loop<()>, c: ChildProcess, name: &'static str) {
    c.on_spawn(lp, move |_, _, _| println!("{name}: spawn"));
    c.on_error(lp, move |_, _, _, e| println!("{name}: error {e}"));
    c.on_exit(lp, move |_, _, _, code, sig| {
        println!("{name}: exit {} {}", js(code), js(sig))
    });
    c.on_close(lp, move |_, _, _, code, sig| {
        println!("{name}: close {} {}", js(code), js(sig))
    });
    for (fd, stream) in [(1, "stdout"), (2, "stderr")] {
        let Some(s) = c.stdio(lp, fd) else { continue };
        s.on_data(lp, move |_, _, _, d| {
            println!("{name}: {stream} data {:?}", String::from_utf8_lossy(d))
        });
        s.on_end(lp, move |_, _, _| println!("{name}: {stream} end"));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp: Loop<()> = Loop::new()?;

    let script = r#"read line; echo "got $line"; echo err >&2; exit 3"#;
    let sh = node::spawn(&mut lp, "sh", ["-c", script], Options::new())?;
    watch(&mut lp, sh, "sh");
    println!("sh: pid {}", js(sh.pid(&lp)));
    let stdin = sh.stdin(&lp).ok_or("stdin is a pipe")?;
    stdin.write(&mut lp, "hello\n");
    stdin.end(&mut lp);

    let opts = Options::new().stdio([StdioOption::Ignore; 3]);
    let sleep = node::spawn(&mut lp, "sleep", ["10"], opts)?;
    watch(&mut lp, sleep, "sleep");
    sleep.on_spawn(&mut lp, |lp, _, c| {
        println!("sleep: spawn");
        match c.kill(lp, libc::SIGTERM) {
            Ok(sent) => println!("sleep: kill {sent}"),
            Err(e) => println!("sleep: kill {e}"),
        }
    });

    let missing = node::spawn(&mut lp, "no-such-program", [] as [&str; 0], Options::new())?;
    watch(&mut lp, missing, "missing");

    lp.run(RunMode::Default, &mut ())?;
    Ok(())
}
