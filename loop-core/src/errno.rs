//! One errno table for the workspace: libuv's name and message for each
//! errno value (`uv_err_name`, `uv_strerror`), as Node.js prints them in
//! its errors (`ENOENT: no such file or directory, open '/x'`,
//! `connect ECONNREFUSED 127.0.0.1:9`). Every crate on loop-core formats
//! its errors from here, so two crates never name one errno differently.

/// libuv's name and message of an errno value (`"ENOENT"`, `"no such file
/// or directory"`), or `None` for a value libuv does not map.
///
/// ```
/// assert_eq!(loop_core::errno::lookup(libc::ECONNREFUSED), Some(("ECONNREFUSED", "connection refused")));
/// ```
pub fn lookup(errno: i32) -> Option<(&'static str, &'static str)> {
    Some(match errno {
        libc::E2BIG => ("E2BIG", "argument list too long"),
        libc::EACCES => ("EACCES", "permission denied"),
        libc::EADDRINUSE => ("EADDRINUSE", "address already in use"),
        libc::EADDRNOTAVAIL => ("EADDRNOTAVAIL", "address not available"),
        libc::EAFNOSUPPORT => ("EAFNOSUPPORT", "address family not supported"),
        libc::EAGAIN => ("EAGAIN", "resource temporarily unavailable"),
        libc::EALREADY => ("EALREADY", "connection already in progress"),
        libc::EBADF => ("EBADF", "bad file descriptor"),
        libc::EBUSY => ("EBUSY", "resource busy or locked"),
        libc::ECANCELED => ("ECANCELED", "operation canceled"),
        libc::ECONNABORTED => ("ECONNABORTED", "software caused connection abort"),
        libc::ECONNREFUSED => ("ECONNREFUSED", "connection refused"),
        libc::ECONNRESET => ("ECONNRESET", "connection reset by peer"),
        libc::EDESTADDRREQ => ("EDESTADDRREQ", "destination address required"),
        libc::EEXIST => ("EEXIST", "file already exists"),
        libc::EFAULT => ("EFAULT", "bad address in system call argument"),
        libc::EFBIG => ("EFBIG", "file too large"),
        libc::EHOSTUNREACH => ("EHOSTUNREACH", "host is unreachable"),
        libc::EINTR => ("EINTR", "interrupted system call"),
        libc::EINVAL => ("EINVAL", "invalid argument"),
        libc::EIO => ("EIO", "i/o error"),
        libc::EISCONN => ("EISCONN", "socket is already connected"),
        libc::EISDIR => ("EISDIR", "illegal operation on a directory"),
        libc::ELOOP => ("ELOOP", "too many symbolic links encountered"),
        libc::EMFILE => ("EMFILE", "too many open files"),
        libc::EMSGSIZE => ("EMSGSIZE", "message too long"),
        libc::ENAMETOOLONG => ("ENAMETOOLONG", "name too long"),
        libc::ENETDOWN => ("ENETDOWN", "network is down"),
        libc::ENETUNREACH => ("ENETUNREACH", "network is unreachable"),
        libc::ENFILE => ("ENFILE", "file table overflow"),
        libc::ENOBUFS => ("ENOBUFS", "no buffer space available"),
        libc::ENODEV => ("ENODEV", "no such device"),
        libc::ENOENT => ("ENOENT", "no such file or directory"),
        libc::ENOMEM => ("ENOMEM", "not enough memory"),
        libc::ENONET => ("ENONET", "machine is not on the network"),
        libc::ENOPROTOOPT => ("ENOPROTOOPT", "protocol not available"),
        libc::ENOSPC => ("ENOSPC", "no space left on device"),
        libc::ENOSYS => ("ENOSYS", "function not implemented"),
        libc::ENOTCONN => ("ENOTCONN", "socket is not connected"),
        libc::ENOTDIR => ("ENOTDIR", "not a directory"),
        libc::ENOTEMPTY => ("ENOTEMPTY", "directory not empty"),
        libc::ENOTSOCK => ("ENOTSOCK", "socket operation on non-socket"),
        libc::ENOTSUP => ("ENOTSUP", "operation not supported on socket"),
        libc::EOVERFLOW => ("EOVERFLOW", "value too large for defined data type"),
        libc::EPERM => ("EPERM", "operation not permitted"),
        libc::EPIPE => ("EPIPE", "broken pipe"),
        libc::EPROTO => ("EPROTO", "protocol error"),
        libc::EPROTONOSUPPORT => ("EPROTONOSUPPORT", "protocol not supported"),
        libc::EPROTOTYPE => ("EPROTOTYPE", "protocol wrong type for socket"),
        libc::ERANGE => ("ERANGE", "result too large"),
        libc::EROFS => ("EROFS", "read-only file system"),
        libc::ESHUTDOWN => ("ESHUTDOWN", "cannot send after transport endpoint shutdown"),
        libc::ESPIPE => ("ESPIPE", "invalid seek"),
        libc::ESRCH => ("ESRCH", "no such process"),
        libc::ETIMEDOUT => ("ETIMEDOUT", "connection timed out"),
        libc::ETXTBSY => ("ETXTBSY", "text file is busy"),
        libc::EXDEV => ("EXDEV", "cross-device link not permitted"),
        libc::ENXIO => ("ENXIO", "no such device or address"),
        libc::EMLINK => ("EMLINK", "too many links"),
        libc::EHOSTDOWN => ("EHOSTDOWN", "host is down"),
        libc::EREMOTEIO => ("EREMOTEIO", "remote I/O error"),
        libc::ENOTTY => ("ENOTTY", "inappropriate ioctl for device"),
        libc::EILSEQ => ("EILSEQ", "illegal byte sequence"),
        libc::ESOCKTNOSUPPORT => ("ESOCKTNOSUPPORT", "socket type not supported"),
        _ => return None,
    })
}

/// libuv's name of an errno value, `"UNKNOWN"` for one it does not map
/// (`uv_err_name`).
pub fn name(errno: i32) -> &'static str {
    lookup(errno).map_or("UNKNOWN", |(n, _)| n)
}

/// libuv's message for an errno value, `"unknown error"` for one it does
/// not map (`uv_strerror`).
pub fn message(errno: i32) -> &'static str {
    lookup(errno).map_or("unknown error", |(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages() {
        assert_eq!(name(libc::EADDRINUSE), "EADDRINUSE");
        assert_eq!(message(libc::ENOENT), "no such file or directory");
        assert_eq!(name(-12345), "UNKNOWN");
        assert_eq!(message(-12345), "unknown error");
    }
}
