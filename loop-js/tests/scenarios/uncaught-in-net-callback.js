// An uncaught exception in a socket's 'data' handler ends the process.
process.on('exit', (code) => console.log('exit', code));
const net = require('net');
const server = net.createServer((c) => c.end('hi'));
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  c.on('data', (d) => {
    console.log('data', d.toString());
    setTimeout(() => console.log('timer: must not run'), 0);
    throw new Error('boom in a data handler');
  });
});
