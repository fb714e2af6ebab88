//! Runs `sh -c 'echo out; exit 3'` on a loop and prints how it ended.
//!
//! ```sh
//! cargo run -p loop-process --example spawn
//! ```
//!
//! The child's stdout is a pipe; the example reads it once the child has
//! exited (blocking: wrapping pipes as loop-net streams comes next), then
//! prints `stdout: "out\n"` and `exit status 3, signal 0`.

use loop_core::{Loop, RunMode};
use loop_process::{spawn, SpawnOptions, Stdio};
use std::io::Read;
use std::os::unix::net::UnixStream;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp: Loop<Option<(i64, i32)>> = Loop::new()?;
    let opts = SpawnOptions::new("sh")
        .args(["-c", "echo out; exit 3"])
        .stdio(1, Stdio::Pipe);
    let mut child = spawn(&mut lp, opts, |lp, ended, process, status, signal| {
        *ended = Some((status, signal));
        process.close(lp, None).expect("the handle is open");
    })?;
    let stdout = child.take_pipe(1).expect("fd 1 is a pipe");

    let mut ended = None;
    lp.run(RunMode::Default, &mut ended)?;

    let mut out = String::new();
    let mut stdout = UnixStream::from(stdout);
    stdout.set_nonblocking(false)?;
    stdout.read_to_string(&mut out)?;
    println!("stdout: {out:?}");
    let (status, signal) = ended.ok_or("the exit callback did not run")?;
    println!("exit status {status}, signal {signal}");
    Ok(())
}
