// Every fs operation of the callback API, in sequence, each result and
// error as Node reports them (message, code, errno, syscall, path, dest),
// then the same operations through fs.promises. Works in a fresh directory
// under /tmp; paths are printed relative to it.
const fs = require('fs');
const path = require('path');
const base = `/tmp/loop-js-fs-api-${process.pid}`;
const rel = (s) => String(s).split(base).join('<dir>');
const show = (what, err, v) => {
  if (err) {
    console.log(what, 'error', rel(err.message), err.code, err.errno, err.syscall, rel(err.path), err.dest === undefined ? '' : rel(err.dest), err instanceof Error);
  } else {
    console.log(what, 'ok', v === undefined ? '' : rel(typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !Array.isArray(v) ? JSON.stringify(v) : v));
  }
};
const f = path.join(base, 'a.txt');
const steps = [
  (next) => fs.mkdir(path.join(base, 'x/y/z'), { recursive: true }, (e, p) => { show('mkdir recursive', e, p); next(); }),
  (next) => fs.mkdir(path.join(base, 'x'), (e) => { show('mkdir exists', e); next(); }),
  (next) => fs.mkdir(path.join(base, 'x'), { recursive: true }, (e, p) => { show('mkdir recursive exists', e, p); next(); }),
  (next) => { console.log('mkdirSync recursive', rel(fs.mkdirSync(path.join(base, 'x/s/t'), { recursive: true }))); next(); },
  (next) => fs.mkdir(path.join(base, 'no/such/parent'), (e) => { show('mkdir no parent', e); next(); }),
  (next) => fs.writeFile(f, 'hello', (e) => { show('writeFile', e); next(); }),
  (next) => fs.appendFile(f, ' world', (e) => { show('appendFile', e); next(); }),
  (next) => fs.appendFile(path.join(base, 'new.txt'), Buffer.from('bytes'), (e) => { show('appendFile new', e); next(); }),
  (next) => fs.readFile(f, 'utf8', (e, d) => { show('readFile utf8', e, d); next(); }),
  (next) => fs.readFile(f, (e, d) => { show('readFile buffer', e, `${Buffer.isBuffer(d)} ${d.length} ${d}`); next(); }),
  (next) => fs.readFile(f, { encoding: 'hex' }, (e, d) => { show('readFile hex', e, d); next(); }),
  (next) => fs.readFile(path.join(base, 'missing'), (e) => { show('readFile missing', e); next(); }),
  (next) => fs.readFile(base, (e) => { show('readFile dir', e); next(); }),
  (next) => fs.writeFile(path.join(base, 'no/such/f'), 'x', (e) => { show('writeFile no dir', e); next(); }),
  (next) => fs.stat(f, (e, s) => { show('stat', e, `${s.isFile()} ${s.isDirectory()} ${s.isSymbolicLink()} ${s.size} ${s.mtime instanceof Date} ${typeof s.mtimeMs} ${s.nlink}`); next(); }),
  (next) => fs.stat(path.join(base, 'x'), (e, s) => { show('stat dir', e, `${s.isFile()} ${s.isDirectory()}`); next(); }),
  (next) => fs.stat(path.join(base, 'missing'), (e) => { show('stat missing', e); next(); }),
  (next) => fs.lstat(path.join(base, 'missing'), (e) => { show('lstat missing', e); next(); }),
  (next) => fs.lstat(f, (e, s) => { show('lstat', e, `${s.isFile()} ${s.size}`); next(); }),
  (next) => fs.readdir(base, (e, l) => { show('readdir', e, l.join(',')); next(); }),
  (next) => fs.readdir(base, { withFileTypes: true }, (e, l) => { show('readdir types', e, l.map((d) => `${d.name}:${d.isDirectory()}`).join(',')); next(); }),
  (next) => fs.readdir(path.join(base, 'missing'), (e) => { show('readdir missing', e); next(); }),
  (next) => fs.readdir(f, (e) => { show('readdir file', e); next(); }),
  (next) => fs.exists(f, (ok) => { console.log('exists', ok); next(); }),
  (next) => fs.exists(path.join(base, 'missing'), (ok) => { console.log('exists missing', ok); next(); }),
  (next) => fs.rename(f, path.join(base, 'b.txt'), (e) => { show('rename', e); next(); }),
  (next) => fs.rename(path.join(base, 'missing'), path.join(base, 'c.txt'), (e) => { show('rename missing', e); next(); }),
  (next) => fs.open(path.join(base, 'b.txt'), 'r+', (e, fd) => {
    show('open', e, typeof fd);
    const buf = Buffer.alloc(5);
    fs.read(fd, buf, 0, 5, 0, (e2, n, b) => {
      show('read', e2, `${n} ${b === buf} ${buf}`);
      fs.write(fd, Buffer.from('HELLO'), 0, 5, 0, (e3, w, wb) => {
        show('write buffer', e3, `${w} ${Buffer.isBuffer(wb)}`);
        fs.write(fd, '!', 11, (e4, w2, s) => {
          show('write string', e4, `${w2} ${s}`);
          fs.close(fd, (e5) => { show('close', e5); fs.close(fd, (e6) => { show('close again', e6); next(); }); });
        });
      });
    });
  }),
  (next) => fs.readFile(path.join(base, 'b.txt'), 'utf8', (e, d) => { show('after writes', e, d); next(); }),
  (next) => fs.open(path.join(base, 'missing'), 'r', (e) => { show('open missing', e); next(); }),
  (next) => fs.open(path.join(base, 'b.txt'), 'wx', (e) => { show('open wx exists', e); next(); }),
  (next) => fs.unlink(path.join(base, 'b.txt'), (e) => { show('unlink', e); next(); }),
  (next) => fs.unlink(path.join(base, 'b.txt'), (e) => { show('unlink missing', e); next(); }),
  (next) => fs.rm(path.join(base, 'missing'), (e) => { show('rm missing', e); next(); }),
  (next) => fs.rm(path.join(base, 'missing'), { force: true }, (e) => { show('rm force missing', e); next(); }),
  (next) => fs.rm(path.join(base, 'x'), (e) => { show('rm dir not recursive', e); next(); }),
  (next) => fs.rm(path.join(base, 'x'), { recursive: true }, (e) => { show('rm recursive', e); next(); }),
  (next) => promises(next),
];
async function promises(next) {
  const p = fs.promises;
  const g = path.join(base, 'p.txt');
  const tryp = async (what, pr) => {
    try { show(what, null, await pr); } catch (e) { show(what, e); }
  };
  await tryp('p.mkdir', p.mkdir(path.join(base, 'q/r'), { recursive: true }));
  await tryp('p.mkdir exists', p.mkdir(path.join(base, 'q')));
  await tryp('p.writeFile', p.writeFile(g, 'promised'));
  await tryp('p.appendFile', p.appendFile(g, '!'));
  await tryp('p.readFile', p.readFile(g, 'utf8'));
  await tryp('p.readFile missing', p.readFile(path.join(base, 'missing')));
  await tryp('p.stat size', p.stat(g).then((s) => s.size));
  await tryp('p.lstat missing', p.lstat(path.join(base, 'missing')));
  await tryp('p.readdir', p.readdir(base).then((l) => l.join(',')));
  await tryp('p.readdir missing', p.readdir(path.join(base, 'missing')));
  await tryp('p.rename', p.rename(g, path.join(base, 'p2.txt')));
  await tryp('p.rename missing', p.rename(g, path.join(base, 'p3.txt')));
  await tryp('p.unlink', p.unlink(path.join(base, 'p2.txt')));
  await tryp('p.unlink missing', p.unlink(path.join(base, 'p2.txt')));
  await tryp('p.rm missing', p.rm(path.join(base, 'missing')));
  await tryp('p.rm recursive', p.rm(path.join(base, 'q'), { recursive: true }));
  await tryp('p.rmdir', p.rmdir(base));
  next();
}
fs.rmSync(base, { recursive: true, force: true });
fs.mkdirSync(base);
let i = 0;
const next = () => { if (i < steps.length) steps[i++](next); else console.log('done', fs.existsSync(base)); };
next();
