//! The echo server written with `async`/`await` on the loop's tasks:
//! an `accept().await` loop, and a task per connection with a read/write
//! loop; on the peer's FIN it finishes writing, then shuts down (the
//! half-close). Byte-exact; backpressure from `write_all` (it waits while
//! the write queue is over its high-water mark) and from reading (paused
//! while 64 KiB wait unread).
//!
//! Try it: `cargo run -p loop-net --example async_echo -- 7000` (no port:
//! a free one; a second argument sets the host, default 127.0.0.1), then
//! `nc 127.0.0.1 7000`. `scripts/bench-echo.sh` runs it against the
//! callback echo-app.
//!
//! The connection reads with `read_chunk` into a `Vec` that trades
//! buffers with the stream: no copy out of the stream's buffer, and a
//! buffer that follows the traffic (an idle connection has none), where
//! `read(&mut [u8; N])` would keep N bytes per connection.

// smoke: server (scripts/check.sh starts it, waits for its line, stops it)

use loop_core::{task, Loop, RunMode, Signal};
use loop_net::future::{AsyncListener, AsyncStream};
use std::net::{IpAddr, SocketAddr};

/// One connection: echo until EOF, then half-close.
async fn serve(s: AsyncStream) -> loop_net::Result<()> {
    let mut buf = Vec::new();
    while s.read_chunk(&mut buf).await? > 0 {
        s.write_all(&buf).await?;
        buf.clear();
    }
    s.shutdown().await
}

/// Binds `addr` and spawns the accept loop on `lp`: the server runs
/// with the loop. The address listened on.
pub fn spawn_server(lp: &mut Loop<()>, addr: SocketAddr) -> loop_net::Result<String> {
    let listener = AsyncListener::bind(lp, addr)?;
    let local = listener.local_addr().to_string();
    lp.spawn_local(&mut (), async move {
        loop {
            let s = match listener.accept().await {
                Ok(s) => s,
                // EMFILE and friends: the listener retries by itself.
                Err(e) => {
                    eprintln!("{e}");
                    continue;
                }
            };
            // One message in flight per client is the common case.
            task::with(|lp: &mut Loop<()>, _| {
                let _ = s.id().set_no_delay(lp, true);
            });
            // A reset peer ends its task; nothing else to do about it.
            task::spawn_local::<(), _>(async move {
                let _ = serve(s).await;
            })
            .detach();
        }
    })
    .detach();
    Ok(local)
}

#[allow(dead_code)] // tests/async_echo.rs includes this file for `spawn_server`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(0), |p| p.parse())?;
    let host: IpAddr = args.next().as_deref().unwrap_or("127.0.0.1").parse()?;

    let mut lp: Loop<()> = Loop::new()?;
    let local = spawn_server(&mut lp, SocketAddr::new(host, port))?;
    // SIGINT or SIGTERM ends the run: the process exits normally (a
    // profiler sees its end, the open connections close with the loop).
    for sig in [Signal::Int, Signal::Term] {
        let h = lp.on_signal(sig, |lp, _, _| lp.stop())?;
        lp.unref(h)?;
    }
    println!("listening on {local}");
    lp.run(RunMode::Default, &mut ())?;
    Ok(())
}
