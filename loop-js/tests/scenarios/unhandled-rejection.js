// Node 20's --unhandled-rejections=throw: a rejection still unhandled
// after the microtask drain is an uncaught exception; one handled in the
// same drain is not.
process.on('exit', (code) => console.log('exit', code));
const p = Promise.reject(new Error('handled later in the same tick'));
process.nextTick(() => p.catch((e) => console.log('caught:', e.message)));
setTimeout(() => {
  console.log('timer 1');
  Promise.reject(42);
  process.nextTick(() => console.log('tick after the rejection still runs'));
}, 1);
setTimeout(() => console.log('timer 2: must not run'), 1);
