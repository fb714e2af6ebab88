// Modeled on test-timers-unref.js: unref'd timers do not keep the loop
// alive; ref() again does; hasRef tells.
const t = setTimeout(() => console.log('unref timeout must not run'), 1000);
t.unref();
console.log('hasRef after unref', t.hasRef());
const iv = setInterval(() => console.log('unref interval must not run'), 500).unref();
console.log('interval hasRef', iv.hasRef());
const back = setTimeout(() => console.log('ref again: runs'), 5);
back.unref();
back.ref();
console.log('hasRef after ref', back.hasRef());
const im = setImmediate(() => console.log('unref immediate still runs when the loop runs anyway'));
im.unref();
console.log('immediate hasRef', im.hasRef());
setTimeout(() => {
  // An unref'd timer that is due while the loop is alive runs.
  const u = setTimeout(() => console.log('unref but due: runs'), 1);
  u.unref();
  setTimeout(() => console.log('the keeper'), 20);
}, 10);
