// Modeled on test-queue-microtask-uncaught-asynchronously.js, without a
// handler: the error ends the process at the microtask.
process.on('exit', (code) => console.log('exit', code));
queueMicrotask(() => {
  console.log('qm 1');
  throw new TypeError('boom in a microtask');
});
queueMicrotask(() => console.log('qm 2: must not run'));
setTimeout(() => console.log('timer: must not run'), 0);
console.log('main');
