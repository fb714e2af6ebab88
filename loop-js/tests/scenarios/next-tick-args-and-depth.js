// process.nextTick(fn, ...args), and a deep chain that drains before any timer.
process.nextTick((a, b, c) => console.log('args', a, b, c), 1, 'two', { three: 3 });
setTimeout(() => console.log('timeout after the chain'), 0);
let n = 0;
function chain() {
  if (++n < 10000) process.nextTick(chain);
  else console.log('chain done', n);
}
process.nextTick(chain);
Promise.resolve().then(() => console.log('promise after every tick of the chain? no: after the first round'));
