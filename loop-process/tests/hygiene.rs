//! What a child may see of the parent, and what the parent keeps of its
//! children: the child's fd table, zombies and fd counts after failures,
//! after 1,000 spawns, after an early close and after a dropped loop.
//!
//! Every test here counts process-wide things (fds, children), so each one
//! holds `common::lock()` for its whole run.

mod common;

use common::{child_state, eventually, fd_count, lock, new_loop, read_all, zombies, MODES};
use loop_core::{Loop, RunMode};
use loop_process::{kill, spawn, Reaping, SpawnOptions, Stdio};
use std::time::Instant;

#[test]
fn the_child_sees_only_its_own_fds() {
    let _g = lock();
    // Some fds of ours that must not reach the child: a file, a socket
    // pair, the loop's epoll fd and signal pipes.
    let _file = std::fs::File::open("/proc/self/status").expect("open");
    let _pair = std::os::unix::net::UnixStream::pair().expect("pair");
    for mode in MODES {
        let mut lp: Loop<Vec<(i64, i32)>> = new_loop(mode);
        // `ls` opens the directory it lists: that is fd 3 (resp. 4 with
        // fd 3 given), the lowest free one.
        for (extra, want) in [(false, "0\n1\n2\n3\n"), (true, "0\n1\n2\n3\n4\n")] {
            let mut opts = SpawnOptions::new("ls")
                .arg("/proc/self/fd")
                .stdio(1, Stdio::Pipe);
            if extra {
                opts = opts.stdio(3, Stdio::Pipe);
            }
            let mut child = spawn(&mut lp, opts, |lp, out, p, status, signal| {
                out.push((status, signal));
                p.close(lp, None).expect("open");
            })
            .expect("spawn");
            let stdout = child.take_pipe(1).expect("stdout");
            let mut exits = Vec::new();
            lp.run(RunMode::Default, &mut exits).expect("run");
            assert_eq!(exits, [(0, 0)]);
            assert_eq!(read_all(stdout), want, "{mode:?}, fd 3 given: {extra}");
        }
    }
}

#[test]
fn spawn_fails_check_for_waitpid_cleanup() {
    let _g = lock();
    for mode in MODES {
        let mut lp: Loop<()> = new_loop(mode);
        let mut before = fd_count();
        for i in 0..20 {
            let e = spawn(
                &mut lp,
                SpawnOptions::new("program-that-had-better-not-exist").stdio(1, Stdio::Pipe),
                |_, _, _, _, _| panic!("fail_cb called"),
            )
            .expect_err("no such program");
            assert!(matches!(e.code(), Some("ENOENT" | "EACCES")));
            if i == 0 {
                // The first spawn of a loop may open its SIGCHLD pipe.
                before = fd_count();
            }
        }
        // Every failed child was reaped inside spawn: no child at all is
        // left, zombie or not, and the pipes made for them are closed.
        assert_eq!(common::children(), [], "{mode:?}");
        assert_eq!(fd_count(), before, "{mode:?}");
        assert!(!lp.run(RunMode::Default, &mut ()).expect("run"));
    }
}

/// Spawns `total` children of `true`, `batch` at a time, each closed from
/// its exit callback; returns how long it took.
fn spawn_many(mode: Reaping, total: usize, batch: usize) -> std::time::Duration {
    let mut lp: Loop<usize> = new_loop(mode);
    let mut exited = 0usize;
    let t0 = Instant::now();
    let mut started = 0;
    while started < total {
        let n = batch.min(total - started);
        for _ in 0..n {
            spawn(
                &mut lp,
                SpawnOptions::new("true").stdio(1, Stdio::Pipe),
                |lp, exited, p, status, signal| {
                    assert_eq!((status, signal), (0, 0));
                    *exited += 1;
                    p.close(lp, None).expect("open");
                },
            )
            .expect("spawn");
        }
        started += n;
        lp.run(RunMode::Default, &mut exited).expect("run");
        assert_eq!(exited, started, "{mode:?}");
    }
    assert!(lp.handles().is_empty());
    t0.elapsed()
}

#[test]
fn a_thousand_spawns_leave_no_zombie_and_no_fd() {
    let _g = lock();
    // Warm up: the loop's own fds, the SIGCHLD pipe, std's lazies.
    spawn_many(Reaping::Pidfd, 5, 5);
    spawn_many(Reaping::Sigchld, 5, 5);
    for (mode, total) in [(Reaping::Pidfd, 1000), (Reaping::Sigchld, 1000)] {
        let before = fd_count();
        let took = spawn_many(mode, total, 50);
        eprintln!("{mode:?}: {total} spawns of `true` in {took:?}");
        assert_eq!(zombies(), Vec::<u32>::new(), "{mode:?}");
        assert_eq!(common::children(), [], "{mode:?}");
        assert_eq!(fd_count(), before, "{mode:?}: fds before and after");
    }
}

#[test]
fn a_child_closed_early_is_still_reaped() {
    let _g = lock();
    for mode in MODES {
        let mut lp: Loop<u32> = new_loop(mode);
        let p = spawn(
            &mut lp,
            SpawnOptions::new("sleep").arg("0.2"),
            |_, _, _, _, _| panic!("a closed process's exit callback is dropped"),
        )
        .expect("spawn")
        .process;
        let pid = p.pid();
        p.close(&mut lp, None).expect("close");
        let mut ticks = 0u32;
        // Nothing else keeps the loop alive: the orphan does not.
        assert!(!lp.run(RunMode::Default, &mut ticks).expect("run"));
        assert_eq!(
            child_state(pid).map(|s| s != 'Z'),
            Some(true),
            "still running"
        );
        // A timer keeps the loop running while the child finishes.
        lp.add_timer(20, 20, move |lp, ticks: &mut u32| {
            *ticks += 1;
            if child_state(pid).is_none() || *ticks > 1000 {
                lp.stop();
            }
        });
        lp.run(RunMode::Default, &mut ticks).expect("run");
        assert_eq!(child_state(pid), None, "{mode:?}: reaped by the loop");
        assert!(zombies().is_empty());
    }
}

#[test]
fn dropping_the_loop_reaps_its_children() {
    let _g = lock();
    for mode in MODES {
        // One that has exited already (a zombie until the drop)...
        let mut lp: Loop<()> = new_loop(mode);
        let done = spawn(&mut lp, SpawnOptions::new("true"), |_, _, _, _, _| {})
            .expect("spawn")
            .process
            .pid();
        assert!(eventually(|| child_state(done) == Some('Z')), "exits");
        // ... and one still running, detached and unreferenced.
        let running = spawn(
            &mut lp,
            SpawnOptions::new("sleep").arg("0.3").detached(true),
            |_, _, _, _, _| {},
        )
        .expect("spawn")
        .process;
        running.unref(&mut lp).expect("unref");
        let running = running.pid();
        drop(lp);
        assert_eq!(child_state(done), None, "{mode:?}: reaped in the drop");
        kill(running, 0).expect("still running after the drop");
        assert!(
            eventually(|| child_state(running).is_none()),
            "{mode:?}: reaped once it exits"
        );
        assert!(zombies().is_empty());
    }
}

/// 200 children of `node::spawn`, three pipes each (50 at a time), every
/// event run to the end: no child of this process is left, zombie or
/// not, and its fd count is what it was.
#[test]
fn node_children_leave_no_zombie_and_no_fd() {
    let _g = lock();
    use loop_process::node;
    for mode in MODES {
        let before = common::fd_count();
        let mut lp: loop_core::Loop<Vec<String>> = common::new_loop(mode);
        let mut closes = 0;
        for _ in 0..4 {
            let mut out = Vec::new();
            for _ in 0..50 {
                let c = node::spawn(&mut lp, "true", [] as [&str; 0], node::Options::new())
                    .expect("spawn");
                assert!(c.stdin(&lp).is_some(), "three pipes");
                c.on_close(&mut lp, |_, out: &mut Vec<String>, _, code, _| {
                    out.push(format!("{code:?}"))
                });
            }
            lp.run(loop_core::RunMode::Default, &mut out).expect("run");
            assert!(out.iter().all(|e| e == "Some(0)"), "{out:?}");
            closes += out.len();
        }
        assert_eq!(closes, 200, "{mode:?}");
        drop(lp);
        assert!(
            common::children().is_empty(),
            "{mode:?}: {:?}",
            common::children()
        );
        assert_eq!(common::fd_count(), before, "{mode:?}");
    }
}
