// An uncaught exception in an fs callback (poll phase): what it queued and
// the other fs callbacks do not run.
process.on('exit', (code) => console.log('exit', code));
const fs = require('fs');
fs.stat(__filename, (err, st) => {
  console.log('stat', err, st.isFile());
  setImmediate(() => console.log('immediate: must not run'));
  process.nextTick(() => console.log('tick: must not run'));
  throw new Error('boom in an fs callback');
});
