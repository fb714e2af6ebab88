// Timeout objects: ref/unref/hasRef (chaining), refresh, Symbol.toPrimitive
// (and clearing by the primitive, as a number or a string), an unref'd
// timer not keeping the process alive, intervals cleared from inside.
const log = [];
const t = setTimeout(() => log.push('t fired'), 200);
log.push(`hasRef ${t.hasRef()}`);
log.push(`unref returns this ${t.unref() === t} hasRef ${t.hasRef()}`);
log.push(`ref returns this ${t.ref() === t} hasRef ${t.hasRef()}`);
log.push(`refresh returns this ${t.refresh() === t}`);
const id = +t;
log.push(`primitive is a number ${typeof id} ${Number.isInteger(id)} ${`${t}` === String(id)}`);
const byNumber = setTimeout(() => log.push('byNumber: must not fire'), 5);
clearTimeout(+byNumber);
const byString = setTimeout(() => log.push('byString: must not fire'), 5);
clearTimeout(`${byString}`);
const noPrim = setTimeout(() => log.push('noPrim fired (between intervals 1 and 2)'), 30);
clearTimeout(Number(String(+t)) + 1000);
const unrefd = setTimeout(() => log.push('unrefd: must not fire'), 600);
unrefd.unref();
log.push(`unrefd hasRef ${unrefd.hasRef()}`);
let n = 0;
const iv = setInterval(() => {
  log.push(`interval ${++n} hasRef ${iv.hasRef()}`);
  if (n === 2) clearInterval(iv);
}, 20);
const reref = setTimeout(() => log.push('reref fired (unref then ref)'), 90);
reref.unref().ref();
const refreshed = setTimeout(() => log.push('refreshed: 80 ms from its refresh at 40 ms, after the 100 ms one'), 80);
setTimeout(() => refreshed.refresh(), 40);
setTimeout(() => log.push('100 ms'), 100);
clearTimeout(undefined);
clearTimeout(null);
clearTimeout({});
clearTimeout('nonsense');
clearInterval(12345);
process.on('exit', () => console.log(log.join('\n')));
void noPrim;
