//! Fuzz target `cloudabi_run_yaml`: cloudabi-run's configuration language, YAML to
//! argument data. The check lives in `cloudabi-run/tests/fuzz_common/mod.rs`, shared
//! with the stable corpus replay in `cloudabi-run/tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../../cloudabi-run/tests/fuzz_common/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_config_yaml(data);
});
