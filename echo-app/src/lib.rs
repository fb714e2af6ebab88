//! `echo-app`: the echo server people run first, its line client and a load
//! generator, on [`loop_core`] and [`loop_net`].
//!
//! ```text
//! echo-app                      # serve on 0.0.0.0:8080
//! echo-app serve --port 0 --workers 2 --idle-timeout 60 --stats 5
//! echo-app client --addr 127.0.0.1:8080
//! echo-app bench --addr 127.0.0.1:8080 --conns 50 --size 64 --duration 10 --mode pingpong
//! ```
//!
//! The same from Rust: a server on a free port, the line client against
//! it, then SIGINT (what Ctrl-C sends) for a graceful shutdown.
//!
//! ```
//! use echo_app::server::{serve, Exit, ServeConfig};
//! use rustix::process::{getpid, kill_process, Signal};
//! use std::sync::mpsc;
//!
//! let cfg = ServeConfig {
//!     addr: "127.0.0.1:0".parse()?,
//!     workers: 1,
//!     max_connections: None,
//!     idle_timeout: None,
//!     stats_every: None,
//!     shutdown_timeout: None,
//!     udp: true,
//! };
//! let (tx, rx) = mpsc::channel();
//! let server = std::thread::spawn(move || serve(&cfg, |addr| tx.send(addr).unwrap()));
//! let addr = rx.recv()?; // the port the kernel picked
//!
//! let mut echoed = Vec::new();
//! echo_app::client::run(&addr.to_string(), &b"hello\nworld\n"[..], &mut echoed)?;
//! assert_eq!(echoed, b"hello\nworld\n");
//!
//! // UDP echo on the same port (RFC 862): the datagram comes back whole.
//! let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
//! udp.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
//! udp.send_to(b"ping", addr)?;
//! let mut buf = [0u8; 16];
//! let (n, from) = udp.recv_from(&mut buf)?;
//! assert_eq!((&buf[..n], from), (&b"ping"[..], addr));
//!
//! kill_process(getpid(), Signal::INT)?; // as Ctrl-C: drain, then return
//! let summary = server.join().unwrap()?;
//! assert_eq!(summary.exit, Exit::Clean);
//! assert_eq!((summary.accepted, summary.bytes_in, summary.open), (1, 16, 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`server`]: N worker loops sharing the port (`SO_REUSEPORT`), one
//!   shared read buffer per loop, `try_write` first, backpressure by
//!   `read_stop`, half-close, idle timeout, graceful shutdown on
//!   SIGINT/SIGTERM;
//! - [`cluster`]: `--processes N`, the server as a primary and N worker
//!   processes accepting on one listening socket passed over IPC;
//! - [`client`]: the classic line client over std blocking I/O;
//! - [`mod@bench`]: pingpong, stream and idle load on the loop, every echoed
//!   byte verified, latency in an HDR histogram;
//! - [`error`]: one-line errors (`listen 0.0.0.0:8080: address already in
//!   use`).
//!
//! `docs/echo.md` in the repository follows one connection from `socket()`
//! to `close()` with the system calls `strace -f` shows.
//!
//! # Why the libuv-level API
//!
//! The server uses loop-net's [`loop_net::Listener`] and
//! [`loop_net::Stream`], not the Node.js-level `Server`/`Socket`: an echo
//! needs no event emitter, and the libuv level gives exactly the control
//! the hot path wants: the read callback gets a slice of the loop's one
//! read buffer, `try_write` sends straight from it, only an unsent rest is
//! copied (with a write callback, the only place backpressure needs one),
//! and `read_stop` / `read_start` bound the queue. Per connection the server
//! keeps one 24-byte entry of its own next to loop-net's, indexed by its
//! stream's slot, so that its read callback captures nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod bench_udp;
pub mod client;
pub mod cluster;
pub mod error;
pub mod server;
pub mod sys;

pub use error::{Error, Result};
