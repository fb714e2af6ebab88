//! The classic nextTick example "B", on loop-core: three immediates, five
//! zero timeouts (the second queues a tick, which runs before the third,
//! as in Node.js ≥ 11), four ticks and a nested one.
//!
//! `cargo run -p loop-core --example nexttick_example_b` prints exactly what
//! Node.js v20 prints (`../shared/conformance/cases/article-example-b`):
//!
//! ```js
//! setImmediate(() => console.log('this is set immediate 1'));
//! setImmediate(() => console.log('this is set immediate 2'));
//! setImmediate(() => console.log('this is set immediate 3'));
//! setTimeout(() => console.log('this is set timeout 1'), 0);
//! setTimeout(() => {
//!   console.log('this is set timeout 2');
//!   process.nextTick(() => console.log('this is process.nextTick added inside setTimeout'));
//! }, 0);
//! setTimeout(() => console.log('this is set timeout 3'), 0);
//! setTimeout(() => console.log('this is set timeout 4'), 0);
//! setTimeout(() => console.log('this is set timeout 5'), 0);
//! process.nextTick(() => console.log('this is process.nextTick 1'));
//! process.nextTick(() => {
//!   process.nextTick(() => console.log('this is the inner next tick inside next tick'));
//! });
//! process.nextTick(() => console.log('this is process.nextTick 2'));
//! process.nextTick(() => console.log('this is process.nextTick 3'));
//! process.nextTick(() => console.log('this is process.nextTick 4'));
//! const end = Date.now() + 5; while (Date.now() < end); // the timeouts are due first
//! ```

use loop_core::{Loop, RunMode};

fn main() -> Result<(), loop_core::Error> {
    let mut lp: Loop<()> = Loop::new()?;
    for i in 1..=3 {
        lp.set_immediate(move |_, _| println!("this is set immediate {i}"));
    }
    lp.set_timeout(0, |_, _| println!("this is set timeout 1"));
    lp.set_timeout(0, |lp, _| {
        println!("this is set timeout 2");
        lp.next_tick(|_, _| println!("this is process.nextTick added inside setTimeout"));
    });
    for i in 3..=5 {
        lp.set_timeout(0, move |_, _| println!("this is set timeout {i}"));
    }
    lp.next_tick(|_, _| println!("this is process.nextTick 1"));
    lp.next_tick(|lp, _| {
        lp.next_tick(|_, _| println!("this is the inner next tick inside next tick"));
    });
    for i in 2..=4 {
        lp.next_tick(move |_, _| println!("this is process.nextTick {i}"));
    }
    let end = std::time::Instant::now() + std::time::Duration::from_millis(5);
    while std::time::Instant::now() < end {
        std::hint::spin_loop();
    }
    lp.run(RunMode::Default, &mut ())?;
    Ok(())
}
