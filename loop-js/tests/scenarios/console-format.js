// console.log as util.inspect prints it, with Node's defaults.
class Point { constructor() { this.x = 1; this.y = -0; } }
class Empty {}
const circ = { name: 'c' }; circ.self = circ;
const long = Array.from({ length: 30 }, (_, i) => i * 7);
const words = Array.from({ length: 12 }, (_, i) => `word${i}`);
const values = [
  'top-level string', 42, -0, 0, NaN, Infinity, -Infinity, 1.5, 1e21, 1e-7, 123456789012, 10n,
  true, false, null, undefined, Symbol('sym'),
  [], [1, 2, 3], ['a', "it's", 'q"uote\'s', 'back\\slash', 'new\nline'], [undefined, null],
  [1, , 3], new Array(5), long, words, Array.from({ length: 120 }, (_, i) => i),
  {}, { a: 1, b: 'two', 'c-d': [3], e: { f: { g: { h: 1 } } } }, { 'key with space': 1, valid_id: 2, 3: 'three' },
  new Point(), new Empty(), Object.create(null), circ,
  function named() {}, () => {}, async function af() {}, class K {}, class L extends Point {},
  new Map([['a', 1], [{ k: 1 }, [2]]]), new Set([1, 'two', [3]]), new Map(), new Set(),
  new Date(0), /re+gex/gi, new Error('plain message').message,
  [[1, [2, [3, [4, [5]]]]]], { arr: [{ deep: { deeper: { deepest: 1 } } }] },
  { x: 'a'.repeat(30), y: 'b'.repeat(30), z: 'c'.repeat(30) },
  Buffer.from('hi there'), new Uint8Array([1, 2, 3]), [Promise.resolve(4)],
  { f() {}, get g() { return 1; }, set s(v) {} }, [1.5, -2, 3e10, 0.1], new Number(3), new String('boxed'),
];
for (const v of values) console.log(v);
console.log('%s|%d|%i|%f|%j|%o|%O|%%|%c|%x', 'str', '42.5', 42.9, '1.25', { j: [1] }, { o: 1 }, { O: 1 }, 'css');
console.log('%s', { toString() { return 'custom'; } }, '%s', 5);
console.log('%d %d', 1);
console.log('a', 1, 'b', { c: 2 }, ['d'], null);
console.log();
console.log('%s', null, undefined, -0, 5n, Symbol('s'));
console.log('%j', { a: { b: 1 } }, circ.name);
console.log({ nested: [{ a: 1, b: 2 }, { a: 3, b: 4 }], map: new Map([[1, { x: 1 }]]) });
