// The JavaScript twin of the ipc_echo example: what Node.js itself does
// as that child. The interop test runs echo_parent.js with this child to
// get the expected lines, then with ipc_echo.
'use strict';
const dgram = require('dgram');
const servers = [];
const dgrams = [];
const echo = (s) => s.on('data', (d) => s.write(d));
process.on('message', (m, h) => {
  if (h && h.constructor.name === 'Server') {
    h.on('connection', echo);
    servers.push(h);
  } else if (h instanceof dgram.Socket) {
    h.on('message', (d, r) => h.send(d, r.port, r.address));
    dgrams.push(h);
  } else if (h) {
    echo(h);
  }
  process.send({ echo: m });
});
process.on('disconnect', () => {
  for (const s of servers) s.close();
  for (const s of dgrams) s.close();
});
