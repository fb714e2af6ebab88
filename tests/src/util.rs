//! Helpers the integration tests share.

use std::path::{Path, PathBuf};

pub use loop_testkit::{manual_loop, watchdog};

/// The workspace root (the folder with the README and `docs/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// The project's phase-script cases, `tests/cases/`.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}
