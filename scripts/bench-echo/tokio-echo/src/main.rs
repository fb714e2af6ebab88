//! A tokio echo server on the current-thread runtime, for comparison with
//! echo-app: one task per connection running `tokio::io::copy` from the
//! read half to the write half (tokio's documented echo; `copy` keeps an
//! 8 KiB buffer per connection and awaits each write, which is its
//! backpressure), then `shutdown` for the half-close; TCP_NODELAY as
//! echo-app.
//!
//! Usage: tokio-echo PORT (listens on 127.0.0.1, prints "listening on ...").

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (mut sock, _) = match listener.accept().await {
                Ok(c) => c,
                Err(_) => continue, // EMFILE and friends: keep serving
            };
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let (mut rd, mut wr) = sock.split();
                if tokio::io::copy(&mut rd, &mut wr).await.is_ok() {
                    let _ = wr.shutdown().await;
                }
            });
        }
    })
}
