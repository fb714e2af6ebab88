//! `loop-tests`: the project's integration and phase-ordering tests, the
//! phase-script runner (`phase-script`) and the loop benchmarks
//! (`loop-bench`).
//!
//! The library part holds what the binaries and the tests share: the
//! phase-script interpreter ([`script`]).

#![warn(missing_docs)]

pub mod script;
pub mod util;
