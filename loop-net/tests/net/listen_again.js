// The Node.js side of loop-net/tests/node_ports.rs::listen_again_matches_node
// (Node's test-net-server-call-listen-multiple-times.js, its events
// printed): a second listen() is ERR_SERVER_ALREADY_LISTEN; listen()
// again after close() works.
const net = require('net');
const log = (s) => console.log(s);
const a = net.createServer();
a.listen(0);
try { a.listen(0); log('second listen: no throw'); } catch (e) { log(`second listen throws ${e.code}`); }
a.close(() => {
  log('a closed');
  const b = net.createServer();
  b.on('listening', () => log(`b listening ${b.listening}`));
  b.listen(0, '127.0.0.1', () => {
    b.close(() => {
      log(`b closed listening=${b.listening}`);
      b.listen(0, '127.0.0.1', () => { log(`b listening again ${b.listening}`); b.close(() => log('b closed again')); });
    });
  });
});
