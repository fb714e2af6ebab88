//! A line protocol with the ecosystem's codec, unchanged, on loop-net's
//! async streams: futures-util's `AsyncBufReadExt::lines` over a
//! `BufReader` reads the lines, `AsyncWriteExt` writes the answers; both
//! see only `futures-io`'s `AsyncRead`/`AsyncWrite` on `&AsyncStream`.
//!
//! One loop runs a server (it answers each line with its length and the
//! line reversed) and a client that sends a few lines, half-closes, and
//! prints the answers. Run it: `cargo run -p loop-net --example async_lines`.

use futures_util::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use futures_util::StreamExt;
use loop_core::{Loop, RunMode};
use loop_net::future::{AsyncListener, AsyncStream};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp: Loop<()> = Loop::new()?;
    let listener = AsyncListener::bind(&mut lp, "127.0.0.1:0".parse()?)?;
    let addr = listener.local_addr().as_inet().expect("a TCP address");

    // The server: one connection, line by line, until the client's EOF.
    let mut server = lp.spawn_local(&mut (), async move {
        let s = listener.accept().await?;
        let mut lines = BufReader::new(&s).lines();
        let mut out = &s;
        while let Some(line) = lines.next().await {
            let line = line?;
            let answer = format!(
                "{} {}\n",
                line.len(),
                line.chars().rev().collect::<String>()
            );
            out.write_all(answer.as_bytes()).await?;
        }
        out.close().await // the half-close: the client reads EOF
    });

    // The client: sends, half-closes, reads the answers to EOF.
    let conn = AsyncStream::connect(&mut lp, addr);
    let mut client = lp.spawn_local(&mut (), async move {
        let s = conn.await?;
        let mut out = &s;
        for line in ["hello", "async lines", "on the loop"] {
            out.write_all(format!("{line}\n").as_bytes()).await?;
        }
        out.close().await?;
        let mut answers = Vec::new();
        let mut lines = BufReader::new(&s).lines();
        while let Some(line) = lines.next().await {
            answers.push(line?);
        }
        Ok::<_, std::io::Error>(answers)
    });

    lp.run(RunMode::Default, &mut ())?;
    server.try_take().expect("the server ended")??;
    for a in client.try_take().expect("the client ended")?? {
        println!("{a}");
    }
    Ok(())
}
