//! Placeholder until the benchmark group lands.
fn main() {}
