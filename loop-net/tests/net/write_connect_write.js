// The Node.js side of loop-net/tests/node_ports.rs::write_connect_write_matches_node
// (Node's test-net-write-connect-write.js and test-net-end-destroyed.js,
// their events printed): a write queued while connecting and one from
// 'connect' leave together (one echo), and the socket is not destroyed
// yet in 'end'.
const net = require('net');
const log = (s) => console.log(s);
const server = net.createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1', () => {
  const conn = net.connect(server.address().port, '127.0.0.1');
  let received = '';
  conn.write('before');
  conn.on('connect', () => { conn.write(' after'); });
  conn.on('data', (buf) => { received += buf; log(`data ${buf}`); conn.end(); });
  conn.on('end', () => { log(`end received=${received} destroyed=${conn.destroyed}`); server.close(); });
  conn.on('close', () => log('close'));
});
