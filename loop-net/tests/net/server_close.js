// The Node.js side of loop-net/tests/node_ports.rs::server_close_matches_node
// (Node's test-net-server-close.js, its events printed): close() with two
// connections, then destroy them: 'close' of the server on the next tick
// (nothing left), before the sockets' (their handles' close phase).
const net = require('net');
const log = (s) => console.log(s);
const sockets = [];
const server = net.createServer((c) => {
  c.on('close', (h) => log(`server socket close ${h}`));
  sockets.push(c);
  if (sockets.length === 2) {
    server.close(() => log("server close cb"));
    log(`listening after close=${server.listening}`);
    sockets.forEach((c) => c.destroy());
  }
});
server.on('close', () => log('server close'));
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  for (const n of ['a', 'b']) {
    const c = net.createConnection(port, '127.0.0.1');
    c.on('end', () => log(`${n} end`));
    c.on('close', (h) => log(`${n} close ${h}`));
    c.on('error', (e) => log(`${n} error ${e.code}`));
  }
});
