// The Node.js side of loop-net/tests/node_ports.rs::bytes_written_matches_node
// (Node's test-net-socket-byteswritten.js and test-net-write-arguments.js'
// empty write, their events printed): bytesWritten counts what write()
// took, queued while connecting included; an empty write calls back.
const net = require('net');
const log = (s) => console.log(s);
const server = net.createServer((s) => { s.resume(); s.on('end', () => s.end()); });
server.listen(0, '127.0.0.1', () => {
  const socket = net.connect(server.address().port, '127.0.0.1');
  socket.write('one');
  socket.write(Buffer.from('twø', 'utf8'));
  log(`after writes bytesWritten=${socket.bytesWritten} writableLength=${socket.writableLength}`);
  log(`empty write returned ${socket.write('', (e) => log(`empty write cb ${e}`))}`);
  socket.on('connect', () => log(`connect bytesWritten=${socket.bytesWritten}`));
  socket.on('finish', () => log(`finish bytesWritten=${socket.bytesWritten}`));
  socket.on('end', () => log(`end bytesWritten=${socket.bytesWritten}`));
  socket.on('close', () => { log(`close bytesWritten=${socket.bytesWritten}`); server.close(); });
  socket.end();
});
