//! The echo server, client and load generator (issue 6). This crate is an empty member of the workspace until that issue lands.
