// The Node.js side of loop-net/tests/node_ports.rs::timeout_after_reconnect_matches_node:
// destroy clears a socket's timeout for good (Node's `_destroy`): after
// connecting again it has none until setTimeout() again.
const net = require('net');
const log = (s) => console.log(s);
const quick = net.createServer((c) => c.end());
const silent = net.createServer((c) => { c.resume(); c.on('end', () => c.end()); });
quick.listen(0, '127.0.0.1', () => silent.listen(0, '127.0.0.1', () => {
  const s = new net.Socket();
  s.setTimeout(50);
  let round = 0;
  s.on('timeout', () => { log(`timeout ${round}`); s.end(); });
  s.on('end', () => log(`end ${round}`));
  s.on('close', () => {
    log(`close ${round}`);
    if (round++ === 0) {
      s.connect(silent.address().port, '127.0.0.1');
      // Without this the second connection would never time out.
      setTimeout(() => { log('no timeout after the reconnect'); s.setTimeout(50); }, 150);
    } else {
      quick.close();
      silent.close();
    }
  });
  s.resume();
  s.connect(quick.address().port, '127.0.0.1');
}));
