// Modeled on test-timers-refresh.js: refresh() restarts a pending timer
// and re-arms a fired one; returns the timer.
const start = Date.now();
let runs = 0;
const t = setTimeout(() => {
  runs += 1;
  console.log('t ran', runs);
  if (runs === 1) console.log('refresh returns the timer', t.refresh() === t);
}, 5);
const u = setTimeout(() => console.log('u (refreshed while pending) ran after t', runs >= 1), 3);
setTimeout(() => u.refresh(), 2);
const c = setTimeout(() => console.log('cleared must not run'), 1);
clearTimeout(c);
c.refresh(); // a cleared timer stays cleared
setTimeout(() => {
  console.log('later, runs =', runs, 'elapsed ok', Date.now() - start >= 10);
  t.refresh(); // fired: armed again
}, 30);
