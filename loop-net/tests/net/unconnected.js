// The Node.js side of loop-net/tests/node_reconnect.rs::unconnected_matches_node,
// run by that test: a write on a socket that never connected, and a
// destroy of one, against a nextTick and a setImmediate.
const net = require('net');
const log = (s) => console.log(s);
const events = (name, s) => {
  s.on('error', (e) => log(`${name} error ${e.code}`));
  s.on('close', (h) => log(`${name} close ${h} destroyed=${s.destroyed}`));
  s.on('finish', () => log(`${name} finish`));
};
const w = new net.Socket();
events('w', w);
const ok = w.write('x', (e) => log(`w write cb ${e.code}`));
log(`w write returned ${ok} destroyed=${w.destroyed}`);
const d = new net.Socket();
events('d', d);
d.destroy();
log(`d destroyed=${d.destroyed}`);
process.nextTick(() => log('tick'));
setImmediate(() => log('immediate'));
