// Buffer: from (string with encodings, array, buffer), alloc (with fill),
// concat (with a total length), toString (encodings, ranges), length,
// equals, compare, slice/subarray, indexOf/includes, write, byteLength,
// isBuffer, toJSON, inspect.
const a = Buffer.from('héllo wörld');
console.log(a.length, Buffer.byteLength('héllo wörld'), a.toString(), a.toString('utf8', 0, 6));
console.log(a.toString('hex'), a.toString('base64'), Buffer.from('aGk=', 'base64').toString());
console.log(Buffer.from('6869', 'hex'), Buffer.from([104, 105, 256, -1]), Buffer.from(Buffer.from('copy')).toString());
console.log(Buffer.from('abc', 'latin1').toString('latin1'), Buffer.from('abc', 'ascii').toString('ascii'));
console.log(Buffer.alloc(4), Buffer.alloc(4, 1), Buffer.alloc(5, 'ab'), Buffer.alloc(0).length);
const c = Buffer.concat([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')]);
console.log(c.toString(), c.length, Buffer.concat([Buffer.from('abc'), Buffer.from('def')], 4).toString(), Buffer.concat([]).length);
console.log(Buffer.from('x').equals(Buffer.from('x')), Buffer.from('x').equals(Buffer.from('y')));
console.log(Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.from('b').compare(Buffer.from('a')), Buffer.from('a').compare(Buffer.from('a')));
const s = c.slice(1, 3);
s[0] = 66;
console.log(s.toString(), c.toString(), c.subarray(4).toString(), c.slice(-2).toString());
console.log(c.indexOf('cd'), c.indexOf(Buffer.from('zz')), c.includes('ef'), c.indexOf(0x64));
const w = Buffer.alloc(8);
console.log(w.write('hi'), w.write('there', 2), w.toString('utf8', 0, 7));
console.log(Buffer.isBuffer(w), Buffer.isBuffer('w'), Buffer.isBuffer(new Uint8Array(2)), w instanceof Uint8Array);
console.log(JSON.stringify(Buffer.from('hi')), Buffer.from('hi').toJSON());
console.log(Buffer.from('a long buffer with more than fifty bytes in it, to see the ellipsis shown'));
console.log([Buffer.from('in an array')], { b: Buffer.from('in an object') });
console.log(String(Buffer.from('template')), `${Buffer.from('x')}` + Buffer.from('y'));
console.log(Buffer.from('ab').readUInt8(1), Buffer.from([1, 2]).readUInt16BE(0), Buffer.from([1, 2, 3, 4]).readUInt32LE(0));
const n = Buffer.alloc(4);
n.writeUInt32BE(0xdeadbeef, 0);
console.log(n, n.readInt32BE(0));
console.log(Buffer.from('€').length, Buffer.from('\u{1F600}').length, Buffer.from('\u{1F600}').toString());
console.log(Buffer.from([0xff, 0xfe]).toString(), Buffer.from('abc').fill(0x7a).toString());
