// The JavaScript twin of tests/child_events.rs: runs one scenario with
// node's child_process.spawn and prints each event on a line. The Rust test
// runs the same scenario with loop_process::node::spawn and compares the
// lines. Scenarios are chosen so that node's own order is deterministic:
// where two pipes reach EOF at the same moment (a killed child), node's
// order varies from run to run, so that scenario ignores them.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

const log = (...a) => console.log(a.map(String).join(' '));

// Blocks until the child has exited (a zombie: nobody reaped it yet, the
// loop has not run), so that the loop's first poll sees everything the
// child did, whatever the machine's speed: without it, whether a pipe's
// data and its EOF come in one poll or two depends on when the parent
// polls.
function waitForExit(pid) {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return;
    Atomics.wait(nap, 0, 0, 1);
  }
}

function watch(c, streams) {
  c.on('spawn', () => log('spawn'));
  c.on('error', (e) => log('error', e.code, e.message, e.path));
  c.on('exit', (code, sig) => log('exit', code, sig));
  c.on('close', (code, sig) => log('close', code, sig));
  c.on('disconnect', () => log('disconnect'));
  c.on('message', (m) => log('message', JSON.stringify(m)));
  for (const name of streams) {
    const s = c[name];
    s.on('data', (d) => log(name, 'data', JSON.stringify(String(d))));
    s.on('end', () => log(name, 'end'));
    s.on('close', () => log(name, 'close'));
  }
}

const scenarios = {
  // Exit code 3 after a line on each pipe.
  sh() {
    const c = spawn('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    watch(c, ['stdout', 'stderr']);
    waitForExit(c.pid);
  },
  // The same child, with an immediate queued from stdout's data handler:
  // the exit, in the poll phase, comes before it (the check phase).
  sh_immediate() {
    const c = spawn('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    watch(c, ['stdout', 'stderr']);
    c.stdout.on('data', () => setImmediate(() => log('immediate')));
    waitForExit(c.pid);
  },
  // SIGTERM; kill() again after the exit is false.
  term() {
    const c = spawn('sleep', ['10'], { stdio: 'ignore' });
    watch(c, []);
    c.on('spawn', () => log('kill', c.kill('SIGTERM'), 'killed', c.killed));
    c.on('exit', () => log('kill after exit', c.kill('SIGTERM'), 'killed', c.killed));
  },
  // A program that does not exist.
  missing() {
    const c = spawn('loop-process-no-such-program', ['a']);
    log('pid', c.pid);
    watch(c, ['stdout', 'stderr']);
  },
  // A message to an 'ipc' child, which answers and disconnects.
  ipc_send() {
    const child = 'process.on("message", (m) => process.send({echo: m}, () => process.disconnect()))';
    const c = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    watch(c, []);
    log('send', c.send({ n: [1, 'é\n"'] }));
  },
  // A program that does not exist, with an 'ipc' entry: the channel
  // reads EOF at once, and counts toward 'close'.
  missing_ipc() {
    const c = spawn('loop-process-no-such-program', [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    watch(c, []);
    log('connected', c.connected);
  },
  // stdout closed at once, stderr written and closed later, the exit
  // later still (so that stderr's EOF and the exit never race).
  early() {
    const script = 'exec 1>&-; sleep 0.1; echo late >&2; exec 2>&-; sleep 0.1';
    watch(spawn('sh', ['-c', script]), ['stdout', 'stderr']);
  },
  // 1 MiB into cat: write() is false, 'drain', end(); every byte back.
  cat() {
    const c = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    c.on('spawn', () => log('spawn'));
    c.on('exit', (code, sig) => log('exit', code, sig));
    c.on('close', (code, sig) => log('close', code, sig));
    let n = 0;
    c.stdout.on('data', (d) => { n += d.length; });
    // Not stdout's 'close': it comes on the iteration after its EOF, and
    // cat's exit, right behind that EOF, may come before or after it.
    c.stdout.on('end', () => log('stdout end', n));
    const ok = c.stdin.write(Buffer.alloc(1 << 20, 'x'));
    log('write', ok);
    c.stdin.on('finish', () => log('stdin finish'));
    c.stdin.on('close', () => log('stdin close'));
    c.stdin.on('drain', () => {
      log('drain');
      c.stdin.end();
    });
  },
  // An 'ipc' child that sends a message, disconnects, exits later.
  ipc() {
    const child = 'process.send({hi: [1, "two"]}, () => { process.disconnect(); setTimeout(() => {}, 100); })';
    const c = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    watch(c, []);
    c.on('message', () => log('connected', c.connected));
    c.on('disconnect', () => log('connected', c.connected));
  },
};

const which = process.argv[2];
if (!scenarios[which]) {
  console.error(`no scenario ${which}`);
  process.exit(2);
}
scenarios[which]();
