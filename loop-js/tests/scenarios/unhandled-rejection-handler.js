// process.on('unhandledRejection') and 'uncaughtException' keep the process alive.
process.on('unhandledRejection', (reason, promise) => {
  console.log('unhandledRejection', reason instanceof Error ? reason.message : reason, promise instanceof Promise);
});
process.on('exit', (code) => console.log('exit', code));
Promise.reject('first');
async function f() { throw new RangeError('from async'); }
f();
setTimeout(() => console.log('timer runs'), 1);
