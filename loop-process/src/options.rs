//! What to spawn: libuv's `uv_process_options_t`, as a builder.
//!
//! Invariants:
//! - options only describe; nothing is opened before [`crate::spawn`];
//! - the child always gets fds 0, 1 and 2: an entry not given is
//!   [`Stdio::Ignore`], which is `/dev/null` there (libuv's rule);
//! - an fd lent with [`Stdio::Fd`] is borrowed for the options' lifetime,
//!   so it is open when `spawn` duplicates it.

use std::ffi::{OsStr, OsString};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

/// What the child gets as one of its fds (libuv's `uv_stdio_flags`).
#[derive(Debug)]
pub enum Stdio<'a> {
    /// Nothing: `/dev/null` for fds 0 to 2 (read-only for 0), and no fd at
    /// all at 3 and above (`UV_IGNORE`).
    Ignore,
    /// A new Unix-domain socket pair (`UV_CREATE_PIPE`): the child's end is
    /// placed at this fd, blocking; the parent's end, non-blocking and
    /// close-on-exec, is handed back in [`crate::Spawned::stdio`].
    Pipe,
    /// The parent's fd of the same number (`UV_INHERIT_FD` with `fd = i`).
    Inherit,
    /// A copy of this fd of the parent (`UV_INHERIT_FD`,
    /// `UV_INHERIT_STREAM`).
    Fd(BorrowedFd<'a>),
}

/// What [`crate::spawn`] starts and how.
#[derive(Debug)]
pub struct SpawnOptions<'a> {
    pub(crate) file: OsString,
    pub(crate) argv0: Option<OsString>,
    pub(crate) args: Vec<OsString>,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) stdio: Vec<Stdio<'a>>,
    pub(crate) detached: bool,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
}

impl<'a> SpawnOptions<'a> {
    /// Runs `file`: a path, or a name looked up in `PATH` (the child's
    /// `PATH` when [`SpawnOptions::env`] sets one), as `execvp` does.
    pub fn new(file: impl AsRef<OsStr>) -> Self {
        SpawnOptions {
            file: file.as_ref().to_owned(),
            argv0: None,
            args: Vec::new(),
            env: None,
            cwd: None,
            stdio: Vec::new(),
            detached: false,
            uid: None,
            gid: None,
        }
    }

    /// The program's `argv[0]` (`file` by default).
    pub fn argv0(mut self, argv0: impl AsRef<OsStr>) -> Self {
        self.argv0 = Some(argv0.as_ref().to_owned());
        self
    }

    /// Appends one argument (after `argv[0]`).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends arguments (after `argv[0]`).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The child's whole environment: these variables and no other. Without
    /// it, the child inherits the parent's.
    pub fn env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.env = Some(env_vars(vars));
        self
    }

    /// The child's working directory (the parent's by default).
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// What the child gets as fd `fd` (libuv's `stdio[fd]`); entries not
    /// set below the highest one set are [`Stdio::Ignore`].
    pub fn stdio(mut self, fd: usize, what: Stdio<'a>) -> Self {
        put_at(&mut self.stdio, fd, what, || Stdio::Ignore);
        self
    }

    /// A Node.js IPC channel at the child's fd `fd` (Node's `'ipc'` stdio
    /// entry): a [`Stdio::Pipe`] there, and `NODE_CHANNEL_FD=fd` and
    /// `NODE_CHANNEL_SERIALIZATION_MODE=json` added to the child's
    /// environment (the parent's, unless [`SpawnOptions::env`] set one;
    /// call `env` first). Open the parent's end with
    /// [`crate::Spawned::take_channel`].
    pub fn node_ipc(mut self, fd: usize) -> Self {
        let mut env = self
            .env
            .take()
            .unwrap_or_else(|| std::env::vars_os().collect());
        env.retain(|(k, _)| k != "NODE_CHANNEL_FD" && k != "NODE_CHANNEL_SERIALIZATION_MODE");
        env.push(("NODE_CHANNEL_FD".into(), fd.to_string().into()));
        env.push(("NODE_CHANNEL_SERIALIZATION_MODE".into(), "json".into()));
        self.env = Some(env);
        self.stdio(fd, Stdio::Pipe)
    }

    /// Runs the child in a new session (`setsid`, libuv's
    /// `UV_PROCESS_DETACHED`): it keeps running when our process group is
    /// signalled. Combine with [`crate::Process::unref`] to let the loop
    /// end without waiting for it.
    pub fn detached(mut self, on: bool) -> Self {
        self.detached = on;
        self
    }

    /// The child's user id (`UV_PROCESS_SETUID`).
    pub fn uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// The child's group id (`UV_PROCESS_SETGID`).
    pub fn gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }
}

/// An environment given as pairs, owned (both builders' `env`).
pub(crate) fn env_vars<I, K, V>(vars: I) -> Vec<(OsString, OsString)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    vars.into_iter()
        .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
        .collect()
}

/// Sets `stdio[fd]`, filling the entries below it that were not set with
/// `fill()` (both builders' per-fd setter).
pub(crate) fn put_at<T>(stdio: &mut Vec<T>, fd: usize, what: T, fill: impl Fn() -> T) {
    while stdio.len() < fd {
        stdio.push(fill());
    }
    if fd < stdio.len() {
        stdio[fd] = what;
    } else {
        stdio.push(what);
    }
}
