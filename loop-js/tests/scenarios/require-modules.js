// require: built-in modules (with and without node:), the main module's
// module/exports/__filename/__dirname, unknown modules.
const timers = require('timers');
const timers2 = require('node:timers');
console.log(typeof timers.setTimeout, timers === timers2, timers.setTimeout === setTimeout);
const path = require('path');
console.log(path.basename(__filename), path.basename(__dirname) !== '', module.id, require.main === module);
console.log(typeof exports, exports === module.exports, this === module.exports);
console.log(path.join('/a/b', '../c', './d'), path.extname('x.tar.gz'), path.dirname('/a/b/c'));
const { EventEmitter } = require('events');
const e = new EventEmitter();
e.once('x', (v) => console.log('once', v));
e.on('x', (v) => console.log('on', v));
e.emit('x', 1);
e.emit('x', 2);
console.log(e.listenerCount('x'));
try {
  require('no-such-module-anywhere');
} catch (err) {
  console.log(err.code, err.message.split('\n')[0]);
}
try {
  require('./no-such-file');
} catch (err) {
  console.log(err.code, err.message.split('\n')[0]);
}
const util = require('util');
console.log(util.format('%s=%d', 'x', 5), util.inspect({ a: [1, { b: 2 }] }, { depth: 0 }));
console.log(typeof process.argv[0], process.argv.length, typeof process.env.PATH);
console.log(typeof performance.now(), typeof Date.now(), performance.now() >= 0);
