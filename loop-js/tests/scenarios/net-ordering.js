// A server and a client in one process: listen's callback on the next
// tick, the client's connect, data both ways, write callbacks before
// 'drain', half-close, the close events, server.close's callback.
const net = require('net');
const log = [];
const server = net.createServer((c) => {
  log.push('server: connection');
  let got = '';
  c.setEncoding('utf8');
  c.on('data', (d) => { got += d; });
  c.on('end', () => {
    log.push(`server: end, got ${got.length} chars`);
    c.end(got.toUpperCase(), () => log.push('server: end callback'));
  });
  c.on('close', (hadError) => {
    log.push(`server: socket close ${hadError}`);
    server.close(() => log.push('server: closed'));
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port, family, address } = server.address();
  log.push(`listening ${family} ${address} ${port > 0}`);
  const client = net.connect(port, '127.0.0.1', () => {
    log.push(`client: connect ${client.remoteAddress} ${client.remotePort === port}`);
    const ok = client.write('hello, ', () => log.push('client: write 1 done'));
    log.push(`client: write returned ${ok}`);
    client.end('world', () => log.push('client: end callback'));
  });
  let back = '';
  client.on('data', (d) => { back += d.toString(); });
  client.on('end', () => log.push(`client: end ${back}`));
  client.on('close', (hadError) => log.push(`client: close ${hadError} read ${client.bytesRead}`));
});
process.nextTick(() => log.push('tick after listen()'));
process.on('exit', () => console.log(log.join('\n')));
