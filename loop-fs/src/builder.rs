//! Pool configuration: [`PoolBuilder`] and `LOOP_THREADPOOL_SIZE`.
//!
//! Invariants:
//! - the size is decided once, when the pool starts: the builder's
//!   [`PoolBuilder::size`] if given, else `LOOP_THREADPOOL_SIZE` if set,
//!   else [`DEFAULT_POOL_SIZE`]; a value outside 1..=1024 (or not a number)
//!   is an [`Error::PoolSize`] at that moment, never a silent default;
//! - the environment is read only there, never cached: a loop started later
//!   sees the environment of then.

use crate::error::Error;
use crate::work::Ext;
use loop_core::Loop;

/// The environment variable that sizes a pool not sized by its builder
/// (libuv's `UV_THREADPOOL_SIZE`).
pub const ENV_POOL_SIZE: &str = "LOOP_THREADPOOL_SIZE";
/// Worker threads of a pool nobody sized (libuv's default too).
pub const DEFAULT_POOL_SIZE: usize = 4;
/// The largest pool (libuv's `MAX_THREADPOOL_SIZE`).
pub const MAX_POOL_SIZE: usize = 1024;

/// Options for a loop's thread pool, applied by [`PoolBuilder::install`].
///
/// A loop gets its pool on first use with the defaults; install one
/// yourself, right after creating the loop, to choose its size or to learn
/// of a bad `LOOP_THREADPOOL_SIZE` at once rather than at the first request.
///
/// ```
/// use loop_core::Loop;
///
/// let mut lp: Loop<()> = Loop::new()?;
/// loop_fs::PoolBuilder::new().size(2).install(&mut lp)?;
/// assert_eq!(loop_fs::pool_size(&lp), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PoolBuilder {
    size: Option<usize>,
    stack_size: Option<usize>,
}

impl PoolBuilder {
    /// Default options: size from `LOOP_THREADPOOL_SIZE`, or 4.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of worker threads, 1..=1024; takes precedence over
    /// `LOOP_THREADPOOL_SIZE`.
    pub fn size(mut self, n: usize) -> Self {
        self.size = Some(n);
        self
    }

    /// The stack size of each worker, in bytes (Rust's default otherwise).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// The size a pool started now would have.
    pub fn resolved_size(&self) -> Result<usize, Error> {
        if let Some(n) = self.size {
            return check(n).ok_or(Error::PoolSize {
                setting: "PoolBuilder::size",
                value: n.to_string(),
            });
        }
        match std::env::var_os(ENV_POOL_SIZE) {
            None => Ok(DEFAULT_POOL_SIZE),
            Some(v) => parse_size(&v.to_string_lossy()),
        }
    }

    /// Starts the pool of `lp` now. Fails if the size is invalid, a thread
    /// cannot be started, or the loop already has its pool.
    pub fn install<D: 'static>(self, lp: &mut Loop<D>) -> Result<(), Error> {
        let size = self.resolved_size()?;
        Ext::<D>::install(lp, size, self.stack_size)
    }
}

fn check(n: usize) -> Option<usize> {
    (1..=MAX_POOL_SIZE).contains(&n).then_some(n)
}

/// Parses a `LOOP_THREADPOOL_SIZE` value: a decimal number in 1..=1024.
pub(crate) fn parse_size(value: &str) -> Result<usize, Error> {
    value
        .parse::<usize>()
        .ok()
        .and_then(check)
        .ok_or_else(|| Error::PoolSize {
            setting: ENV_POOL_SIZE,
            value: value.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1").unwrap(), 1);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        for bad in [
            "0",
            "1025",
            "-1",
            "",
            " 4",
            "4 ",
            "four",
            "4.0",
            "99999999999999999999999",
        ] {
            let e = parse_size(bad).unwrap_err();
            assert!(matches!(e, Error::PoolSize { .. }), "{bad:?}");
            assert!(e.to_string().contains(ENV_POOL_SIZE), "{e}");
        }
        assert!(PoolBuilder::new().size(0).resolved_size().is_err());
        assert!(PoolBuilder::new().size(1025).resolved_size().is_err());
        assert_eq!(PoolBuilder::new().size(7).resolved_size().unwrap(), 7);
    }
}
