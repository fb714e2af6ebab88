// Modeled on test-queue-microtask.js.
for (const bad of [undefined, null, 1, 'x', {}]) {
  try {
    queueMicrotask(bad);
  } catch (e) {
    console.log(e.name, e.code);
  }
}
const log = [];
queueMicrotask(function () { log.push(['this', this === undefined, arguments.length].join(' ')); });
Promise.resolve().then(() => log.push('promise'));
queueMicrotask(() => log.push('qm after promise'));
process.nextTick(() => log.push('tick first'));
setImmediate(() => console.log(log.join('\n')));
