// The runtime's JavaScript half: Node's errors for bad arguments,
// `process`, the nextTick queue, timers and immediates, queueMicrotask,
// console, the uncaught-exception and unhandled-rejection paths, `require`
// and the main module. Evaluated once, inside a function of
// (natives, argv, env, execPath); returns `entry`, the only function the
// host calls.
//
// Invariants:
// - Every callback the loop runs is found here by id (ticks in FIFO order,
//   timers in a map, immediates in a FIFO); the host schedules loop-core's own
//   tick, timer and immediate for each, so ordering is the loop's.
// - `entry` never lets an exception out: an uncaught one goes through
//   onUncaught (Node's process._fatalException).

const K_TICK = 0;
const K_TIMER = 1;
const K_IMMEDIATE = 2;
const K_REJECTIONS = 3;
const K_BEFORE_EXIT = 4;
const K_EXIT = 5;
const K_TRACK = 6;
const K_UNCAUGHT = 7;
const K_MAIN = 8;
const K_FS = 9;
const K_NET = 10;
const K_SIGNAL = 11;
const TIMEOUT_MAX = 2 ** 31 - 1;

// ---------- Node's argument errors ----------

function describeReceived(v) {
  if (v == null) return ` Received ${v}`;
  if (typeof v === 'function') return ` Received function ${v.name}`;
  if (typeof v === 'object') {
    if (v.constructor && v.constructor.name) return ` Received an instance of ${v.constructor.name}`;
    return ` Received ${inspect(v, { depth: -1 })}`;
  }
  let shown = inspect(v, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof v} (${shown})`;
}

function nodeError(Base, code, message) {
  const err = new Base(message);
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // V8 shows Node's codes in the stack's first line: "TypeError [CODE]: ...".
  Object.defineProperty(err, 'name', { value: `${Base.name} [${code}]`, configurable: true, writable: true });
  const text = errorStack(err);
  delete err.name;
  Object.defineProperty(err, 'stack', { value: text, configurable: true, writable: true });
  return err;
}

function invalidArgType(name, expected, actual) {
  const what = name.includes('.') ? 'property' : 'argument';
  const type = /^[A-Z]/.test(expected) ? 'an instance of' : 'of type';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${what} must be ${type} ${expected}.${describeReceived(actual)}`);
}

function validateFunction(fn, name) {
  if (typeof fn !== 'function') throw invalidArgType(name, 'function', fn);
}

// ---------- process ----------

const process = new EventEmitter();
Object.defineProperty(process, Symbol.toStringTag, { value: 'process', enumerable: false });
process.title = 'loop-js';
process.version = 'v20.0.0';
process.versions = { node: '20.0.0', quickjs: 'ng', 'loop-js': '0.1.0' };
process.release = { name: 'loop-js' };
process.platform = 'linux';
process.arch = 'x64';
process.argv = argv;
process.argv0 = argv[0];
process.execPath = execPath;
process.execArgv = [];
// Node's env is an exotic object whose values are strings: assignment
// coerces (`process.env.X = 1` reads back '1').
process.env = new Proxy(env, {
  set(target, key, value) {
    if (typeof key === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
    target[key] = String(value);
    return true;
  },
  defineProperty(target, key, desc) {
    if ('value' in desc) target[key] = String(desc.value);
    return true;
  },
});
process.exitCode = undefined;
process.pid = natives.pid;
process.ppid = natives.ppid;
process.cwd = () => natives.cwd();
process.uptime = () => natives.now() / 1000;
process.hrtime = function hrtime(prev) {
  const ns = BigInt(Math.round(natives.now() * 1e6)) + 1000000000000n;
  let s = Number(ns / 1000000000n);
  let n = Number(ns % 1000000000n);
  if (Array.isArray(prev)) {
    s -= prev[0];
    n -= prev[1];
    if (n < 0) { s -= 1; n += 1e9; }
  }
  return [s, n];
};
process.hrtime.bigint = () => BigInt(Math.round(natives.now() * 1e6)) + 1000000000000n;
process.memoryUsage = () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 });
process.features = {};
process.config = { variables: {} };
process.stdout = { write(s) { natives.write(1, String(s)); return true; }, isTTY: false, fd: 1 };
process.stderr = { write(s) { natives.write(2, String(s)); return true; }, isTTY: false, fd: 2 };
process.exit = function exit(code) {
  if (code !== undefined) process.exitCode = code;
  if (!process._exiting) {
    process._exiting = true;
    process.emit('exit', process.exitCode | 0);
  }
  natives.exit(process.exitCode | 0);
};
process.reallyExit = (code) => natives.exit(code | 0);
process.abort = () => natives.exit(134);

let warnedOnce = false;
process.emitWarning = function emitWarning(warning, type, code) {
  if (typeof type === 'object' && type !== null) {
    code = type.code;
    type = type.type;
  }
  if (typeof warning === 'string') {
    warning = new Error(warning);
    warning.name = String(type || 'Warning');
    if (code !== undefined) warning.code = code;
  }
  process.nextTick(doEmitWarning, warning);
};
function doEmitWarning(warning) {
  const had = process.listenerCount('warning') > 0;
  process.emit('warning', warning);
  if (had && false) return;
  let text = `(node:${process.pid}) `;
  if (warning.code) text += `[${warning.code}] `;
  text += `${warning.name}: ${warning.message}\n`;
  if (!warnedOnce) {
    warnedOnce = true;
    text += '(Use `node --trace-warnings ...` to show where the warning was created)\n';
  }
  natives.write(2, text);
}

// ---------- nextTick ----------

// The JS tick FIFO, in segments. A segment is a run of ticks with one
// loop-core tick (`natives.nextTick`) standing for all of them: when
// loop-core runs it, `runTicks` runs the segment's ticks, those they queue
// included, in FIFO order. That is exactly Node's order as long as no
// other loop-core tick sits between two ticks of a segment, so a new
// segment (a new loop-core tick, queued behind whatever is queued by then)
// starts whenever that could have happened:
// - `needNewSegment` is true whenever JavaScript is entered, except when
//   loop-core runs a segment's tick with nothing queued behind it
//   (`clean`): then that segment stays open and the ticks it queues join
//   it (they are at the very end of the queue either way);
// - after every native call that may queue a loop-core tick itself (fs,
//   net, signals: `fenced` below), and whenever JavaScript returns to the
//   host (`entry`'s end).
// A tick chain thus runs as one loop-core tick, without a crossing per
// tick; ordering is loop-core's, tick for tick.
//
// The FIFO is a ring of slot pairs (callback, arguments or undefined),
// as Node's FixedQueue: no allocation and no array resizing per tick, the
// segments kept apart (`segStarts`, the ring positions where the pending
// segments begin; `segStop`, where the running one ends, -1 while it is
// the last), not stored per tick. This is the hot path of a tick chain:
// every operation here runs once per tick (see docs/js.md, Speed).
let tickRing = new Array(2048).fill(undefined);
let tickMask = 2047;
let tickHead = 0;
let tickTail = 0;
const segStarts = [];
let segStop = -1;
let ticksRunning = false;
let needNewSegment = true;

// `process._exiting` as a plain variable too (this runs once per tick).
let exiting = false;
Object.defineProperty(process, '_exiting', {
  get() { return exiting; },
  set(v) { exiting = !!v; },
  enumerable: false,
  configurable: true,
});

function nextTick(callback, ...args) {
  if (typeof callback !== 'function') throw invalidArgType('callback', 'function', callback);
  if (exiting) return;
  if (needNewSegment) openSegment();
  const t = tickTail;
  tickRing[t] = callback;
  if (args.length !== 0) tickRing[t + 1] = args;
  tickTail = (t + 2) & tickMask;
  if (tickTail === tickHead) growTicks();
}
const scheduleTick = natives.nextTick;
process.nextTick = nextTick;

function openSegment() {
  needNewSegment = false;
  if (ticksRunning && segStop === -1) segStop = tickTail;
  segStarts.push(tickTail);
  scheduleTick();
}

// (`void 0`, not `undefined`, on the hot paths: QuickJS looks the
// global `undefined` up by name each time.)

// The ring is full: twice the size, its contents from position 0.
function growTicks() {
  const old = tickRing;
  const n = old.length;
  const moved = (p) => (p === -1 ? -1 : (p - tickHead) & tickMask);
  tickRing = new Array(n * 2).fill(undefined);
  for (let i = 0; i < n; i++) tickRing[i] = old[(tickHead + i) & tickMask];
  for (let i = 0; i < segStarts.length; i++) segStarts[i] = moved(segStarts[i]);
  segStop = moved(segStop);
  tickMask = n * 2 - 1;
  tickHead = 0;
  tickTail = n;
}

// Runs the segment at the FIFO's head; `clean`: nothing is queued behind
// its loop-core tick.
function runTicks(clean) {
  segStarts.shift();
  segStop = segStarts.length === 0 ? -1 : segStarts[0];
  needNewSegment = !clean;
  ticksRunning = true;
  try {
    for (;;) {
      try {
        drainSegment();
        return;
      } catch (e) {
        if (!onUncaught(e)) return;
      }
    }
  } finally {
    ticksRunning = false;
  }
}

function drainSegment() {
  while (tickHead !== tickTail && tickHead !== segStop) {
    const h = tickHead;
    const cb = tickRing[h];
    const args = tickRing[h + 1];
    tickRing[h] = void 0;
    tickHead = (h + 2) & tickMask;
    // (A truth test, not `=== undefined`: QuickJS compares an object
    // with undefined on its slow path.)
    if (!args) {
      cb();
    } else {
      tickRing[h + 1] = void 0;
      cb(...args);
    }
  }
}

// Natives that may queue a loop-core tick of their own (loop-fs and
// loop-net queue error, listening and close events on ticks): a JS tick
// queued after one must come after that tick.
for (const k of Object.keys(natives)) {
  if (/^(fs|server|socket|connect|signal)/.test(k) && k !== 'fsFlags') {
    const f = natives[k];
    natives[k] = function fenced(...a) {
      try {
        return f(...a);
      } finally {
        needNewSegment = true;
      }
    };
  }
}

// ---------- queueMicrotask ----------

const resolved = Promise.resolve();
function queueMicrotask(callback) {
  validateFunction(callback, 'callback');
  // One promise reaction job: the engine's FIFO, shared with promises.
  resolved.then(() => {
    try {
      callback();
    } catch (e) {
      // Node catches it too and rethrows it with triggerUncaughtException:
      // its report points where the error was made, not at the throw.
      onUncaught(e, 'uncaughtException', false);
    }
  });
}

// ---------- timers ----------

const kId = Symbol('asyncId');
const kRefed = Symbol('refed');
const kHasPrimitive = Symbol('kHasPrimitive');
const timers = new Map(); // id -> Timeout, while armed
const knownTimersById = Object.create(null);
let nextAsyncId = 2;

function coerceDelay(after) {
  after *= 1;
  if (!(after >= 1 && after <= TIMEOUT_MAX)) {
    if (after > TIMEOUT_MAX) {
      process.emitWarning(`${after} does not fit into a 32-bit signed integer.` +
        '\nTimeout duration was set to 1.', 'TimeoutOverflowWarning');
    }
    after = 1;
  }
  return after;
}

// QuickJS frees a shape nobody uses: without these, every Immediate
// (and Timeout) would build its chain of shapes, the empty one and one
// per property added, anew. One object per step of the constructor
// keeps each shape alive (a fifth less per construction). They hang on
// the class itself (a hidden symbol): a bootstrap variable no function
// still uses would be freed with the bootstrap's scope.
const kShapes = Symbol('shapes');
function anchorShapes(proto, keys) {
  const keep = [];
  for (let i = 0; i <= keys.length; i++) {
    const o = Object.create(proto);
    for (let j = 0; j < i; j++) o[keys[j]] = null;
    keep.push(o);
  }
  Object.defineProperty(proto.constructor, kShapes, { value: keep });
}
class Timeout {
  constructor(callback, after, args, isRepeat) {
    after = coerceDelay(after);
    this._idleTimeout = after;
    this._onTimeout = callback;
    this._timerArgs = args;
    this._repeat = isRepeat ? after : null;
    this._destroyed = false;
    this[kRefed] = true;
    this[kHasPrimitive] = false;
    this[kId] = nextAsyncId++;
    timers.set(this[kId], this);
    natives.setTimer(this[kId], after, isRepeat);
  }

  refresh() {
    if (this._idleTimeout < 0) return this;
    const id = this[kId];
    if (timers.has(id) && natives.timerRefresh(id)) return this;
    // Fired (or firing): armed again, as Node re-inserts it.
    timers.set(id, this);
    this._destroyed = false;
    natives.setTimer(id, this._idleTimeout, this._repeat !== null);
    if (!this[kRefed]) natives.timerRef(id, false);
    return this;
  }

  unref() {
    if (this[kRefed]) {
      this[kRefed] = false;
      if (!this._destroyed) natives.timerRef(this[kId], false);
    }
    return this;
  }

  ref() {
    if (!this[kRefed]) {
      this[kRefed] = true;
      if (!this._destroyed) natives.timerRef(this[kId], true);
    }
    return this;
  }

  hasRef() {
    return this[kRefed];
  }

  close() {
    clearTimeout(this);
    return this;
  }

  [Symbol.toPrimitive]() {
    const id = this[kId];
    if (!this[kHasPrimitive]) {
      this[kHasPrimitive] = true;
      knownTimersById[id] = this;
    }
    return id;
  }
}

anchorShapes(Timeout.prototype, ['_idleTimeout', '_onTimeout', '_timerArgs', '_repeat', '_destroyed', kRefed,
  kHasPrimitive, kId]);

function unenroll(t) {
  if (t._destroyed) return;
  t._destroyed = true;
  const id = t[kId];
  if (t[kHasPrimitive]) delete knownTimersById[id];
  timers.delete(id);
  natives.clearTimer(id);
  t._idleTimeout = -1;
}

function runTimer(id) {
  const t = timers.get(id);
  if (t === undefined) return;
  const repeat = t._repeat !== null;
  if (!repeat) {
    timers.delete(id);
  }
  try {
    const cb = t._onTimeout;
    if (typeof cb === 'function') {
      const args = t._timerArgs;
      if (args === undefined) cb.call(t);
      else cb.apply(t, args);
    }
  } finally {
    if (!repeat && !timers.has(id) && !t._destroyed) {
      t._destroyed = true;
      if (t[kHasPrimitive]) delete knownTimersById[id];
    }
  }
}

function setTimeout(callback, after, ...args) {
  validateFunction(callback, 'callback');
  return new Timeout(callback, after, args.length === 0 ? undefined : args, false);
}
function setInterval(callback, repeat, ...args) {
  validateFunction(callback, 'callback');
  return new Timeout(callback, repeat, args.length === 0 ? undefined : args, true);
}
function clearTimeout(timer) {
  if (timer && timer._onTimeout) {
    timer._onTimeout = null;
    unenroll(timer);
    return;
  }
  if (typeof timer === 'number' || typeof timer === 'string') {
    const t = knownTimersById[timer];
    if (t !== undefined) {
      t._onTimeout = null;
      unenroll(t);
    }
  }
}
const clearInterval = clearTimeout;

// Immediates waiting for the check phase, in the order loop-core runs
// them (FIFO: it runs immediates in the order they were set), as slot
// pairs (id, Immediate). A cleared one stays in its slots, destroyed,
// until the FIFO passes it (or a compaction drops it), so running one
// needs no lookup by id.
let immQueue = [];
let immHead = 0;
let immCleared = 0;

class Immediate {
  constructor(callback, args) {
    this._idleNext = null;
    this._idlePrev = null;
    this._onImmediate = callback;
    this._argv = args;
    this._destroyed = false;
    this[kRefed] = true;
    const id = nextAsyncId++;
    this[kId] = id;
    immQueue.push(id, this);
    natives.setImmediate(id);
  }

  ref() {
    if (!this[kRefed]) {
      this[kRefed] = true;
      if (!this._destroyed) natives.immediateRef(this[kId], true);
    }
    return this;
  }

  unref() {
    if (this[kRefed]) {
      this[kRefed] = false;
      if (!this._destroyed) natives.immediateRef(this[kId], false);
    }
    return this;
  }

  hasRef() {
    return !!this[kRefed];
  }
}

anchorShapes(Immediate.prototype, ['_idleNext', '_idlePrev', '_onImmediate', '_argv', '_destroyed', kRefed, kId]);

function runImmediate(id) {
  let im;
  for (;;) {
    const h = immHead;
    if (h === immQueue.length) return;
    im = immQueue[h + 1];
    if (immQueue[h] !== id && !im._destroyed) {
      // Not at the head (loop-core runs them in the order they were
      // set, so this does not happen): found where it is instead.
      im = takeImmediate(id);
      if (im === void 0) return;
      break;
    }
    immQueue[h] = void 0;
    immQueue[h + 1] = void 0;
    immHead = h + 2;
    if (!im._destroyed) break;
    immCleared--;
  }
  // The slots run are dropped a thousand at a time (not one by one, and
  // without resizing the array each time it empties).
  if (immHead > 2048) {
    immQueue = immQueue.slice(immHead);
    immHead = 0;
  }
  im._destroyed = true;
  const cb = im._onImmediate;
  if (typeof cb !== 'function') return;
  const args = im._argv;
  if (!args) cb.call(im);
  else cb.apply(im, args);
}

function takeImmediate(id) {
  for (let i = immHead; i < immQueue.length; i += 2) {
    const im = immQueue[i + 1];
    if (immQueue[i] === id && !im._destroyed) {
      immQueue.splice(i, 2);
      return im;
    }
  }
  return void 0;
}

function setImmediate(callback, ...args) {
  if (typeof callback !== 'function') throw invalidArgType('callback', 'function', callback);
  return new Immediate(callback, args.length === 0 ? void 0 : args);
}
function clearImmediate(im) {
  if (!im || im._destroyed || !(im instanceof Immediate)) return;
  im._destroyed = true;
  im._onImmediate = null;
  natives.clearImmediate(im[kId]);
  // Cleared ones are dropped when the FIFO passes them; many cleared and
  // none run (an immediate set and cleared by every timer) would pile up.
  if (++immCleared > 1024 && immCleared * 4 > immQueue.length - immHead) {
    const live = [];
    for (let i = immHead; i < immQueue.length; i += 2) {
      if (!immQueue[i + 1]._destroyed) live.push(immQueue[i], immQueue[i + 1]);
    }
    immQueue = live;
    immHead = 0;
    immCleared = 0;
  }
}

const timersPromises = {
  setTimeout(after, value) {
    return new Promise((resolve) => setTimeout(resolve, after, value));
  },
  setImmediate(value) {
    return new Promise((resolve) => setImmediate(resolve, value));
  },
  scheduler: {
    wait: (after) => new Promise((resolve) => setTimeout(resolve, after)),
    yield: () => new Promise((resolve) => setImmediate(resolve)),
  },
};

const timersModule = {
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
  promises: timersPromises,
};

// ---------- console ----------

let groupIndent = '';
const counts = new Map();
const timeLabels = new Map();

function writeLine(fd, text) {
  if (groupIndent !== '') text = groupIndent + text.split('\n').join(`\n${groupIndent}`);
  natives.write(fd, `${text}\n`);
}

const console = {
  log: (...args) => writeLine(1, formatWithOptions(undefined, ...args)),
  info: (...args) => writeLine(1, formatWithOptions(undefined, ...args)),
  debug: (...args) => writeLine(1, formatWithOptions(undefined, ...args)),
  error: (...args) => writeLine(2, formatWithOptions(undefined, ...args)),
  warn: (...args) => writeLine(2, formatWithOptions(undefined, ...args)),
  dir: (obj, opts) => writeLine(1, inspect(obj, { customInspect: false, ...opts })),
  trace: (...args) => {
    const err = new Error(formatWithOptions(undefined, ...args));
    err.name = 'Trace';
    writeLine(2, errorStack(err));
  },
  assert: (ok, ...args) => {
    if (!ok) {
      args[0] = `Assertion failed${args.length === 0 ? '' : `: ${args[0]}`}`;
      writeLine(2, formatWithOptions(undefined, ...args));
    }
  },
  count: (label = 'default') => {
    label = `${label}`;
    const n = (counts.get(label) || 0) + 1;
    counts.set(label, n);
    writeLine(1, `${label}: ${n}`);
  },
  countReset: (label = 'default') => { counts.delete(`${label}`); },
  group: (...args) => {
    if (args.length > 0) writeLine(1, formatWithOptions(undefined, ...args));
    groupIndent += '  ';
  },
  groupEnd: () => { groupIndent = groupIndent.slice(0, -2); },
  time: (label = 'default') => { timeLabels.set(`${label}`, natives.now()); },
  timeEnd: (label = 'default') => {
    const t = timeLabels.get(`${label}`);
    if (t !== undefined) {
      writeLine(1, `${label}: ${(natives.now() - t).toFixed(3)}ms`);
      timeLabels.delete(`${label}`);
    }
  },
  timeLog: (label = 'default', ...data) => {
    const t = timeLabels.get(`${label}`);
    if (t !== undefined) {
      writeLine(1, formatWithOptions(undefined, `${label}: ${(natives.now() - t).toFixed(3)}ms`, ...data));
    }
  },
};
console.groupCollapsed = console.group;

// ---------- uncaught exceptions and rejections ----------

// What Node prints for a fatal exception (to stderr): where it was
// thrown (file, line, the line itself, a caret), the error as inspect
// shows it, the version. The frames are the engine's; the caret sits
// where V8 puts it: QuickJS's column is the constructor's name in
// `new Error(...)`, V8's the `new`; for an exception thrown (not a
// rejection) V8 points at the `throw` (when it is on the same line: the
// engine only knows where the error was made).
const kExcerpt = Symbol('excerpt');
function sourceExcerpt(err, atThrow) {
  if (typeof err[kExcerpt] === 'string') return err[kExcerpt];
  const stack = typeof err.stack === 'string' ? err.stack : '';
  const m = /\(?((?:\/|[A-Za-z]:)[^():]*):(\d+)(?::(\d+))?\)?\s*$/m.exec(stack.split('\n').find((l) => /:\d+/.test(l)) || '');
  if (m === null) return '';
  try {
    const line = natives.readFile(m[1]).split('\n')[Number(m[2]) - 1];
    if (line === undefined) return '';
    let col = line.length - line.trimStart().length;
    if (m[3] !== undefined && Number(m[3]) - 1 < line.length) {
      col = Number(m[3]) - 1;
      if (line.slice(0, col).endsWith('new ')) col -= 4;
      const before = line.slice(0, col);
      if (atThrow && /\bthrow\s+$/.test(before)) col = before.search(/\bthrow\s+$/);
    }
    return `${m[1]}:${m[2]}\n${line}\n${' '.repeat(col)}^\n\n`;
  } catch (e) {
    return '';
  }
}

function fatalText(err, atThrow) {
  let text;
  if (isError(err)) {
    text = sourceExcerpt(err, atThrow) + inspect(err);
  } else {
    text = `Uncaught ${inspect(err)}\n` +
      '(Use `node --trace-uncaught ...` to show where the exception was thrown)';
  }
  return `${text}\n\nNode.js ${process.version}\n`;
}

function onUncaught(err, origin = 'uncaughtException', atThrow = true) {
  if (process.listenerCount('uncaughtException') > 0) {
    try {
      process.emit('uncaughtException', err, origin);
      return true;
    } catch (e) {
      err = e;
    }
  }
  let text;
  try {
    text = fatalText(err, atThrow && origin === 'uncaughtException');
  } catch (e) {
    text = `${String(err)}\n`;
  }
  natives.write(2, text);
  if (!process._exiting) {
    process._exiting = true;
    process.exitCode = 1;
    try {
      process.emit('exit', 1);
    } catch (e) {
      // Node ignores an exception from an 'exit' handler here too.
    }
  }
  natives.fatal(1);
  return false;
}

const pendingRejections = new Map(); // promise -> reason, in rejection order

function trackRejection(handled, promise, reason) {
  if (!handled) pendingRejections.set(promise, reason);
  else pendingRejections.delete(promise);
}

function unhandledRejectionError(reason) {
  const err = new Error('This error originated either by throwing inside of an async ' +
    'function without a catch block, or by rejecting a promise which was not handled ' +
    `with .catch(). The promise rejected with the reason "${inspect(reason)}".`);
  err.code = 'ERR_UNHANDLED_REJECTION';
  Object.defineProperty(err, 'name', { value: 'UnhandledPromiseRejection', configurable: true, writable: true });
  // Node's is made in processPromiseRejections: its frames and the
  // excerpt above it are Node's internals (the first frames, which do
  // not depend on where the rejection came from).
  Object.defineProperty(err, 'stack', {
    value: `UnhandledPromiseRejection: ${err.message}\n` +
      '    at throwUnhandledRejectionsMode (node:internal/process/promises:389:7)\n' +
      '    at processPromiseRejections (node:internal/process/promises:470:17)\n' +
      '    at processTicksAndRejections (node:internal/process/task_queues:96:32)',
    configurable: true,
    writable: true,
  });
  Object.defineProperty(err, kExcerpt, {
    value: 'node:internal/process/promises:389\n      new UnhandledPromiseRejection(reason);\n      ^\n\n',
  });
  return err;
}

// Node's processPromiseRejections with --unhandled-rejections=throw.
function processRejections() {
  if (pendingRejections.size === 0) return false;
  const list = [...pendingRejections];
  pendingRejections.clear();
  for (const [promise, reason] of list) {
    const handled = process.emit('unhandledRejection', reason, promise);
    if (!handled) {
      const err = isError(reason) ? reason : unhandledRejectionError(reason);
      if (!onUncaught(err, 'unhandledRejection')) return false;
    }
  }
  return true;
}

// ---------- path (POSIX) ----------

function normalizeString(path, allowAboveRoot) {
  const out = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (allowAboveRoot) out.push('..');
    } else {
      out.push(part);
    }
  }
  return out.join('/');
}

const pathModule = {
  sep: '/',
  delimiter: ':',
  isAbsolute: (p) => p.startsWith('/'),
  normalize(p) {
    if (p === '') return '.';
    const abs = p.startsWith('/');
    const trailing = p.endsWith('/');
    let s = normalizeString(p, !abs);
    if (s === '' && !abs) s = '.';
    if (s !== '' && trailing) s += '/';
    return abs ? `/${s}` : s;
  },
  join(...parts) {
    const joined = parts.filter((x) => x !== '').join('/');
    return joined === '' ? '.' : pathModule.normalize(joined);
  },
  resolve(...parts) {
    let resolvedPath = '';
    for (let i = parts.length - 1; i >= -1 && !resolvedPath.startsWith('/'); i--) {
      const p = i >= 0 ? parts[i] : process.cwd();
      if (p === '') continue;
      resolvedPath = resolvedPath === '' ? p : `${p}/${resolvedPath}`;
    }
    const s = normalizeString(resolvedPath, false);
    return `/${s}`;
  },
  dirname(p) {
    if (p === '') return '.';
    const abs = p.startsWith('/');
    let end = p.length;
    while (end > 1 && p[end - 1] === '/') end--;
    const i = p.lastIndexOf('/', end - 1);
    if (i === -1) return '.';
    if (i === 0) return abs ? '/' : '.';
    let d = p.slice(0, i);
    while (d.length > 1 && d.endsWith('/')) d = d.slice(0, -1);
    return d;
  },
  basename(p, ext) {
    let end = p.length;
    while (end > 1 && p[end - 1] === '/') end--;
    let b = p.slice(p.lastIndexOf('/', end - 1) + 1, end);
    if (ext !== undefined && b.endsWith(ext) && b !== ext) b = b.slice(0, -ext.length);
    return b;
  },
  extname(p) {
    const b = pathModule.basename(p);
    const i = b.lastIndexOf('.');
    return i <= 0 ? '' : b.slice(i);
  },
  relative(from, to) {
    const f = pathModule.resolve(from).split('/').filter(Boolean);
    const t = pathModule.resolve(to).split('/').filter(Boolean);
    let i = 0;
    while (i < f.length && i < t.length && f[i] === t[i]) i++;
    return [...f.slice(i).map(() => '..'), ...t.slice(i)].join('/');
  },
  parse(p) {
    const base = pathModule.basename(p);
    const ext = pathModule.extname(p);
    const dir = p.includes('/') ? pathModule.dirname(p) : '';
    return { root: p.startsWith('/') ? '/' : '', dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
  },
  format(o) {
    const dir = o.dir || o.root || '';
    const base = o.base || `${o.name || ''}${o.ext || ''}`;
    if (!dir) return base;
    return dir === o.root ? `${dir}${base}` : `${dir}/${base}`;
  },
};
pathModule.posix = pathModule;

// ---------- util ----------

const utilModule = {
  inspect,
  format,
  formatWithOptions,
  isDeepStrictEqual: (a, b) => tryStringify(a) === tryStringify(b),
  inherits(ctor, superCtor) {
    Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  },
  deprecate: (fn) => fn,
  promisify(fn) {
    validateFunction(fn, 'original');
    return function promisified(...args) {
      return new Promise((resolve, reject) => {
        fn.call(this, ...args, (err, value) => (err ? reject(err) : resolve(value)));
      });
    };
  },
  types: {
    isPromise: (v) => v instanceof Promise,
    isDate: (v) => v instanceof Date,
    isRegExp: (v) => v instanceof RegExp,
    isNativeError: (v) => v instanceof Error,
    isMap: (v) => v instanceof Map,
    isSet: (v) => v instanceof Set,
  },
};

// ---------- require ----------

// Node's built-in modules; those not listed in `builtins` are reported
// as not implemented rather than not found.
const nodeBuiltins = new Set(['assert', 'async_hooks', 'buffer', 'child_process', 'cluster',
  'console', 'crypto', 'dgram', 'diagnostics_channel', 'dns', 'domain', 'events', 'fs',
  'fs/promises', 'http', 'http2', 'https', 'inspector', 'module', 'net', 'os', 'path',
  'perf_hooks', 'process', 'punycode', 'querystring', 'readline', 'repl', 'stream', 'string_decoder',
  'sys', 'timers', 'timers/promises', 'tls', 'trace_events', 'tty', 'url', 'util', 'v8', 'vm',
  'wasi', 'worker_threads', 'zlib']);

const performance = {
  now: () => natives.now(),
  timeOrigin: Date.now() - natives.now(),
};

const builtins = {
  timers: () => timersModule,
  'timers/promises': () => timersPromises,
  events: () => EventEmitter,
  util: () => utilModule,
  sys: () => utilModule,
  path: () => pathModule,
  process: () => process,
  console: () => console,
  perf_hooks: () => ({ performance }),
  fs: () => fsModule,
  'fs/promises': () => fsModule.promises,
  buffer: () => bufferModule,
  net: () => netModule,
};

const moduleCache = Object.create(null);

function moduleNotFound(id, parent) {
  const stack = [];
  for (let m = parent; m; m = m.parent) stack.push(m.filename);
  const err = new Error(`Cannot find module '${id}'\nRequire stack:\n- ${stack.join('\n- ')}`);
  err.code = 'MODULE_NOT_FOUND';
  err.requireStack = stack;
  return err;
}

function resolveFile(request, parent) {
  const base = request.startsWith('/') ? request : pathModule.resolve(parent.path, request);
  for (const cand of [base, `${base}.js`, `${base}.json`, `${base}/index.js`, `${base}/index.json`]) {
    if (natives.isFile(cand)) return cand;
  }
  return undefined;
}

class Module {
  constructor(id, parent) {
    this.id = id;
    this.path = '.';
    this.exports = {};
    this.filename = null;
    this.loaded = false;
    this.children = [];
    this.paths = [];
    Object.defineProperty(this, 'parent', { value: parent, writable: true, enumerable: false });
    if (parent) parent.children.push(this);
  }

  load(filename) {
    this.filename = filename;
    this.path = pathModule.dirname(filename);
    const src = natives.readFile(filename);
    if (filename.endsWith('.json')) {
      this.exports = JSON.parse(src);
    } else {
      const fn = natives.compile(src, filename);
      fn.call(this.exports, this.exports, makeRequire(this), this, filename, this.path);
    }
    this.loaded = true;
  }
}

let mainModule;

function makeRequire(mod) {
  function require(id) {
    if (typeof id !== 'string') throw invalidArgType('id', 'string', id);
    if (id === '') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
        "The argument 'id' must be a non-empty string. Received ''");
    }
    const name = id.startsWith('node:') ? id.slice(5) : id;
    if (Object.prototype.hasOwnProperty.call(builtins, name)) return builtins[name]();
    if (nodeBuiltins.has(name)) {
      throw nodeError(Error, 'ERR_LOOP_JS_UNSUPPORTED',
        `loop-js does not implement the built-in module '${name}'`);
    }
    if (id.startsWith('node:')) {
      throw nodeError(Error, 'ERR_UNKNOWN_BUILTIN_MODULE', `No such built-in module: ${id}`);
    }
    if (id.startsWith('./') || id.startsWith('../') || id.startsWith('/') || id === '.' || id === '..') {
      const file = resolveFile(id, mod);
      if (file !== undefined) {
        const cached = moduleCache[file];
        if (cached !== undefined) return cached.exports;
        const child = new Module(file, mod);
        moduleCache[file] = child;
        try {
          child.load(file);
        } catch (e) {
          delete moduleCache[file];
          throw e;
        }
        return child.exports;
      }
    }
    throw moduleNotFound(id, mod);
  }
  require.cache = moduleCache;
  require.main = mainModule;
  require.resolve = (id) => {
    const name = id.startsWith('node:') ? id.slice(5) : id;
    if (Object.prototype.hasOwnProperty.call(builtins, name) || nodeBuiltins.has(name)) return id;
    const file = resolveFile(id, mod);
    if (file === undefined) throw moduleNotFound(id, mod);
    return file;
  };
  return require;
}

function runMain(source) {
  const filename = argv[1];
  mainModule = new Module('.', null);
  mainModule.filename = filename;
  mainModule.path = pathModule.dirname(filename);
  moduleCache[filename] = mainModule;
  const fn = natives.compile(source, filename);
  fn.call(mainModule.exports, mainModule.exports, makeRequire(mainModule), mainModule,
    filename, mainModule.path);
  mainModule.loaded = true;
}

