//! Futures for TCP and Unix streams, for tasks of `loop_core::task`:
//! [`AsyncListener::accept`], [`AsyncStream::connect`], reading into the
//! caller's buffer, `write_all` with backpressure, `shutdown` (the
//! half-close), and the `futures-io` `AsyncRead`/`AsyncWrite` traits;
//! UDP's `send_to`/`recv_from` on [`AsyncUdp`].
//!
//! Built on the libuv-level layer ([`crate::Listener`], [`crate::Stream`])
//! and nothing else: a callback of that layer records what happened in a
//! cell shared with the future and wakes the task, which continues in the
//! microtask drain right after that callback, where a JavaScript `await
//! socket.read()` continuation would run.
//!
//! ```
//! use loop_core::{task, Loop, RunMode};
//! use loop_net::future::{AsyncListener, AsyncStream};
//!
//! let mut lp: Loop<()> = Loop::new()?;
//! let l = AsyncListener::bind(&mut lp, "127.0.0.1:0".parse()?)?;
//! let addr = l.local_addr().as_inet().unwrap();
//! // An echo of one connection, until the peer's FIN; then half-close.
//! lp.spawn_local(&mut (), async move {
//!     let s = l.accept().await.expect("accepted");
//!     let mut buf = [0u8; 1024];
//!     loop {
//!         let n = s.read(&mut buf).await.expect("read");
//!         if n == 0 { break }
//!         s.write_all(&buf[..n]).await.expect("written");
//!     }
//!     s.shutdown().await.expect("shut down");
//! }).detach();
//! let client = AsyncStream::connect(&mut lp, addr);
//! let mut got = lp.spawn_local(&mut (), async move {
//!     let s = client.await.expect("connected");
//!     s.write_all(b"hello").await.expect("written");
//!     s.shutdown().await.expect("shut down");
//!     let mut got = Vec::new();
//!     while s.read_chunk(&mut got).await.expect("read") > 0 {}
//!     got
//! });
//! lp.run(RunMode::Default, &mut ())?;
//! assert_eq!(got.try_take().unwrap().unwrap(), b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The model
//!
//! - **Made with the loop, used in its tasks.** Constructors take the
//!   `&mut Loop<D>` (outside a task, or inside `task::with`), so the types
//!   are not generic over the state: they keep the loop operations of `D`
//!   in a static table and reach the loop, while polled, through
//!   `task::with_any_loop`. A future polled outside a task of its loop is
//!   an `EINVAL` error naming the operation.
//! - **A connect starts when it is called** (as `net.connect`), an accept
//!   queue fills as connections come, reading starts at the first read.
//! - **Cancel-safety.** Dropping `accept`, `read`, `read_chunk`,
//!   `write_all` (while it waits) loses and writes nothing; dropping a
//!   `connect` closes the stream; a dropped `shutdown` still shuts down
//!   (it was requested), and the next `shutdown` gives its result.
//! - **Backpressure both ways.** Reading pauses while
//!   [`READ_HIGH_WATER`] bytes wait unread; `write_all` waits while more
//!   than [`WRITE_HIGH_WATER`] bytes are queued.
//! - **Errors** are loop-net's [`crate::Error`] (`connect ECONNREFUSED
//!   127.0.0.1:9`, `read ECONNRESET`); through `futures-io` they are the
//!   `io::Error`'s inner error.
//!
//! # What differs from tokio
//!
//! One task drives one stream at a time, as a tokio `TcpStream` split in
//! halves: one reader and one writer may wait at once (on `&AsyncStream`),
//! a second reader replaces the first one's wake-up. A `write_all` is
//! ready once its buffer is handed over to the write queue, not sent
//! (Node's `write` returns likewise): [`AsyncStream::flush`] waits until
//! it is sent.

mod io;
mod listener;
mod ops;
mod stream;
mod udp;

pub use listener::{Accept, AsyncListener, ACCEPT_QUEUE};
pub use stream::{
    AsyncStream, Connect, Flush, Read, ReadChunk, Shutdown, WriteAll, READ_HIGH_WATER,
    READ_LOW_WATER, WRITE_HIGH_WATER,
};
pub use udp::{AsyncUdp, RecvFrom, SendTo, RECV_QUEUE};
