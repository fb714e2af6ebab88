//! A tour of the libuv-level handles: a repeating timer, an idle handle, a
//! prepare and a check handle, and close callbacks, with the phase trace.
//!
//! `cargo run -p loop-core --example handles_tour`

use loop_core::{Loop, RunMode};

#[derive(Default)]
struct Counts {
    ticks: u32,
    idles: u32,
    prepares: u32,
    checks: u32,
}

fn main() -> Result<(), loop_core::Error> {
    let mut lp: Loop<Counts> = Loop::new()?;
    let timer = lp.timer_init();
    let idle = lp.idle_init();
    let prepare = lp.prepare_init();
    let check = lp.check_init();

    lp.prepare_start(prepare, |_, c| c.prepares += 1)?;
    lp.check_start(check, |_, c| c.checks += 1)?;
    // An idle handle makes poll non-blocking: stop it after a few spins.
    lp.idle_start(idle, move |lp, c| {
        c.idles += 1;
        if c.idles == 3 {
            lp.idle_stop(idle).expect("live handle");
        }
    })?;
    // Every 10 ms; the fifth call closes everything.
    lp.timer_start(timer, 10, 10, move |lp, c| {
        c.ticks += 1;
        println!("timer tick {} at loop time {} ms", c.ticks, lp.now());
        if c.ticks == 5 {
            for h in [timer.id(), idle.id(), prepare.id(), check.id()] {
                lp.close_with(h, move |lp, _| {
                    println!("close callback, in the {} phase", lp.phase());
                })
                .expect("live handle");
            }
        }
    })?;

    println!("live handles:");
    lp.print_handles(&mut std::io::stdout()).expect("stdout");
    let mut counts = Counts::default();
    lp.run(RunMode::Default, &mut counts)?;
    println!(
        "timer {} idle {} prepare {} check {}; {} iterations, {:?} idle in poll",
        counts.ticks,
        counts.idles,
        counts.prepares,
        counts.checks,
        lp.metrics().iterations,
        lp.metrics().idle_time
    );
    assert!(!lp.is_alive());
    Ok(())
}
