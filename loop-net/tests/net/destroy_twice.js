// The Node.js side of loop-net/tests/node_ports.rs::destroy_twice_matches_node
// (Node's test-net-socket-destroy-twice.js, test-net-socket-connecting.js,
// test-net-bytes-stats.js and test-net-after-close.js, their events
// printed): connecting before and after 'connect', destroy() twice gives
// one 'close', the byte counts and addresses after 'close'.
const net = require('net');
const log = (s) => console.log(s);
const srv = net.createServer((s) => s.end('ab'));
srv.listen(0, '127.0.0.1', () => {
  const d = net.connect(srv.address().port, '127.0.0.1');
  d.on('connect', () => {
    log(`connect connecting=${d.connecting}`);
    d.write('xyz');
  });
  d.on('data', (b) => log(`data ${b} bytesRead=${d.bytesRead}`));
  d.on('finish', () => log('finish'));
  d.on('end', () => {
    log('end');
    d.destroy();
    d.destroy();
    log(`destroyed twice destroyed=${d.destroyed} bytesWritten=${d.bytesWritten}`);
  });
  d.on('close', (h) => {
    log(`close ${h} bytesRead=${d.bytesRead} bytesWritten=${d.bytesWritten} remote=${d.remoteAddress}`);
    srv.close();
  });
  log(`connecting=${d.connecting}`);
});
