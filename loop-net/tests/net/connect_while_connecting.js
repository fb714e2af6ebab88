// The Node.js side of loop-net/tests/node_ports.rs::connect_while_connecting_matches_node
// (Node's test-net-connect-call-socket-connect.js family, its events
// printed): connect() again while connecting is not thrown: 'error'
// EALREADY, then 'close'(true); 'connect' never comes.
const net = require('net');
const log = (s) => console.log(s);
const srv = net.createServer((c) => { log('server connection'); c.resume(); c.on('end', () => c.end()); });
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const s = net.connect(port, '127.0.0.1');
  s.on('connect', () => log('connect'));
  s.on('error', (e) => log(`error ${e.code}`));
  s.on('close', (h) => { log(`close ${h}`); srv.close(); });
  s.connect(port, '127.0.0.1');
  log('connect while connecting returned');
});
