// The Node.js side of loop-net/tests/node_ports.rs::can_reset_timeout_matches_node
// (Node's test-net-can-reset-timeout.js, its events printed): a write in
// the 'timeout' handler re-arms the timeout; the client reads it and ends.
const net = require('net');
const log = (s) => console.log(s);
const server = net.createServer((stream) => {
  stream.setTimeout(100);
  stream.resume();
  stream.once('timeout', () => {
    log('timeout');
    stream.write('WHAT.');
  });
  stream.on('end', () => {
    log('server side end');
    stream.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.createConnection(server.address().port, '127.0.0.1');
  c.on('data', (d) => { log(`client data ${d}`); c.end(); });
  c.on('end', () => { log('client side end'); server.close(); });
});
