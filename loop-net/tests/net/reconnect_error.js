// The Node.js side of loop-net/tests/node_reconnect.rs::reconnect_error_matches_node,
// run by that test: Node's test/parallel/test-net-reconnect-error.js, its
// events printed: a socket of net.createConnection to a refused port
// connects again from 'close', 20 times.
const net = require('net');
const port = Number(process.argv[2]);
const N = 20;
let closes = 0;
const c = net.createConnection(port, '127.0.0.1');
c.on('connect', () => console.log('connect'));
c.on('error', (e) => console.log(`error ${e.code}`));
c.on('close', (hadError) => {
  console.log(`close ${hadError} ${c.destroyed}`);
  if (closes++ < N) {
    c.connect(port, '127.0.0.1');
    console.log(`again ${c.connecting}`);
  }
});
process.on('exit', () => console.log(`exit closes=${closes}`));
