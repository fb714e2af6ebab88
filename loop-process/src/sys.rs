//! The system calls std does not offer, straight to libc: the crate's only
//! `unsafe`, the child's set-up between `fork` and `exec` included.
//!
//! Invariants:
//! - every function here is safe to call with any argument: a raw fd or pid
//!   given is only passed to the kernel, which answers `EBADF`/`ESRCH` for
//!   one that is not open or not ours; pointers handed to libc come from
//!   live Rust values that outlive the call;
//! - every fd this module returns is close-on-exec (pidfds are, by the
//!   kernel's rule; duplicates are made with `F_DUPFD_CLOEXEC`);
//! - a failing call returns its errno untouched, as an `io::Error`; the
//!   caller names the operation, file and pid;
//! - `EINTR` is retried where the call can be restarted;
//! - the child set-up ([`install_child_setup`]) runs between `fork` and
//!   `exec` in a copy of a multi-threaded process: it only makes
//!   async-signal-safe system calls, never allocates, never takes a lock.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Retries `f` while it fails with `EINTR`; `f` returns -1 on error.
fn retry<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        let r = f();
        if r != T::from(-1) {
            return Ok(r);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `pidfd_open(2)` (Linux ≥ 5.3): an fd that becomes readable when the
/// child `pid` exits. Close-on-exec by the kernel's rule.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and touches no memory of ours;
    // a bad pid is an error (ESRCH/EINVAL), not undefined behaviour.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0 as libc::c_uint) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new fd, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// `pidfd_send_signal(2)`: signals the process behind `pidfd`, which cannot
/// have been replaced by another with a recycled pid.
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: a null siginfo is allowed (the kernel fills it as kill(2)
    // would); the fd is open for the length of the borrow.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0 as libc::c_uint,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(2)` of one process. The caller checked `pid` is in 1..=i32::MAX
/// (0 and negative values address process groups).
pub(crate) fn kill(pid: u32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes two integers and touches no memory.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// How a child ended, as libuv reports it: the exit code (0 when killed by
/// a signal) and the terminating signal (0 when it exited).
fn decode(status: libc::c_int) -> (i64, i32) {
    if libc::WIFEXITED(status) {
        (i64::from(libc::WEXITSTATUS(status)), 0)
    } else if libc::WIFSIGNALED(status) {
        (0, libc::WTERMSIG(status))
    } else {
        (0, 0)
    }
}

fn waitpid(pid: u32, flags: libc::c_int) -> io::Result<Option<(i64, i32)>> {
    let mut status: libc::c_int = 0;
    let r = retry(|| {
        // SAFETY: `status` is a live, writable c_int for the whole call.
        unsafe { libc::waitpid(pid as libc::pid_t, &mut status, flags) }
    })?;
    Ok((r != 0).then(|| decode(status)))
}

/// `waitpid(pid, WNOHANG)`: the child's exit status if it has exited (it is
/// reaped then), `None` while it runs. Never waits for any other child.
pub(crate) fn try_wait(pid: u32) -> io::Result<Option<(i64, i32)>> {
    waitpid(pid, libc::WNOHANG)
}

/// `waitpid(pid, 0)`: blocks until the child exits and reaps it.
pub(crate) fn wait_blocking(pid: u32) -> io::Result<(i64, i32)> {
    Ok(waitpid(pid, 0)?.unwrap_or((0, 0)))
}

/// `fcntl(F_DUPFD_CLOEXEC, min)`: a close-on-exec copy of the raw fd `fd`
/// numbered `min` or above. `fd` need not be ours: the kernel answers
/// `EBADF` for one that is not open, and the copy is a new, owned fd.
pub(crate) fn dup_above(fd: RawFd, min: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl with F_DUPFD_CLOEXEC takes two integers and touches no
    // memory; it only reads the fd table.
    let r = retry(|| unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })?;
    // SAFETY: the kernel returned a new fd, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// The kernel's `sizeof(sigset_t)` (`_NSIG / 8`), which `rt_sigaction`
/// checks: 128 signals on MIPS, 64 elsewhere.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const KERNEL_SIGSET_BYTES: usize = 16;
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
const KERNEL_SIGSET_BYTES: usize = 8;

/// What the child does between `fork` and `exec`, beyond what std's
/// `Command` does itself (fds 0 to 2, uid/gid, cwd, the error pipe, the
/// `exec`).
#[derive(Debug, Default)]
pub(crate) struct ChildPlan {
    /// `(source, target)`: `dup2(source, target)` for each target ≥ 3. Every
    /// source is numbered at or above `count`, so no move overwrites a
    /// source still to be moved.
    pub(crate) moves: Vec<(RawFd, RawFd)>,
    /// Targets in 3..count the child gets nothing on: marked close-on-exec,
    /// so whatever fd the parent had there does not reach the program.
    pub(crate) ignored: Vec<RawFd>,
    /// How many fds the child is given (at least 3): every fd numbered this
    /// or above is marked close-on-exec.
    pub(crate) count: RawFd,
    /// Start a new session (`setsid`): the child leaves our process group
    /// and terminal, as libuv's `UV_PROCESS_DETACHED`.
    pub(crate) detached: bool,
}

/// Installs `plan` as the command's `pre_exec` step. std runs it in the
/// child after placing fds 0 to 2, setting uid/gid and the working
/// directory, and before `exec`; an error it returns travels through std's
/// close-on-exec error pipe and `spawn` returns it, the child reaped.
pub(crate) fn install_child_setup(cmd: &mut Command, plan: ChildPlan) {
    let setup = move || -> io::Result<()> {
        if plan.detached {
            // SAFETY: setsid takes no argument.
            if unsafe { libc::setsid() } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        for &(src, dst) in &plan.moves {
            // SAFETY: dup2 takes two integers; it clears close-on-exec on
            // `dst`, which is what the program must inherit.
            retry(|| unsafe { libc::dup2(src, dst) })?;
        }
        for &fd in &plan.ignored {
            // SAFETY: integers only; EBADF (nothing open there) is fine.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        for fd in 0..3 {
            // libuv clears O_NONBLOCK on the child's stdio: most programs
            // do not expect EAGAIN from a read of stdin.
            // SAFETY: integers only.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            if flags >= 0 && flags & libc::O_NONBLOCK != 0 {
                // SAFETY: integers only.
                unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) };
            }
        }
        // Every fd of ours is close-on-exec already; this also covers one a
        // library of the embedder opened without the flag (Linux ≥ 5.11;
        // older kernels say ENOSYS or EINVAL, and CLOEXEC alone holds).
        // SAFETY: integers only; close_range marks, it closes nothing.
        unsafe {
            libc::syscall(
                libc::SYS_close_range,
                plan.count as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        // Dispositions back to default: an ignored signal would stay
        // ignored across exec.
        for sig in 1..32 {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            // SAFETY: `act` is a zeroed sigaction (SIG_DFL, empty mask, no
            // flags), live for the call; the old action is not asked for.
            let r = unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &act, std::ptr::null_mut())
            };
            if r < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // The real-time signals too (libuv stops at 31: glibc keeps 32 and
        // 33 for itself, and its sigaction refuses them). About to exec,
        // nothing of glibc's needs them any more; the raw system call
        // takes them all. Best effort: a kernel that refuses one has no
        // such signal.
        let zeroed = [0u64; 8];
        for sig in 32..=64 {
            // SAFETY: `zeroed` is a live buffer at least as long as any
            // architecture's kernel `struct sigaction`, all zero: SIG_DFL,
            // no flags, no restorer, an empty mask; no old action is asked
            // for; the last argument is the kernel's sigset size.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    zeroed.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    KERNEL_SIGSET_BYTES,
                )
            };
        }
        // SAFETY: `set` is a live sigset_t, emptied before use.
        let r = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(())
    };
    // SAFETY: the closure runs in the forked child, where only
    // async-signal-safe calls are allowed: it makes only setsid, dup2,
    // fcntl, close_range, (rt_)sigaction and pthread_sigmask calls, iterates
    // vectors built before the fork, and allocates nothing (an `io::Error`
    // from an errno is not allocated).
    unsafe {
        cmd.pre_exec(setup);
    }
}

// ----- IPC: fds over a Unix-domain socket (safe, through rustix) -----

/// How many fds one `recvmsg` makes room for. More in one message (which
/// this crate never sends) would be cut (`MSG_CTRUNC`) and closed by the
/// kernel.
const MAX_FDS_PER_READ: usize = 16;

/// One `sendmsg(MSG_NOSIGNAL)` of `data`, with `fd` in an `SCM_RIGHTS`
/// message if given (it is sent with the first byte the kernel takes).
pub(crate) fn send_with_fd(
    sock: &std::os::unix::net::UnixStream,
    data: &[u8],
    fd: Option<&OwnedFd>,
) -> io::Result<usize> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    let iov = [io::IoSlice::new(data)];
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds;
    if let Some(fd) = fd {
        use std::os::fd::AsFd;
        fds = [fd.as_fd()];
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
        }
    }
    Ok(rustix::net::sendmsg(
        sock,
        &iov,
        &mut control,
        SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
    )?)
}

/// One `recvmsg(MSG_CMSG_CLOEXEC)` into `buf`; each fd received is given
/// to `on_fd` (close-on-exec) before the byte count is returned.
pub(crate) fn recv_with_fds(
    sock: &std::os::unix::net::UnixStream,
    buf: &mut [u8],
    on_fd: &mut dyn FnMut(OwnedFd),
) -> io::Result<usize> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let mut iov = [io::IoSliceMut::new(buf)];
    let mut space =
        [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS_PER_READ))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let r = rustix::net::recvmsg(
        sock,
        &mut iov,
        &mut control,
        RecvFlags::CMSG_CLOEXEC | RecvFlags::DONTWAIT,
    )?;
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = msg {
            for fd in fds {
                on_fd(fd);
            }
        }
    }
    Ok(r.bytes)
}

/// What kind of socket (or other file) `fd` is: `SO_TYPE`, the domain,
/// `SO_ACCEPTCONN`.
pub(crate) fn classify(fd: &OwnedFd) -> crate::ipc::HandleType {
    use crate::ipc::HandleType;
    use socket2::{Domain, SockRef, Type};
    let s = SockRef::from(fd);
    let (Ok(ty), Ok(domain)) = (s.r#type(), s.domain()) else {
        return HandleType::Other;
    };
    let listening = s.is_listener().unwrap_or(false);
    match (domain, ty, listening) {
        (Domain::IPV4 | Domain::IPV6, Type::STREAM, true) => HandleType::TcpListener,
        (Domain::IPV4 | Domain::IPV6, Type::STREAM, false) => HandleType::TcpStream,
        (Domain::IPV4 | Domain::IPV6, Type::DGRAM, _) => HandleType::Udp,
        (Domain::UNIX, Type::STREAM, true) => HandleType::UnixListener,
        (Domain::UNIX, Type::STREAM, false) => HandleType::UnixStream,
        _ => HandleType::Other,
    }
}

/// Whether this process adopted its `NODE_CHANNEL_FD` already.
static CHANNEL_ADOPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Takes ownership of the channel fd a Node.js parent left open for this
/// process (`NODE_CHANNEL_FD`), once per process (`EALREADY` after), and
/// marks it close-on-exec so that our own children do not inherit it.
/// `EBADF` if it is not open.
pub(crate) fn adopt_channel_fd(fd: RawFd) -> io::Result<OwnedFd> {
    use std::sync::atomic::Ordering;
    if CHANNEL_ADOPTED.swap(true, Ordering::SeqCst) {
        return Err(io::Error::from_raw_os_error(libc::EALREADY));
    }
    // SAFETY: F_GETFD on any int is defined; -1/EBADF if not open.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags == -1 {
        CHANNEL_ADOPTED.store(false, Ordering::SeqCst);
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; setting FD_CLOEXEC changes no memory of ours.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } == -1 {
        CHANNEL_ADOPTED.store(false, Ordering::SeqCst);
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the fd is open (checked above) and was left to this process
    // by its parent for the channel alone: nothing else in the process
    // owns it, and the flag above makes this the only adoption.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
