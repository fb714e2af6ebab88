// Modeled on test-next-tick-errors.js: a throwing tick with an
// 'uncaughtException' handler; the queue goes on.
const order = [];
let exceptionHandled = false;
process.nextTick(function () {
  order.push('A');
  // cause an error
  what(); // eslint-disable-line no-undef
});
process.nextTick(function () {
  order.push('C');
});
function testNextTickWith(val) {
  try {
    process.nextTick(val);
    console.log('accepted', typeof val);
  } catch (e) {
    console.log(e.name, e.code, e.message);
  }
}
testNextTickWith(false);
testNextTickWith(1);
testNextTickWith('str');
testNextTickWith({});
testNextTickWith([]);
testNextTickWith(null);
process.on('uncaughtException', function (err, origin) {
  console.log('caught', err instanceof ReferenceError, origin);
  if (!exceptionHandled) {
    exceptionHandled = true;
    order.push('B');
  } else {
    order.push('?');
  }
});
process.on('exit', function () {
  console.log(order);
});
