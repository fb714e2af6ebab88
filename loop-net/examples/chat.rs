//! A line-based chat server: every line a client sends goes to every other
//! client and to a log file; a client silent for 30 s is disconnected
//! (even though it keeps receiving), so is one that reads too slowly;
//! stats go to stderr every 10 s; Ctrl-C says goodbye, drains and exits.
//!
//! Try it: `cargo run -p loop-net --example chat -- 7000 /tmp/chat.log`,
//! then `nc 127.0.0.1 7000` in two terminals. `/nick NAME` renames you.

// smoke: server (scripts/check.sh starts it, waits for its line, stops it)

use loop_core::{Loop, RunMode, Signal, SignalId};
use loop_fs::{WriteStream, WriteStreamOptions};
use loop_net::{Server, ServerOptions, Socket};

/// Disconnect a client idle (not sending) this long.
const IDLE_MS: u32 = 30_000;
/// A client this far behind on what we sent it is too slow: disconnected.
const MAX_BEHIND: usize = 256 * 1024;
const MAX_LINE: usize = 4096;
/// How long a goodbye may take before the socket is destroyed.
const GOODBYE_MS: u64 = 2_000;

struct Chat {
    server: Server,
    clients: Vec<Socket>,
    log: WriteStream,
    signal: Option<SignalId>,
    stopping: bool,
    next_id: u64,
    lines: u64,
}

/// Each socket's own record, found with `sock.data()`.
struct Client {
    nick: String,
}

fn nick(lp: &Loop<Chat>, s: Socket) -> String {
    s.data::<Client, _>(lp)
        .map_or_else(|| "?".into(), |c| c.nick.clone())
}

/// Sends `text` to every client but `from`; drops the ones too far behind.
fn broadcast(lp: &mut Loop<Chat>, chat: &mut Chat, from: Option<Socket>, text: &str) {
    chat.log.write(lp, text);
    let mut slow = Vec::new();
    for &peer in chat.clients.iter().filter(|&&p| Some(p) != from) {
        peer.write(lp, text);
        if peer.writable_length(lp) > MAX_BEHIND {
            slow.push(peer);
        }
    }
    for peer in slow {
        leave(lp, chat, peer, "too slow");
        // Never write after `end`: it would destroy the socket at once.
        peer.destroy(lp);
    }
}

/// Takes `s` off the broadcast list (once), telling the others.
fn leave(lp: &mut Loop<Chat>, chat: &mut Chat, s: Socket, why: &str) {
    let Some(i) = chat.clients.iter().position(|&c| c == s) else {
        return;
    };
    chat.clients.swap_remove(i);
    let text = format!("* {} left ({why})\n", nick(lp, s));
    broadcast(lp, chat, None, &text);
}

fn on_line(lp: &mut Loop<Chat>, chat: &mut Chat, s: Socket, line: &[u8]) {
    let line = String::from_utf8_lossy(line);
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    chat.lines += 1;
    if let Some(new) = line.strip_prefix("/nick ") {
        let old = nick(lp, s);
        if let Some(c) = s.data_mut::<Client, _>(lp) {
            c.nick = new.trim().to_string();
        }
        broadcast(lp, chat, None, &format!("* {old} is now {}\n", new.trim()));
    } else {
        let text = format!("<{}> {line}\n", nick(lp, s));
        broadcast(lp, chat, Some(s), &text);
    }
}

fn on_connection(lp: &mut Loop<Chat>, chat: &mut Chat, s: Socket) {
    if chat.stopping {
        s.end_with(lp, "server shutting down\n");
        return;
    }
    chat.next_id += 1;
    s.set_data(
        lp,
        Client {
            nick: format!("guest{}", chat.next_id),
        },
    );
    s.write(
        lp,
        format!("welcome, {}; {} here\n", nick(lp, s), chat.clients.len()),
    );
    broadcast(lp, chat, None, &format!("* {} joined\n", nick(lp, s)));
    chat.clients.push(s);
    s.on_line(lp, MAX_LINE, on_line);
    s.set_read_timeout(lp, IDLE_MS);
    s.on_timeout(lp, |lp, chat, s| {
        leave(lp, chat, s, "idle");
        s.end_with_deadline(lp, GOODBYE_MS);
    });
    s.on_end(lp, |lp, chat, s| leave(lp, chat, s, "quit"));
    s.on_error(lp, |lp, chat, s, e| leave(lp, chat, s, &e.to_string()));
    s.on_close(lp, |lp, chat, s, _| leave(lp, chat, s, "closed"));
}

/// First Ctrl-C: no new clients, say goodbye, let the writes drain, then
/// close the log; `run` returns when the last socket is closed. Second
/// Ctrl-C: stop now.
fn on_sigint(lp: &mut Loop<Chat>, chat: &mut Chat, _: Signal) {
    if chat.stopping {
        eprintln!("second Ctrl-C: stopping now");
        lp.stop();
        return;
    }
    chat.stopping = true;
    eprintln!("shutting down: {} clients", chat.clients.len());
    chat.server.close(lp);
    for s in std::mem::take(&mut chat.clients) {
        s.end_with(lp, "server shutting down, bye\n");
        s.destroy_soon(lp);
    }
    chat.log.end(lp);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(0), |p| p.parse())?;
    let log_path = args
        .next()
        .map_or_else(|| std::env::temp_dir().join("chat.log"), Into::into);

    let mut lp: Loop<Chat> = Loop::new()?;
    let log = WriteStream::open(
        &mut lp,
        &log_path,
        WriteStreamOptions {
            append: true,
            ..Default::default()
        },
    );
    log.on_close(&mut lp, |lp, chat| {
        // The log is the last thing we wait for: the watcher may go.
        if let Some(sig) = chat.signal.take() {
            let _ = lp.close(sig, None);
        }
    });
    let server = Server::new(&mut lp, ServerOptions::default());
    server.on_connection(&mut lp, on_connection);
    server.on_listening(&mut lp, move |lp, _| {
        println!("listening on {}", server.address(lp).expect("listening"));
    });
    // No on_error: a port in use comes back from `run` as an error.
    server.listen(&mut lp, port, Some("127.0.0.1"))?;

    let stats = lp.set_interval(10_000, |lp, chat, _| {
        let open = loop_net::stats(lp).streams;
        eprintln!(
            "{} clients, {open} connections, {} lines",
            chat.clients.len(),
            chat.lines
        );
    });
    lp.timeout_unref(stats);
    let signal = lp.on_signal(Signal::Int, on_sigint)?;

    let mut chat = Chat {
        server,
        clients: Vec::new(),
        log,
        signal: Some(signal),
        stopping: false,
        next_id: 0,
        lines: 0,
    };
    lp.run(RunMode::Default, &mut chat)?;
    eprintln!(
        "bye ({} lines logged to {})",
        chat.lines,
        log_path.display()
    );
    Ok(())
}
