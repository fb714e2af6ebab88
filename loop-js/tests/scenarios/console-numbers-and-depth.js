// console.log's numbers (-0, NaN, integers against floats) in every
// position, objects and arrays at Node's default depth (2), and each
// format directive with awkward arguments.
console.log(-0, [-0], { z: -0 }, -0 + '', String(-0), `${-0}`);
console.log(NaN, [NaN], 0.1 + 0.2, 1 / 3, 100, 1e100, -1e-100, 2 ** 53, -(2 ** 31));
console.log({ a: { b: { c: { d: { e: 1 } } } } });
console.log([[[[[1]]]]], [{ a: [{ b: [1] }] }]);
console.log({ a: [1, 2, { b: [3, { c: [4] }] }] });
console.log({ level1: { level2: { level3: 'deep', arr: [1, 2] }, m: new Map([['k', { v: 1 }]]) } });
console.log([{ a: 1 }, { b: { c: { d: 1 } } }]);
console.log('%d|%d|%d|%d|%d|%d', -0, '-0', NaN, 'abc', 42n, '0x10');
console.log('%i|%i|%i|%i|%i', -0, 2.9, -2.9, '42abc', 7n);
console.log('%f|%f|%f', '1.5e3', -0, 'x');
console.log('%s|%s|%s|%s|%s', -0, 1.5, [1, [2, [3]]], { a: { b: { c: 1 } } }, () => 1);
console.log('%s', new Error('in %s').message, 'extra', -0);
const circ = { a: 1 }; circ.me = circ;
console.log('%j|%j|%j', circ, undefined, 'str');
console.log('%o', { a: [1, 2], f: function foo() {} });
console.log('%o', [1, 'two']);
console.log('%O', { a: { b: { c: { d: 1 } } } });
console.log('%s %s', 'only one');
console.log('100%', 5, '%');
console.log('%%s %s', 'x');
console.log(1, '2', [3], { 4: 4 }, -0, 0, NaN);
console.log([1.0, 2.5, -0, 0, NaN, Infinity]);
console.log({ 'a-b': 1, a_b: 2, 1: 3, '01': 4, [Symbol('s')]: 5, '': 6 });
console.log(['x'.repeat(20), 'y'.repeat(20), 'z'.repeat(20), 'w'.repeat(20)]);
console.log({ veryLongPropertyNameNumberOne: 1, veryLongPropertyNameNumberTwo: 2, three: 3 });
console.log(Array.from({ length: 8 }, (_, i) => ({ i })));
console.log(new Array(3).fill({ same: true }));
console.log([undefined, , null, , ,]);
console.log(Object.assign([1, 2], { extra: 'prop' }));
console.log([function f() {}, class C {}, Symbol.iterator, 10n, -0n]);
console.error('to stderr %d', 1);
