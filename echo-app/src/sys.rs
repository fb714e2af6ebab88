//! Process-level helpers: the file-descriptor limit, `/proc` figures and
//! address resolution.

use crate::error::{describe, Error, Result};
use std::net::{SocketAddr, ToSocketAddrs};

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as servers that hold
/// thousands of connections must: the soft limit is often 1,024). Returns
/// the new soft limit. A failure is logged, not fatal: the server still
/// runs, with fewer connections.
pub fn raise_nofile_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => {
            tracing::debug!(limit = n, "RLIMIT_NOFILE soft limit raised");
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not raise RLIMIT_NOFILE");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft)
        }
    }
}

/// Resolves `HOST:PORT` (or a host and a port) to socket addresses,
/// IPv4 first (a server listening on `0.0.0.0` does not answer on `::1`).
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let target = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    resolve_addr(&target)
}

/// Resolves `HOST:PORT`, IPv4 addresses first.
pub fn resolve_addr(target: &str) -> Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = target
        .to_socket_addrs()
        .map_err(|e| Error::new(format!("resolve {target}: {}", describe(&e))))?
        .collect();
    addrs.sort_by_key(|a| a.is_ipv6());
    if addrs.is_empty() {
        return Err(Error::new(format!("resolve {target}: no address found")));
    }
    Ok(addrs)
}

/// CPU time (user + system) of process `pid`, in clock ticks, from
/// `/proc/PID/stat`.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) (utime, stime) are 12 and 13 here.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Resident memory of process `pid` in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_figures() {
        let pid = std::process::id();
        assert!(rss_kib(pid).unwrap() > 0);
        assert!(cpu_ticks(pid).is_some());
    }

    #[test]
    fn resolves_loopback_ipv4_first() {
        let a = resolve("127.0.0.1", 80).unwrap();
        assert_eq!(a[0], "127.0.0.1:80".parse().unwrap());
        assert!(resolve_addr("no-port").is_err());
    }
}
