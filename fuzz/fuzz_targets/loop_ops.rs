//! Differential: loop-core driven by operations decoded from the input
//! (4 bytes an op: timers started, stopped, re-armed, stopped or closed from
//! other timers' callbacks; immediates; ticks; clock advances with a
//! `NoWait` run) must agree with the executable model in
//! `loop_tests::model` at every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loop_tests::model::{check, Op};

fuzz_target!(|data: &[u8]| {
    let ops = Op::decode(data);
    if let Err(m) = check(&ops) {
        panic!("loop-core differs from the model: {m}\nops: {ops:?}");
    }
});
