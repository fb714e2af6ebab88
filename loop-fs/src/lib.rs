//! The thread pool for file I/O and blocking work (issue 3). This crate is an empty member of the workspace until that issue lands.
