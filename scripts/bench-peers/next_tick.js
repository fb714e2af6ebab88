// next_tick.js -- Node.js "next-tick" peer benchmark.
//
// Measures: cost of one process.nextTick dispatch.  10,000,000 nextTick
// calls, each queued by the previous one's callback (the first by the main
// script).  Timed with process.hrtime.bigint() from just before the first
// call to the last callback; reported figure is ns per tick.
'use strict';

const N = 10_000_000;
let count = 0;
let t0 = 0n;

function tick() {
  count++;
  if (count === N) {
    const elapsed = process.hrtime.bigint() - t0;
    console.log(`node next-tick ns_per_op=${(Number(elapsed) / N).toFixed(1)}`);
    return;
  }
  process.nextTick(tick);
}

t0 = process.hrtime.bigint();
process.nextTick(tick);

process.on('exit', () => {
  if (count !== N) {
    console.error(`next-tick: only ${count} of ${N} callbacks ran`);
    process.exitCode = 1;
  }
});
