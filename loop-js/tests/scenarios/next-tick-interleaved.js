// JS ticks interleaved with ticks the runtime queues itself (a server's
// 'listening', a failed connect's 'error', server.close's callback): one
// FIFO, in the order queued, nested ticks at the end.
const net = require('net');
const log = [];
process.nextTick(() => log.push('t1'));
const server = net.createServer();
server.listen(0, () => {
  log.push('listening');
  process.nextTick(() => log.push('tick from listening'));
});
process.nextTick(() => {
  log.push('t2');
  process.nextTick(() => log.push('t2 -> tick'));
  server.close(() => {
    log.push('closed');
    process.nextTick(() => log.push('tick from closed'));
  });
  process.nextTick(() => log.push('t2 -> tick after close()'));
});
process.nextTick(() => log.push('t3'));
let n = 0;
function chain() {
  n += 1;
  if (n === 3) {
    const srv2 = net.createServer();
    srv2.close((err) => log.push(`close cb in the chain: ${err.code}`));
  }
  if (n < 6) process.nextTick(chain);
  log.push(`chain ${n}`);
}
process.nextTick(chain);
Promise.resolve().then(() => log.push('promise'));
process.on('exit', () => console.log(log.join('\n')));
