// An immediate chain: each immediate queues the next, one per loop
// iteration. `N` from argv (default 1e5).
const N = Number(process.argv[2] || 1e5);
let n = 0;
const t0 = performance.now();
function step() {
  if (++n < N) setImmediate(step);
  else console.log(`immediate-chain n=${N} ms=${(performance.now() - t0).toFixed(1)}`);
}
setImmediate(step);
