// A Node.js child for a Rust parent (started with NODE_CHANNEL_FD): it
// answers each message with {got: m}, and {got: m, handle: name} for one
// that came with a handle; it serves one connection on a received
// net.Server with "from node child" and closes it; 'bye' disconnects.
'use strict';
process.on('message', (m, h) => {
  if (h) {
    h.once('connection', (s) => { s.end('from node child'); h.close(); });
    process.send({ got: m, handle: h.constructor.name });
  } else {
    process.send({ got: m });
  }
  if (m === 'bye') process.disconnect();
});
