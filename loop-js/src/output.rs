//! stdout and stderr as Node.js writes them to files and pipes: in order,
//! never lost. stdout is buffered and flushed whenever the loop is about
//! to block (the prepare phase), before anything goes to stderr, when the
//! buffer grows large, and at exit, so a script's output interleaves with
//! the outside world as Node's does at every point where that is
//! observable, without a syscall per `console.log`.

use std::cell::RefCell;
use std::io::Write;

/// Flush stdout once this much is buffered.
const FLUSH_AT: usize = 64 * 1024;

/// The process's two output streams.
#[derive(Default)]
pub(crate) struct Output {
    out: RefCell<Vec<u8>>,
}

impl Output {
    /// Writes `s` to fd 1 (`fd == 1`) or fd 2 (anything else).
    pub(crate) fn write(&self, fd: i32, s: &str) {
        if fd == 1 {
            let mut b = self.out.borrow_mut();
            b.extend_from_slice(s.as_bytes());
            if b.len() >= FLUSH_AT {
                drop(b);
                self.flush();
            }
        } else {
            self.flush();
            // A closed stderr is not the script's failure: Node ignores EPIPE too.
            let _ = std::io::stderr().write_all(s.as_bytes());
        }
    }

    /// Writes out what stdout has buffered.
    pub(crate) fn flush(&self) {
        let mut b = self.out.borrow_mut();
        if b.is_empty() {
            return;
        }
        let mut so = std::io::stdout().lock();
        // EPIPE (the reader went away) drops the output, as Node's
        // synchronous stdout does once the pipe is closed.
        let _ = so.write_all(&b);
        let _ = so.flush();
        b.clear();
    }
}
