//! Name lookups on the pool (libuv's `uv_getaddrinfo`, Node's `dns.lookup`).
//!
//! Invariants:
//! - a lookup is slow I/O ([`crate::WorkKind::SlowIo`]): at most half the
//!   pool's workers (rounded up) resolve names at a time, so a slow or
//!   unreachable DNS server cannot hold every worker while file requests
//!   wait;
//! - resolution is std's (`ToSocketAddrs`, i.e. `getaddrinfo(3)`); an IP
//!   literal is parsed without asking the resolver;
//! - errors print as Node.js's do: `getaddrinfo ENOTFOUND example.invalid`,
//!   and a canceled lookup is `getaddrinfo ECANCELED host`.

use crate::error::{dns, errno_name, Error, Panic};
use crate::pool::WorkKind;
use crate::sys;
use crate::work::{submit, Fate, ReqId};
use loop_core::Loop;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `host` (a name or an IP literal) to socket addresses with
/// `port`, on the pool; `cb` runs on the loop thread with the addresses in
/// the resolver's order. Used by loop-net's connect-by-name.
///
/// ```
/// use loop_core::{Loop, RunMode};
///
/// let mut lp: Loop<Vec<std::net::SocketAddr>> = Loop::new()?;
/// loop_fs::dns::lookup(&mut lp, "127.0.0.1", 80, |_, out, r| *out = r.unwrap())?;
/// let mut out = Vec::new();
/// lp.run(RunMode::Default, &mut out)?;
/// assert_eq!(out, ["127.0.0.1:80".parse().unwrap()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lookup<D: 'static>(
    lp: &mut Loop<D>,
    host: impl Into<String>,
    port: u16,
    cb: impl FnOnce(&mut Loop<D>, &mut D, io::Result<Vec<SocketAddr>>) + 'static,
) -> Result<ReqId, Error> {
    let host = host.into();
    submit(
        lp,
        WorkKind::SlowIo,
        "loop-fs:dns",
        move |fate| match fate {
            Fate::Run => lookup_blocking(&host, port),
            Fate::Cancel => Err(dns(
                io::Error::from_raw_os_error(libc::ECANCELED),
                "ECANCELED",
                &host,
            )),
        },
        move |lp, data, r: std::thread::Result<io::Result<Vec<SocketAddr>>>| {
            let r = r.unwrap_or_else(|p| {
                Err(io::Error::other(format!(
                    "getaddrinfo panicked on a pool thread: {}",
                    Panic::new(p).message()
                )))
            });
            cb(lp, data, r)
        },
    )
}

/// [`lookup`], blocking the calling thread.
pub fn lookup_blocking(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    match (host, port).to_socket_addrs() {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => {
            let code = code_of(&e);
            Err(dns(e, code, host))
        }
    }
}

/// Node's code for a failed lookup: `ENOTFOUND` for "no such name" (what
/// Node makes of `EAI_NONAME` and `EAI_NODATA`), else libuv's name.
fn code_of(e: &io::Error) -> &'static str {
    if let Some(errno) = e.raw_os_error() {
        // EAI_SYSTEM: std hands over errno.
        return errno_name(errno).map_or("UNKNOWN", |(code, _)| code);
    }
    if e.kind() == io::ErrorKind::InvalidInput {
        return "EINVAL";
    }
    // std reports other getaddrinfo failures as text ending with
    // gai_strerror's: match it back to the code.
    let msg = e.to_string();
    let codes = [
        (libc::EAI_NONAME, "ENOTFOUND"),
        (libc::EAI_NODATA, "ENOTFOUND"),
        (libc::EAI_AGAIN, "EAI_AGAIN"),
        (libc::EAI_FAIL, "EAI_FAIL"),
        (libc::EAI_FAMILY, "EAI_FAMILY"),
        (libc::EAI_SERVICE, "EAI_SERVICE"),
        (libc::EAI_SOCKTYPE, "EAI_SOCKTYPE"),
        (libc::EAI_MEMORY, "EAI_MEMORY"),
        (libc::EAI_BADFLAGS, "EAI_BADFLAGS"),
        (libc::EAI_OVERFLOW, "EAI_OVERFLOW"),
    ];
    codes
        .iter()
        .find(|(c, _)| {
            let text = sys::gai_strerror(*c);
            !text.is_empty() && msg.ends_with(&text)
        })
        .map_or("UNKNOWN", |(_, name)| name)
}
