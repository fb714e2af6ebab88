process.on('exit', (code) => console.log('exit', code));
setTimeout(() => console.log('timer: must not run'), 0);
process.nextTick(() => {
  console.log('tick');
  process.exit(5);
  console.log('after exit: must not run');
});
