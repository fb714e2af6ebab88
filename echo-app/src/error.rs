//! Errors: one line each, naming the operation and the address, in the
//! words of the C library (`listen 0.0.0.0:8080: address already in use`).

use std::fmt;
use std::io;

/// What went wrong, as the one line the binary prints after `error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    msg: String,
}

/// Result alias for echo-app.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with this exact message.
    pub fn new(msg: impl Into<String>) -> Error {
        Error { msg: msg.into() }
    }

    /// `op target: description` for an OS error (`connect 127.0.0.1:9:
    /// connection refused`).
    pub fn io(op: &str, target: &dyn fmt::Display, e: &io::Error) -> Error {
        Error::new(format!("{op} {target}: {}", describe(e)))
    }

    /// A loop-net error in the same words: `listen 0.0.0.0:8080: address
    /// already in use`. `target` stands in when the error has no address.
    pub fn net(e: &loop_net::Error, target: &dyn fmt::Display) -> Error {
        let addr = e
            .address()
            .map_or_else(|| target.to_string(), str::to_string);
        Error::new(format!("{} {addr}: {}", e.op(), describe(e.io_error())))
    }

    /// A loop-core error, with what was being done.
    pub fn core(what: &str, e: &loop_core::Error) -> Error {
        Error::new(format!("{what}: {e}"))
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

/// An I/O error in plain words: the C library's `strerror` text in lower
/// case, without Rust's `(os error N)` suffix (`address already in use`).
pub fn describe(e: &io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(n) => io::Error::from_raw_os_error(n).to_string(),
        None => e.to_string(),
    };
    let text = match text.rfind(" (os error ") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    let mut chars = text.chars();
    match chars.next() {
        // "Address already in use" -> "address already in use", but keep
        // acronyms ("TLS…") as they are.
        Some(c) if chars.clone().next().is_some_and(char::is_lowercase) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_the_c_library_says() {
        let e = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(describe(&e), "address already in use");
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(describe(&e), "connection refused");
        let e = io::Error::other("TLS junk");
        assert_eq!(describe(&e), "TLS junk");
    }

    #[test]
    fn io_error_names_op_and_target() {
        let e = io::Error::from_raw_os_error(libc::EADDRINUSE);
        let err = Error::io("listen", &"0.0.0.0:8080", &e);
        assert_eq!(
            err.to_string(),
            "listen 0.0.0.0:8080: address already in use"
        );
    }
}
