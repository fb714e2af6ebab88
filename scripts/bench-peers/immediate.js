// immediate.js -- Node.js "immediate" peer benchmark.
//
// Measures: cost of one setImmediate dispatch.  1,000,000 setImmediate
// calls, each queued by the previous one's callback (the first by the main
// script).  An immediate queued from inside an immediate callback runs on
// the *next* loop iteration, so each op is a full libuv loop iteration of
// Node's loop (including its epoll_wait with a zero timeout).  Timed with
// process.hrtime.bigint() from just before the first call to the last
// callback; reported figure is ns per immediate.
'use strict';

const N = 1_000_000;
let count = 0;
let t0 = 0n;

function onImmediate() {
  count++;
  if (count === N) {
    const elapsed = process.hrtime.bigint() - t0;
    console.log(`node immediate ns_per_op=${(Number(elapsed) / N).toFixed(1)}`);
    return;
  }
  setImmediate(onImmediate);
}

t0 = process.hrtime.bigint();
setImmediate(onImmediate);

process.on('exit', () => {
  if (count !== N) {
    console.error(`immediate: only ${count} of ${N} callbacks ran`);
    process.exitCode = 1;
  }
});
