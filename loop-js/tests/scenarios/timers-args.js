// Modeled on test-timers-args.js: extra arguments, and `this`.
function range(n) { return Array.from({ length: n }, (_, i) => i); }
function timeout(nargs) {
  const args = range(nargs);
  setTimeout(function (...got) {
    console.log('timeout', nargs, got.length === nargs && got.every((v, i) => v === i));
    if (nargs < 8) timeout(nargs + 1);
  }, 1, ...args);
}
function interval(nargs) {
  const args = range(nargs);
  const t = setInterval(function (...got) {
    clearInterval(this);
    console.log('interval', nargs, this === t, got.length === nargs);
    if (nargs < 8) interval(nargs + 1);
  }, 1, ...args);
}
timeout(0);
interval(0);
setImmediate(function (a, b) { console.log('immediate', a, b, this.constructor.name); }, 'x', 'y');
const end = Date.now() + 5; // the 1 ms timers are due before the check phase
while (Date.now() < end);
