// A rejection from an async function in an immediate, unhandled: the
// error (not a wrapped one) is reported; the next immediate has run
// (rejections are processed after the drain, not at once)? No: Node
// processes them after the immediate's own drain.
process.on('exit', (code) => console.log('exit', code));
setImmediate(async () => {
  console.log('immediate 1');
  await null;
  throw new TypeError('async boom');
});
setImmediate(() => console.log('immediate 2: must not run'));
