//! A child for a Node.js parent: started with an `'ipc'` stdio entry
//! (`spawn(path, [], {stdio: ['inherit', 'inherit', 'inherit', 'ipc']})`),
//! it finds its channel from `NODE_CHANNEL_FD` and
//!
//! - answers every message `m` with `{"echo": m}`;
//! - for a message that came with a `net.Server`, accepts connections on
//!   that server and echoes their bytes;
//! - for one with a `net.Socket`, echoes on that socket;
//! - on disconnect, stops accepting, and exits 0 once its connections have
//!   ended.
//!
//! ```sh
//! cargo build -p loop-process --example ipc_echo
//! node loop-process/tests/js/echo_parent.js target/debug/examples/ipc_echo
//! ```

use loop_core::{Loop, RunMode};
use loop_net::{Server, Socket};
use loop_process::{Channel, Received};
use serde_json::json;

#[derive(Default)]
struct State {
    servers: Vec<Server>,
}

fn echo(lp: &mut Loop<State>, sock: Socket) {
    sock.on_data(lp, |lp, _, sock, bytes| {
        sock.write(lp, bytes.to_vec());
    });
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lp: Loop<State> = Loop::new()?;
    let Some(channel) = Channel::from_env(&mut lp)? else {
        return Err(
            "NODE_CHANNEL_FD is not set: start me from Node.js with an 'ipc' stdio entry".into(),
        );
    };
    channel.on_message(&mut lp, |lp, st, ch, msg, handle| {
        match handle {
            Some(Received::Server(srv)) => {
                srv.on_connection(lp, |lp, _, sock| echo(lp, sock));
                st.servers.push(srv);
            }
            Some(Received::Socket(sock)) => echo(lp, sock),
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
    });
    let mut st = State::default();
    lp.run(RunMode::Default, &mut st)?;
    Ok(())
}
