// process.exitCode set in an 'exit' handler is the exit status; handlers
// see it; ticks queued in a handler never run; the beforeExit/exit order.
process.on('beforeExit', (c) => console.log('beforeExit', c, process.exitCode));
process.on('exit', (c) => {
  console.log('exit 1st', c, process.exitCode);
  process.exitCode = 9;
  process.nextTick(() => console.log('tick in exit: must not run'));
});
process.on('exit', (c) => console.log('exit 2nd', c, process.exitCode));
process.exitCode = 4;
setImmediate(() => console.log('immediate', process.exitCode));
