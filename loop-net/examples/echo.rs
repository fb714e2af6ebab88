//! A TCP echo server on loop-net's Node.js level.
//!
//! Try it: `cargo run -p loop-net --example echo -- 7000` (no port: a free
//! one), then `nc 127.0.0.1 7000` and type; Ctrl-C stops the server. A
//! second argument sets the host (default 127.0.0.1).
//!
//! Backpressure as in Node.js: when `write` returns false (the peer reads
//! slower than it sends), the socket pauses until `on_drain`.

// smoke: server (scripts/check.sh starts it, waits for its line, stops it)

use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(0), |p| p.parse())?;
    let host = args.next().unwrap_or_else(|| "127.0.0.1".into());

    let mut lp: Loop<()> = Loop::new()?;
    let server = Server::new(&mut lp, ServerOptions::default());
    server.on_connection(&mut lp, |lp, _, sock| {
        sock.on_data(lp, |lp, _, sock, bytes| {
            if !sock.write(lp, bytes) {
                sock.pause(lp); // the peer is slow: stop reading from it
            }
        });
        sock.on_drain(lp, |lp, _, sock| sock.resume(lp));
        sock.on_error(lp, |_, _, _, e| eprintln!("connection error: {e}"));
    });
    server.on_error(&mut lp, |_, _, e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    server.on_listening(&mut lp, move |lp, _| {
        println!("listening on {}", server.address(lp).expect("listening"));
    });
    server.listen(&mut lp, port, Some(&host))?;
    lp.run(RunMode::Default, &mut ())?;
    Ok(())
}
