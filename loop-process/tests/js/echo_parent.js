// A Node.js parent for the ipc_echo example (argv[2], then its
// arguments: `node echo_child.js` for the JavaScript twin): a message, a
// net.Server handle, a net.Socket handle, a bound dgram.Socket handle,
// then disconnect. Prints one
// line per event; the Rust test compares them.
'use strict';
const { spawn } = require('child_process');
const net = require('net');
const dgram = require('dgram');

const child = spawn(process.argv[2], process.argv.slice(3), { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
const log = (...a) => console.log(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
const replies = [];
let waiting = null;
child.on('message', (m) => {
  log('message', m);
  if (waiting) { const w = waiting; waiting = null; w(m); } else replies.push(m);
});
const reply = () => new Promise((res) => { if (replies.length) res(replies.shift()); else waiting = res; });
// Connects, writes `data` once `ready` resolves (after the connection
// was handed over: a Node socket reads as soon as it exists), and
// resolves with what comes back before the peer's end.
const roundTrip = (host, port, data, ready = Promise.resolve()) => new Promise((res, rej) => {
  const c = net.connect(port, host);
  let got = '';
  c.on('data', (d) => { got += d; if (got.length >= data.length) c.end(); });
  c.on('error', rej);
  c.on('close', () => res(got));
  ready.then(() => c.write(data));
});

// Sends one datagram to `port` and resolves with the datagram that
// comes back (and whether it came from that port).
const dgramRoundTrip = (port, data) => new Promise((res, rej) => {
  const c = dgram.createSocket('udp4');
  c.on('error', rej);
  c.on('message', (d, r) => { c.close(); res(`${d} from-port=${r.port === port}`); });
  c.send(data, port, '127.0.0.1');
});

(async () => {
  child.send({ hello: [1, 'two'] });
  await reply();

  const server = net.createServer();
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  child.send('server', server);
  await reply();
  server.close();  // only the child's copy accepts from now on
  log('server echo', await roundTrip('127.0.0.1', port, 'through the server'));

  const own = net.createServer();
  await new Promise((res) => own.listen(0, '127.0.0.1', res));
  const conn = new Promise((res) => own.once('connection', res));
  let handed;
  const c2 = roundTrip('127.0.0.1', own.address().port, 'through the socket',
    new Promise((res) => { handed = res; }));
  child.send('socket', await conn);
  await reply();
  handed();
  own.close();
  log('socket echo', await c2);

  const udp = dgram.createSocket('udp4');
  await new Promise((res) => udp.bind(0, '127.0.0.1', res));
  const udpPort = udp.address().port;
  child.send('dgram', udp);
  await reply();
  udp.close();  // only the child's copy receives from now on
  log('dgram echo', await dgramRoundTrip(udpPort, 'through the dgram socket'));

  child.disconnect();
})();
child.on('disconnect', () => log('disconnect'));
child.on('exit', (code, signal) => log('exit', code, signal));
child.on('close', (code) => log('close', code));
