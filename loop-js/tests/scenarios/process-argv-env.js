// process.argv and process.env as Node has them: argv[1] is the script's
// absolute path; env values are strings (assignment coerces), delete
// and `in` work, keys enumerate.
console.log(process.argv.length, process.argv[1] === __filename, require('path').isAbsolute(process.argv[1]));
console.log(process.argv.slice(2));
console.log(typeof process.env.PATH, 'PATH' in process.env, Object.keys(process.env).includes('PATH'));
process.env.LOOPJS_TEST = 42;
console.log(typeof process.env.LOOPJS_TEST, process.env.LOOPJS_TEST);
process.env.LOOPJS_TEST = true;
console.log(process.env.LOOPJS_TEST === 'true');
process.env.LOOPJS_U = undefined;
console.log(process.env.LOOPJS_U, typeof process.env.LOOPJS_U);
delete process.env.LOOPJS_TEST;
console.log('LOOPJS_TEST' in process.env, process.env.LOOPJS_TEST);
console.log(process.env.NO_SUCH_VARIABLE_HERE);
console.log(typeof process.pid, typeof process.cwd(), process.cwd() === __dirname);
console.log(__filename.endsWith('process-argv-env.js'), require('path').dirname(__filename) === __dirname);
