// `fs`: the callback API over loop-fs (each call one pool request whose
// callback runs in the poll phase, as in Node), the *Sync calls over
// loop-fs's blocking operations, and `fs.promises` for the same
// operations. Errors are Node's: `ENOENT: no such file or directory,
// open '/x'` with errno, code, syscall, path (and dest).

const fsReqs = new Map(); // id -> { cb, map }
let fsNextId = 1;

function fsError(d) {
  const err = new Error(d.message);
  // Node's fs errors come from native code: no frames, printed in brackets.
  Object.defineProperty(err, 'stack', { value: `Error: ${d.message}`, writable: true, configurable: true });
  for (const k of ['errno', 'code', 'syscall', 'path', 'dest']) {
    if (d[k] !== undefined) err[k] = d[k];
  }
  return err;
}

function fsReq(cb, map, start) {
  const id = fsNextId++;
  fsReqs.set(id, { cb, map });
  try {
    start(id);
  } catch (e) {
    fsReqs.delete(id);
    if (e && e.__fsError) {
      process.nextTick(cb, fsError(e.__fsError));
      return;
    }
    throw e;
  }
}

function runFs(id, pair) {
  const r = fsReqs.get(id);
  if (r === undefined) return;
  fsReqs.delete(id);
  const [e, v] = pair;
  if (e) r.cb(fsError(e));
  else if (r.map) r.map(v, r.cb);
  else r.cb(null);
}

function fsSync(op, a, b, c) {
  try {
    return natives.fsSync(op, a, b, c);
  } catch (e) {
    if (e && e.__fsError) throw fsError(e.__fsError);
    throw e;
  }
}

function toPath(p, name = 'path') {
  if (typeof p === 'string') return p;
  if (p instanceof Uint8Array) return Buffer.from(p).toString();
  if (p !== null && typeof p === 'object' && p.protocol === 'file:' && typeof p.pathname === 'string') {
    return decodeURIComponent(p.pathname);
  }
  throw invalidArgType(name, 'string or an instance of Buffer or URL', p);
}

function checkCb(cb) {
  if (typeof cb !== 'function') throw invalidArgType('cb', 'function', cb);
  return cb;
}

function encodingOf(options, fallback) {
  if (options === undefined || options === null || typeof options === 'function') return fallback;
  if (typeof options === 'string') return options;
  return options.encoding === undefined ? fallback : options.encoding;
}

// Splits (options, cb) when options is optional.
function optsCb(options, cb) {
  if (typeof options === 'function') return [undefined, options];
  return [options, cb];
}

const S_IFMT = 0o170000;
class Stats {
  constructor(a) {
    [this.dev, this.mode, this.nlink, this.uid, this.gid, this.rdev, this.blksize, this.ino,
      this.size, this.blocks, this.atimeMs, this.mtimeMs, this.ctimeMs, this.birthtimeMs] = a;
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(this.birthtimeMs);
  }

  isFile() { return (this.mode & S_IFMT) === 0o100000; }
  isDirectory() { return (this.mode & S_IFMT) === 0o040000; }
  isSymbolicLink() { return (this.mode & S_IFMT) === 0o120000; }
  isFIFO() { return (this.mode & S_IFMT) === 0o010000; }
  isSocket() { return (this.mode & S_IFMT) === 0o140000; }
  isCharacterDevice() { return (this.mode & S_IFMT) === 0o020000; }
  isBlockDevice() { return (this.mode & S_IFMT) === 0o060000; }
}

const kType = Symbol('type');
class Dirent {
  constructor(name, type, path) {
    this.name = name;
    this.path = path;
    this[kType] = type;
  }

  isFile() { return this[kType] === 1; }
  isDirectory() { return this[kType] === 2; }
  isSymbolicLink() { return this[kType] === 3; }
  isFIFO() { return this[kType] === 4; }
  isSocket() { return this[kType] === 5; }
  isCharacterDevice() { return this[kType] === 6; }
  isBlockDevice() { return this[kType] === 7; }
}

// libuv's scandir sorts entries by name.
function direntList(list, options, dir) {
  list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  if (options && options.withFileTypes) return list.map(([n, t]) => new Dirent(n, t, dir));
  const enc = encodingOf(options, 'utf8');
  return list.map(([n]) => (enc === 'buffer' ? Buffer.from(n) : n));
}

function decoded(ab, options) {
  const buf = Buffer.from(ab);
  const enc = encodingOf(options, null);
  return enc === null || enc === 'buffer' ? buf : buf.toString(enc);
}

function dataString(data, options) {
  const b = toBuffer(data, encodingOf(options, 'utf8'));
  if (b === undefined) {
    throw invalidArgType('data', 'string or an instance of Buffer, TypedArray, or DataView', data);
  }
  return bytesToLatin1(b);
}

function flagBits(flags, fallback) {
  if (flags === undefined || flags === null) flags = fallback;
  if (typeof flags === 'number') return flags;
  const bits = natives.fsFlags(`${flags}`);
  if (bits < 0) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
      `The argument 'flags' is invalid. Received ${inspect(flags)}`);
  }
  return bits;
}

function isDirError(path) {
  const err = nodeError(Error, 'ERR_FS_EISDIR', `Path is a directory: rm returned EISDIR (is a directory) ${path}`);
  err.errno = 21;
  err.syscall = 'rm';
  err.path = path;
  return err;
}

const fsModule = {
  constants: {
    F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
    O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000,
    O_APPEND: 0o2000, S_IFMT, S_IFREG: 0o100000, S_IFDIR: 0o040000, S_IFLNK: 0o120000,
  },
  Stats,
  Dirent,

  stat(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    path = toPath(path);
    fsReq(checkCb(cb), (a, done) => done(null, new Stats(a)), (id) => natives.fsStat(id, path, false));
  },
  lstat(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    path = toPath(path);
    fsReq(checkCb(cb), (a, done) => done(null, new Stats(a)), (id) => natives.fsStat(id, path, true));
  },
  exists(path, cb) {
    checkCb(cb);
    let p;
    try { p = toPath(path); } catch (e) { process.nextTick(cb, false); return; }
    fsReq((err) => cb(false), (a) => cb(true), (id) => natives.fsStat(id, p, false));
  },
  // Node's readFile: open, fstat, read until the size (or, for a file
  // of unknown size, until a read returns 0), close: one pool request
  // each, so its callback comes after four poll phases, as in Node.
  readFile(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    checkCb(cb);
    const flag = (options && typeof options === 'object' && options.flag) || 'r';
    const finish = (err, fd, chunks) => {
      fsModule.close(fd, (cerr) => {
        const e = err || cerr;
        if (e) return cb(e);
        const buf = Buffer.concat(chunks);
        const enc = encodingOf(options, null);
        cb(null, enc === null || enc === 'buffer' ? buf : buf.toString(enc));
      });
    };
    const afterOpen = (err, fd) => {
      if (err) return cb(err);
      fsModule.fstat(fd, (serr, st) => {
        if (serr) return finish(serr, fd, []);
        const size = st.isFile() ? st.size : 0;
        const chunks = [];
        let pos = 0;
        const next = () => {
          const len = size === 0 ? 64 * 1024 : Math.min(512 * 1024, size - pos);
          fsModule.read(fd, Buffer.alloc(len), 0, len, -1, (rerr, n, b) => {
            if (rerr) return finish(rerr, fd, chunks);
            chunks.push(b.subarray(0, n));
            pos += n;
            if (pos === size || n === 0) finish(null, fd, chunks);
            else next();
          });
        };
        next();
      });
    };
    if (typeof path === 'number') return process.nextTick(afterOpen, null, path);
    fsModule.open(toPath(path), flag, 0o666, afterOpen);
  },
  fstat(fd, options, cb) {
    [options, cb] = optsCb(options, cb);
    fsReq(checkCb(cb), (a, done) => done(null, new Stats(a)), (id) => natives.fsFstat(id, fd));
  },
  // Node's writeFile: open, write until all is written, close.
  writeFile(path, data, options, cb) {
    [options, cb] = optsCb(options, cb);
    checkCb(cb);
    const flag = (options && typeof options === 'object' && options.flag) || 'w';
    const mode = (options && typeof options === 'object' && options.mode) || 0o666;
    let buf = toBuffer(data, encodingOf(options, 'utf8'));
    if (buf === undefined) {
      throw invalidArgType('data', 'string or an instance of Buffer, TypedArray, or DataView', data);
    }
    const writeAll = (fd, offset, length) => {
      fsModule.write(fd, buf, offset, length, null, (werr, written) => {
        if (werr) return fsModule.close(fd, () => cb(werr));
        if (written === length) return fsModule.close(fd, cb);
        writeAll(fd, offset + written, length - written);
      });
    };
    fsModule.open(toPath(path), flag, mode, (err, fd) => {
      if (err) return cb(err);
      writeAll(fd, 0, buf.length);
    });
  },
  appendFile(path, data, options, cb) {
    [options, cb] = optsCb(options, cb);
    const o = typeof options === 'string' ? { encoding: options } : { ...options };
    if (!o.flag) o.flag = 'a';
    fsModule.writeFile(path, data, o, cb);
  },
  unlink(path, cb) {
    path = toPath(path);
    fsReq(checkCb(cb), null, (id) => natives.fsUnlink(id, path));
  },
  rmdir(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    path = toPath(path);
    fsReq(checkCb(cb), null, (id) => natives.fsRmdir(id, path));
  },
  mkdir(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    path = toPath(path);
    checkCb(cb);
    const recursive = typeof options === 'object' && options !== null && !!options.recursive;
    let mode = 0o777;
    if (typeof options === 'number') mode = options;
    else if (options && options.mode !== undefined) mode = options.mode;
    fsReq(cb, recursive ? (v, done) => done(null, v) : null,
      (id) => natives.fsMkdir(id, path, mode, recursive));
  },
  readdir(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    path = toPath(path);
    fsReq(checkCb(cb), (list, done) => done(null, direntList(list, options, path)),
      (id) => natives.fsReaddir(id, path));
  },
  rename(from, to, cb) {
    from = toPath(from, 'oldPath');
    to = toPath(to, 'newPath');
    fsReq(checkCb(cb), null, (id) => natives.fsRename(id, from, to));
  },
  rm(path, options, cb) {
    [options, cb] = optsCb(options, cb);
    path = toPath(path);
    checkCb(cb);
    const recursive = !!(options && options.recursive);
    const force = !!(options && options.force);
    const remove = (p, done) => {
      fsModule.lstat(p, (err, st) => {
        if (err) return done(err);
        if (!st.isDirectory()) return fsModule.unlink(p, done);
        if (!recursive) return done(isDirError(p));
        fsModule.readdir(p, (err2, names) => {
          if (err2) return done(err2);
          const next = (i) => {
            if (i === names.length) return fsModule.rmdir(p, done);
            remove(pathModule.join(p, names[i]), (e3) => (e3 ? done(e3) : next(i + 1)));
          };
          next(0);
        });
      });
    };
    remove(path, (err) => {
      if (err && force && err.code === 'ENOENT') cb(null);
      else if (err) cb(err);
      else cb(null);
    });
  },
  open(path, flags, mode, cb) {
    if (typeof flags === 'function') { cb = flags; flags = undefined; mode = undefined; }
    else if (typeof mode === 'function') { cb = mode; mode = undefined; }
    path = toPath(path);
    checkCb(cb);
    const bits = flagBits(flags, 'r');
    fsReq(cb, (fd, done) => done(null, fd), (id) => natives.fsOpen(id, path, bits, mode === undefined ? 0o666 : mode));
  },
  close(fd, cb = () => {}) {
    fsReq(checkCb(cb), null, (id) => natives.fsClose(id, fd));
  },
  read(fd, buffer, offset, length, position, cb) {
    if (typeof buffer === 'function') {
      cb = buffer;
      buffer = Buffer.alloc(16384);
      offset = 0; length = buffer.length; position = null;
    } else if (typeof offset === 'function') {
      cb = offset;
      offset = 0; length = buffer.length; position = null;
    } else if (offset !== null && typeof offset === 'object') {
      cb = length;
      ({ offset = 0, length = buffer.length - offset, position = null } = offset);
    }
    checkCb(cb);
    const pos = typeof position === 'number' && position >= 0 ? position : -1;
    fsReq(cb, (ab, done) => {
      const got = new Uint8Array(ab);
      buffer.set(got, offset);
      done(null, got.length, buffer);
    }, (id) => natives.fsRead(id, fd, length, pos));
  },
  write(fd, data, a, b, c, d) {
    let cb;
    let pos = -1;
    let bytes;
    if (typeof data === 'string') {
      // write(fd, string[, position[, encoding]], cb)
      cb = [a, b, c].find((x) => typeof x === 'function');
      if (typeof a === 'number') pos = a;
      const enc = typeof b === 'string' ? b : 'utf8';
      bytes = Buffer.from(data, enc);
    } else {
      // write(fd, buffer[, offset[, length[, position]]], cb)
      cb = [a, b, c, d].find((x) => typeof x === 'function');
      const offset = typeof a === 'number' ? a : 0;
      const length = typeof b === 'number' ? b : data.length - offset;
      if (typeof c === 'number') pos = c;
      bytes = data.subarray(offset, offset + length);
    }
    checkCb(cb);
    const s = bytesToLatin1(bytes);
    fsReq(cb, (n, done) => done(null, n, data), (id) => natives.fsWrite(id, fd, s, pos));
  },

  existsSync(path) {
    try {
      fsSync('stat', toPath(path));
      return true;
    } catch (e) {
      return false;
    }
  },
  statSync: (path) => new Stats(fsSync('stat', toPath(path))),
  lstatSync: (path) => new Stats(fsSync('lstat', toPath(path))),
  readFileSync: (path, options) => decoded(fsSync('readFile', toPath(path)), options),
  writeFileSync(path, data, options) {
    const append = typeof options === 'object' && options !== null && `${options.flag}`.startsWith('a');
    fsSync('writeFile', toPath(path), dataString(data, options), append);
  },
  appendFileSync: (path, data, options) => { fsSync('writeFile', toPath(path), dataString(data, options), true); },
  unlinkSync: (path) => { fsSync('unlink', toPath(path)); },
  rmdirSync: (path) => { fsSync('rmdir', toPath(path)); },
  mkdirSync(path, options) {
    const recursive = typeof options === 'object' && options !== null && !!options.recursive;
    const mode = typeof options === 'number' ? options : (options && options.mode) || 0o777;
    return fsSync('mkdir', toPath(path), mode, recursive);
  },
  readdirSync: (path, options) => direntList(fsSync('readdir', toPath(path)), options, toPath(path)),
  renameSync: (from, to) => { fsSync('rename', toPath(from, 'oldPath'), toPath(to, 'newPath')); },
  rmSync(path, options) {
    path = toPath(path);
    const recursive = !!(options && options.recursive);
    let st;
    try {
      st = fsModule.lstatSync(path);
    } catch (e) {
      if (options && options.force && e.code === 'ENOENT') return;
      throw e;
    }
    if (!st.isDirectory()) return fsModule.unlinkSync(path);
    if (!recursive) throw isDirError(path);
    for (const n of fsModule.readdirSync(path)) fsModule.rmSync(pathModule.join(path, n), options);
    return fsModule.rmdirSync(path);
  },
};

function promisified(fn) {
  return (...args) => new Promise((resolve, reject) => {
    fn(...args, (err, value) => (err ? reject(err) : resolve(value)));
  });
}

fsModule.promises = {
  constants: fsModule.constants,
};
for (const name of ['stat', 'lstat', 'readFile', 'writeFile', 'appendFile', 'unlink', 'rmdir',
  'mkdir', 'readdir', 'rename', 'rm']) {
  fsModule.promises[name] = promisified(fsModule[name]);
}
fsModule.promises.access = (path) => fsModule.promises.stat(path).then(() => undefined);
