//! `loop-tests`: the project's integration and phase-ordering tests, the
//! phase-script runner (`phase-script`) and the loop benchmarks
//! (`loop-bench`).
//!
//! The library part holds what the binaries and the tests share: the
//! phase-script interpreter ([`script`]) and test helpers ([`util`]).
//!
//! A phase script (`shared/conformance/SPEC.md`) is a small JSON program
//! that the same text runs on Node.js and on loop-core; conformance means
//! the same output, line for line. The classic example: inside a timer, a
//! tick runs before the promise job, and both before the immediate.
//!
//! ```
//! let script = loop_tests::script::parse(
//!     r#"{"name": "doc", "about": "ticks, then microtasks, then the check phase",
//!         "main": [
//!         {"timeout": {"ms": 0, "do": [
//!             {"immediate": {"do": [{"log": "immediate"}]}},
//!             {"microtask": [{"log": "promise"}]},
//!             {"nextTick": [{"log": "tick"}]},
//!             {"log": "timeout"}]}}]}"#,
//! )?;
//! let out = loop_tests::script::run(&script)?;
//! assert_eq!(out, "timeout\ntick\npromise\nimmediate\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The binaries: `phase-script FILE` prints a script's output
//! (`--dir DIR` checks `DIR/*.json` against `DIR/*.out`), `loop-bench`
//! prints the loop's benchmark figures (`docs/performance.md`).

#![warn(missing_docs)]

pub mod model;
pub mod script;
pub mod util;
