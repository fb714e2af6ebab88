// `net`: Server and Socket over loop-net's Node layer. Events come from
// loop-net exactly where Node emits them (data and end in the poll
// phase, errors on the next tick, close in the close phase); this file
// only adds Node's JavaScript-side behaviour: the readable side's flowing
// mode (no 'data' before a listener, resume(), pause()), setEncoding,
// pipe() with backpressure, write/end callbacks, and the argument forms.

const netObjects = new Map(); // id -> Server or Socket, until 'close'
const writeCbs = new Map(); // callback id -> callback
let writeCbNext = 1;

function netError(d) {
  const err = new Error(d.message);
  for (const k of ['errno', 'code', 'syscall', 'address', 'port']) {
    if (d[k] !== undefined) err[k] = d[k];
  }
  return err;
}

function callNet(fn) {
  try {
    return fn();
  } catch (e) {
    if (e && e.__netError) throw netError(e.__netError);
    throw e;
  }
}

function runNet(id, ev) {
  const o = netObjects.get(id);
  if (o === undefined) return;
  o._onNative(ev[0], ev[1], ev[2]);
}

function isIPv4(s) {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
}
function isIPv6(s) {
  return typeof s === 'string' && s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
}

class Socket extends EventEmitter {
  constructor(options) {
    super();
    this._id = 0;
    this._flowing = null;
    this._paused = false;
    this._buffer = [];
    this._endPending = false;
    this._encoding = null;
    this._allowHalfOpen = !!(options && options.allowHalfOpen);
    this.connecting = false;
    this.destroyed = false;
    this._ended = false;
    this._ending = false;
    this._needDrain = false;
    this._lastWrite = 0;
    this._info = undefined;
    this.on('newListener', (ev) => {
      if (ev === 'data' && this._flowing !== false) this.resume();
    });
  }

  _attach(id, connected) {
    this._id = id;
    netObjects.set(id, this);
    this.connecting = !connected;
  }

  connect(...args) {
    let port; let host = 'localhost'; let path; let cb;
    if (typeof args[args.length - 1] === 'function') cb = args.pop();
    const [a, b] = args;
    if (a !== null && typeof a === 'object') {
      ({ port, host = 'localhost', path } = a);
      if (a.allowHalfOpen) this._allowHalfOpen = true;
    } else if (typeof a === 'string' && !/^\d+$/.test(a)) {
      path = a;
    } else {
      port = a;
      if (typeof b === 'string') host = b;
    }
    if (path === undefined) {
      port = Number(port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
          `Port should be >= 0 and < 65536. Received ${inspect(args[0])}.`);
      }
    }
    if (cb) this.once('connect', cb);
    if (host === 'localhost') host = '127.0.0.1';
    const id = callNet(() => natives.connect(port || 0, host, path));
    this._attach(id, false);
    if (this._allowHalfOpen) natives.socketOp(id, 'allowHalfOpen', 1);
    this._remote = path === undefined ? { address: host, port } : { address: path };
    return this;
  }

  _onNative(ev, a, b) {
    switch (ev) {
      case 'connect':
        this.connecting = false;
        this.emit('connect');
        this.emit('ready');
        break;
      case 'data': {
        const buf = Buffer.from(a);
        if (this._flowing) this._emitData(buf);
        else this._buffer.push(buf);
        break;
      }
      case 'end':
        this._ended = true;
        if (this._flowing && this._buffer.length === 0) this.emit('end');
        else this._endPending = true;
        break;
      case 'drain':
        // loop-net emits it after the last write's callback; Node emits it
        // before (afterWrite), so 'written' below already did.
        if (this._needDrain && !this._ending) {
          this._needDrain = false;
          this.emit('drain');
        }
        break;
      case 'timeout':
        this.emit('timeout');
        break;
      case 'error':
        this._info = this._snapshot();
        this._errored = true;
        this.destroyed = true;
        this.emit('error', netError(a));
        break;
      case 'written': {
        const cb = writeCbs.get(a);
        writeCbs.delete(a);
        // Node's afterWrite: the write that empties the queue emits
        // 'drain' (if a write returned false, and not once ending),
        // then its callback runs.
        if (a === this._lastWrite && b === undefined && this._needDrain && !this._ending &&
            !this.destroyed) {
          this._needDrain = false;
          this.emit('drain');
        }
        if (cb) cb(b === undefined ? null : netError(b));
        break;
      }
      case 'close':
        this._info = b;
        netObjects.delete(this._id);
        this.destroyed = true;
        this.emit('close', !!a);
        break;
      default:
        break;
    }
  }

  _emitData(buf) {
    this.emit('data', this._encoding ? buf.toString(this._encoding) : buf);
  }

  _flush() {
    while (this._flowing && this._buffer.length > 0) this._emitData(this._buffer.shift());
    if (this._flowing && this._buffer.length === 0 && this._endPending) {
      this._endPending = false;
      this.emit('end');
    }
  }

  _snapshot() {
    if (this._id && netObjects.has(this._id)) {
      const r = natives.socketInfo(this._id);
      if (r.length > 0) return r;
    }
    return this._info || [];
  }

  write(data, encoding, cb) {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    const buf = toBuffer(data, encoding);
    if (buf === undefined) {
      throw invalidArgType('chunk', 'string or an instance of Buffer or Uint8Array', data);
    }
    if (!this._id) return false;
    // Every write has a completion, so that the one that empties the queue
    // is known (it emits 'drain' before its callback, as in Node).
    const cbId = writeCbNext++;
    writeCbs.set(cbId, typeof cb === 'function' ? cb : null);
    this._lastWrite = cbId;
    const ok = natives.socketWrite(this._id, bytesToLatin1(buf), cbId);
    if (!ok) this._needDrain = true;
    return ok;
  }

  end(data, encoding, cb) {
    if (typeof data === 'function') { cb = data; data = undefined; }
    else if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    if (data !== undefined && data !== null) this.write(data, encoding);
    if (typeof cb === 'function') this.once('finish', cb);
    this._ending = true;
    if (this._id) {
      // 'finish' once what was written before the end is out.
      const fin = writeCbNext++;
      writeCbs.set(fin, () => this.emit('finish'));
      natives.socketWrite(this._id, '', fin);
      natives.socketOp(this._id, 'end', 0);
    }
    return this;
  }

  destroy(err) {
    if (this.destroyed) return this;
    if (err) process.nextTick(() => this.emit('error', err));
    this._info = this._snapshot();
    if (this._id) natives.socketOp(this._id, 'destroy', 0);
    this.destroyed = true;
    return this;
  }

  destroySoon() {
    return this.end();
  }

  pause() {
    this._flowing = false;
    if (this._id && !this._paused) {
      this._paused = true;
      natives.socketOp(this._id, 'pause', 0);
    }
    return this;
  }

  resume() {
    const was = this._flowing;
    this._flowing = true;
    if (this._id && this._paused) {
      this._paused = false;
      natives.socketOp(this._id, 'resume', 0);
    }
    if (!was || this._buffer.length > 0 || this._endPending) process.nextTick(() => this._flush());
    return this;
  }

  isPaused() {
    return this._flowing === false;
  }

  setEncoding(enc) {
    this._encoding = normEncoding(enc) || 'utf8';
    return this;
  }

  setTimeout(ms, cb) {
    if (this._id) natives.socketOp(this._id, 'timeout', ms);
    if (typeof cb === 'function') {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    return this;
  }

  setNoDelay(on = true) {
    if (this._id) natives.socketOp(this._id, 'noDelay', on ? 1 : 0);
    return this;
  }

  setKeepAlive(enable = false, delay = 0) {
    if (this._id) natives.socketOp(this._id, 'keepAlive', enable ? delay : -1);
    return this;
  }

  ref() {
    if (this._id) natives.socketOp(this._id, 'ref', 0);
    return this;
  }

  unref() {
    if (this._id) natives.socketOp(this._id, 'unref', 0);
    return this;
  }

  address() {
    const l = this._snapshot()[1];
    return l ? { address: l[0], family: l[1], port: l[2] } : {};
  }

  pipe(dest, opts) {
    this.on('data', (chunk) => {
      if (dest.write(chunk) === false) this.pause();
    });
    dest.on('drain', () => this.resume());
    if (!opts || opts.end !== false) this.on('end', () => dest.end());
    dest.emit('pipe', this);
    return dest;
  }

  get remoteAddress() { const r = this._snapshot()[0]; return r ? r[0] : undefined; }
  get remoteFamily() { const r = this._snapshot()[0]; return r ? r[1] : undefined; }
  get remotePort() { const r = this._snapshot()[0]; return r ? r[2] : undefined; }
  get localAddress() { const r = this._snapshot()[1]; return r ? r[0] : undefined; }
  get localPort() { const r = this._snapshot()[1]; return r ? r[2] : undefined; }
  get bytesRead() { const r = this._snapshot(); return r[2] || 0; }
  get bytesWritten() { const r = this._snapshot(); return r[3] || 0; }
  get writableLength() { const r = this._snapshot(); return r[4] || 0; }
  get pending() { return !this._id || this.connecting; }
  get readyState() {
    if (this.connecting) return 'opening';
    if (this.destroyed) return 'closed';
    return this._ended ? 'writeOnly' : 'open';
  }
}

class Server extends EventEmitter {
  constructor(options, listener) {
    super();
    if (typeof options === 'function') { listener = options; options = {}; }
    options = options || {};
    this._id = 0;
    this.listening = false;
    this._closed = false;
    this._allowHalfOpen = !!options.allowHalfOpen;
    this._pauseOnConnect = !!options.pauseOnConnect;
    this._native = false;
    if (typeof listener === 'function') this.on('connection', listener);
  }

  _ensure() {
    if (!this._native) {
      this._native = true;
      this._id = natives.serverNew(this._allowHalfOpen, this._pauseOnConnect);
      netObjects.set(this._id, this);
    }
  }

  listen(...args) {
    let port = 0; let host; let path; let cb;
    if (typeof args[args.length - 1] === 'function') cb = args.pop();
    const [a, b] = args;
    if (a !== null && typeof a === 'object') {
      ({ port = 0, host, path } = a);
    } else if (typeof a === 'string' && !/^\d+$/.test(a)) {
      path = a;
    } else if (a !== undefined) {
      port = Number(a);
      if (typeof b === 'string') host = b;
    }
    if (path === undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      throw nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
        `options.port should be >= 0 and < 65536. Received ${inspect(a)}.`);
    }
    if (cb) this.once('listening', cb);
    this._ensure();
    if (host !== undefined && path === undefined && (isIPv4(host) || isIPv6(host))) {
      // Node looks the host up first (dns.lookup answers an IP literal on
      // the next tick), then listens: 'listening' comes one tick later.
      process.nextTick(() => {
        try {
          callNet(() => natives.serverListen(this._id, port, host, path));
        } catch (e) {
          this.emit('error', e);
        }
      });
    } else {
      callNet(() => natives.serverListen(this._id, port, host, path));
    }
    return this;
  }

  _onNative(ev, a) {
    switch (ev) {
      case 'connection': {
        const s = new Socket({ allowHalfOpen: this._allowHalfOpen });
        s._attach(a, true);
        s.server = this;
        if (this._pauseOnConnect) s._paused = true;
        this.emit('connection', s);
        break;
      }
      case 'listening':
        this.listening = true;
        this.emit('listening');
        break;
      case 'error':
        this.emit('error', netError(a));
        break;
      case 'close':
        this.listening = false;
        netObjects.delete(this._id);
        this.emit('close');
        break;
      default:
        break;
    }
  }

  address() {
    if (!this.listening) return null;
    const r = natives.serverAddress(this._id);
    if (r === undefined) return null;
    return r.length === 1 ? r[0] : { address: r[0], family: r[1], port: r[2] };
  }

  close(cb) {
    if (typeof cb === 'function') {
      if (!this.listening) {
        this.once('close', () => cb(nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      } else {
        this.once('close', cb);
      }
    }
    this._ensure();
    natives.serverClose(this._id);
    return this;
  }

  ref() {
    if (this._native) natives.serverRef(this._id, true);
    return this;
  }

  unref() {
    if (this._native) natives.serverRef(this._id, false);
    return this;
  }
}

const netModule = {
  Server,
  Socket,
  Stream: Socket,
  createServer: (options, listener) => new Server(options, listener),
  connect: (...args) => {
    const opts = args[0] !== null && typeof args[0] === 'object' ? args[0] : undefined;
    return new Socket(opts).connect(...args);
  },
  isIP: (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0),
  isIPv4,
  isIPv6,
};
netModule.createConnection = netModule.connect;

// ---------- process signals ----------

const signalNumbers = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14,
  SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18, SIGWINCH: 28,
};
const signalNames = Object.fromEntries(Object.entries(signalNumbers).map(([k, v]) => [v, k]));

function runSignal(signum) {
  const name = signalNames[signum];
  if (name) process.emit(name, name, signum);
}

// A listener for a signal watches it (unref'd: it does not keep the loop
// alive); removing the last one stops watching.
process.on('newListener', (ev) => {
  if (signalNumbers[ev] !== undefined && process.listenerCount(ev) === 0) {
    natives.signalWatch(signalNumbers[ev], true);
  }
});
process.on('removeListener', (ev) => {
  if (signalNumbers[ev] !== undefined && process.listenerCount(ev) === 0) {
    natives.signalWatch(signalNumbers[ev], false);
  }
});
