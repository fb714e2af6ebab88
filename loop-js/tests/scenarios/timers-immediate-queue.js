// Immediates queued from an immediate run in the next iteration, after
// the timers due then; ticks and promises drain between immediates.
const log = [];
setImmediate(() => {
  log.push('i1');
  setImmediate(() => log.push('i1 -> i (next loop)'));
  process.nextTick(() => log.push('i1 tick'));
  Promise.resolve().then(() => log.push('i1 promise'));
});
setImmediate(() => {
  log.push('i2');
  setTimeout(() => log.push('timeout from i2 (due: before the next check phase)'), 0);
  const end = Date.now() + 5;
  while (Date.now() < end);
});
process.on('exit', () => console.log(log.join('\n')));
