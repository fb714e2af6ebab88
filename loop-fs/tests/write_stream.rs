//! `WriteStream` (Node's `fs.createWriteStream`): order, backpressure and
//! `drain`, `end` → `finish` → `close`, errors naming the path, and an
//! error with no handler reaching `run`.

mod common;

use common::code;
use loop_core::{Loop, RunMode};
use loop_fs::{WriteStream, WriteStreamOptions};
use std::io;

type Log = Vec<String>;

/// 2 000 writes of different sizes land in order (the pool has several
/// workers: one write in flight at a time keeps them in order), `write`
/// returns false past the high-water mark and `on_drain` follows.
#[test]
fn ordered_with_backpressure_then_finish_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let ws = WriteStream::open(
        &mut lp,
        &path,
        WriteStreamOptions {
            high_water_mark: 1024,
            ..Default::default()
        },
    );
    let mut want = Vec::new();
    let mut saw_false = false;
    for i in 0..2000 {
        let chunk = format!("{i}:{}\n", "x".repeat(i % 37));
        want.extend_from_slice(chunk.as_bytes());
        if !ws.write(&mut lp, chunk) {
            saw_false = true;
        }
    }
    assert!(saw_false, "past the high-water mark");
    assert_eq!(ws.writable_length(&lp), want.len());
    ws.on_drain(&mut lp, |lp, log: &mut Log| {
        log.push("drain".into());
        let _ = lp;
    });
    ws.on_finish(&mut lp, move |lp, log: &mut Log| {
        assert_eq!(ws.writable_length(lp), 0);
        log.push("finish".into());
    });
    ws.on_close(&mut lp, |_, log: &mut Log| log.push("close".into()));
    ws.on_error(&mut lp, |_, _, e| panic!("{e}"));
    ws.end(&mut lp);
    assert!(!ws.write(&mut lp, "after end"));
    let mut log = Log::new();
    assert!(!lp.run(RunMode::Default, &mut log).unwrap());
    assert_eq!(log, ["drain", "finish", "close"]);
    assert_eq!(std::fs::read(&path).unwrap(), want);
}

/// Append mode keeps what was there; `end` with nothing queued still
/// finishes and closes.
#[test]
fn append_and_empty_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    std::fs::write(&path, "old\n").unwrap();
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let opts = WriteStreamOptions {
        append: true,
        ..Default::default()
    };
    let ws = WriteStream::open(&mut lp, &path, opts.clone());
    ws.write(&mut lp, &b"new\n"[..]);
    ws.end(&mut lp);
    let empty = WriteStream::open(&mut lp, &path, opts);
    empty.on_finish(&mut lp, |_, log: &mut Log| log.push("empty finish".into()));
    empty.on_close(&mut lp, |_, log: &mut Log| log.push("empty close".into()));
    empty.end(&mut lp);
    let mut log = Log::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log, ["empty finish", "empty close"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\nnew\n");
}

/// A write error (ENOSPC on /dev/full) goes to `on_error`, naming the
/// path; then `on_close`; nothing more is written.
#[test]
fn write_error_names_the_path() {
    if !std::path::Path::new("/dev/full").exists() {
        return; // no such device here: nothing to test against
    }
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let ws = WriteStream::open(&mut lp, "/dev/full", WriteStreamOptions::default());
    ws.write(&mut lp, "x");
    ws.write(&mut lp, "y");
    ws.on_error(&mut lp, |_, log: &mut Log, e: io::Error| {
        log.push(format!("{} {e}", code(&e)))
    });
    ws.on_finish(&mut lp, |_, _| panic!("no finish after an error"));
    ws.on_close(&mut lp, |_, log: &mut Log| log.push("close".into()));
    ws.end(&mut lp);
    let mut log = Log::new();
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].starts_with("ENOSPC"), "{}", log[0]);
    assert!(log[0].contains("'/dev/full'"), "{}", log[0]);
    assert_eq!(log[1], "close");
}

/// A failed open with no `on_error`: `run` returns it (Node throws).
#[test]
fn unhandled_open_error_reaches_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/file");
    let mut lp: Loop<Log> = Loop::new().unwrap();
    let ws = WriteStream::open(&mut lp, &path, WriteStreamOptions::default());
    ws.write(&mut lp, "lost");
    ws.on_close(&mut lp, |_, log: &mut Log| log.push("close".into()));
    let mut log = Log::new();
    let e = lp.run(RunMode::Default, &mut log).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("ENOENT") && msg.contains("open '"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    lp.run(RunMode::Default, &mut log).unwrap();
    assert_eq!(log, ["close"]);
}
