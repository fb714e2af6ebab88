// An uncaught exception in a timer: stderr gets the error, 'exit' runs with
// code 1, nothing still queued runs, exit status 1.
process.on('exit', (code) => console.log('exit', code));
setTimeout(() => {
  console.log('timer 1');
  process.nextTick(() => console.log('tick: must not run'));
  Promise.resolve().then(() => console.log('promise: must not run'));
  throw new Error('boom in a timer');
}, 1);
setTimeout(() => console.log('timer 2: must not run'), 1);
setImmediate(() => console.log('immediate: must not run (the timer is due first)'));
// (setTimeout 1 against setImmediate from main is a race in Node: spin.)
const end = Date.now() + 5;
while (Date.now() < end);
