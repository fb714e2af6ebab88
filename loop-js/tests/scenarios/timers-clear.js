// clearTimeout/clearInterval/clearImmediate: of others, of itself, by the
// primitive id, of things already run, of garbage.
const t1 = setTimeout(() => console.log('t1 must not run'), 12);
const t2 = setTimeout(() => {
  console.log('t2');
  clearTimeout(t3);
  clearTimeout(t2); // itself, while running
}, 15);
const t3 = setTimeout(() => console.log('t3 must not run'), 25);
clearTimeout(t1);
const id = +setTimeout(() => console.log('by id must not run'), 1);
clearTimeout(id);
const i1 = setImmediate(() => console.log('i1 must not run'));
setImmediate(() => { console.log('i2'); clearImmediate(i3); });
const i3 = setImmediate(() => console.log('i3 must not run'));
clearImmediate(i1);
clearTimeout(undefined); clearTimeout(null); clearTimeout({}); clearTimeout('nope');
clearImmediate(undefined); clearInterval(42);
let n = 0;
const iv = setInterval(() => {
  n += 1;
  console.log('interval', n);
  if (n === 3) clearInterval(iv);
}, 10);
setTimeout(() => { clearTimeout(t2); console.log('clearing a fired timer is fine'); }, 60);
