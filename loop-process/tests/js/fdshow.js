// What /proc shows of a listening socket crossing processes (docs/process.md
// section 6): `node fdshow.js target/debug/examples/ipc_echo` prints the
// parent's and the child's fds before and after the child gets the
// server, and `ss`'s view of the one socket in two processes.
const { spawn, execSync } = require('child_process'); const net = require('net');
const child = spawn(process.argv[2], [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const ls = (pid) => execSync(`ls -l /proc/${pid}/fd | awk 'NR>1{print $9, $10, $11}'`).toString();
const server = net.createServer();
server.listen(0, '127.0.0.1', () => {
  const before = ls(child.pid);
  child.send('server', server);
  child.once('message', () => {
    console.log('parent', process.pid, 'server fd', server._handle.fd, '\n' + ls(process.pid));
    console.log('child before\n' + before);
    console.log('child after\n' + ls(child.pid));
    execSync(`ss -ltnp | grep ${server.address().port} || true`, { stdio: 'inherit' });
    server.close(); child.disconnect();
  });
});
