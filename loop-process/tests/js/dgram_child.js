// A Node.js child for a Rust parent (started with NODE_CHANNEL_FD): for
// a message that came with a dgram.Socket it answers {got: m, type,
// port} and echoes one datagram to its sender on that socket, then
// closes it and disconnects.
'use strict';
const dgram = require('dgram');
process.on('message', (m, h) => {
  if (!(h instanceof dgram.Socket)) {
    process.send({ got: m, handle: h ? h.constructor.name : null });
    return;
  }
  h.once('message', (d, r) => {
    h.send(d, r.port, r.address, (err) => {
      if (err) throw err;
      h.close();
      process.disconnect();
    });
  });
  process.send({ got: m, type: h.type, port: h.address().port });
});
