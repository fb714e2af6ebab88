// async/await (the engine's) interleaved with ticks and timers.
const log = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function a() {
  log.push('a start');
  await null;
  log.push('a after await null');
  await Promise.resolve();
  log.push('a after await resolved');
  await sleep(5);
  log.push('a after sleep');
  return 'a done';
}
async function b() {
  log.push('b start');
  try {
    await Promise.reject(new Error('boom'));
  } catch (e) {
    log.push(`b caught ${e.message}`);
  }
  process.nextTick(() => log.push('tick from b'));
  await undefined;
  log.push('b end');
}
a().then((v) => log.push(v));
b();
process.nextTick(() => log.push('tick main'));
log.push('main end');
process.on('exit', () => console.log(log.join('\n')));
