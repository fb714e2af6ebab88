// Connection refused, and an unknown module: errors as Node reports them.
const net = require('net');
const s = net.connect(1, '127.0.0.1');
s.on('error', (e) => console.log('error', e.code, e.errno, e.syscall, e.address, e.port, e.message));
s.on('close', (hadError) => console.log('close', hadError));
const srv = net.createServer();
srv.close((err) => console.log('close a server not listening:', err.code, err.message));
console.log('net.isIP', net.isIP('127.0.0.1'), net.isIP('::1'), net.isIP('x'));
