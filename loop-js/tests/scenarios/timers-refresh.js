// Modeled on test-timers-refresh.js: refresh() restarts a pending timer
// and re-arms a fired one; returns the timer. The delays leave tens of ms
// between events, so a slow start or a loaded machine cannot reorder them
// (node or loop-js alike): u is refreshed at >= 50 ms for 60 ms more, so it
// is due at >= 110 ms, after t's first run at 100 ms.
const start = Date.now();
let runs = 0;
const t = setTimeout(() => {
  runs += 1;
  console.log('t ran', runs);
  if (runs === 1) console.log('refresh returns the timer', t.refresh() === t);
}, 100);
const u = setTimeout(() => console.log('u (refreshed while pending) ran after t', runs >= 1), 60);
setTimeout(() => u.refresh(), 50);
const c = setTimeout(() => console.log('cleared must not run'), 1);
clearTimeout(c);
c.refresh(); // a cleared timer stays cleared
setTimeout(() => {
  console.log('later, runs =', runs, 'elapsed ok', Date.now() - start >= 300);
  t.refresh(); // fired: armed again
}, 300);
