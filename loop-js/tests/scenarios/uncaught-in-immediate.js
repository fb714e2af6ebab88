// An uncaught exception in an immediate: the next immediate of the same
// check phase does not run.
process.on('exit', (code) => console.log('exit', code));
setImmediate(() => { console.log('immediate 1'); throw new Error('boom in an immediate'); });
setImmediate(() => console.log('immediate 2: must not run'));
