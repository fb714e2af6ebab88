//! Model-based test of `loop-core`'s timers against libuv's timer
//! semantics (`src/timer.c`, HEAD), with immediates, ticks and timers
//! stopped or closed from other timers' callbacks: random sequences of
//! operations on eight timers, each followed by a check of the firing
//! sequence, `run`'s result, `now`, `is_active`, `timer_due_in` and
//! `timer_repeat` against the executable model in `loop_tests::model`
//! (the `loop_ops` fuzz target checks the same model with fuzzer input).

use loop_tests::model::{check, Op};
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), 0u8..50, 0u8..20)
            .prop_map(|(t, timeout, repeat)| Op::Start { t, timeout, repeat }),
        1 => any::<u8>().prop_map(Op::Stop),
        1 => any::<u8>().prop_map(Op::Again),
        1 => (any::<u8>(), 0u8..20).prop_map(|(t, repeat)| Op::SetRepeat { t, repeat }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(t, u)| Op::StopFromCallback { t, u }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(t, u)| Op::CloseFromCallback { t, u }),
        1 => Just(Op::Immediate),
        1 => Just(Op::Tick),
        3 => (0u8..30).prop_map(Op::AdvanceAndRun),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn timers_follow_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        if let Err(m) = check(&ops) {
            prop_assert!(false, "{}", m);
        }
    }
}

/// The byte decoding the fuzz target uses covers every op.
#[test]
fn every_op_decodes() {
    let ops = Op::decode(&(0u8..12).flat_map(|k| [k, 1, 7, 3]).collect::<Vec<_>>());
    assert_eq!(ops.len(), 12);
    for want in [
        "Start",
        "Stop",
        "Again",
        "SetRepeat",
        "StopFromCallback",
        "CloseFromCallback",
        "Immediate",
        "Tick",
        "AdvanceAndRun",
    ] {
        assert!(
            ops.iter().any(|o| format!("{o:?}").starts_with(want)),
            "{want} never decoded"
        );
    }
}
