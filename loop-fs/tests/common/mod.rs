//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses its own subset

use loop_core::{Loop, RunMode};
use std::io;
use std::sync::{Arc, Condvar, Mutex};

/// The result slot of a one-request loop.
pub type Out<T> = Option<io::Result<T>>;

/// A completion callback that stores the result (and checks it is the only one).
pub fn store<T>(_: &mut Loop<Out<T>>, out: &mut Out<T>, r: io::Result<T>) {
    assert!(out.is_none(), "callback called twice");
    *out = Some(r);
}

/// Runs one request on a fresh loop to completion; returns its result.
pub fn sync<T: 'static>(
    submit: impl FnOnce(&mut Loop<Out<T>>) -> Result<loop_fs::ReqId, loop_fs::Error>,
) -> io::Result<T> {
    let mut lp = Loop::new().expect("loop");
    submit(&mut lp).expect("queued");
    let mut out = None;
    lp.run(RunMode::Default, &mut out).expect("run");
    assert_eq!(lp.active_requests(), 0);
    out.expect("the callback ran")
}

/// The Node.js-style code of an error returned by loop-fs.
pub fn code(e: &io::Error) -> &'static str {
    loop_fs::sys_error(e)
        .unwrap_or_else(|| panic!("not a loop-fs error: {e:?}"))
        .code()
}

/// A gate work items can wait on: `wait` blocks until `open`.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn wait(&self) {
        let (m, c) = &*self.0;
        let mut open = m.lock().unwrap();
        while !*open {
            open = c.wait(open).unwrap();
        }
    }

    pub fn open(&self) {
        let (m, c) = &*self.0;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
}

/// Opens its gate when dropped, so that a failing assertion (which drops
/// the loop, joining its workers) cannot hang on work blocked on the gate.
pub struct OpenOnDrop(pub Gate);

impl OpenOnDrop {
    pub fn open(&self) {
        self.0.open();
    }
}

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// Occupies every worker of a pool of `size` with work blocked on the
/// returned gate; returns once all of them are executing.
pub fn saturate<D: 'static>(
    lp: &mut Loop<D>,
    size: usize,
    on_done: impl Fn(&mut Loop<D>, &mut D, Result<(), loop_fs::WorkError>) + Clone + 'static,
) -> (OpenOnDrop, Vec<loop_fs::ReqId>) {
    let gate = Gate::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut ids = Vec::new();
    for _ in 0..size {
        let (gate, tx) = (gate.clone(), tx.clone());
        let on_done = on_done.clone();
        let id = loop_fs::queue_work(
            lp,
            move || {
                tx.send(()).unwrap();
                gate.wait();
            },
            move |lp, d, r| on_done(lp, d, r),
        )
        .expect("queued");
        ids.push(id);
    }
    for _ in 0..size {
        rx.recv().expect("a blocker started");
    }
    (OpenOnDrop(gate), ids)
}

/// Threads of this process, from `/proc/self/task`.
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .count()
}
