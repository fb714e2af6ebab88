// Delays coerced and clamped as Node does: 0, -5, NaN, '2', 2.5, and above
// 2^31-1 (1 ms, with a TimeoutOverflowWarning on stderr).
const order = [];
const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
setTimeout(() => order.push('undefined'));
setTimeout(() => order.push('0'), 0);
setTimeout(() => order.push('-5'), -5);
setTimeout(() => order.push('NaN'), NaN);
setTimeout(() => order.push('"1"'), '1');
setTimeout(() => order.push('big'), 2 ** 31);
setTimeout(() => order.push('object'), { valueOf() { return 1; } });
setTimeout(() => order.push('"30"'), '30');
setTimeout(() => order.push('60.5'), 60.5);
spin(5);
process.on('exit', () => console.log(order.join(' ')));
