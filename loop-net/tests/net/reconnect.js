// The Node.js side of loop-net/tests/node_reconnect.rs::reconnect_matches_node,
// run by that test: `node reconnect.js REFUSED_PORT`.
// new net.Socket(), connect, 'close', connect again from 'close', then a
// refused connect, then the server closes.
const net = require('net');
const log = (s) => console.log(s);
const refused = Number(process.argv[2]);
const srv = net.createServer((c) => c.end('hi'));
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const s = new net.Socket();
  log(`new destroyed=${s.destroyed} connecting=${s.connecting}`);
  let round = 0;
  s.on('connect', () => log(`connect ${round}`));
  s.on('data', (d) => log(`data ${round} ${d}`));
  s.on('end', () => log(`end ${round}`));
  s.on('finish', () => log(`finish ${round}`));
  s.on('error', (e) => log(`error ${round} ${e.code}`));
  s.on('close', (hadError) => {
    log(`close ${round} ${hadError} destroyed=${s.destroyed} bytesRead=${s.bytesRead}`);
    round++;
    if (round === 1) {
      s.connect(port, '127.0.0.1');
      log(`again connecting=${s.connecting} destroyed=${s.destroyed}`);
    } else if (round === 2) {
      s.connect(refused, '127.0.0.1');
    } else {
      srv.close(() => log('server closed'));
    }
  });
  s.connect(port, '127.0.0.1');
  log(`connecting=${s.connecting}`);
});
