// An uncaught exception in a tick: the ticks after it and the microtasks
// do not run; 'exit' with 1.
process.on('exit', (code) => console.log('exit', code));
process.nextTick(() => console.log('tick 1'));
process.nextTick(() => { throw new RangeError('boom in a tick'); });
process.nextTick(() => console.log('tick 3: must not run'));
Promise.resolve().then(() => console.log('promise: must not run'));
setImmediate(() => console.log('immediate: must not run'));
