//! The line reader of a socket ([`Socket::on_line`](super::Socket::on_line),
//! Node's `readline` over a socket, tokio's `LinesCodec`): splits what is
//! read on `\n`, drops a `\r` before it, and hands each line over without
//! its terminator.
//!
//! Invariants:
//! - `partial` holds only the unterminated tail of what was read, never a
//!   `\n`; a line that arrives whole in one read is handed over as a slice
//!   of the read buffer, not copied;
//! - no line (terminated or not) longer than `max` bytes, terminator
//!   excluded, is ever handed over or buffered: the reader reports
//!   [`TooLong`] instead and the socket is destroyed with
//!   `ERR_LINE_TOO_LONG`.

/// The reader's state, kept in the socket's Node state.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    partial: Vec<u8>,
    max: usize,
}

/// A line exceeded the maximum length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooLong;

impl Lines {
    pub(crate) fn new(max: usize) -> Lines {
        Lines {
            partial: Vec::new(),
            max,
        }
    }

    /// The maximum line length.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Splits `data` (appended to the partial line), calling `f` with each
    /// complete line; `f` returns `false` to stop (the socket is gone: the
    /// rest is dropped). The unterminated tail is kept.
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), TooLong> {
        while let Some(i) = data.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&data[..i], &data[i + 1..]);
            data = rest;
            let go = if self.partial.is_empty() {
                let line = strip_cr(head);
                if line.len() > self.max {
                    return Err(TooLong);
                }
                f(line)
            } else {
                if self.partial.len() + head.len() > self.max + 1 {
                    return Err(TooLong);
                }
                self.partial.extend_from_slice(head);
                let mut line = std::mem::take(&mut self.partial);
                let n = strip_cr(&line).len();
                if n > self.max {
                    return Err(TooLong);
                }
                line.truncate(n);
                let go = f(&line);
                line.clear();
                self.partial = line; // keep the allocation
                go
            };
            if !go {
                return Ok(());
            }
        }
        // A tail of `max` bytes and a `\r` may still get its `\n`.
        let len = self.partial.len() + data.len();
        let cr_last = data.last().or(self.partial.last()) == Some(&b'\r');
        if len > self.max + usize::from(cr_last) {
            return Err(TooLong);
        }
        self.partial.extend_from_slice(data);
        Ok(())
    }

    /// At end of input: the last line, unterminated, if there is one.
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        if self.partial.is_empty() {
            return None;
        }
        let mut line = std::mem::take(&mut self.partial);
        let n = strip_cr(&line).len();
        line.truncate(n);
        Some(line)
    }
}

fn strip_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(max: usize, chunks: &[&[u8]]) -> (Vec<String>, Result<(), TooLong>) {
        let mut l = Lines::new(max);
        let mut out = Vec::new();
        for c in chunks {
            let r = l.feed(c, |line| {
                out.push(String::from_utf8_lossy(line).into_owned());
                true
            });
            if r.is_err() {
                return (out, r);
            }
        }
        if let Some(last) = l.finish() {
            out.push(String::from_utf8_lossy(&last).into_owned());
        }
        (out, Ok(()))
    }

    #[test]
    fn splits_lf_and_crlf_across_reads_and_keeps_the_last_line() {
        let (out, r) = run(64, &[b"a\r\nb", b"c\n\nd\r", b"\ne", b"nd"]);
        assert_eq!(r, Ok(()));
        assert_eq!(out, ["a", "bc", "", "d", "end"]);
    }

    #[test]
    fn max_length_counts_the_line_not_its_terminator() {
        assert_eq!(run(3, &[b"abc\r\nabc\n"]).0, ["abc", "abc"]);
        assert_eq!(run(3, &[b"ab", b"c\r", b"\n"]).0, ["abc"]);
        assert_eq!(run(3, &[b"abcd\n"]), (vec![], Err(TooLong)));
        let (out, r) = run(3, &[b"ok\nab", b"cd"]);
        assert_eq!((out, r), (vec!["ok".to_string()], Err(TooLong)));
        assert_eq!(run(3, &[b"ab", b"cd\n"]).1, Err(TooLong));
    }

    #[test]
    fn stops_when_told() {
        let mut l = Lines::new(10);
        let mut n = 0;
        l.feed(b"a\nb\nc\n", |_| {
            n += 1;
            false
        })
        .unwrap();
        assert_eq!(n, 1);
    }
}
