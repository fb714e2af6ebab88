// process.exit() from a timer with no argument uses exitCode; what is
// queued does not run; 'exit' runs once, with that code; exit() again
// inside 'exit' changes the status.
process.on('exit', (c) => {
  console.log('exit', c);
  process.exit(6);
});
process.exitCode = 2;
setTimeout(() => {
  process.nextTick(() => console.log('tick: must not run'));
  setImmediate(() => console.log('immediate: must not run'));
  console.log('calling exit');
  process.exit();
  console.log('after exit: must not print');
}, 1);
