// Many immediates set and cleared (some from timers while none runs),
// cleared ones in between live ones, clearing the one after the running
// one, and an immediate set from an immediate running in the next
// iteration: the order and the count as in Node.
const log = [];
const cleared = [];
for (let i = 0; i < 3000; i++) {
  const im = setImmediate(() => log.push(`must not run ${i}`));
  if (i % 3 !== 0) clearImmediate(im);
  else cleared.push(im);
}
for (const im of cleared) clearImmediate(im);
let next;
setImmediate(() => {
  log.push('first');
  clearImmediate(next);
  setImmediate(() => log.push('set by first: next iteration'));
});
next = setImmediate(() => log.push('cleared by first: must not run'));
setImmediate(() => log.push('third'));
let n = 0;
const iv = setInterval(() => {
  for (let i = 0; i < 1500; i++) clearImmediate(setImmediate(() => log.push('never')));
  if (++n === 3) {
    clearInterval(iv);
    setImmediate((a, b) => log.push(`after the interval ${a} ${b}`), 'x', 'y');
  }
}, 5);
process.on('exit', () => console.log(log.join('\n')));
