// The Node.js side of loop-net/tests/node_ports.rs::pause_while_connecting_matches_node
// (Node's test-net-pause-resume-connecting.js and test-net-settimeout.js,
// their events printed): a socket paused while connecting gets its data
// only after resume(); setTimeout(20) then setTimeout(0) never times out.
const net = require('net');
const log = (s) => console.log(s);
const srv = net.createServer((c) => { c.end('hello'); });
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const a = net.connect(port, '127.0.0.1');
  a.pause();
  a.on('connect', () => log(`a connect paused=${a.isPaused()}`));
  a.on('data', (d) => log(`a data ${d}`));
  a.on('end', () => log('a end'));
  a.on('close', () => { log('a close'); b(); });
  setTimeout(() => { log('a resume'); a.resume(); }, 50);
  function b() {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(20);
    s.setTimeout(0);
    s.on('timeout', () => log('b timeout'));
    s.on('data', (d) => log(`b data ${d}`));
    s.on('close', () => { log('b close'); srv.close(() => log('server closed')); });
  }
});
