// Modeled on test-next-tick-when-exiting.js: ticks queued in an 'exit'
// handler never run.
process.on('exit', (code) => {
  console.log('exit', code, process._exiting);
  process.nextTick(() => console.log('tick in exit: must not run'));
  setTimeout(() => console.log('timer in exit: must not run'), 0);
  Promise.resolve().then(() => console.log('promise in exit: must not run'));
});
process.nextTick(() => console.log('tick before exit'));
