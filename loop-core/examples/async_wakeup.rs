//! Waking the loop from other threads with an async handle: three threads
//! send; sends that arrive before the loop looks coalesce into one callback.
//!
//! `cargo run -p loop-core --example async_wakeup`

use loop_core::{Loop, RunMode};
use std::sync::mpsc;

struct State {
    results: mpsc::Receiver<u64>,
    sum: u64,
    received: usize,
    handle: Option<loop_core::AsyncId>,
}

fn main() -> Result<(), loop_core::Error> {
    let mut lp: Loop<State> = Loop::new()?;
    let (tx, rx) = mpsc::channel();
    let h = lp.async_init(|lp, st| {
        // One callback may stand for several sends: drain everything.
        while let Ok(v) = st.results.try_recv() {
            st.sum += v;
            st.received += 1;
        }
        println!("async callback: {} results so far", st.received);
        if st.received == 3 {
            if let Some(h) = st.handle.take() {
                lp.close(h, None).expect("live handle");
            }
        }
    })?;
    for i in 1..=3u64 {
        let (tx, sender) = (tx.clone(), lp.async_sender(h)?);
        std::thread::spawn(move || {
            let v: u64 = (1..=i * 1000).sum();
            tx.send(v).expect("loop alive");
            sender.send().expect("handle open");
        });
    }
    let mut st = State {
        results: rx,
        sum: 0,
        received: 0,
        handle: Some(h),
    };
    lp.run(RunMode::Default, &mut st)?;
    println!("sum of the three results: {}", st.sum);
    Ok(())
}
