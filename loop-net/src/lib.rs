//! TCP and Unix-socket handles over mio (issue 4). This crate is an empty member of the workspace until that issue lands.
