// The Node.js side of loop-net/tests/node_dgram.rs::ordering: run with
// `node order.js > order.expected`; the Rust test does the same calls.
const dgram = require('dgram');
const log = (s) => console.log(s);
const server = dgram.createSocket('udp4');
const client = dgram.createSocket('udp4');
server.on('message', (msg, rinfo) => {
  log(`server message ${msg} ${rinfo.family} ${rinfo.address} size=${rinfo.size} from-client=${rinfo.port === client.address().port}`);
  process.nextTick(() => log('tick after message'));
  server.send(msg, rinfo.port, rinfo.address, (err, n) => log(`server sent ${err} ${n}`));
});
server.on('listening', () => log('server listening'));
server.bind(0, '127.0.0.1', () => {
  log('server bind cb');
  const port = server.address().port;
  client.on('listening', () => log('client listening'));
  client.send('ping', port, '127.0.0.1', (err, n) => log(`client sent ${err} ${n}`));
  log('after client send');
  client.on('message', (msg) => {
    log(`client message ${msg}`);
    client.close(() => log('client close cb'));
    server.close(() => log('server close cb'));
    log('after close');
    setImmediate(() => log('immediate'));
  });
});
try { server.bind(0); } catch (e) { log(`bind again: ${e.code} ${e.message}`); }
log('after bind');
process.nextTick(() => log('tick 1'));
const other = dgram.createSocket('udp4');
other.on('error', (e) => { log(`other error: ${e.code} ${e.message.replace(/:\d+$/, ':PORT')}`); other.close(); });
other.on('close', () => log('other close'));
server.on('listening', () => other.bind(server.address().port, '127.0.0.1'));
