//! `child_process.spawn`'s options, as a builder.
//!
//! Invariants:
//! - options only describe; nothing is opened before [`super::spawn`];
//! - the default `stdio` is Node's: `['pipe', 'pipe', 'pipe']`;
//! - an fd lent with [`StdioOption::Fd`] is borrowed for the options'
//!   lifetime, so it is open when `spawn` duplicates it.

use std::ffi::{OsStr, OsString};
use std::os::fd::BorrowedFd;
use std::path::PathBuf;

/// One entry of `stdio` (Node's `'pipe'`, `'ignore'`, `'inherit'`, an fd,
/// `'ipc'`).
#[derive(Debug, Clone, Copy)]
pub enum StdioOption<'a> {
    /// `'pipe'`: a socket pair; the parent's end is a loop-net
    /// [`Socket`](loop_net::Socket) (`child.stdin`, `child.stdout`,
    /// `child.stderr`, `child.stdio[i]`).
    Pipe,
    /// `'ignore'`: `/dev/null` for fds 0 to 2, nothing at 3 and up.
    Ignore,
    /// `'inherit'`: the parent's fd of the same number.
    Inherit,
    /// A number: a copy of this fd of the parent.
    Fd(BorrowedFd<'a>),
    /// `'ipc'`: Node's JSON channel at this fd (one per child), with
    /// `NODE_CHANNEL_FD` set in the child's environment.
    Ipc,
}

/// What [`super::spawn`] starts and how (Node's `options`).
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) argv0: Option<OsString>,
    pub(crate) stdio: Vec<StdioOption<'a>>,
    pub(crate) detached: bool,
    pub(crate) uid: Option<u32>,
    pub(crate) gid: Option<u32>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options::new()
    }
}

impl<'a> Options<'a> {
    /// Node's defaults: stdio `['pipe', 'pipe', 'pipe']`, the parent's
    /// environment and directory.
    pub fn new() -> Self {
        Options {
            cwd: None,
            env: None,
            argv0: None,
            stdio: vec![StdioOption::Pipe; 3],
            detached: false,
            uid: None,
            gid: None,
        }
    }

    /// `cwd`: the child's working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// `env`: the child's whole environment (these variables and no
    /// other).
    pub fn env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.env = Some(crate::options::env_vars(vars));
        self
    }

    /// `argv0`: the program's `argv[0]` (the file by default).
    pub fn argv0(mut self, argv0: impl AsRef<OsStr>) -> Self {
        self.argv0 = Some(argv0.as_ref().to_owned());
        self
    }

    /// `stdio`: the whole array (entries past 2 are the child's fds 3…).
    pub fn stdio(mut self, entries: impl IntoIterator<Item = StdioOption<'a>>) -> Self {
        self.stdio = entries.into_iter().collect();
        self
    }

    /// One `stdio` entry, at the child's fd `fd`; entries not set below it
    /// are `'ignore'`.
    pub fn stdio_at(mut self, fd: usize, what: StdioOption<'a>) -> Self {
        crate::options::put_at(&mut self.stdio, fd, what, || StdioOption::Ignore);
        self
    }

    /// `detached`: the child leads a new session (`setsid`).
    pub fn detached(mut self, on: bool) -> Self {
        self.detached = on;
        self
    }

    /// `uid`.
    pub fn uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    /// `gid`.
    pub fn gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }
}
