// A rejection from an async function in an immediate, unhandled: the
// error itself (not a wrapped one) is reported after the immediate's own
// drain, so the next immediate of the same check phase does not run.
process.on('exit', (code) => console.log('exit', code));
setImmediate(async () => {
  console.log('immediate 1');
  await null;
  throw new TypeError('async boom');
});
setImmediate(() => console.log('immediate 2: must not run'));
