// The Node.js side of loop-net/tests/node_ports.rs::pipe_connect_errors_matches_node
// (Node's test-net-pipe-connect-errors.js, its events printed): connect to
// a path that is a regular file (ECONNREFUSED) and to a missing path
// (ENOENT), then a Unix server's address and its socket file after close.
const net = require('net');
const fs = require('fs');
const path = require('path');
const log = (s) => console.log(s);
const dir = process.argv[2];
const file = path.join(dir, 'file');
fs.writeFileSync(file, 'x');
const a = net.connect(file);
a.on('error', (e) => log(`file error ${e.code} ${e.syscall}`));
a.on('close', (h) => {
  log(`file close ${h}`);
  const b = net.connect(path.join(dir, 'missing'));
  b.on('error', (e) => log(`missing error ${e.code} ${e.syscall}`));
  b.on('close', (h) => {
    log(`missing close ${h}`);
    const sock = path.join(dir, 's.sock');
    const srv = net.createServer();
    srv.listen(sock, () => {
      log(`address is path ${srv.address() === sock}`);
      srv.close(() => log(`after close exists=${fs.existsSync(sock)}`));
    });
  });
});
