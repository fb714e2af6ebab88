// The classic example A: the timer with a promise and nested ticks.
// `loop-js examples/classic-a.js` prints what `node examples/classic-a.js` prints.
setTimeout(() => {
  Promise.resolve().then(() => {
    console.log('promise resolve in timeout');
    process.nextTick(() => {
      console.log('tick task in timeout promise');
    });
  });
  process.nextTick(() => {
    console.log('tick task in timeout');
    process.nextTick(() => {
      console.log('tick task in timeout->tick');
    });
  });
  console.log('timer task');
}, 0);

setImmediate(() => {
  process.nextTick(() => {
    console.log('imeediate->tick task');
  });
  console.log('immediate task');
});

Promise.resolve().then(() => {
  console.log('promise resolve');
});

process.nextTick(() => {
  console.log('tick task');
});

console.log('run main thread');

// setTimeout 0 against setImmediate from the main module is a race in
// Node.js too (the 1 ms may or may not have passed when the loop starts):
// spin 5 ms so that the timer is due, as the phase-script case does.
const end = Date.now() + 5;
while (Date.now() < end);
