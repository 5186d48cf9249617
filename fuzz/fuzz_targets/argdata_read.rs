//! Fuzz target `argdata_read`: the checks live in `tests/hardening_common/mod.rs`, shared
//! with the stable corpus replay in `tests/hardening_corpus.rs`.
#![no_main]

#[path = "../../tests/hardening_common/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_argdata_read(data);
});
