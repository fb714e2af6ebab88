// Modeled on test-timers-refresh-in-callback.js: refresh() inside a
// timeout's own callback runs it again; an interval refreshed keeps going;
// an unref'd timer refreshed stays unref'd. The timeout's three runs end
// at about 6 ms, the interval's first tick is at 100 ms: no load can
// interleave them differently.
let runs = 0;
const t = setTimeout(() => {
  runs += 1;
  console.log('timeout run', runs, t.hasRef());
  if (runs < 3) t.refresh();
}, 2);
let ticks = 0;
const iv = setInterval(() => {
  ticks += 1;
  console.log('interval', ticks);
  if (ticks === 2) iv.refresh();
  if (ticks === 4) clearInterval(iv);
}, 100);
const u = setTimeout(() => console.log('unref refreshed: must not run'), 5000).unref();
u.refresh();
console.log('u hasRef', u.hasRef());
