//! Socket options of a UDP handle (`uv_udp_set_*`, `uv_recv_buffer_size`,
//! `uv_send_buffer_size`), through socket2.
//!
//! Invariant: an option needs the socket, so on a handle never bound it is
//! `EBADF` (libuv's answer too); the family of the socket decides between
//! the IPv4 and IPv6 forms (`IP_TTL` or `IPV6_UNICAST_HOPS`…).

use super::{sock_ref, Udp};
use crate::error::{Error, Result};
use loop_core::Loop;
use socket2::SockRef;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Joining or leaving a multicast group (`uv_membership`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// `UV_JOIN_GROUP`.
    Join,
    /// `UV_LEAVE_GROUP`.
    Leave,
}

fn is_v6(s: &SockRef<'_>) -> bool {
    s.local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .is_some_and(|a| a.is_ipv6())
}

fn opt<D: 'static>(
    lp: &Loop<D>,
    u: Udp,
    op: &'static str,
    f: impl FnOnce(&SockRef<'_>, bool) -> std::io::Result<()>,
) -> Result<()> {
    let s = sock_ref(lp, u, op)?;
    let v6 = is_v6(&s);
    f(&s, v6).map_err(|e| Error::io(op, e, None))
}

fn check_ttl(op: &'static str, ttl: u32) -> Result<()> {
    if (1..=255).contains(&ttl) {
        Ok(())
    } else {
        Err(Error::misuse(op, libc::EINVAL, "a TTL is 1 to 255"))
    }
}

impl Udp {
    /// `SO_BROADCAST` (`uv_udp_set_broadcast`).
    pub fn set_broadcast<D: 'static>(self, lp: &Loop<D>, on: bool) -> Result<()> {
        opt(lp, self, "set_broadcast", |s, _| s.set_broadcast(on))
    }

    /// The unicast TTL, 1 to 255 (`uv_udp_set_ttl`: `IP_TTL`, or
    /// `IPV6_UNICAST_HOPS` on IPv6); `EINVAL` outside.
    pub fn set_ttl<D: 'static>(self, lp: &Loop<D>, ttl: u32) -> Result<()> {
        check_ttl("set_ttl", ttl)?;
        opt(lp, self, "set_ttl", |s, v6| {
            if v6 {
                s.set_unicast_hops_v6(ttl)
            } else {
                s.set_ttl_v4(ttl)
            }
        })
    }

    /// The multicast TTL, 1 to 255 (`uv_udp_set_multicast_ttl`).
    pub fn set_multicast_ttl<D: 'static>(self, lp: &Loop<D>, ttl: u32) -> Result<()> {
        check_ttl("set_multicast_ttl", ttl)?;
        opt(lp, self, "set_multicast_ttl", |s, v6| {
            if v6 {
                s.set_multicast_hops_v6(ttl)
            } else {
                s.set_multicast_ttl_v4(ttl)
            }
        })
    }

    /// Whether multicast datagrams loop back to this host
    /// (`uv_udp_set_multicast_loop`).
    pub fn set_multicast_loop<D: 'static>(self, lp: &Loop<D>, on: bool) -> Result<()> {
        opt(lp, self, "set_multicast_loop", |s, v6| {
            if v6 {
                s.set_multicast_loop_v6(on)
            } else {
                s.set_multicast_loop_v4(on)
            }
        })
    }

    /// The interface multicast datagrams leave by, for an IPv4 socket
    /// (`uv_udp_set_multicast_interface`); `0.0.0.0` lets the kernel pick.
    pub fn set_multicast_interface_v4<D: 'static>(
        self,
        lp: &Loop<D>,
        iface: Ipv4Addr,
    ) -> Result<()> {
        opt(lp, self, "set_multicast_interface", |s, _| {
            s.set_multicast_if_v4(&iface)
        })
    }

    /// The interface multicast datagrams leave by, for an IPv6 socket, by
    /// index (0: the kernel picks).
    pub fn set_multicast_interface_v6<D: 'static>(self, lp: &Loop<D>, index: u32) -> Result<()> {
        opt(lp, self, "set_multicast_interface", |s, _| {
            s.set_multicast_if_v6(index)
        })
    }

    /// Joins or leaves an IPv4 group on the interface of address `iface`
    /// (`0.0.0.0`: the kernel picks) (`uv_udp_set_membership`).
    pub fn set_membership_v4<D: 'static>(
        self,
        lp: &Loop<D>,
        group: Ipv4Addr,
        iface: Ipv4Addr,
        m: Membership,
    ) -> Result<()> {
        opt(lp, self, "set_membership", |s, _| match m {
            Membership::Join => s.join_multicast_v4(&group, &iface),
            Membership::Leave => s.leave_multicast_v4(&group, &iface),
        })
    }

    /// Joins or leaves an IPv6 group on interface `index` (0: the kernel
    /// picks).
    pub fn set_membership_v6<D: 'static>(
        self,
        lp: &Loop<D>,
        group: Ipv6Addr,
        index: u32,
        m: Membership,
    ) -> Result<()> {
        opt(lp, self, "set_membership", |s, _| match m {
            Membership::Join => s.join_multicast_v6(&group, index),
            Membership::Leave => s.leave_multicast_v6(&group, index),
        })
    }

    /// Joins or leaves a source-specific IPv4 group: datagrams to `group`
    /// from `source` only (`uv_udp_set_source_membership`). `ENOTSUP` for
    /// IPv6 addresses (see the module docs).
    pub fn set_source_membership<D: 'static>(
        self,
        lp: &Loop<D>,
        group: IpAddr,
        iface: Ipv4Addr,
        source: IpAddr,
        m: Membership,
    ) -> Result<()> {
        let (IpAddr::V4(group), IpAddr::V4(source)) = (group, source) else {
            return Err(Error::misuse(
                "set_source_membership",
                libc::ENOTSUP,
                "source-specific membership is IPv4 only",
            ));
        };
        opt(lp, self, "set_source_membership", |s, _| match m {
            Membership::Join => s.join_ssm_v4(&source, &group, &iface),
            Membership::Leave => s.leave_ssm_v4(&source, &group, &iface),
        })
    }

    /// The kernel's receive buffer size (`SO_RCVBUF`; Linux reports twice
    /// what was set, as libuv's `uv_recv_buffer_size` does).
    pub fn recv_buffer_size<D: 'static>(self, lp: &Loop<D>) -> Result<usize> {
        let s = sock_ref(lp, self, "recv_buffer_size")?;
        s.recv_buffer_size()
            .map_err(|e| Error::io("recv_buffer_size", e, None))
    }

    /// Sets `SO_RCVBUF` (the kernel doubles it and caps it at
    /// `net.core.rmem_max`). `EINVAL` for 0.
    pub fn set_recv_buffer_size<D: 'static>(self, lp: &Loop<D>, size: usize) -> Result<()> {
        if size == 0 {
            return Err(Error::misuse(
                "set_recv_buffer_size",
                libc::EINVAL,
                "size 0",
            ));
        }
        opt(lp, self, "set_recv_buffer_size", |s, _| {
            s.set_recv_buffer_size(size)
        })
    }

    /// The kernel's send buffer size (`SO_SNDBUF`).
    pub fn send_buffer_size<D: 'static>(self, lp: &Loop<D>) -> Result<usize> {
        let s = sock_ref(lp, self, "send_buffer_size")?;
        s.send_buffer_size()
            .map_err(|e| Error::io("send_buffer_size", e, None))
    }

    /// Sets `SO_SNDBUF`. `EINVAL` for 0.
    pub fn set_send_buffer_size<D: 'static>(self, lp: &Loop<D>, size: usize) -> Result<()> {
        if size == 0 {
            return Err(Error::misuse(
                "set_send_buffer_size",
                libc::EINVAL,
                "size 0",
            ));
        }
        opt(lp, self, "set_send_buffer_size", |s, _| {
            s.set_send_buffer_size(size)
        })
    }
}
