// Modeled on test-microtask-queue-run.js and -run-immediate.js: promise
// reactions and queueMicrotask share one FIFO, run after every callback's
// ticks, and ticks queued by them run before the next microtask round.
const log = [];
function enqueue(tag, depth) {
  Promise.resolve().then(() => {
    log.push(`p ${tag} ${depth}`);
    if (depth > 0) enqueue(tag, depth - 1);
  });
}
setTimeout(() => { enqueue('timeout', 2); log.push('timeout'); }, 1);
setImmediate(() => { enqueue('immediate', 2); log.push('immediate'); });
queueMicrotask(() => {
  log.push('qm 1');
  process.nextTick(() => log.push('tick from qm 1'));
  queueMicrotask(() => log.push('qm nested'));
});
Promise.resolve().then(() => log.push('promise 1'));
queueMicrotask(() => log.push('qm 2'));
process.nextTick(() => {
  log.push('tick 1');
  Promise.resolve().then(() => log.push('promise from tick 1'));
  process.nextTick(() => log.push('tick from tick 1'));
});
const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
spin(5);
process.on('exit', () => console.log(log.join('\n')));
