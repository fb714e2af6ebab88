//! Helpers shared by the loop-process tests: both reaping modes, reading a
//! pipe's parent end, and what /proc says about this process's children
//! and fds.

#![allow(dead_code)]

use loop_core::Loop;
use loop_process::{set_reaping, Reaping};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

/// Both ways of reaping: every behaviour is checked under each.
pub const MODES: [Reaping; 2] = [Reaping::Pidfd, Reaping::Sigchld];

/// Tests that count this process's fds or children hold this lock: the
/// other tests of the same binary would change the counts.
pub static PROCESS_WIDE: Mutex<()> = Mutex::new(());

pub fn lock() -> std::sync::MutexGuard<'static, ()> {
    PROCESS_WIDE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new loop that reaps in `mode`.
pub fn new_loop<D: 'static>(mode: Reaping) -> Loop<D> {
    let mut lp = Loop::new().expect("loop");
    set_reaping(&mut lp, mode).expect("reaping mode available");
    // A hang fails the test instead of the CI run (the workspace's watchdog).
    loop_testkit::watchdog(&mut lp, 60_000);
    lp
}

/// Everything the parent's end of a pipe gives until EOF (blocking).
pub fn read_all(fd: OwnedFd) -> String {
    let mut s = UnixStream::from(fd);
    s.set_nonblocking(false).expect("blocking");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// `(pid, state)` of each child of this process, from /proc/*/stat.
pub fn children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(me) {
            out.push((pid, state));
        }
    }
    out
}

/// Children of this process in state Z.
pub fn zombies() -> Vec<u32> {
    children()
        .into_iter()
        .filter(|&(_, s)| s == 'Z')
        .map(|(p, _)| p)
        .collect()
}

/// Whether `pid` is a child of ours in state `state`.
pub fn child_state(pid: u32) -> Option<char> {
    children()
        .into_iter()
        .find(|&(p, _)| p == pid)
        .map(|(_, s)| s)
}

/// Open fds of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// Waits (sleeping, up to 20 s) until `cond` holds; whether it did.
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..2000 {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    cond()
}
