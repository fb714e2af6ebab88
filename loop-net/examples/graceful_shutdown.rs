//! A server that shuts down gracefully: on SIGINT (Ctrl-C) or SIGTERM it
//! stops accepting at once, lets the open connections finish, and exits
//! when the last one has closed; a second signal exits at once.
//!
//! Try it: `cargo run -p loop-net --example graceful_shutdown -- 7000`, then
//! `nc 127.0.0.1 7000` in another terminal, Ctrl-C the server (new
//! connections are refused, `nc` still gets its echoes), and close `nc`.

// smoke: server (scripts/check.sh starts it, waits for its line, stops it)

use loop_core::{Loop, RunMode};
use loop_net::{Server, ServerOptions};

#[derive(Default)]
struct State {
    signals: u32,
    served: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map_or(Ok(0), |p| p.parse())?;
    let mut lp: Loop<State> = Loop::new()?;

    let server = Server::new(&mut lp, ServerOptions::default());
    server.on_connection(&mut lp, |lp, st, sock| {
        st.served += 1;
        sock.on_data(lp, |lp, _, sock, bytes| {
            if !sock.write(lp, bytes) {
                sock.pause(lp);
            }
        });
        sock.on_drain(lp, |lp, _, sock| sock.resume(lp));
    });
    server.on_listening(&mut lp, move |lp, _| {
        println!("listening on {}", server.address(lp).expect("listening"));
    });
    server.listen(&mut lp, port, Some("127.0.0.1"))?;

    // Signals arrive as loop callbacks, in the poll phase.
    let mut watchers = Vec::new();
    for signum in [libc::SIGINT, libc::SIGTERM] {
        let w = lp.signal_init()?;
        lp.signal_start(w, signum, move |lp, st, _| {
            st.signals += 1;
            if st.signals > 1 {
                eprintln!("second signal: exiting now");
                std::process::exit(1);
            }
            let open = server.connection_count(lp);
            eprintln!("shutting down: no new connections, waiting for {open} open ones");
            server.close_with(lp, |_, st, _| {
                eprintln!("all connections closed ({} served)", st.served);
            });
        })?;
        // The watchers must not keep the loop alive once the server is gone.
        lp.unref(w)?;
        watchers.push(w);
    }

    let mut st = State::default();
    lp.run(RunMode::Default, &mut st)?;
    Ok(())
}
