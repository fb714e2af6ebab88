//! `echo-app bench --mode udp`: datagrams per second against a UDP echo.
//!
//! `conns` UDP sockets, each connected to the server, keep `pipeline`
//! datagrams of `size` bytes in flight. A datagram is an 8-byte sequence
//! number then the pattern of [`crate::bench::PERIOD`] shifted by socket
//! and sequence, so every byte of every echo is checked against what that
//! datagram held: a changed, cut or crossed datagram is a mismatch (an
//! error). UDP may drop: a socket that got no echo for [`LOSS_MS`] counts
//! its datagrams in flight as lost (reported, not an error) and sends a
//! fresh window.

use crate::bench::{BenchConfig, Mode, Report, PERIOD};
use crate::error::{Error, Result};
use loop_core::{Loop, RunMode};
use loop_net::{BindFlags, Datagram, Udp, MAX_DATAGRAM};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

/// A socket with no echo for this long counts its window as lost.
pub const LOSS_MS: u64 = 200;

/// The sequence-number header of a datagram.
const HEADER: usize = 8;

struct Sock {
    udp: Udp,
    next_seq: u64,
    in_flight: usize,
    /// Echoes since the last loss check.
    progressed: bool,
}

struct B {
    cfg: BenchConfig,
    pattern: Vec<u8>,
    socks: Vec<Sock>,
    running: bool,
    msgs: u64,
    bytes: u64,
    lost: u64,
    mismatches: u64,
    errors: u64,
    first_error: Option<String>,
    end: Option<Instant>,
    /// Scratch datagram (kept: nothing allocated per datagram).
    out: Vec<u8>,
}

impl B {
    fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    fn body_offset(&self, i: usize, seq: u64) -> usize {
        ((i as u64 * 97 + seq * 31) % PERIOD as u64) as usize
    }
}

fn send_one(lp: &mut Loop<B>, b: &mut B, i: usize) {
    let seq = b.socks[i].next_seq;
    b.socks[i].next_seq += 1;
    let off = b.body_offset(i, seq);
    let size = b.cfg.size;
    b.out.clear();
    b.out.extend_from_slice(&seq.to_le_bytes());
    b.out
        .extend_from_slice(&b.pattern[off..off + (size - HEADER)]);
    let u = b.socks[i].udp;
    let r = match u.try_send(lp, &[&b.out], None) {
        Err(e) if e.code() == "EAGAIN" => u.send(lp, &[&b.out], None, |_, b: &mut B, r| {
            if let Err(e) = r {
                b.fail(format!("send: {e}"));
            }
        }),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    };
    match r {
        Ok(()) => b.socks[i].in_flight += 1,
        Err(e) => b.fail(format!("send: {e}")),
    }
}

fn on_echo(lp: &mut Loop<B>, b: &mut B, i: usize, r: loop_net::Result<Datagram<'_>>) {
    let dg = match r {
        Ok(dg) => dg,
        Err(e) => {
            b.fail(format!("recv: {e}"));
            return;
        }
    };
    let ok = dg.data.len() == b.cfg.size && !dg.truncated && {
        let seq = u64::from_le_bytes(dg.data[..HEADER].try_into().expect("8 bytes"));
        let off = b.body_offset(i, seq);
        seq < b.socks[i].next_seq && dg.data[HEADER..] == b.pattern[off..off + b.cfg.size - HEADER]
    };
    if !ok {
        b.mismatches += 1;
        b.fail(format!(
            "socket {i}: echo of {} bytes does not match what was sent",
            dg.data.len()
        ));
        return;
    }
    let s = &mut b.socks[i];
    s.in_flight = s.in_flight.saturating_sub(1);
    s.progressed = true;
    if b.running {
        b.msgs += 1;
        b.bytes += b.cfg.size as u64;
        send_one(lp, b, i);
    }
}

fn check_loss(lp: &mut Loop<B>, b: &mut B) {
    if !b.running {
        return;
    }
    for i in 0..b.socks.len() {
        let s = &mut b.socks[i];
        if !s.progressed && s.in_flight > 0 {
            b.lost += s.in_flight as u64;
            s.in_flight = 0;
            for _ in 0..b.cfg.pipeline.max(1) {
                send_one(lp, b, i);
            }
        }
        b.socks[i].progressed = false;
    }
}

/// Runs the UDP bench (see the module docs).
pub fn run(cfg: &BenchConfig) -> Result<Report> {
    if cfg.conns == 0 {
        return Err(Error::new("bench: --conns must be at least 1"));
    }
    let size = cfg.size.clamp(HEADER, MAX_DATAGRAM);
    let mut lp: Loop<B> = Loop::new().map_err(|e| Error::core("create the loop", &e))?;
    let pattern: Vec<u8> = (0..PERIOD + size).map(|j| (j % PERIOD) as u8).collect();
    let local: SocketAddr = if cfg.addr.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let mut b = B {
        cfg: BenchConfig {
            size,
            ..cfg.clone()
        },
        pattern,
        socks: Vec::with_capacity(cfg.conns),
        running: true,
        msgs: 0,
        bytes: 0,
        lost: 0,
        mismatches: 0,
        errors: 0,
        first_error: None,
        end: None,
        out: Vec::with_capacity(size),
    };
    for i in 0..cfg.conns {
        let u = Udp::new(&mut lp);
        u.bind(&mut lp, local, BindFlags::default())
            .and_then(|()| u.connect(&mut lp, cfg.addr))
            .and_then(|()| u.recv_start(&mut lp, move |lp, b: &mut B, _, r| on_echo(lp, b, i, r)))
            .map_err(|e| Error::new(format!("bench: {e}")))?;
        b.socks.push(Sock {
            udp: u,
            next_seq: 0,
            in_flight: 0,
            progressed: false,
        });
    }
    let start = Instant::now();
    for i in 0..cfg.conns {
        for _ in 0..cfg.pipeline.max(1) {
            send_one(&mut lp, &mut b, i);
        }
    }
    let t = lp.add_timer(LOSS_MS, LOSS_MS, check_loss);
    let ms = cfg.duration.as_millis().max(1) as u64;
    lp.add_timer(ms, 0, move |lp, b: &mut B| {
        b.running = false;
        b.end = Some(Instant::now());
        let _ = lp.close(t, None);
        // What is still in flight is not counted: close now.
        for s in &b.socks {
            let _ = s.udp.close(lp, |_, _| {});
        }
    });
    lp.run(RunMode::Default, &mut b)
        .map_err(|e| Error::core("bench loop", &e))?;
    let elapsed = b.end.unwrap_or_else(Instant::now).duration_since(start);
    Ok(Report {
        mode: Mode::Udp,
        conns: cfg.conns,
        connected: cfg.conns,
        size,
        pipeline: cfg.pipeline.max(1),
        elapsed,
        msgs: b.msgs,
        bytes: b.bytes,
        latency_us: None,
        connect_errors: 0,
        mismatches: b.mismatches,
        errors: b.errors,
        first_error: b.first_error,
        lost: Some(b.lost),
    })
}
