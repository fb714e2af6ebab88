// The last part of the bootstrap: the globals, and `entry`, the host's
// one way in (see bootstrap.js for the rest).

// ---------- globals ----------

const globals = {
  global: globalThis,
  process,
  console,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  setImmediate,
  clearImmediate,
  queueMicrotask,
  performance,
  Buffer,
};
for (const [k, v] of Object.entries(globals)) {
  Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true, enumerable: k === 'global' });
}

// ---------- the host's entry point ----------

function emitExit() {
  process._exiting = true;
  if (process.exitCode === undefined) process.exitCode = 0;
  process.emit('exit', process.exitCode | 0);
  return process.exitCode | 0;
}

return function entry(kind, id, a, b) {
  if (kind === K_TICK) {
    try {
      runTicks(id === 1);
    } catch (e) {
      onUncaught(e);
    }
    needNewSegment = true;
    return 0;
  }
  needNewSegment = true;
  if (kind === K_IMMEDIATE) {
    // (Before the switch: one immediate chain step is one entry.)
    try {
      runImmediate(id);
    } catch (e) {
      onUncaught(e);
    }
    needNewSegment = true;
    return 0;
  }
  try {
    switch (kind) {
      case K_TIMER: return runTimer(id);
      case K_REJECTIONS: return processRejections();
      case K_BEFORE_EXIT: return void process.emit('beforeExit', process.exitCode | 0);
      case K_EXIT: return emitExit();
      case K_TRACK: return trackRejection(id === 1, a, b);
      case K_UNCAUGHT: return void onUncaught(a);
      case K_MAIN: return runMain(a);
      case K_FS: return runFs(id, a);
      case K_NET: return runNet(id, a);
      case K_SIGNAL: return runSignal(id);
      default: return undefined;
    }
  } catch (e) {
    onUncaught(e);
    return 0;
  } finally {
    needNewSegment = true;
  }
};
