//! A file copy through the thread pool, 64 KiB at a time: open both files,
//! then read and write in a chain of callbacks, each on the loop thread. A
//! timer ticks meanwhile: the loop never blocks on the disk.
//!
//! `cargo run -p loop-fs --example copy_file -- SRC DEST` (without arguments
//! it copies a generated 8 MiB file in a temporary directory).

use loop_core::{Loop, RunMode};
use loop_fs::fs::{self, Fd, OpenFlags};
use std::io;

const CHUNK: usize = 64 * 1024;

#[derive(Default)]
struct Copy {
    copied: u64,
    ticks: u32,
    done: bool,
    error: Option<io::Error>,
}

/// Reads the next chunk of `src` and writes it to `dest`, until EOF.
fn pump(lp: &mut Loop<Copy>, src: Fd, dest: Fd) {
    fs::read(
        lp,
        &src.clone(),
        vec![0; CHUNK],
        None,
        move |lp, st, r| match r {
            Ok(buf) if buf.is_empty() => st.done = true, // EOF: both Fds drop and close
            Ok(buf) => {
                let n = buf.len() as u64;
                fs::write(lp, &dest.clone(), buf, None, move |lp, st, w| match w {
                    Ok(_) => {
                        st.copied += n;
                        pump(lp, src, dest);
                    }
                    Err(e) => st.error = Some(e),
                })
                .expect("thread pool");
            }
            Err(e) => st.error = Some(e),
        },
    )
    .expect("thread pool");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp = tempfile::tempdir()?;
    let (src, dest) = match args.as_slice() {
        [s, d] => (s.into(), d.into()),
        _ => {
            let src = tmp.path().join("src.bin");
            let data: Vec<u8> = (0..8 * 1024 * 1024u32)
                .map(|i| (i * 31 % 251) as u8)
                .collect();
            std::fs::write(&src, data)?;
            (src, tmp.path().join("dest.bin"))
        }
    };

    let mut lp: Loop<Copy> = Loop::new()?;
    let dest_path = dest.clone();
    fs::open(&mut lp, &src, OpenFlags::RDONLY, 0, move |lp, st, r| {
        let src = match r {
            Ok(fd) => fd,
            Err(e) => return st.error = Some(e),
        };
        let flags = OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::TRUNC;
        fs::open(lp, &dest_path, flags, 0o644, move |lp, st, r| match r {
            Ok(dest) => pump(lp, src, dest),
            Err(e) => st.error = Some(e),
        })
        .expect("thread pool");
    })?;
    let ticker = lp.set_interval(1, |lp, st, me| {
        st.ticks += 1;
        if st.done || st.error.is_some() {
            lp.clear_interval(me);
        }
    });

    let mut st = Copy::default();
    lp.run(RunMode::Default, &mut st)?;
    lp.clear_interval(ticker);
    if let Some(e) = st.error {
        return Err(e.into());
    }
    let (a, b) = (std::fs::read(&src)?, std::fs::read(&dest)?);
    assert_eq!(a, b, "the copy is exact");
    println!(
        "copied {} bytes; the timer ticked {} times meanwhile",
        st.copied, st.ticks
    );
    Ok(())
}
