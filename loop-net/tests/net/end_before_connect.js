// The Node.js side of loop-net/tests/node_ports.rs::end_before_connect_matches_node
// (Node's test-net-end-without-connect.js, then connected): end() on a
// new net.Socket() waits for a connect; the FIN goes out after it.
const net = require('net');
const log = (s) => console.log(s);
const srv = net.createServer((s) => { s.on('end', () => log('server end')); s.resume(); });
srv.listen(0, '127.0.0.1', () => {
  const s = new net.Socket();
  ['connect','end','finish','close'].forEach(e => s.on(e, () => log(e)));
  s.on('error', (e) => log(`error ${e.code}`));
  s.end(); log(`ended=${s.writableEnded}`);
  s.connect(srv.address().port, '127.0.0.1');
  s.on('close', () => srv.close());
});
