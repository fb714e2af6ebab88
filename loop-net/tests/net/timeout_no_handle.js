// The Node.js side of loop-net/tests/node_ports.rs::timeout_no_handle_matches_node
// (Node's test-net-timeout-no-handle.js, its events printed): the idle
// timeout of a socket that never connected still fires.
const net = require('net');
const log = (s) => console.log(s);
const socket = new net.Socket();
socket.setTimeout(50);
socket.on('timeout', () => log(`timeout connecting=${socket.connecting} destroyed=${socket.destroyed}`));
socket.on('connect', () => log('connect'));
// The timeout's timer is unreferenced: this one keeps the process alive.
setTimeout(() => log('done'), 200);
