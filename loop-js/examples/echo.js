// The echo server as JavaScript: `loop-js examples/echo.js` serves
// `nc localhost 8080` byte for byte as `node examples/echo.js` does
// (ECHO_PORT picks another port).
const net = require('net');

const port = Number(process.env.ECHO_PORT) || 8080;
const server = net.createServer((c) => c.pipe(c)).listen(port, () => {
  console.log(`listening on 0.0.0.0:${port}`);
});

process.on('SIGINT', () => {
  server.close(() => console.log('closed'));
});
