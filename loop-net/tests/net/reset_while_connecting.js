// The Node.js side of loop-net/tests/node_ports.rs::reset_while_connecting_matches_node
// (Node's test-net-connect-reset-until-connected.js and
// test-net-socket-reset-send.js, their events printed): resetAndDestroy()
// while connecting waits for 'connect', then resets (the server reads
// ECONNRESET); on a socket with no connection it is ERR_SOCKET_CLOSED.
const net = require('net');
const log = (s) => console.log(s);
const srv = net.createServer((c) => {
  log('server connection');
  c.on('error', (e) => log(`server error ${e.code}`));
  c.on('close', (h) => { log(`server close ${h}`); srv.close(); });
  c.resume();
});
srv.listen(0, '127.0.0.1', () => {
  const s = net.connect(srv.address().port, '127.0.0.1');
  ['connect','end','finish'].forEach(e => s.on(e, () => log(e)));
  s.on('error', (e) => log(`error ${e.code}`));
  s.on('close', (h) => log(`close ${h}`));
  s.resetAndDestroy();
  log(`connecting=${s.connecting} destroyed=${s.destroyed}`);
  const u = new net.Socket();
  u.on('error', (e) => log(`u error ${e.code}`));
  u.on('close', (h) => log(`u close ${h}`));
  u.resetAndDestroy();
  log(`u destroyed=${u.destroyed}`);
});
