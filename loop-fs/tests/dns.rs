//! `dns::lookup` on the pool.

mod common;

use common::{store, sync};
use loop_fs::dns;
use std::io::ErrorKind;
use std::net::SocketAddr;

#[test]
fn lookup_ip_literals_without_the_resolver() {
    let v4 = sync(|lp| dns::lookup(lp, "127.0.0.1", 8080, store)).unwrap();
    assert_eq!(v4, ["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);
    let v6 = sync(|lp| dns::lookup(lp, "::1", 443, store)).unwrap();
    assert_eq!(v6, ["[::1]:443".parse::<SocketAddr>().unwrap()]);
}

#[test]
fn lookup_localhost() {
    // /etc/hosts answers it without any network.
    let addrs = sync(|lp| dns::lookup(lp, "localhost", 80, store)).unwrap();
    assert!(!addrs.is_empty());
    assert!(
        addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80),
        "{addrs:?}"
    );
}

#[test]
fn lookup_errors_print_as_node() {
    // A NUL byte never reaches the resolver.
    let e = sync(|lp| dns::lookup(lp, "bad\0name", 80, store)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(e.to_string(), "getaddrinfo EINVAL bad\0name");
    let s = loop_fs::sys_error(&e).unwrap();
    assert_eq!((s.code(), s.syscall()), ("EINVAL", "getaddrinfo"));
    // The empty name: getaddrinfo refuses it at once (EAI_NONAME), with
    // no network needed.
    let e = sync(|lp| dns::lookup(lp, "", 80, store)).unwrap_err();
    assert_eq!(e.to_string(), "getaddrinfo ENOTFOUND");
}

#[test]
fn lookup_blocking_matches() {
    assert_eq!(
        dns::lookup_blocking("10.1.2.3", 1).unwrap(),
        ["10.1.2.3:1".parse::<SocketAddr>().unwrap()]
    );
}
