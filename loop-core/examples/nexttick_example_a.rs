//! The classic nextTick example "A", on loop-core: main, then nextTick, then
//! the promise; in the timer, its ticks (nested too) before its promise, whose
//! tick runs after; then the immediate and its tick.
//!
//! `cargo run -p loop-core --example nexttick_example_a` prints exactly what
//! this prints on Node.js v20 (`../shared/conformance/cases/article-example-a`):
//!
//! ```js
//! setTimeout(() => {
//!   Promise.resolve().then(() => {
//!     console.log('promise resolve in timeout');
//!     process.nextTick(() => console.log('tick task in timeout promise'));
//!   });
//!   process.nextTick(() => {
//!     console.log('tick task in timeout');
//!     process.nextTick(() => console.log('tick task in timeout->tick'));
//!   });
//!   console.log('timer task');
//! }, 0);
//! setImmediate(() => {
//!   process.nextTick(() => console.log('imeediate->tick task'));
//!   console.log('immediate task');
//! });
//! Promise.resolve().then(() => console.log('promise resolve'));
//! process.nextTick(() => console.log('tick task'));
//! console.log('run main thread');
//! const end = Date.now() + 5; while (Date.now() < end); // the timeout is due first
//! ```

use loop_core::{Loop, RunMode};

fn main() -> Result<(), loop_core::Error> {
    let mut lp: Loop<()> = Loop::new()?;
    lp.set_timeout(0, |lp, _| {
        lp.queue_microtask(|lp, _| {
            println!("promise resolve in timeout");
            lp.next_tick(|_, _| println!("tick task in timeout promise"));
        });
        lp.next_tick(|lp, _| {
            println!("tick task in timeout");
            lp.next_tick(|_, _| println!("tick task in timeout->tick"));
        });
        println!("timer task");
    });
    lp.set_immediate(|lp, _| {
        lp.next_tick(|_, _| println!("imeediate->tick task"));
        println!("immediate task");
    });
    lp.queue_microtask(|_, _| println!("promise resolve"));
    lp.next_tick(|_, _| println!("tick task"));
    println!("run main thread");
    busy(5);
    lp.run(RunMode::Default, &mut ())?;
    Ok(())
}

/// Spins like the JavaScript's busy loop (no sleeping).
fn busy(ms: u64) {
    let end = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while std::time::Instant::now() < end {
        std::hint::spin_loop();
    }
}
