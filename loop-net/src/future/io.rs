//! The `futures-io` traits on [`AsyncStream`] (and on `&AsyncStream`, so
//! one task can read and write the same stream from two futures joined),
//! so that the ecosystem's codecs and protocol crates run on the loop
//! unchanged.
//!
//! - `poll_read` is [`AsyncStream::read`]; `poll_write` is one
//!   [`AsyncStream::write_all`] step (all of `buf`, or waits for the write
//!   queue to drain below the high-water mark); `poll_flush` waits for the
//!   write queue to be empty; `poll_close` is [`AsyncStream::shutdown`]
//!   (the half-close: the stream stays readable, and is closed when
//!   dropped).
//! - Errors are loop-net's [`crate::Error`] inside the `io::Error`
//!   (`io::Error::get_ref` gives it back): op, code and address kept.

use super::stream::AsyncStream;
use futures_io::{AsyncRead, AsyncWrite};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

fn io<T>(p: Poll<crate::Result<T>>) -> Poll<io::Result<T>> {
    p.map(|r| r.map_err(io::Error::from))
}

impl AsyncRead for &AsyncStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        io(self.poll_read_into(cx, buf))
    }
}

impl AsyncWrite for &AsyncStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        io(self.poll_write_all(cx, buf).map_ok(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io(self.poll_flush_queue(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io(self.poll_shutdown(cx))
    }
}

// The owned stream is the shared one: each call goes through `&AsyncStream`.
impl AsyncRead for AsyncStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }
}

impl AsyncWrite for AsyncStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}
