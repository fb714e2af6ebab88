// The Node.js side of loop-net/tests/node_dgram.rs::connect_matches_node:
// `node connect.js > connect.expected`.
const dgram = require('dgram');
const log = (s) => console.log(s);
const server = dgram.createSocket('udp4');
server.bind(0, '127.0.0.1', () => {
  const port = server.address().port;
  const c = dgram.createSocket('udp4');
  try { c.remoteAddress(); } catch (e) { log(`remoteAddress: ${e.code} ${e.message}`); }
  try { c.disconnect(); } catch (e) { log(`disconnect: ${e.code} ${e.message}`); }
  c.on('listening', () => log('client listening'));
  c.connect(port, '127.0.0.1', () => {
    log(`connect cb remote=${c.remoteAddress().port === port}`);
    // (msg, offset, length, port, address): Node's form that names a port.
    try { c.send('x', 0, 1, port, '127.0.0.1'); } catch (e) { log(`send with address: ${e.code} ${e.message}`); }
    c.send('hello', (err, n) => log(`sent ${err} ${n}`));
  });
  try { c.connect(port); } catch (e) { log(`connect again: ${e.code} ${e.message}`); }
  log('after connect');
  server.on('message', (msg) => {
    log(`server got ${msg}`);
    c.disconnect();
    try { c.remoteAddress(); } catch (e) { log(`after disconnect: ${e.code}`); }
    c.close(() => log('client closed'));
    try { c.close(); } catch (e) { log(`close again: ${e.code} ${e.message}`); }
    server.close(() => log('server closed'));
  });
});
// Closed while binding: the close waits for listening, then 'close'.
const early = dgram.createSocket('udp4');
early.bind(0, '127.0.0.1', () => log('early listening'));
early.close(() => log('early closed'));
log('main done');
