// The Node.js side of loop-net/tests/node_ports.rs::allow_half_open_matches_node
// (Node's test-net-allow-half-open.js, its events printed): both ends
// half-open: the client ends, still reads the server's reply, then closes.
const net = require('net');
const log = (s) => console.log(s);
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('data', (d) => log(`server data ${d}`));
  s.on('end', () => { log('server end'); s.end('bye'); });
  s.on('close', (h) => { log(`server close ${h}`); server.close(); });
});
server.listen(0, '127.0.0.1', () => {
  const c = net.connect({ port: server.address().port, host: '127.0.0.1', allowHalfOpen: true });
  c.on('connect', () => { c.write('hi'); c.end(); });
  c.on('data', (d) => log(`client data ${d}`));
  c.on('finish', () => log('client finish'));
  c.on('end', () => { log(`client end writable=${c.writable}`); });
  c.on('close', (h) => log(`client close ${h}`));
});
