// The tick FIFO grows (past 1024, 2048, 4096 ticks) while several
// segments are pending: batches of thousands of ticks, with arguments and
// with ticks queued by ticks, separated by natives that queue loop-core
// ticks of their own (server.listen's 'listening'; a listen error);
// everything in Node's order.
const net = require('net');
const log = [];
let count = 0;
function batch(name, n) {
  for (let i = 0; i < n; i++) {
    process.nextTick((a, b) => {
      count++;
      if (i === 0 || i === n - 1) log.push(`${name} ${i} ${a} ${b}`);
      if (i % 1000 === 0) process.nextTick(() => log.push(`${name} nested ${i}`));
    }, name, i);
  }
}
batch('a', 3000);
const s1 = net.createServer().listen(0, '127.0.0.1');
s1.on('listening', () => { log.push('s1 listening'); batch('c', 2500); s1.close(); });
batch('b', 5000);
const s2 = net.createServer();
s2.on('error', (e) => log.push(`s2 error ${e.code}`));
s2.listen(0, '203.0.113.1'); // not a local address: EADDRNOTAVAIL on a tick
batch('d', 4000);
setImmediate(() => log.push(`immediate after ${count} ticks`));
process.on('exit', () => console.log(log.join('\n')));
