// `Buffer`: a Uint8Array subclass with Node's constructors (from, alloc,
// allocUnsafe, concat), encodings (utf8, hex, base64, base64url, latin1,
// binary, ascii, utf16le/ucs2) and the methods the fs and net layers and
// most scripts use (toString, equals, compare, write, slice, toJSON),
// printed as `<Buffer 68 69>`.

const kMaxInspectBytes = 50;

function normEncoding(enc) {
  if (enc === undefined || enc === null) return 'utf8';
  const e = `${enc}`.toLowerCase();
  switch (e) {
    case 'utf8': case 'utf-8': return 'utf8';
    case 'hex': case 'base64': case 'base64url': case 'latin1': case 'ascii': return e;
    case 'binary': return 'latin1';
    case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
    default: return undefined;
  }
}

function unknownEncoding(enc) {
  return nodeError(TypeError, 'ERR_UNKNOWN_ENCODING', `Unknown encoding: ${enc}`);
}

// Bytes as a latin1 string: how bytes travel to the natives.
function bytesToLatin1(u8, start = 0, end = u8.length) {
  let s = '';
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, u8.subarray(i, Math.min(end, i + 8192)));
  }
  return s;
}

const b64chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64lookup = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) b64lookup[b64chars.charCodeAt(i)] = i;
b64lookup[45] = 62; // '-'
b64lookup[95] = 63; // '_'

function encodeString(str, enc) {
  switch (enc) {
    case 'utf8': return new Uint8Array(natives.utf8Encode(str));
    case 'latin1': case 'ascii': {
      const u = new Uint8Array(str.length);
      for (let i = 0; i < str.length; i++) u[i] = str.charCodeAt(i) & 0xff;
      return u;
    }
    case 'utf16le': {
      const u = new Uint8Array(str.length * 2);
      for (let i = 0; i < str.length; i++) {
        const c = str.charCodeAt(i);
        u[2 * i] = c & 0xff;
        u[2 * i + 1] = c >> 8;
      }
      return u;
    }
    case 'hex': {
      const n = str.length >>> 1;
      const u = new Uint8Array(n);
      let i = 0;
      for (; i < n; i++) {
        const b = parseInt(str.substr(2 * i, 2), 16);
        if (Number.isNaN(b)) break;
        u[i] = b;
      }
      return u.subarray(0, i);
    }
    case 'base64': case 'base64url': {
      const out = [];
      let acc = 0;
      let bits = 0;
      for (let i = 0; i < str.length; i++) {
        const v = b64lookup[str.charCodeAt(i) & 0xff];
        if (v < 0) continue;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          out.push((acc >> bits) & 0xff);
        }
      }
      return Uint8Array.from(out);
    }
    default: throw unknownEncoding(enc);
  }
}

function decodeBytes(u8, enc, start, end) {
  switch (enc) {
    case 'utf8': return natives.utf8Decode(bytesToLatin1(u8, start, end));
    case 'latin1': return bytesToLatin1(u8, start, end);
    case 'ascii': {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(u8[i] & 0x7f);
      return s;
    }
    case 'utf16le': {
      let s = '';
      for (let i = start; i + 1 < end; i += 2) s += String.fromCharCode(u8[i] | (u8[i + 1] << 8));
      return s;
    }
    case 'hex': {
      let s = '';
      for (let i = start; i < end; i++) s += u8[i].toString(16).padStart(2, '0');
      return s;
    }
    case 'base64': case 'base64url': {
      const chars = enc === 'base64' ? b64chars : `${b64chars.slice(0, 62)}-_`;
      let s = '';
      let i = start;
      for (; i + 2 < end; i += 3) {
        const n = (u8[i] << 16) | (u8[i + 1] << 8) | u8[i + 2];
        s += chars[n >> 18] + chars[(n >> 12) & 63] + chars[(n >> 6) & 63] + chars[n & 63];
      }
      const rest = end - i;
      if (rest === 1) {
        const n = u8[i] << 16;
        s += chars[n >> 18] + chars[(n >> 12) & 63] + (enc === 'base64' ? '==' : '');
      } else if (rest === 2) {
        const n = (u8[i] << 16) | (u8[i + 1] << 8);
        s += chars[n >> 18] + chars[(n >> 12) & 63] + chars[(n >> 6) & 63] + (enc === 'base64' ? '=' : '');
      }
      return s;
    }
    default: throw unknownEncoding(enc);
  }
}

class Buffer extends Uint8Array {
  static from(value, encOrOffset, length) {
    if (typeof value === 'string') {
      const enc = normEncoding(encOrOffset);
      if (enc === undefined) throw unknownEncoding(encOrOffset);
      const u = encodeString(value, enc);
      return new Buffer(u.buffer, u.byteOffset, u.length);
    }
    if (value instanceof ArrayBuffer) {
      const off = encOrOffset === undefined ? 0 : encOrOffset >>> 0;
      const len = length === undefined ? value.byteLength - off : length >>> 0;
      return new Buffer(value, off, len);
    }
    if (ArrayBuffer.isView(value) || Array.isArray(value)) {
      const b = new Buffer(value.length);
      for (let i = 0; i < value.length; i++) b[i] = value[i];
      return b;
    }
    if (value !== null && typeof value === 'object') {
      if (value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data);
      if (typeof value.length === 'number') return Buffer.from(Array.from(value));
    }
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
      'The first argument must be of type string or an instance of Buffer, ArrayBuffer, or ' +
      `Array or an Array-like Object.${describeReceived(value)}`);
  }

  static alloc(size, fill, enc) {
    const b = new Buffer(size);
    if (fill !== undefined && fill !== 0) b.fill(fill, 0, b.length, enc);
    return b;
  }

  static allocUnsafe(size) {
    return new Buffer(size);
  }

  static allocUnsafeSlow(size) {
    return new Buffer(size);
  }

  static isBuffer(b) {
    return b instanceof Buffer;
  }

  static isEncoding(enc) {
    return typeof enc === 'string' && enc !== '' && normEncoding(enc) !== undefined;
  }

  static byteLength(v, enc) {
    if (typeof v === 'string') return encodeString(v, normEncoding(enc) || 'utf8').length;
    return v.byteLength;
  }

  static concat(list, totalLength) {
    if (!Array.isArray(list)) throw invalidArgType('list', 'Array', list);
    if (totalLength === undefined) totalLength = list.reduce((n, b) => n + b.length, 0);
    const out = Buffer.alloc(totalLength);
    let pos = 0;
    for (const b of list) {
      if (pos >= totalLength) break;
      const take = Math.min(b.length, totalLength - pos);
      out.set(take === b.length ? b : b.subarray(0, take), pos);
      pos += take;
    }
    return out;
  }

  static compare(a, b) {
    return a.compare(b);
  }

  toString(enc, start, end) {
    if (arguments.length === 0) return decodeBytes(this, 'utf8', 0, this.length);
    const e = normEncoding(enc);
    if (e === undefined) throw unknownEncoding(enc);
    start = start === undefined ? 0 : Math.max(0, start | 0);
    end = end === undefined ? this.length : Math.min(this.length, end | 0);
    if (end <= start) return '';
    return decodeBytes(this, e, start, end);
  }

  equals(other) {
    if (!(other instanceof Uint8Array)) throw invalidArgType('otherBuffer', 'Buffer or Uint8Array', other);
    if (other.length !== this.length) return false;
    for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
    return true;
  }

  compare(other) {
    const n = Math.min(this.length, other.length);
    for (let i = 0; i < n; i++) {
      if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
    }
    return this.length === other.length ? 0 : (this.length < other.length ? -1 : 1);
  }

  write(string, offset = 0, length = this.length - offset, enc = 'utf8') {
    if (typeof offset === 'string') { enc = offset; offset = 0; length = this.length; }
    else if (typeof length === 'string') { enc = length; length = this.length - offset; }
    const u = encodeString(string, normEncoding(enc) || 'utf8');
    const n = Math.min(u.length, length, this.length - offset);
    this.set(u.subarray(0, n), offset);
    return n;
  }

  fill(value, offset = 0, end = this.length, enc) {
    if (typeof value === 'string') {
      if (typeof offset === 'string') { enc = offset; offset = 0; end = this.length; }
      const u = encodeString(value, normEncoding(enc) || 'utf8');
      if (u.length === 0) return super.fill(0, offset, end);
      for (let i = offset, j = 0; i < end; i++, j = (j + 1) % u.length) this[i] = u[j];
      return this;
    }
    return super.fill(value, offset, end);
  }

  slice(start, end) {
    return this.subarray(start, end);
  }

  toJSON() {
    return { type: 'Buffer', data: Array.from(this) };
  }

  [customInspect]() {
    let str = '';
    const n = Math.min(this.length, kMaxInspectBytes);
    for (let i = 0; i < n; i++) str += `${i === 0 ? '' : ' '}${this[i].toString(16).padStart(2, '0')}`;
    const rest = this.length - kMaxInspectBytes;
    if (rest > 0) str += ` ... ${rest} more byte${rest > 1 ? 's' : ''}`;
    return `<Buffer${str === '' ? '' : ` ${str}`}>`;
  }
}
Buffer.poolSize = 8192;

// indexOf / lastIndexOf / includes with Node's needles: a number (a
// byte), a string (encoded), a Buffer or Uint8Array.
function needleBytes(value, enc) {
  if (typeof value === 'number') return null;
  if (typeof value === 'string') return encodeString(value, normEncoding(enc) || 'utf8');
  if (value instanceof Uint8Array) return value;
  throw invalidArgType('value', 'number or string or an instance of Buffer or Uint8Array', value);
}
function bufferIndexOf(buf, value, byteOffset, enc, last) {
  if (typeof byteOffset === 'string') { enc = byteOffset; byteOffset = undefined; }
  let from = byteOffset === undefined ? (last ? buf.length : 0) : Number(byteOffset) | 0;
  if (from < 0) from += buf.length;
  const needle = needleBytes(value, enc);
  if (needle === null) {
    const b = value & 0xff;
    if (last) return Uint8Array.prototype.lastIndexOf.call(buf, b, Math.min(from, buf.length - 1));
    return Uint8Array.prototype.indexOf.call(buf, b, Math.max(from, 0));
  }
  const n = needle.length;
  if (last) {
    for (let i = Math.min(from, buf.length - n); i >= 0; i--) if (matchAt(buf, needle, i)) return i;
    return -1;
  }
  if (n === 0) return Math.min(Math.max(from, 0), buf.length);
  for (let i = Math.max(from, 0); i + n <= buf.length; i++) if (matchAt(buf, needle, i)) return i;
  return -1;
}
function matchAt(buf, needle, i) {
  for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) return false;
  return true;
}
Buffer.prototype.indexOf = function indexOf(value, byteOffset, enc) {
  return bufferIndexOf(this, value, byteOffset, enc, false);
};
Buffer.prototype.lastIndexOf = function lastIndexOf(value, byteOffset, enc) {
  return bufferIndexOf(this, value, byteOffset, enc, true);
};
Buffer.prototype.includes = function includes(value, byteOffset, enc) {
  return bufferIndexOf(this, value, byteOffset, enc, false) !== -1;
};

// The fixed-width readers and writers (readUInt16LE, writeInt32BE,
// readDoubleLE, readBigUInt64BE...), over a DataView; out-of-range
// offsets throw Node's ERR_OUT_OF_RANGE.
function outOfRange(name, range, received) {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
}
function checkOffset(buf, offset, size) {
  if (offset === undefined) offset = 0;
  if (typeof offset !== 'number') throw invalidArgType('offset', 'number', offset);
  if (!Number.isInteger(offset)) throw outOfRange('offset', 'an integer', offset);
  if (offset < 0 || offset + size > buf.length) {
    if (buf.length - size < 0) {
      throw nodeError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', 'Attempt to access memory outside buffer bounds');
    }
    throw outOfRange('offset', `>= 0 and <= ${buf.length - size}`, offset);
  }
  return offset;
}
function viewOf(buf) {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
for (const [name, size, get, set, min, max] of [
  ['UInt8', 1, 'getUint8', 'setUint8', 0, 255],
  ['Int8', 1, 'getInt8', 'setInt8', -128, 127],
  ['UInt16', 2, 'getUint16', 'setUint16', 0, 65535],
  ['Int16', 2, 'getInt16', 'setInt16', -32768, 32767],
  ['UInt32', 4, 'getUint32', 'setUint32', 0, 4294967295],
  ['Int32', 4, 'getInt32', 'setInt32', -2147483648, 2147483647],
  ['Float', 4, 'getFloat32', 'setFloat32'],
  ['Double', 8, 'getFloat64', 'setFloat64'],
  ['BigUInt64', 8, 'getBigUint64', 'setBigUint64'],
  ['BigInt64', 8, 'getBigInt64', 'setBigInt64'],
]) {
  const ends = size === 1 ? [['', false]] : [['LE', true], ['BE', false]];
  for (const [suffix, little] of ends) {
    const read = function (offset) {
      offset = checkOffset(this, offset, size);
      return viewOf(this)[get](offset, little);
    };
    const write = function (value, offset) {
      offset = checkOffset(this, offset, size);
      if (min !== undefined) {
        value = +value;
        if (!(value >= min && value <= max)) {
          throw outOfRange('value', `>= ${min} and <= ${max}`, value);
        }
      }
      viewOf(this)[set](offset, value, little);
      return offset + size;
    };
    for (const alias of [name, name.replace('UInt', 'Uint')]) {
      Buffer.prototype[`read${alias}${suffix}`] = read;
      Buffer.prototype[`write${alias}${suffix}`] = write;
    }
  }
}

function toBuffer(data, enc) {
  if (typeof data === 'string') return Buffer.from(data, enc);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

const bufferModule = { Buffer, constants: { MAX_LENGTH: 2 ** 32 } };
