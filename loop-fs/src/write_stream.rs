//! [`WriteStream`]: an ordered writer to a file (Node's
//! `fs.createWriteStream`), on [`fs::open`], [`fs::write_buf`] and
//! [`fs::close`].
//!
//! Invariants:
//! - at most one write request is in flight per stream, so chunks reach
//!   the file in the order they were given, whatever the pool does; a
//!   short write is retried with the rest of the chunk before the next
//!   chunk starts;
//! - `queued` is the number of bytes given to `write` and not yet
//!   written (in flight included): `write` returns `false` once it
//!   reaches the high-water mark, and `on_drain` runs when it falls back
//!   to 0 after that, as Node's `'drain'`;
//! - after `end`, the queue is flushed, `on_finish` runs, then the file
//!   is closed and `on_close` runs; after an error, nothing more is
//!   written: `on_error`, then the file is closed and `on_close` runs;
//! - every user callback runs through [`Loop::make_callback`]; an error
//!   with no `on_error` reaches [`Loop::run`] through
//!   [`Loop::report_unhandled`], as Node throws an unhandled `'error'`.

use crate::error::with_path;
use crate::fs::{self, Fd, OpenFlags};
use loop_core::slots::{GenSlab, Key};
use loop_core::Loop;
use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

/// Node's default `highWaterMark` for a file write stream: 16 KiB.
pub const DEFAULT_WRITE_HIGH_WATER_MARK: usize = 16 * 1024;

/// Options of [`WriteStream::open`] (`fs.createWriteStream(path, options)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteStreamOptions {
    /// Append (`'a'`) instead of replacing the file (`'w'`, the default).
    pub append: bool,
    /// The mode of a created file (default `0o666`, less the umask).
    pub mode: u32,
    /// `write` returns `false` once this many bytes wait (default 16 KiB).
    pub high_water_mark: usize,
}

impl Default for WriteStreamOptions {
    fn default() -> Self {
        WriteStreamOptions {
            append: false,
            mode: 0o666,
            high_water_mark: DEFAULT_WRITE_HIGH_WATER_MARK,
        }
    }
}

/// An ordered writer to a file: a small `Copy` id. See the module
/// invariants for the order of events.
///
/// ```
/// use loop_core::{Loop, RunMode};
/// use loop_fs::{WriteStream, WriteStreamOptions};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("chat.log");
/// let mut lp: Loop<Vec<&str>> = Loop::new()?;
/// let log = WriteStream::open(&mut lp, &path, WriteStreamOptions { append: true, ..Default::default() });
/// for line in ["ada: hi\n", "bob: hello\n"] {
///     log.write(&mut lp, line); // in order, whatever the pool does
/// }
/// log.on_finish(&mut lp, |_, ev| ev.push("finish"));
/// log.on_close(&mut lp, |_, ev| ev.push("close"));
/// log.end(&mut lp);
/// let mut ev = Vec::new();
/// lp.run(RunMode::Default, &mut ev)?;
/// assert_eq!(ev, ["finish", "close"]);
/// assert_eq!(std::fs::read_to_string(&path)?, "ada: hi\nbob: hello\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WriteStream {
    index: u32,
    gen: u32,
}

impl WriteStream {
    /// The id's [`Key`] in its table.
    #[inline]
    fn key(self) -> Key {
        Key {
            index: self.index,
            gen: self.gen,
        }
    }
}

type Ev<D> = Box<dyn FnMut(&mut Loop<D>, &mut D)>;
type ErrEv<D> = Box<dyn FnMut(&mut Loop<D>, &mut D, io::Error)>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Opening,
    Open,
    /// `on_error` or `end` is done with: the file is being closed.
    Closing,
}

struct State<D> {
    phase: Phase,
    path: PathBuf,
    fd: Option<Fd>,
    /// Chunks not yet written; the front one may be in flight, `offset`
    /// bytes of it already written.
    chunks: VecDeque<Vec<u8>>,
    offset: usize,
    queued: usize,
    hwm: usize,
    in_flight: bool,
    need_drain: bool,
    ended: bool,
    finished: bool,
    bytes_written: u64,
    on_drain: Option<Ev<D>>,
    on_finish: Option<Ev<D>>,
    on_close: Option<Ev<D>>,
    on_error: Option<ErrEv<D>>,
}

struct Streams<D> {
    slab: GenSlab<State<D>>,
}

fn get<D: 'static>(lp: &mut Loop<D>, ws: WriteStream) -> Option<&mut State<D>> {
    lp.extension_mut::<Streams<D>>()?.slab.get_mut(ws.key())
}

fn get_ref<D: 'static>(lp: &Loop<D>, ws: WriteStream) -> Option<&State<D>> {
    lp.extension::<Streams<D>>()?.slab.get(ws.key())
}

/// Runs event `$field` through `make_callback` (taken out during the
/// call, put back unless replaced). `false` if it panicked.
macro_rules! emit {
    ($lp:expr, $d:expr, $ws:expr, $field:ident) => {{
        match get($lp, $ws).and_then(|st| st.$field.take()) {
            Some(mut f) => {
                let r =
                    $lp.make_callback($d, concat!("write_stream.", stringify!($field)), |lp, d| {
                        f(lp, d)
                    });
                if let Some(st) = get($lp, $ws) {
                    if st.$field.is_none() {
                        st.$field = Some(f);
                    }
                }
                r.is_some()
            }
            None => true,
        }
    }};
}

impl WriteStream {
    /// `fs.createWriteStream(path, options)`: opens `path` on the pool
    /// (writes given meanwhile wait for it). A failure to open goes to
    /// `on_error`, then `on_close`.
    pub fn open<D: 'static>(
        lp: &mut Loop<D>,
        path: impl AsRef<Path>,
        opts: WriteStreamOptions,
    ) -> WriteStream {
        let path = path.as_ref().to_path_buf();
        let streams = lp.extension_or_insert_with(|_| Streams::<D> {
            slab: GenSlab::new(),
        });
        let Key { index, gen } = streams.slab.insert(State {
            phase: Phase::Opening,
            path: path.clone(),
            fd: None,
            chunks: VecDeque::new(),
            offset: 0,
            queued: 0,
            hwm: opts.high_water_mark,
            in_flight: false,
            need_drain: false,
            ended: false,
            finished: false,
            bytes_written: 0,
            on_drain: None,
            on_finish: None,
            on_close: None,
            on_error: None,
        });
        let ws = WriteStream { index, gen };
        let mode = if opts.append {
            OpenFlags::APPEND
        } else {
            OpenFlags::TRUNC
        };
        let flags = OpenFlags::WRONLY | OpenFlags::CREAT | mode;
        let r = fs::open(lp, &path, flags, opts.mode, move |lp, d, r| match r {
            Ok(fd) => {
                if let Some(st) = get(lp, ws) {
                    st.fd = Some(fd);
                    st.phase = Phase::Open;
                }
                pump(lp, d, ws);
            }
            Err(e) => fail(lp, d, ws, e),
        });
        if let Err(e) = r {
            // The pool could not start: report it as the open's error.
            let e = io::Error::other(e);
            lp.next_tick(move |lp, d| fail(lp, d, ws, e));
        }
        ws
    }

    /// `ws.write(data)`: queues `data` after what was written before;
    /// `false` once the bytes waiting reach the high-water mark (wait for
    /// `on_drain`; the data is queued anyway, as in Node.js). After `end`
    /// or an error it writes nothing and returns `false`.
    pub fn write<D: 'static>(self, lp: &mut Loop<D>, data: impl Into<Vec<u8>>) -> bool {
        let Some(st) = get(lp, self) else {
            return false;
        };
        if st.ended || st.phase == Phase::Closing {
            return false;
        }
        let data = data.into();
        if data.is_empty() {
            return st.queued < st.hwm;
        }
        st.queued += data.len();
        st.chunks.push_back(data);
        let ok = st.queued < st.hwm;
        if !ok {
            st.need_drain = true;
        }
        if st.phase == Phase::Open && !st.in_flight {
            start_write(lp, self);
        }
        ok
    }

    /// `ws.end()`: once everything queued is written, `on_finish`, then
    /// the file is closed and `on_close` runs. Idempotent.
    pub fn end<D: 'static>(self, lp: &mut Loop<D>) {
        let Some(st) = get(lp, self) else { return };
        if st.ended {
            return;
        }
        st.ended = true;
        if st.phase == Phase::Open && !st.in_flight && st.chunks.is_empty() {
            // Nothing to wait for: finish from a tick, never from inside
            // the call (Node emits 'finish' asynchronously).
            lp.next_tick(move |lp, d| pump(lp, d, self));
        }
    }

    /// `'drain'`: the bytes waiting fell to 0 after a `write` returned
    /// `false`.
    pub fn on_drain<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_drain = Some(Box::new(f));
        }
    }

    /// `'finish'`: after `end`, everything was written.
    pub fn on_finish<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_finish = Some(Box::new(f));
        }
    }

    /// `'close'`: the file is closed (after `on_finish`, or after
    /// `on_error`); last of all.
    pub fn on_close<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_close = Some(Box::new(f));
        }
    }

    /// `'error'`: the open or a write failed (the error names the
    /// operation and path); nothing more is written. With no handler,
    /// [`Loop::run`] returns the error ([`loop_core::Error::Unhandled`]).
    pub fn on_error<D: 'static>(
        self,
        lp: &mut Loop<D>,
        f: impl FnMut(&mut Loop<D>, &mut D, io::Error) + 'static,
    ) {
        if let Some(st) = get(lp, self) {
            st.on_error = Some(Box::new(f));
        }
    }

    /// `ws.writableLength`: bytes given to `write` and not yet written.
    pub fn writable_length<D: 'static>(self, lp: &Loop<D>) -> usize {
        get_ref(lp, self).map_or(0, |st| st.queued)
    }

    /// `ws.bytesWritten`.
    pub fn bytes_written<D: 'static>(self, lp: &Loop<D>) -> u64 {
        get_ref(lp, self).map_or(0, |st| st.bytes_written)
    }

    /// `ws.writableFinished`: `on_finish` has run (or is running).
    pub fn is_finished<D: 'static>(self, lp: &Loop<D>) -> bool {
        get_ref(lp, self).is_some_and(|st| st.finished)
    }
}

/// Starts the write of the front chunk (from `offset`).
fn start_write<D: 'static>(lp: &mut Loop<D>, ws: WriteStream) {
    let Some(st) = get(lp, ws) else { return };
    let (Some(fd), Some(chunk)) = (st.fd.clone(), st.chunks.pop_front()) else {
        return;
    };
    st.in_flight = true;
    let offset = st.offset;
    // `write_buf` hands the chunk back, to retry a short write with it.
    let r = fs::write_buf(
        lp,
        &fd,
        Chunk(chunk, offset),
        None,
        move |lp, d, chunk, r| written(lp, d, ws, chunk.0, r),
    );
    if let Err(e) = r {
        let e = io::Error::other(e);
        lp.next_tick(move |lp, d| fail(lp, d, ws, e));
    }
}

/// A chunk and how much of it is written already: what the pool writes
/// is the rest.
struct Chunk(Vec<u8>, usize);

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.0[self.1..]
    }
}

/// A write completed: retry the rest of a short write, or go on.
fn written<D: 'static>(
    lp: &mut Loop<D>,
    d: &mut D,
    ws: WriteStream,
    chunk: Vec<u8>,
    r: io::Result<usize>,
) {
    let Some(st) = get(lp, ws) else { return };
    st.in_flight = false;
    let n = match r {
        Ok(n) => n,
        Err(e) => {
            let e = with_path(e, &st.path);
            fail(lp, d, ws, e);
            return;
        }
    };
    st.bytes_written += n as u64;
    st.queued -= n;
    st.offset += n;
    if st.offset < chunk.len() {
        if n == 0 {
            let e = io::Error::new(io::ErrorKind::WriteZero, "write returned 0 bytes");
            let e = with_path(e, &st.path);
            fail(lp, d, ws, e);
            return;
        }
        // A short write: the rest of this chunk goes first.
        st.chunks.push_front(chunk);
    } else {
        st.offset = 0;
    }
    pump(lp, d, ws);
}

/// The next step: write the next chunk, or `'drain'`, or finish.
fn pump<D: 'static>(lp: &mut Loop<D>, d: &mut D, ws: WriteStream) {
    let Some(st) = get(lp, ws) else { return };
    if st.phase != Phase::Open || st.in_flight {
        return;
    }
    if !st.chunks.is_empty() {
        start_write(lp, ws);
        return;
    }
    if st.need_drain {
        st.need_drain = false;
        if !emit!(lp, d, ws, on_drain) {
            return;
        }
        // The drain handler may have written (or ended) already.
        let Some(st) = get(lp, ws) else { return };
        if st.in_flight || !st.chunks.is_empty() || st.phase != Phase::Open {
            return;
        }
    }
    let Some(st) = get(lp, ws) else { return };
    if st.ended && !st.finished {
        st.finished = true;
        if !emit!(lp, d, ws, on_finish) {
            return;
        }
        close_file(lp, ws);
    }
}

/// An error: `'error'` (or an unhandled error), then the file closes.
fn fail<D: 'static>(lp: &mut Loop<D>, d: &mut D, ws: WriteStream, e: io::Error) {
    let Some(st) = get(lp, ws) else { return };
    if st.phase == Phase::Closing {
        return;
    }
    st.phase = Phase::Closing;
    st.chunks.clear();
    st.queued = 0;
    match st.on_error.take() {
        Some(mut f) => {
            if lp
                .make_callback(d, "write_stream.on_error", |lp, d| f(lp, d, e))
                .is_none()
            {
                return;
            }
        }
        None => lp.report_unhandled("write_stream.on_error", Box::new(e)),
    }
    close_file(lp, ws);
}

/// Closes the file (if it was opened), then `'close'`; the state goes.
fn close_file<D: 'static>(lp: &mut Loop<D>, ws: WriteStream) {
    let Some(st) = get(lp, ws) else { return };
    st.phase = Phase::Closing;
    let done = move |lp: &mut Loop<D>, d: &mut D| {
        let Some(streams) = lp.extension_mut::<Streams<D>>() else {
            return;
        };
        let Some(mut st) = streams.slab.remove(ws.key()) else {
            return;
        };
        if let Some(mut f) = st.on_close.take() {
            lp.make_callback(d, "write_stream.on_close", |lp, d| f(lp, d));
        }
    };
    match st.fd.take() {
        Some(fd) => {
            let r = fs::close(lp, fd, move |lp, d, r| {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "write stream: close failed");
                }
                done(lp, d);
            });
            if r.is_err() {
                lp.next_tick(done);
            }
        }
        None => lp.next_tick(done),
    }
}
