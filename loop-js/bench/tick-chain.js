// A nextTick chain: each tick queues the next. `N` from argv (default 1e6).
const N = Number(process.argv[2] || 1e6);
let n = 0;
const t0 = performance.now();
function tick() {
  if (++n < N) process.nextTick(tick);
  else console.log(`tick-chain n=${N} ms=${(performance.now() - t0).toFixed(1)}`);
}
process.nextTick(tick);
