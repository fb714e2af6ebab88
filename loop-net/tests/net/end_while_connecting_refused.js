// The Node.js side of loop-net/tests/node_ports.rs::end_while_connecting_refused_matches_node
// (Node's test-net-connect-immediate-finish.js, its events printed):
// end() right after connect() to a refused port: 'error', then
// 'close'(true), never 'finish'. Run as `node THIS REFUSED_PORT`.
const net = require('net');
const log = (s) => console.log(s);
const c = net.connect(Number(process.argv[2]), '127.0.0.1');
['connect', 'end', 'finish'].forEach((e) => c.on(e, () => log(e)));
c.on('error', (e) => log(`error ${e.code}`));
c.on('close', (h) => log(`close ${h}`));
c.end();
log(`connecting=${c.connecting} ended=${c.writableEnded}`);
