//! The Node.js JSON channel's framing, apart from any socket: bytes in,
//! newline-terminated lines out, each line parsed into a [`Message`]. The
//! channel (`channel.rs`) feeds it what its IPC stream reads; the
//! `ipc_framing` fuzz target (`fuzz/`) feeds it arbitrary bytes cut at
//! arbitrary points, since they come from another process.
//!
//! # Invariants
//!
//! - The lines come out exactly as if the whole input had been split on
//!   `\n` at once, however the bytes were cut into reads; a final
//!   unterminated piece waits for more.
//! - Each byte is scanned for `\n` once (a message that arrives in many
//!   reads costs linear time, not quadratic), and consumed lines are
//!   compacted away once they are more than half the buffer.
//! - Parsing never panics: a line that is not JSON is an error for that
//!   line alone (the channel logs it and reads on, as Node would throw for
//!   it and keep the channel).

use serde_json::Value;

/// Bytes read from the channel, cut into lines.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Start of the first line not yet taken.
    start: usize,
    /// Bytes before this offset hold no `\n` (past `start`).
    scanned: usize,
}

impl LineBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the channel.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line, without its `\n`.
    pub fn next_line(&mut self) -> Option<&[u8]> {
        let from = self.scanned.max(self.start);
        match self.buf[from..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let (s, end) = (self.start, from + i);
                self.start = end + 1;
                self.scanned = self.start;
                Some(&self.buf[s..end])
            }
            None => {
                self.scanned = self.buf.len();
                None
            }
        }
    }

    /// Bytes held that are not yet a complete line.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

/// One message of the channel, as the receiver sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A user's message: what `process.send(m)` sent.
    User(Value),
    /// `{"cmd":"NODE_HANDLE","type":T,"msg":M}`: a handle comes with this
    /// line (its fd attached to the same write).
    Handle {
        /// `"net.Server"`, `"net.Socket"`…, if a string.
        ty: Option<String>,
        /// The user's message sent with the handle.
        msg: Value,
        /// `dgramType` (`"udp4"` or `"udp6"`), which comes with a
        /// `"dgram.Socket"`, if a string.
        dgram_type: Option<String>,
    },
    /// `NODE_HANDLE_ACK` (`true`) or `NODE_HANDLE_NACK` (`false`).
    Ack(bool),
    /// Another of Node's internal messages (`cmd` starting with `NODE_`):
    /// never given to the user.
    Internal,
}

/// Whether a value is one of Node's internal messages: its `cmd` is a
/// string longer than 4 that starts with `NODE_` (Node's own test).
pub fn is_internal(v: &Value) -> bool {
    v.get("cmd")
        .and_then(Value::as_str)
        .is_some_and(|c| c.starts_with("NODE_"))
}

/// Parses one line (without its `\n`).
pub fn parse_line(line: &[u8]) -> Result<Message, serde_json::Error> {
    let v: Value = serde_json::from_slice(line)?;
    if !is_internal(&v) {
        return Ok(Message::User(v));
    }
    Ok(match v.get("cmd").and_then(Value::as_str) {
        Some("NODE_HANDLE") => Message::Handle {
            ty: v.get("type").and_then(Value::as_str).map(str::to_owned),
            msg: v.get("msg").cloned().unwrap_or(Value::Null),
            dgram_type: v
                .get("dgramType")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        Some("NODE_HANDLE_ACK") => Message::Ack(true),
        Some("NODE_HANDLE_NACK") => Message::Ack(false),
        _ => Message::Internal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut b = LineBuffer::new();
        let mut out = Vec::new();
        for c in chunks {
            b.push(c);
            while let Some(l) = b.next_line() {
                out.push(l.to_vec());
            }
        }
        out
    }

    #[test]
    fn lines_do_not_depend_on_how_reads_cut_them() {
        let whole: &[u8] = b"{\"a\":1}\n\n[2]\n{\"cmd\":\"NODE_HANDLE_ACK\"}\nrest";
        let want = lines_of(&[whole]);
        assert_eq!(want.len(), 4);
        for cut in 0..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(lines_of(&[a, b]), want, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(lines_of(&bytes), want);
    }

    #[test]
    fn messages_are_classified_as_node_does() {
        assert_eq!(
            parse_line(b"{\"x\":1}").unwrap(),
            Message::User(serde_json::json!({"x": 1}))
        );
        assert_eq!(
            parse_line(b"{\"cmd\":\"NODE_HANDLE_NACK\"}").unwrap(),
            Message::Ack(false)
        );
        assert_eq!(
            parse_line(b"{\"cmd\":\"NODE_\"}").unwrap(),
            Message::Internal
        );
        assert_eq!(
            parse_line(b"{\"cmd\":\"NODE\"}").unwrap(),
            Message::User(serde_json::json!({"cmd": "NODE"}))
        );
        assert_eq!(
            parse_line(b"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":\"m\"}").unwrap(),
            Message::Handle {
                ty: Some("net.Server".into()),
                msg: serde_json::json!("m"),
                dgram_type: None,
            }
        );
        assert_eq!(
            parse_line(
                br#"{"cmd":"NODE_HANDLE","type":"dgram.Socket","msg":{"m":1},"dgramType":"udp6"}"#
            )
            .unwrap(),
            Message::Handle {
                ty: Some("dgram.Socket".into()),
                msg: serde_json::json!({"m": 1}),
                dgram_type: Some("udp6".into()),
            }
        );
        assert!(parse_line(b"{not json").is_err());
    }

    #[test]
    fn a_long_line_in_small_reads_is_scanned_once() {
        let mut b = LineBuffer::new();
        for _ in 0..10_000 {
            b.push(&[b'x'; 100]);
            assert!(b.next_line().is_none());
        }
        assert_eq!(b.pending(), 1_000_000);
        b.push(b"\n");
        assert_eq!(b.next_line().map(<[u8]>::len), Some(1_000_000));
        assert_eq!(b.pending(), 0);
    }
}
