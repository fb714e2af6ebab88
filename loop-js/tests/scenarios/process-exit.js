// process.exit(n) ends at once ('exit' handlers run, with n); exitCode;
// beforeExit can schedule more work.
let before = 0;
process.on('beforeExit', (code) => {
  console.log('beforeExit', code, before);
  if (++before < 3) setTimeout(() => console.log('work from beforeExit', before), 1);
});
process.on('exit', (code) => {
  console.log('exit', code, process.exitCode);
});
process.exitCode = 3;
setTimeout(() => {
  console.log('timer');
}, 1);
