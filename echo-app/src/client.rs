//! `echo-app client`: the classic line client. Each line of standard input
//! is sent, its echo read back and printed; end of input ends the client
//! (exit 0), as the Go echo client does.
//!
//! Blocking std I/O on purpose: one connection, one line in flight, and a
//! terminal on the other side; the loop would add nothing here (the load
//! generator, `bench`, is the one built on the loop).

use crate::error::{describe, Error, Result};
use crate::sys::resolve_addr;
use std::io::{BufRead, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// How long to wait for an echo before giving up.
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to `addr` (`HOST:PORT`), then echoes `input` line by line into
/// `out`. Returns the number of lines echoed.
pub fn run(addr: &str, input: impl BufRead, mut out: impl Write) -> Result<u64> {
    let addrs = resolve_addr(addr)?;
    let mut last = None;
    let mut conn = None;
    for a in &addrs {
        match TcpStream::connect(a) {
            Ok(s) => {
                conn = Some(s);
                break;
            }
            Err(e) => last = Some(Error::io("connect", a, &e)),
        }
    }
    let Some(mut s) = conn else {
        return Err(last.unwrap_or_else(|| Error::new(format!("connect {addr}: no address"))));
    };
    let peer = s
        .peer_addr()
        .map_or_else(|_| addr.to_string(), |a| a.to_string());
    let _ = s.set_nodelay(true);
    s.set_read_timeout(Some(ECHO_TIMEOUT))
        .map_err(|e| Error::io("setsockopt", &peer, &e))?;
    let mut input = input;
    let mut line = Vec::new();
    let mut echo = Vec::new();
    let mut lines = 0u64;
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::new(format!("read standard input: {}", describe(&e))))?;
        if n == 0 {
            break;
        }
        s.write_all(&line)
            .map_err(|e| Error::io("write", &peer, &e))?;
        echo.resize(line.len(), 0);
        s.read_exact(&mut echo).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                Error::new(format!("read {peer}: connection closed by the server"))
            }
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::new(format!(
                "read {peer}: no echo within {} s",
                ECHO_TIMEOUT.as_secs()
            )),
            _ => Error::io("read", &peer, &e),
        })?;
        out.write_all(&echo)
            .and_then(|()| out.flush())
            .map_err(|e| Error::new(format!("write standard output: {}", describe(&e))))?;
        lines += 1;
    }
    // End of input: say so, and let the server close its side.
    let _ = s.shutdown(Shutdown::Write);
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    Ok(lines)
}
