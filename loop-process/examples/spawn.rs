//! Runs `sh -c 'echo out; exit 3'` on a loop and prints how it ended.
//!
//! ```sh
//! cargo run -p loop-process --example spawn
//! ```
//!
//! The child's stdout is a pipe, read on the loop as a loop-net stream;
//! the example prints `stdout: "out\n"` and `exit status 3, signal 0`.

use loop_core::{Loop, RunMode};
use loop_net::ReadEvent;
use loop_process::{spawn, SpawnOptions, Stdio};

#[derive(Default)]
struct Seen {
    out: Vec<u8>,
    ended: Option<(i64, i32)>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp: Loop<Seen> = Loop::new()?;
    let opts = SpawnOptions::new("sh")
        .args(["-c", "echo out; exit 3"])
        .stdio(1, Stdio::Pipe);
    let mut child = spawn(&mut lp, opts, |lp, seen, process, status, signal| {
        seen.ended = Some((status, signal));
        process.close(lp, None).expect("the handle is open");
    })?;
    let stdout = child.take_stream(&mut lp, 1).ok_or("fd 1 is a pipe")??;
    stdout.read_start(&mut lp, |lp, seen, s, ev| match ev {
        ReadEvent::Data(b) => seen.out.extend_from_slice(b),
        ReadEvent::Eof | ReadEvent::Error(_) => {
            let _ = s.close(lp, |_, _| {});
        }
    })?;

    let mut seen = Seen::default();
    lp.run(RunMode::Default, &mut seen)?;

    println!("stdout: {:?}", String::from_utf8_lossy(&seen.out));
    let (status, signal) = seen.ended.ok_or("the exit callback did not run")?;
    println!("exit status {status}, signal {signal}");
    Ok(())
}
