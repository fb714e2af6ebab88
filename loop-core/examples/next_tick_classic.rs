//! The classic Node.js ordering example, on loop-core.
//!
//! `cargo run -p loop-core --example next_tick_classic` prints the same lines
//! as this JavaScript does on Node.js v20:
//!
//! ```js
//! setImmediate(() => console.log('immediate'));
//! setTimeout(() => {
//!   console.log('timeout');
//!   process.nextTick(() => console.log('tick from timeout'));
//!   Promise.resolve().then(() => console.log('promise from timeout'));
//! }, 0);
//! Promise.resolve().then(() => console.log('promise'));
//! process.nextTick(() => console.log('tick'));
//! console.log('main');
//! const end = Date.now() + 5; while (Date.now() < end); // make the timeout due first
//! ```

use loop_core::{Loop, RunMode};

fn main() -> Result<(), loop_core::Error> {
    let mut lp: Loop<()> = Loop::new()?;
    lp.set_immediate(|_, _| println!("immediate"));
    lp.set_timeout(0, |lp, _| {
        println!("timeout");
        lp.next_tick(|_, _| println!("tick from timeout"));
        lp.queue_microtask(|_, _| println!("promise from timeout"));
    });
    lp.queue_microtask(|_, _| println!("promise"));
    lp.next_tick(|_, _| println!("tick"));
    println!("main");
    std::thread::sleep(std::time::Duration::from_millis(5));
    lp.run(RunMode::Default, &mut ())?;
    Ok(())
}
