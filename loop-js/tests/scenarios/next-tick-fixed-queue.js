// Modeled on test-next-tick-fixed-queue-regression.js: thousands of ticks
// queued at once (past any internal queue block size), nested ticks and
// promises among them; the order is checked in full.
const log = [];
for (let i = 0; i < 5000; i++) {
  process.nextTick((k) => {
    log.push(k);
    if (k % 1000 === 0) {
      process.nextTick(() => log.push(`nested ${k}`));
      Promise.resolve().then(() => log.push(`promise ${k}`));
    }
  }, i);
}
setImmediate(() => {
  // The same from a callback, with a long chain inside.
  let n = 0;
  const chain = () => { if (++n < 3000) process.nextTick(chain); else log.push('chain done'); };
  process.nextTick(chain);
  for (let i = 0; i < 2100; i++) process.nextTick(() => { if (i === 2099) log.push('2100 done'); });
});
process.on('exit', () => {
  let h = 0;
  for (const x of log) h = (h * 31 + String(x).length + (typeof x === 'number' ? x : 7)) % 1000000007;
  console.log(log.length, h, log.slice(4995, 5020).join(','), log.slice(-4).join(','));
});
