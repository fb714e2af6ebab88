// Modeled on test-next-tick-ordering2.js.
const order = [];
process.nextTick(function () {
  setTimeout(function () {
    order.push('setTimeout');
  }, 0);
  process.nextTick(function () {
    order.push('nextTick');
  });
});
process.on('exit', function () {
  console.log(order);
});
