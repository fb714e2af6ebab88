// The net surface in one script: setEncoding, pipe between sockets (a
// relay in front of an upper-casing server), write's return value and
// 'drain' under backpressure, pause/resume, bytesRead/bytesWritten,
// setTimeout with its 'timeout' event, setNoDelay/setKeepAlive chaining,
// destroy, server.close with its callback.
const net = require('net');
const log = [];
const upper = net.createServer((c) => {
  c.setEncoding('utf8');
  c.on('data', (d) => c.write(d.toUpperCase()));
  c.on('end', () => c.end());
});
const relay = net.createServer((c) => {
  const up = net.connect(upper.address().port, '127.0.0.1');
  c.pipe(up).pipe(c);
});
const BIG = 4 * 1024 * 1024;
const sink = net.createServer((c) => {
  c.pause();
  let got = 0;
  // (Not logged: whether the kernel's buffers took all of it before the
  // resume depends on their sizes.)
  setTimeout(() => c.resume(), 50);
  c.on('data', (d) => { got += d.length; });
  c.on('end', () => {
    log.push(`sink got ${got} ${got === BIG} read ${c.bytesRead === BIG}`);
    c.end();
  });
});
const idle = net.createServer((c) => {
  c.on('end', () => c.end());
});
let listening = 0;
for (const s of [upper, relay, sink, idle]) s.listen(0, '127.0.0.1', () => { if (++listening === 4) start(); });
function start() {
  const steps = [throughRelay, backpressure, timeout];
  const next = () => {
    const step = steps.shift();
    if (step) step(next);
    else for (const s of [upper, relay, sink, idle]) s.close(() => log.push('server closed'));
  };
  next();
}
function throughRelay(next) {
  const c = net.connect(relay.address().port, '127.0.0.1', () => {
    log.push(`relay connect ${c.setNoDelay(true) === c} ${c.setKeepAlive(true, 1000) === c}`);
    c.write('hello ');
    c.write('relay');
  });
  c.setEncoding('utf8');
  let text = '';
  c.on('data', (d) => {
    text += d;
    if (text.length === 11) {
      log.push(`data is a ${typeof d}`);
      c.end();
    }
  });
  c.on('end', () => log.push(`relay back: ${text}`));
  c.on('close', (hadError) => {
    log.push(`relay close ${hadError} written ${c.bytesWritten} read ${c.bytesRead}`);
    next();
  });
}
function backpressure(next) {
  const c = net.connect(sink.address().port, '127.0.0.1', () => {
    const ok = c.write(Buffer.alloc(BIG, 97), () => log.push('big write callback'));
    log.push(`big write returned ${ok} writableLength>0 ${c.writableLength > 0}`);
    c.once('drain', () => {
      log.push(`drain, written ${c.bytesWritten}`);
      c.end();
    });
  });
  c.on('close', () => { log.push('sink client closed'); next(); });
}
function timeout(next) {
  const c = net.connect(idle.address().port, '127.0.0.1');
  c.setTimeout(30, () => log.push('setTimeout callback'));
  c.on('timeout', () => {
    log.push('timeout event');
    c.destroy();
  });
  c.on('close', (hadError) => {
    log.push(`idle close ${hadError} destroyed ${c.destroyed}`);
    next();
  });
}
process.on('exit', () => console.log(log.join('\n')));
