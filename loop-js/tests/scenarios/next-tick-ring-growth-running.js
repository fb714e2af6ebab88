// The tick FIFO grows while a segment runs and others are pending: a tick
// queues thousands (and one of those thousands more) while the ticks
// queued after a fence wait, with server.listen's 'listening' tick among
// them; the order is Node's, down to where 'listening' falls.
const fs = require('fs');
const log = [];
process.nextTick(() => {
  log.push('A');
  for (let i = 0; i < 5000; i++) process.nextTick((k) => { if (k % 1000 === 0 || k === 4999) log.push(`A-child ${k}`); if (k === 2500) for (let j = 0; j < 3000; j++) process.nextTick((m) => { if (m % 1000 === 0) log.push(`A-grandchild ${m}`); }, j); }, i);
});
fs.stat(__filename, () => log.push('stat cb'));
process.nextTick(() => {
  log.push('B');
  for (let i = 0; i < 3000; i++) process.nextTick((k) => { if (k % 1000 === 0) log.push(`B-child ${k}`); }, i);
});
const net = require('net');
const s = net.createServer().listen(0, '127.0.0.1', () => { log.push('listening'); s.close(); });
process.nextTick(() => log.push('C'));
Promise.resolve().then(() => log.push('promise'));
process.on('exit', () => console.log(log.join('\n')));
