//! A child for a Node.js parent: started with an `'ipc'` stdio entry
//! (`spawn(path, [], {stdio: ['inherit', 'inherit', 'inherit', 'ipc']})`),
//! it finds its channel from `NODE_CHANNEL_FD` and
//!
//! - answers every message `m` with `{"echo": m}`;
//! - for a message that came with a `net.Server`, accepts connections on
//!   that server and echoes their bytes;
//! - for one with a `net.Socket`, echoes on that socket;
//! - for one with a `dgram.Socket`, sends each datagram back to its
//!   sender;
//! - on disconnect, stops accepting, closes its datagram sockets, and
//!   exits 0 once its connections have ended.
//!
//! ```sh
//! cargo build -p loop-process --example ipc_echo
//! node loop-process/tests/js/echo_parent.js target/debug/examples/ipc_echo
//! ```
//!
//! Run without a channel (`cargo run -p loop-process --example ipc_echo`),
//! it plays both parts: it starts `node tests/js/echo_parent.js` with
//! itself as that parent's child, and the parent prints what it saw.

use loop_core::{Loop, RunMode};
use loop_net::{DgramSocket, Server, Socket};
use loop_process::{Channel, Received};
use serde_json::json;

#[derive(Default)]
struct State {
    servers: Vec<Server>,
    dgrams: Vec<DgramSocket>,
}

fn echo(lp: &mut Loop<State>, sock: Socket) {
    sock.on_data(lp, |lp, _, sock, bytes| {
        sock.write(lp, bytes.to_vec());
    });
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp: Loop<State> = Loop::new()?;
    let Some(channel) = Channel::from_env(&mut lp)? else {
        // No Node.js parent: start one, with this program as its child.
        let parent = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/echo_parent.js");
        let status = std::process::Command::new("node")
            .arg(parent)
            .arg(std::env::current_exe()?)
            .status()?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("node {parent}: {status}").into())
        };
    };
    channel.on_message(&mut lp, |lp, st, ch, msg, handle| {
        match handle {
            Some(Received::Server(srv)) => {
                srv.on_connection(lp, |lp, _, sock| echo(lp, sock));
                st.servers.push(srv);
            }
            Some(Received::Socket(sock)) => echo(lp, sock),
            Some(Received::Dgram(sock)) => {
                sock.on_message(lp, |lp, _, sock, bytes, from| {
                    let to = from.address.to_string();
                    if let Err(e) = sock.send(lp, &[bytes], Some(from.port), Some(&to), None) {
                        eprintln!("ipc_echo: dgram send: {e}");
                    }
                });
                st.dgrams.push(sock);
            }
            None => {}
        }
        if let Err(e) = ch.send(lp, json!({ "echo": msg })) {
            eprintln!("ipc_echo: send: {e}");
        }
    });
    channel.on_disconnect(&mut lp, |lp, st, _| {
        for srv in st.servers.drain(..) {
            srv.close(lp);
        }
        for sock in st.dgrams.drain(..) {
            let _ = sock.close(lp, None);
        }
    });
    let mut st = State::default();
    lp.run(RunMode::Default, &mut st)?;
    Ok(())
}
