// Timers of one duration run in insertion order, lists by expiry; a timer
// scheduled from a timer of the same list waits for the next run.
const log = [];
for (const ms of [30, 10, 20, 10, 30, 20]) setTimeout(() => log.push(`t${ms}`), ms);
setTimeout(() => {
  log.push('a50');
  setTimeout(() => log.push('from a50 (50)'), 50);
  setTimeout(() => log.push('from a50 (20)'), 20);
}, 50);
setTimeout(() => log.push('b50'), 50);
const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
spin(60);
process.on('exit', () => console.log(log));
