//! The natives behind `require('fs')`: each callback operation is one
//! loop-fs request (`loop_fs::fs`), whose completion runs in the poll
//! phase exactly where Node's does, entering JavaScript with the request's
//! id and `[error, value]`; each `*Sync` one is loop-fs's blocking call.
//!
//! # Invariants
//!
//! - Bytes cross into Rust as latin1 strings (one char per byte) and come
//!   back as `ArrayBuffer`s: no engine memory is borrowed from Rust.
//! - A file descriptor JavaScript sees is the raw fd of a loop-fs [`Fd`]
//!   kept in `Shared::fds` until `close`; loop-fs closes the descriptor
//!   only once no request in flight uses it.
//! - Errors reach JavaScript as plain descriptions (`message`, `code`,
//!   `errno` negative as in Node, `syscall`, `path`, `dest`), turned into
//!   Error objects by the JS side.

use crate::host::{kind, Host, Shared, LP};
use loop_core::Loop;
use loop_fs::fs::{self as lfs, blocking, Dirent, DirentKind, Fd, OpenFlags};
use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object, Result, Value};
use std::fs::Metadata;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::rc::Rc;

/// What a request produced, before it becomes a JS value.
pub(crate) enum Out {
    Unit,
    Stat(Metadata),
    Bytes(Vec<u8>),
    Dir(Vec<Dirent>),
    Num(f64),
    Fd(Fd),
    /// A path, or none (recursive `mkdir`'s first directory created).
    Path(Option<String>),
}

impl From<()> for Out {
    fn from((): ()) -> Self {
        Out::Unit
    }
}
impl From<Metadata> for Out {
    fn from(m: Metadata) -> Self {
        Out::Stat(m)
    }
}
impl From<Vec<u8>> for Out {
    fn from(b: Vec<u8>) -> Self {
        Out::Bytes(b)
    }
}
impl From<Vec<Dirent>> for Out {
    fn from(d: Vec<Dirent>) -> Self {
        Out::Dir(d)
    }
}
impl From<usize> for Out {
    fn from(n: usize) -> Self {
        Out::Num(n as f64)
    }
}
impl From<Fd> for Out {
    fn from(fd: Fd) -> Self {
        Out::Fd(fd)
    }
}

impl From<Option<String>> for Out {
    fn from(p: Option<String>) -> Self {
        Out::Path(p)
    }
}

/// Node's recursive `mkdir`: creates what is missing and returns the
/// first directory it created (none if all were there), looked up just
/// before the creation as Node's `MKDirp` walks up.
fn mkdirp(path: &str, mode: u32) -> io::Result<Option<String>> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.into());
    let mut first = None;
    let mut p = abs.as_path();
    while std::fs::symlink_metadata(p).is_err() {
        first = Some(p.display().to_string());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    blocking::mkdir_all(path, mode)?;
    Ok(first)
}

/// [`mkdirp`] on the pool, completing request `id` in the poll phase.
fn mkdir_recursive(
    lp: &mut Loop<Host>,
    path: String,
    mode: u32,
    id: u32,
) -> std::result::Result<loop_fs::ReqId, loop_fs::Error> {
    let finish = done::<Option<String>>(id);
    loop_fs::queue_work(
        lp,
        move || mkdirp(&path, mode),
        move |lp, h, r| {
            let r = r.unwrap_or_else(|e| Err(io::Error::other(format!("mkdir: {e}"))));
            finish(lp, h, r)
        },
    )
}

/// Bytes from a latin1 string (the JS side's encoding of a buffer).
pub(crate) fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

fn dirent_kind(k: &DirentKind) -> i32 {
    match k {
        DirentKind::File => 1,
        DirentKind::Dir => 2,
        DirentKind::Symlink => 3,
        DirentKind::Fifo => 4,
        DirentKind::Socket => 5,
        DirentKind::CharDevice => 6,
        _ => 7,
    }
}

fn out_to_js<'js>(ctx: &Ctx<'js>, shared: &Shared, out: Out) -> Result<Value<'js>> {
    Ok(match out {
        Out::Unit | Out::Path(None) => Value::new_undefined(ctx.clone()),
        Out::Path(Some(p)) => rquickjs::String::from_str(ctx.clone(), &p)?.into_value(),
        Out::Num(n) => Value::new_number(ctx.clone(), n),
        Out::Bytes(b) => ArrayBuffer::new(ctx.clone(), b)?.into_value(),
        Out::Fd(fd) => {
            let raw = fd.as_raw_fd();
            shared.fds.borrow_mut().insert(raw, fd);
            Value::new_int(ctx.clone(), raw)
        }
        Out::Dir(list) => {
            let arr = rquickjs::Array::new(ctx.clone())?;
            for (i, d) in list.iter().enumerate() {
                let e = rquickjs::Array::new(ctx.clone())?;
                e.set(0, d.name.to_string_lossy().into_owned())?;
                e.set(1, dirent_kind(&d.kind))?;
                arr.set(i, e)?;
            }
            arr.into_value()
        }
        Out::Stat(m) => {
            let ms = |s: i64, ns: i64| s as f64 * 1000.0 + ns as f64 / 1e6;
            let vals = [
                m.dev() as f64,
                m.mode() as f64,
                m.nlink() as f64,
                m.uid() as f64,
                m.gid() as f64,
                m.rdev() as f64,
                m.blksize() as f64,
                m.ino() as f64,
                m.size() as f64,
                m.blocks() as f64,
                ms(m.atime(), m.atime_nsec()),
                ms(m.mtime(), m.mtime_nsec()),
                ms(m.ctime(), m.ctime_nsec()),
                m.created()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(ms(m.ctime(), m.ctime_nsec()), |d| d.as_secs_f64() * 1000.0),
            ];
            let arr = rquickjs::Array::new(ctx.clone())?;
            for (i, v) in vals.iter().enumerate() {
                arr.set(i, *v)?;
            }
            arr.into_value()
        }
    })
}

/// An I/O error as the JS side's description of a Node `SystemError`.
fn err_to_js<'js>(ctx: &Ctx<'js>, e: &io::Error) -> Result<Value<'js>> {
    let o = Object::new(ctx.clone())?;
    o.set("message", e.to_string())?;
    if let Some(se) = loop_fs::sys_error(e) {
        o.set("code", se.code())?;
        if let Some(n) = se.errno() {
            o.set("errno", -n)?;
        }
        o.set("syscall", se.syscall())?;
        if let Some(p) = se.path() {
            o.set("path", p.display().to_string())?;
        }
        if let Some(p) = se.dest() {
            o.set("dest", p.display().to_string())?;
        }
    } else if let Some(n) = e.raw_os_error() {
        o.set("code", loop_core::errno::name(n))?;
        o.set("errno", -n)?;
    }
    Ok(o.into_value())
}

/// The completion of request `id`: enters JavaScript with `[err, value]`.
fn done<T: Into<Out> + 'static>(id: u32) -> impl FnOnce(&mut Loop<Host>, &mut Host, io::Result<T>) {
    move |lp, h, r| {
        let r = r.map(Into::into);
        h.enter_value(lp, kind::FS, id, move |ctx, shared| {
            let pair = rquickjs::Array::new(ctx.clone())?;
            match r {
                Ok(v) => {
                    pair.set(0, Value::new_null(ctx.clone()))?;
                    pair.set(1, out_to_js(ctx, shared, v)?)?;
                }
                Err(e) => pair.set(0, err_to_js(ctx, &e)?)?,
            }
            Ok(pair.into_value())
        });
    }
}

fn queued(ctx: &Ctx<'_>, r: std::result::Result<loop_fs::ReqId, loop_fs::Error>) -> Result<()> {
    r.map(|_| ())
        .map_err(|e| Exception::throw_internal(ctx, &format!("fs: {e}")))
}

/// Runs `f` with the loop (fs requests are made from JavaScript only).
fn with_loop<'js>(
    ctx: &Ctx<'js>,
    f: impl FnOnce(&mut Loop<Host>) -> std::result::Result<loop_fs::ReqId, loop_fs::Error>,
) -> Result<()> {
    if !LP.is_set() {
        return Err(Exception::throw_internal(
            ctx,
            "loop-js: no loop to queue on",
        ));
    }
    queued(ctx, LP.with(f))
}

/// A synchronous result, or its error thrown as the JS side's description.
fn sync<'js, T: Into<Out>>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    r: io::Result<T>,
) -> Result<Value<'js>> {
    match r {
        Ok(v) => out_to_js(ctx, shared, v.into()),
        Err(e) => {
            let d = err_to_js(ctx, &e)?;
            let marked = Object::new(ctx.clone())?;
            marked.set("__fsError", d)?;
            Err(ctx.throw(marked.into_value()))
        }
    }
}

fn fd_of(ctx: &Ctx<'_>, shared: &Shared, fd: i32, syscall: &str) -> Result<Fd> {
    if let Some(f) = shared.fds.borrow().get(&fd).cloned() {
        return Ok(f);
    }
    let d = Object::new(ctx.clone())?;
    d.set("message", format!("EBADF: bad file descriptor, {syscall}"))?;
    d.set("code", "EBADF")?;
    d.set("errno", -9)?;
    d.set("syscall", syscall)?;
    let marked = Object::new(ctx.clone())?;
    marked.set("__fsError", d)?;
    Err(ctx.throw(marked.into_value()))
}

fn set<'js, P>(
    ctx: &Ctx<'js>,
    o: &Object<'js>,
    name: &str,
    f: impl rquickjs::function::IntoJsFunc<'js, P> + 'js,
) -> Result<()> {
    o.set(name, Function::new(ctx.clone(), f)?.with_name(name)?)
}

fn flags(ctx: &Ctx<'_>, bits: i32) -> Result<OpenFlags> {
    if bits < 0 {
        return Err(Exception::throw_type(ctx, "bad open flags"));
    }
    Ok(OpenFlags::from_bits(bits))
}

fn position(p: f64) -> Option<u64> {
    (p >= 0.0).then_some(p as u64)
}

/// Adds the fs natives to `o`.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, o: &Object<'js>, shared: Rc<Shared>) -> Result<()> {
    set(
        ctx,
        o,
        "fsStat",
        |ctx: Ctx<'js>, id: u32, path: String, l: bool| {
            with_loop(&ctx, |lp| {
                if l {
                    lfs::lstat(lp, path, done::<Metadata>(id))
                } else {
                    lfs::stat(lp, path, done::<Metadata>(id))
                }
            })
        },
    )?;
    let sh = shared.clone();
    set(ctx, o, "fsFstat", move |ctx: Ctx<'js>, id: u32, fd: i32| {
        let f = fd_of(&ctx, &sh, fd, "fstat")?;
        with_loop(&ctx, |lp| lfs::fstat(lp, &f, done::<Metadata>(id)))
    })?;
    set(
        ctx,
        o,
        "fsReadFile",
        |ctx: Ctx<'js>, id: u32, path: String| {
            with_loop(&ctx, |lp| lfs::read_file(lp, path, done::<Vec<u8>>(id)))
        },
    )?;
    set(
        ctx,
        o,
        "fsWriteFile",
        |ctx: Ctx<'js>, id: u32, path: String, data: String, append: bool| {
            let bytes = latin1(&data);
            with_loop(&ctx, |lp| {
                if append {
                    lfs::append_file(lp, path, bytes, done::<()>(id))
                } else {
                    lfs::write_file(lp, path, bytes, done::<()>(id))
                }
            })
        },
    )?;
    set(
        ctx,
        o,
        "fsUnlink",
        |ctx: Ctx<'js>, id: u32, path: String| {
            with_loop(&ctx, |lp| lfs::unlink(lp, path, done::<()>(id)))
        },
    )?;
    set(ctx, o, "fsRmdir", |ctx: Ctx<'js>, id: u32, path: String| {
        with_loop(&ctx, |lp| lfs::rmdir(lp, path, done::<()>(id)))
    })?;
    set(
        ctx,
        o,
        "fsMkdir",
        |ctx: Ctx<'js>, id: u32, path: String, mode: u32, recursive: bool| {
            with_loop(&ctx, |lp| {
                if recursive {
                    mkdir_recursive(lp, path, mode, id)
                } else {
                    lfs::mkdir(lp, path, mode, done::<()>(id))
                }
            })
        },
    )?;
    set(
        ctx,
        o,
        "fsReaddir",
        |ctx: Ctx<'js>, id: u32, path: String| {
            with_loop(&ctx, |lp| lfs::readdir(lp, path, done::<Vec<Dirent>>(id)))
        },
    )?;
    set(
        ctx,
        o,
        "fsRename",
        |ctx: Ctx<'js>, id: u32, from: String, to: String| {
            with_loop(&ctx, |lp| lfs::rename(lp, from, to, done::<()>(id)))
        },
    )?;
    set(
        ctx,
        o,
        "fsOpen",
        |ctx: Ctx<'js>, id: u32, path: String, bits: i32, mode: u32| {
            let fl = flags(&ctx, bits)?;
            with_loop(&ctx, |lp| lfs::open(lp, path, fl, mode, done::<Fd>(id)))
        },
    )?;
    let sh = shared.clone();
    set(ctx, o, "fsClose", move |ctx: Ctx<'js>, id: u32, fd: i32| {
        let f = fd_of(&ctx, &sh, fd, "close")?;
        sh.fds.borrow_mut().remove(&fd);
        with_loop(&ctx, |lp| lfs::close(lp, f, done::<()>(id)))
    })?;
    let sh = shared.clone();
    set(
        ctx,
        o,
        "fsRead",
        move |ctx: Ctx<'js>, id: u32, fd: i32, len: usize, pos: f64| {
            let f = fd_of(&ctx, &sh, fd, "read")?;
            with_loop(&ctx, |lp| {
                lfs::read(lp, &f, vec![0; len], position(pos), done::<Vec<u8>>(id))
            })
        },
    )?;
    let sh = shared.clone();
    set(
        ctx,
        o,
        "fsWrite",
        move |ctx: Ctx<'js>, id: u32, fd: i32, data: String, pos: f64| {
            let f = fd_of(&ctx, &sh, fd, "write")?;
            let bytes = latin1(&data);
            with_loop(&ctx, |lp| {
                lfs::write(lp, &f, bytes, position(pos), done::<usize>(id))
            })
        },
    )?;

    set(ctx, o, "fsFlags", |s: String| {
        OpenFlags::from_node(&s).map_or(-1, OpenFlags::bits)
    })?;

    // The synchronous calls: loop-fs's blocking operations, on this thread.
    let sh = shared.clone();
    set(
        ctx,
        o,
        "fsSync",
        move |ctx: Ctx<'js>,
              op: String,
              a: Value<'js>,
              b: Value<'js>,
              c: Value<'js>|
              -> Result<Value<'js>> {
            let s = |v: &Value<'js>| -> String {
                v.as_string()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_default()
            };
            let n = |v: &Value<'js>| v.as_number().unwrap_or(0.0);
            let yes = |v: &Value<'js>| v.as_bool().unwrap_or(false);
            match op.as_str() {
                "stat" => sync(&ctx, &sh, blocking::stat(s(&a))),
                "lstat" => sync(&ctx, &sh, blocking::lstat(s(&a))),
                "readFile" => sync(&ctx, &sh, blocking::read_file(s(&a))),
                "writeFile" if yes(&c) => {
                    sync(&ctx, &sh, blocking::append_file(s(&a), latin1(&s(&b))))
                }
                "writeFile" => sync(&ctx, &sh, blocking::write_file(s(&a), latin1(&s(&b)))),
                "unlink" => sync(&ctx, &sh, blocking::unlink(s(&a))),
                "rmdir" => sync(&ctx, &sh, blocking::rmdir(s(&a))),
                "mkdir" if yes(&c) => sync(&ctx, &sh, mkdirp(&s(&a), n(&b) as u32)),
                "mkdir" => sync(&ctx, &sh, blocking::mkdir(s(&a), n(&b) as u32)),
                "readdir" => sync(&ctx, &sh, blocking::readdir(s(&a))),
                "rename" => sync(&ctx, &sh, blocking::rename(s(&a), s(&b))),
                other => Err(Exception::throw_internal(
                    &ctx,
                    &format!("fs: no sync op {other}"),
                )),
            }
        },
    )?;
    Ok(())
}
