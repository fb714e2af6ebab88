// A promise chain through the engine's job queue. `N` from argv (default 1e6).
const N = Number(process.argv[2] || 1e6);
let n = 0;
const t0 = performance.now();
function step() {
  if (++n < N) Promise.resolve().then(step);
  else console.log(`promise-chain n=${N} ms=${(performance.now() - t0).toFixed(1)}`);
}
step();
