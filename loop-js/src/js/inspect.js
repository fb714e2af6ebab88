// util.inspect and util.format, printing what Node.js v20 prints with its
// defaults (depth 2, breakLength 80, compact 3, no colors): primitives
// (-0, quoting and escapes), arrays (holes, more than 100 items, grouping
// of more than 6 entries into columns), plain objects, class instances,
// null-prototype objects, functions and classes, Map, Set, Date, RegExp,
// errors, promises, boxed primitives, typed arrays, circular references
// (<ref *1> ... [Circular *1]), and the rule that an object goes on one
// line when it fits in breakLength and holds at most `compact` levels.
// Written for this runtime from Node's documented behaviour; the names of
// the steps follow Node's so the two can be compared.

const kObjectType = 0;
const kArrayExtrasType = 2;
const customInspect = Symbol.for('nodejs.util.inspect.custom');
const keyIdentifier = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

const inspectDefaults = {
  showHidden: false, depth: 2, colors: false, customInspect: true,
  showProxy: false, maxArrayLength: 100, maxStringLength: 10000,
  breakLength: 80, compact: 3, sorted: false, getters: false, numericSeparator: false,
};

function inspect(value, opts) {
  const ctx = {
    seen: [], circular: undefined, indentationLvl: 0, currentDepth: 0,
    ...inspectDefaults,
  };
  if (opts !== null && typeof opts === 'object') {
    for (const k of Object.keys(opts)) {
      if (k in inspectDefaults) ctx[k] = opts[k];
    }
  } else if (typeof opts === 'boolean') {
    ctx.showHidden = opts;
  }
  if (ctx.depth === Infinity) ctx.depth = null;
  if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
  if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
  return formatValue(ctx, value, 0);
}
inspect.custom = customInspect;
inspect.defaultOptions = inspectDefaults;

// ---------- primitives ----------

const escapeTable = [];
for (let i = 0; i < 0x20; i++) escapeTable[i] = '\\x' + i.toString(16).toUpperCase().padStart(2, '0');
escapeTable[8] = '\\b'; escapeTable[9] = '\\t'; escapeTable[10] = '\\n';
escapeTable[12] = '\\f'; escapeTable[13] = '\\r';
escapeTable[0x7f] = '\\x7F';

function strEscape(str) {
  let quote = "'";
  if (str.includes("'")) {
    if (!str.includes('"')) quote = '"';
    else if (!str.includes('`') && !str.includes('${')) quote = '`';
  }
  let out = '';
  let last = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    let rep;
    if (c < 0x20 || c === 0x7f) rep = escapeTable[c];
    else if (c === 0x5c) rep = '\\\\';
    else if (String.fromCharCode(c) === quote) rep = '\\' + quote;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = str.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
      rep = '\\u' + c.toString(16).toUpperCase();
    } else continue;
    out += str.slice(last, i) + rep;
    last = i + 1;
  }
  return quote + out + str.slice(last) + quote;
}

function formatNumber(n) {
  if (Object.is(n, -0)) return '-0';
  return `${n}`;
}

function formatPrimitive(ctx, value) {
  switch (typeof value) {
    case 'string': {
      let trailer = '';
      if (value.length > ctx.maxStringLength) {
        const remaining = value.length - ctx.maxStringLength;
        value = value.slice(0, ctx.maxStringLength);
        trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
      }
      if (ctx.compact !== true && value.length > 16 &&
          value.length > ctx.breakLength - ctx.indentationLvl - 4) {
        return value.split(/(?<=\n)/).map(strEscape)
          .join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer;
      }
      return strEscape(value) + trailer;
    }
    case 'number': return formatNumber(value);
    case 'bigint': return `${value}n`;
    case 'boolean': return `${value}`;
    case 'undefined': return 'undefined';
    case 'symbol': return value.toString();
    default: return String(value);
  }
}

// ---------- objects ----------

function isError(v) {
  return v instanceof Error || Object.prototype.toString.call(v) === '[object Error]';
}

function getConstructorName(obj) {
  let o = obj;
  let first;
  while (o !== null && o !== undefined) {
    const d = Object.getOwnPropertyDescriptor(o, 'constructor');
    if (d !== undefined && typeof d.value === 'function' && d.value.name !== '' &&
        obj instanceof d.value) {
      return String(d.value.name);
    }
    o = Object.getPrototypeOf(o);
    if (first === undefined) first = o;
  }
  if (first === null) return null;
  const tag = Object.prototype.toString.call(obj).slice(8, -1);
  return `${tag} <Complex prototype>`;
}

function getPrefix(constructor, tag, fallback, size = '') {
  if (constructor === null) {
    if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function isIndexKey(k) {
  if (typeof k !== 'string' || k === '' || (k.length > 1 && k[0] === '0')) return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(k) < 4294967295;
}

function getKeys(value, showHidden, nonIndex) {
  let keys = showHidden ? Object.getOwnPropertyNames(value) : Object.keys(value);
  if (nonIndex) keys = keys.filter((k) => !isIndexKey(k));
  const symbols = Object.getOwnPropertySymbols(value);
  for (const s of symbols) {
    if (showHidden || Object.prototype.propertyIsEnumerable.call(value, s)) keys.push(s);
  }
  return keys;
}

// V8 gives a sloppy-mode ordinary function own `arguments` and `caller`
// (both null, before `prototype`); QuickJS keeps them on
// Function.prototype only. With showHidden (`%o`), list them as V8 has
// them: inserted into `keys`, with their descriptors returned.
function sloppyFunctionProps(fn, keys, base) {
  const at = keys.indexOf('prototype');
  if (at === -1 || base.startsWith('[class') || Object.getPrototypeOf(fn) !== Function.prototype) return undefined;
  try {
    void fn.caller;
  } catch (e) {
    return undefined; // strict mode
  }
  keys.splice(at, 0, 'arguments', 'caller');
  const d = { value: null, enumerable: false };
  return { __proto__: null, arguments: d, caller: d };
}

function getFunctionBase(value, constructor, tag) {
  let src = '';
  try { src = Function.prototype.toString.call(value); } catch (e) { /* a revoked proxy */ }
  if (src.startsWith('class') && src.endsWith('}')) {
    let base = `[class ${Object.prototype.hasOwnProperty.call(value, 'name') && value.name ? value.name : '(anonymous)'}`;
    if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    const superClass = Object.getPrototypeOf(value);
    if (superClass && superClass.name) base += ` extends ${superClass.name}`;
    return base + ']';
  }
  let type = 'Function';
  const ctorName = Object.getPrototypeOf(value)?.constructor?.name;
  if (ctorName === 'GeneratorFunction') type = 'GeneratorFunction';
  else if (ctorName === 'AsyncFunction') type = 'AsyncFunction';
  else if (ctorName === 'AsyncGeneratorFunction') type = 'AsyncGeneratorFunction';
  let base = `[${type}`;
  if (constructor === null) base += ' (null prototype)';
  base += value.name === '' || typeof value.name !== 'string' ? ' (anonymous)' : `: ${value.name}`;
  base += ']';
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  return base;
}

// An error's stack as Node shows it: "Name: message" then the frames.
// QuickJS's `stack` holds the frames only.
function errorStack(err) {
  let head;
  try { head = Error.prototype.toString.call(err); } catch (e) { head = 'Error'; }
  const stack = typeof err.stack === 'string' ? err.stack.replace(/\s+$/, '') : '';
  if (stack === '') return head;
  if (stack.startsWith(head)) return stack;
  return `${head}\n${stack}`;
}

function formatError(err, constructor, tag, ctx, keys) {
  const name = err.name != null ? String(err.name) : 'Error';
  let stack = errorStack(err);
  // A code set on the error shows in brackets after the name, as V8's
  // stack does for Node's own errors.
  if (constructor === null) {
    stack = `[${name}: null prototype]` + stack.slice(name.length);
  }
  if (!stack.includes('\n    at')) stack = `[${stack}]`;
  if (ctx.indentationLvl !== 0) {
    const indentation = ' '.repeat(ctx.indentationLvl);
    stack = stack.split('\n').join(`\n${indentation}`);
  }
  for (const k of ['stack', 'message']) {
    const i = keys.indexOf(k);
    if (i !== -1) keys.splice(i, 1);
  }
  return stack;
}

function formatValue(ctx, value, recurseTimes, typedArray) {
  if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(ctx, value);
  if (value === null) return 'null';
  if (ctx.customInspect) {
    let custom;
    try { custom = value[customInspect]; } catch (e) { custom = undefined; }
    if (typeof custom === 'function' && custom !== inspect) {
      const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
      const opts = { ...ctx, depth, seen: undefined, circular: undefined };
      const ret = custom.call(value, depth, opts, inspect);
      if (ret !== value) {
        if (typeof ret !== 'string') return formatValue(ctx, ret, recurseTimes);
        return ret.split('\n').join(`\n${' '.repeat(ctx.indentationLvl)}`);
      }
    }
  }
  if (ctx.seen.includes(value)) {
    let index = 1;
    if (ctx.circular === undefined) {
      ctx.circular = new Map();
      ctx.circular.set(value, index);
    } else {
      index = ctx.circular.get(value);
      if (index === undefined) {
        index = ctx.circular.size + 1;
        ctx.circular.set(value, index);
      }
    }
    return `[Circular *${index}]`;
  }
  return formatRaw(ctx, value, recurseTimes, typedArray);
}

const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag).get;

function formatRaw(ctx, value, recurseTimes) {
  let keys;
  const constructor = getConstructorName(value);
  let tag = value[Symbol.toStringTag];
  if (typeof tag !== 'string' ||
      (tag !== '' && Object.prototype.propertyIsEnumerable.call(value, Symbol.toStringTag))) {
    tag = '';
  }
  let base = '';
  let hiddenDescs;
  let formatter = () => [];
  let braces;
  let extrasType = kObjectType;
  let noIterator = true;

  if (typeof value[Symbol.iterator] === 'function' || constructor === null) {
    noIterator = false;
    if (Array.isArray(value)) {
      const prefix = constructor !== 'Array' || tag !== ''
        ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
      keys = getKeys(value, ctx.showHidden, true);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
    } else if (value instanceof Set) {
      const prefix = getPrefix(constructor, tag, 'Set', `(${value.size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatSet;
      if (value.size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (value instanceof Map) {
      const prefix = getPrefix(constructor, tag, 'Map', `(${value.size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatMap;
      if (value.size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (typedArrayTag.call(value) !== undefined) {
      keys = getKeys(value, ctx.showHidden, true);
      const fallback = constructor === null ? typedArrayTag.call(value) : '';
      const prefix = getPrefix(constructor, tag, fallback, `(${value.length})`);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
      formatter = formatTypedArray;
      extrasType = kArrayExtrasType;
    } else {
      noIterator = true;
    }
  }
  if (noIterator) {
    keys = getKeys(value, ctx.showHidden);
    braces = ['{', '}'];
    if (constructor === 'Object') {
      if (tag !== '') braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      if (keys.length === 0) return `${braces[0]}}`;
    } else if (typeof value === 'function') {
      base = getFunctionBase(value, constructor, tag);
      if (ctx.showHidden) hiddenDescs = sloppyFunctionProps(value, keys, base);
      if (keys.length === 0) return base;
    } else if (value instanceof RegExp) {
      base = RegExp.prototype.toString.call(value);
      const prefix = getPrefix(constructor, tag, 'RegExp');
      if (prefix !== 'RegExp ') base = `${prefix}${base}`;
      if (keys.length === 0 || (ctx.depth !== null && recurseTimes > ctx.depth)) return base;
    } else if (value instanceof Date) {
      const t = value.getTime();
      base = Number.isNaN(t) ? 'Invalid Date' : value.toISOString();
      const prefix = getPrefix(constructor, tag, 'Date');
      if (prefix !== 'Date ') base = `${prefix}${base}`;
      if (keys.length === 0) return base;
    } else if (isError(value)) {
      base = formatError(value, constructor, tag, ctx, keys);
      if (keys.length === 0) return base;
    } else if (value instanceof Promise) {
      braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
      formatter = formatPromise;
    } else if (value instanceof WeakSet || value instanceof WeakMap) {
      const fb = value instanceof WeakSet ? 'WeakSet' : 'WeakMap';
      return `${getPrefix(constructor, tag, fb)}{ <items unknown> }`;
    } else if (value instanceof Number || value instanceof String ||
               value instanceof Boolean || value instanceof BigInt || value instanceof Symbol) {
      let type; let prim;
      if (value instanceof Number) { type = 'Number'; prim = formatNumber(value.valueOf()); }
      else if (value instanceof String) {
        type = 'String'; prim = strEscape(value.valueOf());
        keys = keys.filter((k) => !isIndexKey(k));
      } else if (value instanceof Boolean) { type = 'Boolean'; prim = `${value.valueOf()}`; }
      else if (value instanceof BigInt) { type = 'BigInt'; prim = `${value.valueOf()}n`; }
      else { type = 'Symbol'; prim = value.valueOf().toString(); }
      base = `[${type}`;
      if (type !== constructor) base += constructor === null ? ' (null prototype)' : ` (${constructor})`;
      base += `: ${prim}]`;
      if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
      if (keys.length === 0) return base;
    } else if (value instanceof ArrayBuffer) {
      keys.unshift('byteLength');
      formatter = formatArrayBuffer;
      braces[0] = `${getPrefix(constructor, tag, 'ArrayBuffer')}{`;
    } else {
      if (keys.length === 0) return `${getPrefix(constructor, tag, 'Object')}{}`;
      braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
    }
  }

  if (ctx.depth !== null && recurseTimes > ctx.depth) {
    let name = getPrefix(constructor, tag, 'Object').slice(0, -1);
    if (constructor !== null) name = `[${name}]`;
    return name;
  }
  recurseTimes += 1;
  ctx.seen.push(value);
  ctx.currentDepth = recurseTimes;
  const output = formatter(ctx, value, recurseTimes);
  for (let i = 0; i < keys.length; i++) {
    const desc = hiddenDescs === undefined ? undefined : hiddenDescs[keys[i]];
    output.push(formatProperty(ctx, value, recurseTimes, keys[i], extrasType, desc));
  }
  ctx.seen.pop();
  if (ctx.circular !== undefined) {
    const index = ctx.circular.get(value);
    if (index !== undefined) {
      const reference = `<ref *${index}>`;
      base = base === '' ? reference : `${reference} ${base}`;
    }
  }
  if (ctx.sorted) output.sort();
  return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
}

function formatProperty(ctx, value, recurseTimes, key, type, desc) {
  let name;
  let str;
  desc = desc || Object.getOwnPropertyDescriptor(value, key) ||
    { value: value[key], enumerable: true };
  if (desc.value !== undefined) {
    ctx.indentationLvl += 2;
    str = formatValue(ctx, desc.value, recurseTimes);
    ctx.indentationLvl -= 2;
  } else if (desc.get !== undefined) {
    str = desc.set !== undefined ? '[Getter/Setter]' : '[Getter]';
  } else if (desc.set !== undefined) {
    str = '[Setter]';
  } else {
    str = 'undefined';
  }
  if (type === kArrayExtrasType && isIndexKey(String(key))) return str;
  if (typeof key === 'symbol') {
    name = `[${key.toString()}]`;
  } else if (key === '__proto__') {
    name = "['__proto__']";
  } else if (desc.enumerable === false) {
    name = `[${keyIdentifier.test(key) ? key : strEscape(key)}]`;
  } else if (keyIdentifier.test(key)) {
    name = key;
  } else {
    name = strEscape(key);
  }
  return `${name}: ${str}`;
}

function formatArray(ctx, value, recurseTimes) {
  const max = Math.max(0, ctx.maxArrayLength);
  const output = [];
  let i = 0;
  while (i < value.length && output.length < max) {
    if (!Object.prototype.hasOwnProperty.call(value, i)) {
      let j = i;
      while (j < value.length && !Object.prototype.hasOwnProperty.call(value, j)) j++;
      const holes = j - i;
      output.push(`<${holes} empty item${holes > 1 ? 's' : ''}>`);
      i = j;
      continue;
    }
    output.push(formatProperty(ctx, value, recurseTimes, i, kArrayExtrasType));
    i++;
  }
  const rest = value.length - i;
  if (rest > 0) output.push(`... ${rest} more item${rest > 1 ? 's' : ''}`);
  return output;
}

function formatTypedArray(ctx, value) {
  const len = Math.min(Math.max(0, ctx.maxArrayLength), value.length);
  const remaining = value.length - len;
  const output = [];
  for (let i = 0; i < len; i++) {
    output.push(typeof value[i] === 'bigint' ? `${value[i]}n` : formatNumber(value[i]));
  }
  if (remaining > 0) output.push(`... ${remaining} more item${remaining > 1 ? 's' : ''}`);
  return output;
}

function formatArrayBuffer(ctx, value) {
  const bytes = new Uint8Array(value);
  let str = Array.from(bytes.slice(0, 50), (b) => b.toString(16).padStart(2, '0')).join(' ');
  if (bytes.length > 50) str += ` ... ${bytes.length - 50} more byte${bytes.length - 50 > 1 ? 's' : ''}`;
  return [`[Uint8Contents]: <${str}>`];
}

function formatSet(ctx, value, recurseTimes) {
  const output = [];
  ctx.indentationLvl += 2;
  for (const v of value) output.push(formatValue(ctx, v, recurseTimes));
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx, value, recurseTimes) {
  const output = [];
  ctx.indentationLvl += 2;
  for (const [k, v] of value) {
    output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
  }
  ctx.indentationLvl -= 2;
  return output;
}

function formatPromise(ctx, value, recurseTimes) {
  const [state, result] = natives.promiseState(value);
  if (state === 0) return ['<pending>'];
  ctx.indentationLvl += 2;
  const str = formatValue(ctx, result, recurseTimes);
  ctx.indentationLvl -= 2;
  return [state === 2 ? `<rejected> ${str}` : str];
}

function isBelowBreakLength(ctx, output, start, base) {
  let total = output.length + start;
  if (total + output.length > ctx.breakLength) return false;
  for (let i = 0; i < output.length; i++) {
    total += output[i].length;
    if (total > ctx.breakLength) return false;
  }
  return base === '' || !base.includes('\n');
}

function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  let outputLength = output.length;
  if (ctx.maxArrayLength < output.length) outputLength--;
  const separatorSpace = 2;
  const dataLen = new Array(outputLength);
  for (let i = 0; i < outputLength; i++) {
    const len = output[i].length;
    dataLen[i] = len;
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength &&
      (totalLength / actualMax > 5 || maxLength <= 6)) {
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;
    const tmp = [];
    const maxLineLength = [];
    for (let i = 0; i < columns; i++) {
      let lineLength = 0;
      for (let j = i; j < output.length; j += columns) {
        if (dataLen[j] > lineLength) lineLength = dataLen[j];
      }
      maxLineLength.push(lineLength + separatorSpace);
    }
    let padStart = true;
    if (value !== undefined) {
      for (let i = 0; i < output.length; i++) {
        if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
          padStart = false;
          break;
        }
      }
    }
    for (let i = 0; i < outputLength; i += columns) {
      const max = Math.min(i + columns, outputLength);
      let str = '';
      let j = i;
      for (; j < max - 1; j++) {
        const cell = `${output[j]}, `;
        const width = maxLineLength[j - i];
        str += padStart ? cell.padStart(width, ' ') : cell.padEnd(width, ' ');
      }
      if (padStart) {
        str += output[j].padStart(maxLineLength[j - i] - separatorSpace, ' ');
      } else {
        str += output[j];
      }
      tmp.push(str);
    }
    if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
    output = tmp;
  }
  return output;
}

function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
  if (ctx.compact !== true) {
    if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) {
        output = groupArrayElements(ctx, output, value);
      }
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joined = output.join(', ');
          if (!joined.includes('\n')) {
            return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
          }
        }
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }
  if (isBelowBreakLength(ctx, output, 0, base)) {
    return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ${braces[1]}`;
  }
  const indentation = ' '.repeat(ctx.indentationLvl);
  return `${base ? `${base} ` : ''}${braces[0]}\n${indentation}  ${output.join(`,\n${indentation}  `)} ${braces[1]}`;
}

// ---------- format ----------

const builtinCtors = new Set(
  Object.getOwnPropertyNames(globalThis).filter((k) => /^[A-Z]/.test(k) && typeof globalThis[k] === 'function'),
);

function hasBuiltInToString(value) {
  if (typeof value.toString !== 'function') return true;
  if (Object.prototype.hasOwnProperty.call(value, 'toString')) return false;
  let p = value;
  do { p = Object.getPrototypeOf(p); } while (p !== null && !Object.prototype.hasOwnProperty.call(p, 'toString'));
  if (p === null) return true;
  const d = Object.getOwnPropertyDescriptor(p, 'constructor');
  return d !== undefined && typeof d.value === 'function' && builtinCtors.has(d.value.name);
}

function tryStringify(v) {
  try {
    return JSON.stringify(v);
  } catch (e) {
    if (e instanceof TypeError && /circular/i.test(e.message)) return '[Circular]';
    throw e;
  }
}

function formatWithOptions(inspectOptions, ...args) {
  const first = args[0];
  let a = 0;
  let str = '';
  let join = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let tempStr;
    let lastPos = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      const next = first.charCodeAt(++i);
      if (a + 1 !== args.length) {
        switch (next) {
          case 115: { // s
            const arg = args[++a];
            if (typeof arg === 'number') tempStr = formatNumber(arg);
            else if (typeof arg === 'bigint') tempStr = `${arg}n`;
            else if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) tempStr = String(arg);
            else tempStr = inspect(arg, { ...inspectOptions, depth: 0, colors: false, compact: 3 });
            break;
          }
          case 106: tempStr = tryStringify(args[++a]); break; // j
          case 100: { // d
            const n = args[++a];
            if (typeof n === 'bigint') tempStr = `${n}n`;
            else if (typeof n === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number(n));
            break;
          }
          case 79: tempStr = inspect(args[++a], inspectOptions); break; // O
          case 111: // o
            tempStr = inspect(args[++a], { ...inspectOptions, showHidden: true, showProxy: true, depth: 4 });
            break;
          case 105: { // i
            const n = args[++a];
            if (typeof n === 'bigint') tempStr = `${n}n`;
            else if (typeof n === 'symbol') tempStr = 'NaN';
            else tempStr = formatNumber(Number.parseInt(n));
            break;
          }
          case 102: { // f
            const n = args[++a];
            tempStr = typeof n === 'symbol' ? 'NaN' : formatNumber(Number.parseFloat(n));
            break;
          }
          case 99: a += 1; tempStr = ''; break; // c
          case 37: str += first.slice(lastPos, i); lastPos = i + 1; continue; // %%
          default: continue;
        }
        if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
        str += tempStr;
        lastPos = i + 1;
      } else if (next === 37) {
        str += first.slice(lastPos, i);
        lastPos = i + 1;
      }
    }
    if (lastPos !== 0) {
      a++;
      join = ' ';
      if (lastPos < first.length) str += first.slice(lastPos);
    }
  }
  while (a < args.length) {
    const v = args[a];
    str += join;
    str += typeof v !== 'string' ? inspect(v, inspectOptions) : v;
    join = ' ';
    a++;
  }
  return str;
}

function format(...args) {
  return formatWithOptions(undefined, ...args);
}
