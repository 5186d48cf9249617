//! `cloudabi-run` as a library: its configuration language, YAML to argument data
//! ([`config`]), usable without a host (the fuzz target and the tests drive it with
//! their own descriptor resolver), and the `--trace` line format ([`trace`]).

pub mod config;
pub mod trace;
