//! loop-fs's requests as futures, for tasks of `loop_core::task`.
//!
//! Each function queues its request at once, as Node's `fs.promises`
//! functions start theirs when called, and returns a [`Request`]: a future
//! of the request's result. The result arrives where the callback would
//! run (the poll phase), and the awaiting task continues in the microtask
//! drain right after it, where an `await fsPromises.stat(…)` continuation
//! runs in Node.js.
//!
//! ```
//! use loop_core::{task, Loop, RunMode};
//! use loop_fs::future as fsf;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("a.txt");
//! let mut lp: Loop<Vec<String>> = Loop::new()?;
//! let mut log = Vec::new();
//! lp.spawn_local(&mut log, async move {
//!     // The loop queues the request inside `with`; the await is outside.
//!     task::with(|lp, _: &mut Vec<String>| fsf::write_file(lp, &path, "hi"))
//!         .await
//!         .expect("written");
//!     let bytes = task::with(|lp, _: &mut Vec<String>| fsf::read_file(lp, &path))
//!         .await
//!         .expect("read");
//!     task::with(|_, log: &mut Vec<String>| log.push(String::from_utf8(bytes).unwrap()));
//! })
//! .detach();
//! lp.run(RunMode::Default, &mut log)?;
//! assert_eq!(log, ["hi"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Invariants
//!
//! - A [`Request`] and its callback share one cell: the callback writes
//!   the result and wakes the waker of the latest poll; the future takes
//!   the result.
//! - Dropping a [`Request`] before its result came cancels the request
//!   (`loop_fs::cancel`): a request still queued never runs, and its
//!   callback completes into the dropped cell. A request a worker already
//!   started runs to its end. The cancel needs the loop: it happens when
//!   the future is dropped inside a task's poll or by the loop (abort, a
//!   finished task, the loop's drop) — reached through
//!   `task::with_any_loop` and a `cancel` function monomorphised for the
//!   loop's state type when the request was made; dropped elsewhere, the
//!   request just completes unobserved.

use crate::error::{Error, WorkError};
use crate::fs::{self, AccessMode, CopyFlags, Dirent, Fd, OpenFlags};
use crate::work::{self, ReqId};
use loop_core::task::{with_any_loop, AnyLoop};
use loop_core::Loop;
use std::cell::RefCell;
use std::fs::Metadata;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Cell<R> {
    result: RefCell<Option<R>>,
    waker: RefCell<Option<Waker>>,
}

/// The callback's side of a [`Request`].
pub(crate) struct Done<R>(Rc<Cell<R>>);

impl<R> Done<R> {
    fn complete(self, r: R) {
        *self.0.result.borrow_mut() = Some(r);
        let w = self.0.waker.borrow_mut().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// A queued loop-fs request as a future of its result (module docs).
/// Dropping it before the result came cancels the request.
#[must_use = "dropping a Request cancels it"]
pub struct Request<R> {
    cell: Rc<Cell<R>>,
    id: Option<ReqId>,
    cancel: fn(&mut dyn AnyLoop, ReqId),
    finished: bool,
}

impl<R> Request<R> {
    /// The request's id (`None` when it could not be queued: the future
    /// then yields the error at once).
    pub fn id(&self) -> Option<ReqId> {
        self.id
    }
}

impl<R> std::fmt::Debug for Request<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<R> Future for Request<R> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let this = self.get_mut();
        if let Some(r) = this.cell.result.borrow_mut().take() {
            this.finished = true;
            return Poll::Ready(r);
        }
        assert!(
            !this.finished,
            "loop_fs::future::Request polled after it completed"
        );
        let mut w = this.cell.waker.borrow_mut();
        match &*w {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> Drop for Request<R> {
    fn drop(&mut self) {
        if self.finished || self.cell.result.borrow().is_some() {
            return;
        }
        if let Some(id) = self.id {
            let cancel = self.cancel;
            with_any_loop(|lp| cancel(lp, id));
        }
    }
}

fn cancel_on<D: 'static>(lp: &mut dyn AnyLoop, id: ReqId) {
    if let Some(lp) = lp.as_any_mut().downcast_mut::<Loop<D>>() {
        // Busy (a worker has it) or already done: it completes unobserved.
        let _ = work::cancel(lp, id);
    }
}

/// Queues a request with `submit`, which is given the loop and the
/// callback's [`Done`]; a submission error becomes the future's result
/// through `on_err`.
fn start<D: 'static, R>(
    lp: &mut Loop<D>,
    submit: impl FnOnce(&mut Loop<D>, Done<R>) -> Result<ReqId, Error>,
    on_err: impl FnOnce(Error) -> Result<R, Error>,
) -> Result<Request<R>, Error> {
    let cell = Rc::new(Cell {
        result: RefCell::new(None),
        waker: RefCell::new(None),
    });
    let mut req = Request {
        cell: Rc::clone(&cell),
        id: None,
        cancel: cancel_on::<D>,
        finished: false,
    };
    match submit(lp, Done(cell)) {
        Ok(id) => req.id = Some(id),
        Err(e) => *req.cell.result.borrow_mut() = Some(on_err(e)?),
    }
    Ok(req)
}

/// An fs request: a pool that cannot start is the future's `io::Error`.
fn fs_start<D: 'static, T>(
    lp: &mut Loop<D>,
    submit: impl FnOnce(&mut Loop<D>, Done<io::Result<T>>) -> Result<ReqId, Error>,
) -> Request<io::Result<T>> {
    match start(lp, submit, |e| Ok(Err(io::Error::from(e)))) {
        Ok(r) => r,
        Err(_) => unreachable!("on_err above never fails"),
    }
}

/// [`crate::queue_work`] as a future: `work` runs on the pool, the result
/// comes back to the task. Fails at once, as `queue_work`, when the pool
/// cannot start. Dropping the future while the work is still queued
/// cancels it: the work never runs.
pub fn queue_work<D, T, W>(
    lp: &mut Loop<D>,
    work: W,
) -> Result<Request<Result<T, WorkError>>, Error>
where
    D: 'static,
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
{
    start(
        lp,
        |lp, done| crate::queue_work(lp, work, move |_, _, r| done.complete(r)),
        Err,
    )
}

/// Wraps `loop_fs::fs` functions whose arguments need no generics.
macro_rules! fs_futures {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name<D: 'static>(lp: &mut Loop<D>, $($arg: $ty),*) -> Request<io::Result<$out>> {
            fs_start(lp, |lp, done| fs::$name(lp, $($arg,)* move |_, _, r| done.complete(r)))
        }
    )*};
}

fs_futures! {
    /// [`fs::open`] as a future.
    fn open(path: impl AsRef<Path>, flags: OpenFlags, mode: u32) -> Fd;
    /// [`fs::close`] as a future.
    fn close(fd: Fd) -> ();
    /// [`fs::read`] as a future: `buf` comes back truncated to the bytes read.
    fn read(fd: &Fd, buf: Vec<u8>, position: Option<u64>) -> Vec<u8>;
    /// [`fs::stat`] as a future.
    fn stat(path: impl AsRef<Path>) -> Metadata;
    /// [`fs::lstat`] as a future.
    fn lstat(path: impl AsRef<Path>) -> Metadata;
    /// [`fs::fstat`] as a future.
    fn fstat(fd: &Fd) -> Metadata;
    /// [`fs::fsync`] as a future.
    fn fsync(fd: &Fd) -> ();
    /// [`fs::fdatasync`] as a future.
    fn fdatasync(fd: &Fd) -> ();
    /// [`fs::ftruncate`] as a future.
    fn ftruncate(fd: &Fd, len: u64) -> ();
    /// [`fs::unlink`] as a future.
    fn unlink(path: impl AsRef<Path>) -> ();
    /// [`fs::mkdir`] as a future.
    fn mkdir(path: impl AsRef<Path>, mode: u32) -> ();
    /// [`fs::mkdir_all`] as a future.
    fn mkdir_all(path: impl AsRef<Path>, mode: u32) -> ();
    /// [`fs::rmdir`] as a future.
    fn rmdir(path: impl AsRef<Path>) -> ();
    /// [`fs::rename`] as a future.
    fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> ();
    /// [`fs::readdir`] as a future.
    fn readdir(path: impl AsRef<Path>) -> Vec<Dirent>;
    /// [`fs::readlink`] as a future.
    fn readlink(path: impl AsRef<Path>) -> PathBuf;
    /// [`fs::symlink`] as a future.
    fn symlink(target: impl AsRef<Path>, path: impl AsRef<Path>) -> ();
    /// [`fs::link`] as a future.
    fn link(existing: impl AsRef<Path>, new: impl AsRef<Path>) -> ();
    /// [`fs::chmod`] as a future.
    fn chmod(path: impl AsRef<Path>, mode: u32) -> ();
    /// [`fs::copy_file`] as a future.
    fn copy_file(src: impl AsRef<Path>, dest: impl AsRef<Path>, flags: CopyFlags) -> ();
    /// [`fs::mkdtemp`] as a future.
    fn mkdtemp(prefix: impl AsRef<Path>) -> PathBuf;
    /// [`fs::realpath`] as a future.
    fn realpath(path: impl AsRef<Path>) -> PathBuf;
    /// [`fs::access`] as a future.
    fn access(path: impl AsRef<Path>, mode: AccessMode) -> ();
    /// [`fs::read_file`] as a future (one pool request).
    fn read_file(path: impl AsRef<Path>) -> Vec<u8>;
}

/// [`fs::write`] as a future: the number of bytes written.
pub fn write<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    fd: &Fd,
    data: B,
    position: Option<u64>,
) -> Request<io::Result<usize>> {
    fs_start(lp, |lp, done| {
        fs::write(lp, fd, data, position, move |_, _, r| done.complete(r))
    })
}

/// [`fs::write_file`] as a future (one pool request).
pub fn write_file<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    data: B,
) -> Request<io::Result<()>> {
    fs_start(lp, |lp, done| {
        fs::write_file(lp, path, data, move |_, _, r| done.complete(r))
    })
}

/// [`fs::append_file`] as a future (one pool request).
pub fn append_file<D: 'static, B: AsRef<[u8]> + Send + 'static>(
    lp: &mut Loop<D>,
    path: impl AsRef<Path>,
    data: B,
) -> Request<io::Result<()>> {
    fs_start(lp, |lp, done| {
        fs::append_file(lp, path, data, move |_, _, r| done.complete(r))
    })
}
