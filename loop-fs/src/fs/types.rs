//! The values file-system requests take and give: [`Fd`], [`OpenFlags`],
//! [`AccessMode`], [`CopyFlags`], [`Dir`], [`Dirent`].
//!
//! Invariants:
//! - an [`Fd`] always owns an open descriptor: it closes when its last
//!   clone goes (or by [`crate::fs::close`] on the last clone), never while a
//!   request in flight holds a clone;
//! - a [`Dir`]'s stream is `None` once closed, for every clone; reading or
//!   closing it again is `EBADF`, never a use of a closed descriptor;
//! - flag types are plain bit sets of the system's own values, passed to
//!   the system call unchanged.

use parking_lot::Mutex;
use std::ffi::OsString;
use std::fmt;
use std::fs::{File, FileType, ReadDir};
use std::io;
use std::ops::BitOr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// An open file, as [`crate::fs::open`] gives it: a cheap, clonable handle
/// that requests share with the pool.
///
/// The descriptor stays open while any clone lives, so a request in flight
/// never reads a descriptor that was closed (or reused) under it: that
/// libuv hazard cannot happen here. [`crate::fs::close`] closes it (and
/// reports the error of `close(2)`) when it holds the last clone; otherwise
/// the descriptor closes when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Fd(pub(crate) Arc<File>);

impl Fd {
    /// The file, to use with std directly (blocking the caller's thread).
    pub fn file(&self) -> &File {
        &self.0
    }

    /// The `File` back, if this is the last clone.
    pub fn try_into_file(self) -> Result<File, Fd> {
        Arc::try_unwrap(self.0).map_err(Fd)
    }
}

impl From<File> for Fd {
    fn from(f: File) -> Self {
        Fd(Arc::new(f))
    }
}

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl AsFd for Fd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Flags of [`crate::fs::open`]: `open(2)`'s `O_*` bits, or parsed from
/// Node.js's flag strings (`"r"`, `"w+"`, `"ax"`…).
///
/// ```
/// use loop_fs::fs::OpenFlags;
///
/// let w: OpenFlags = "w".parse().unwrap();
/// assert_eq!(w, OpenFlags::WRONLY | OpenFlags::CREAT | OpenFlags::TRUNC);
/// assert!("q".parse::<OpenFlags>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenFlags(i32);

impl OpenFlags {
    /// Read only (`O_RDONLY`, zero: the default access).
    pub const RDONLY: Self = Self(libc::O_RDONLY);
    /// Write only (`O_WRONLY`).
    pub const WRONLY: Self = Self(libc::O_WRONLY);
    /// Read and write (`O_RDWR`).
    pub const RDWR: Self = Self(libc::O_RDWR);
    /// Create the file if missing (`O_CREAT`), with the mode given to `open`.
    pub const CREAT: Self = Self(libc::O_CREAT);
    /// With `CREAT`: fail with `EEXIST` if the file exists (`O_EXCL`).
    pub const EXCL: Self = Self(libc::O_EXCL);
    /// Truncate to length 0 (`O_TRUNC`).
    pub const TRUNC: Self = Self(libc::O_TRUNC);
    /// Every write appends (`O_APPEND`).
    pub const APPEND: Self = Self(libc::O_APPEND);
    /// Synchronous writes, data and metadata (`O_SYNC`).
    pub const SYNC: Self = Self(libc::O_SYNC);
    /// Synchronous writes, data only (`O_DSYNC`).
    pub const DSYNC: Self = Self(libc::O_DSYNC);
    /// Fail if the path is a symbolic link (`O_NOFOLLOW`).
    pub const NOFOLLOW: Self = Self(libc::O_NOFOLLOW);
    /// Fail unless the path is a directory (`O_DIRECTORY`).
    pub const DIRECTORY: Self = Self(libc::O_DIRECTORY);
    /// Do not update the access time (`O_NOATIME`).
    pub const NOATIME: Self = Self(libc::O_NOATIME);
    /// Do not make a terminal the controlling one (`O_NOCTTY`).
    pub const NOCTTY: Self = Self(libc::O_NOCTTY);
    /// Non-blocking (`O_NONBLOCK`).
    pub const NONBLOCK: Self = Self(libc::O_NONBLOCK);

    /// Flags from raw `O_*` bits.
    pub const fn from_bits(bits: i32) -> Self {
        Self(bits)
    }

    /// The raw `O_*` bits.
    pub const fn bits(self) -> i32 {
        self.0
    }

    /// Whether every bit of `other` is set (`RDONLY`, being zero, is in all).
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Node.js's flag strings (`stringToFlags` in `lib/internal/fs/utils.js`).
    pub fn from_node(s: &str) -> Option<Self> {
        use libc::{O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY};
        Some(Self(match s {
            "r" => O_RDONLY,
            "rs" | "sr" => O_RDONLY | O_SYNC,
            "r+" => O_RDWR,
            "rs+" | "sr+" => O_RDWR | O_SYNC,
            "w" => O_TRUNC | O_CREAT | O_WRONLY,
            "wx" | "xw" => O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
            "w+" => O_TRUNC | O_CREAT | O_RDWR,
            "wx+" | "xw+" => O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
            "a" => O_APPEND | O_CREAT | O_WRONLY,
            "ax" | "xa" => O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
            "as" | "sa" => O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
            "a+" => O_APPEND | O_CREAT | O_RDWR,
            "ax+" | "xa+" => O_APPEND | O_CREAT | O_RDWR | O_EXCL,
            "as+" | "sa+" => O_APPEND | O_CREAT | O_RDWR | O_SYNC,
            _ => return None,
        }))
    }
}

impl BitOr for OpenFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl FromStr for OpenFlags {
    type Err = io::Error;
    fn from_str(s: &str) -> io::Result<Self> {
        Self::from_node(s).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid file open flags {s:?}"),
            )
        })
    }
}

impl fmt::Debug for OpenFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenFlags({:#o})", self.0)
    }
}

/// What [`crate::fs::access`] checks (`access(2)`'s mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessMode(i32);

impl AccessMode {
    /// The file exists (`F_OK`).
    pub const EXISTS: Self = Self(libc::F_OK);
    /// It is readable (`R_OK`).
    pub const READ: Self = Self(libc::R_OK);
    /// It is writable (`W_OK`).
    pub const WRITE: Self = Self(libc::W_OK);
    /// It is executable, or a searchable directory (`X_OK`).
    pub const EXECUTE: Self = Self(libc::X_OK);

    /// The raw mode bits.
    pub const fn bits(self) -> i32 {
        self.0
    }
}

impl BitOr for AccessMode {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Options of [`crate::fs::copy_file`] (libuv's `UV_FS_COPYFILE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CopyFlags(u8);

impl CopyFlags {
    /// Replace the destination if it exists (the default).
    pub const NONE: Self = Self(0);
    /// Fail with `EEXIST` if the destination exists (`COPYFILE_EXCL`).
    pub const EXCL: Self = Self(1);

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for CopyFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The type of a directory entry (libuv's `uv_dirent_type_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirentKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (not followed).
    Symlink,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// The system could not tell (the entry vanished meanwhile…).
    Unknown,
}

impl From<FileType> for DirentKind {
    fn from(t: FileType) -> Self {
        if t.is_file() {
            Self::File
        } else if t.is_dir() {
            Self::Dir
        } else if t.is_symlink() {
            Self::Symlink
        } else if t.is_fifo() {
            Self::Fifo
        } else if t.is_socket() {
            Self::Socket
        } else if t.is_char_device() {
            Self::CharDevice
        } else if t.is_block_device() {
            Self::BlockDevice
        } else {
            Self::Unknown
        }
    }
}

/// A directory entry (libuv's `uv_dirent_t`): its name (not its path) and
/// type. `.` and `..` are never listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dirent {
    /// The entry's name within its directory.
    pub name: OsString,
    /// What the entry is.
    pub kind: DirentKind,
}

impl Dirent {
    pub(crate) fn from_entry(e: &std::fs::DirEntry) -> Self {
        Dirent {
            name: e.file_name(),
            kind: e.file_type().map_or(DirentKind::Unknown, DirentKind::from),
        }
    }
}

pub(crate) struct DirInner {
    pub(crate) path: PathBuf,
    /// `None` once closed.
    pub(crate) stream: Mutex<Option<ReadDir>>,
}

/// An open directory stream, from [`crate::fs::opendir`] (libuv's `uv_dir_t`,
/// Node's `fs.Dir`): read it in batches with [`crate::fs::dir_read`], close
/// it with [`crate::fs::dir_close`]. Clones share the stream.
#[derive(Clone)]
pub struct Dir(pub(crate) Arc<DirInner>);

impl Dir {
    /// The path it was opened with.
    pub fn path(&self) -> &Path {
        &self.0.path
    }
}

impl fmt::Debug for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dir").field("path", &self.0.path).finish()
    }
}
