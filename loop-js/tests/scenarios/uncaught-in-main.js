// A throw from the main module: nothing queued runs.
process.on('exit', (code) => console.log('exit', code));
process.nextTick(() => console.log('tick: must not run'));
setTimeout(() => console.log('timer: must not run'), 0);
console.log('before the throw');
null.property; // TypeError
