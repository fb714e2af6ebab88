// fs callbacks complete in the poll phase: an immediate queued in one runs
// before any timer, and their ticks drain first; readFile (open, fstat,
// read, close) and errors as Node reports them.
const fs = require('fs');
const log = [];
fs.stat(__filename, (err, st) => {
  log.push(`stat ${err} ${st.isFile()}`);
  setTimeout(() => {
    log.push('timeout from stat');
    fs.readFile(__filename, 'utf8', (err2, text) => {
      log.push(`readFile ${err2} ${text.startsWith('//')}`);
      setImmediate(() => log.push('immediate from readFile'));
      fs.readFile('/no/such/file', (err3) => {
        log.push(`${err3.code} ${err3.errno} ${err3.syscall} ${err3.path} ${err3.message}`);
        fs.promises.stat('/also/missing').catch((e) => log.push(`promise ${e.code}`));
      });
    });
  }, 0);
  setImmediate(() => log.push('immediate from stat'));
  process.nextTick(() => log.push('tick from stat'));
});
process.on('exit', () => console.log(log.join('\n')));
