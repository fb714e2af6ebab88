// The Node.js side of loop-net/tests/node_ports.rs::client_bind_twice_matches_node
// (Node's test-net-client-bind-twice.js and test-net-remote-address-port.js,
// their events printed): connecting from a local port another server
// listens on is 'error' `bind EADDRINUSE`, then 'close'(true); from a
// free local address it connects, and the addresses are the expected ones.
const net = require('net');
const log = (s) => console.log(s);
const server1 = net.createServer((c) => c.end());
server1.listen(0, '127.0.0.1', () => {
  const server2 = net.createServer(() => log('server2 connection'));
  server2.listen(0, '127.0.0.1', () => {
    const port1 = server1.address().port;
    const port2 = server2.address().port;
    const client = net.connect({ host: '127.0.0.1', port: port1, localAddress: '127.0.0.1', localPort: port2 }, () => log('connect'));
    client.on('error', (err) => log(`error ${err.code} ${err.message === `bind EADDRINUSE 127.0.0.1:${port2}`}`));
    client.on('close', (h) => {
      log(`close ${h}`);
      server2.close();
      const c = net.connect({ host: '127.0.0.1', port: port1, localAddress: '127.0.0.1', localPort: 0 });
      c.on('connect', () => log(`connect local=${c.localAddress} remote=${c.remoteAddress}:${c.remotePort === port1}`));
      c.on('close', (h) => { log(`close ${h}`); server1.close(); });
      c.resume();
    });
  });
});
