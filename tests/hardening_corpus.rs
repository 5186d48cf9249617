//! Replays the committed, minimised fuzz corpus (`tests/data/fuzz-corpus/<target>/`)
//! through the same checks the fuzz targets run (`tests/hardening_common/mod.rs`), so CI
//! guards what the fuzzers found on stable Rust, without nightly or libFuzzer.

mod hardening_common;

use std::path::{Path, PathBuf};

use hardening_common::{
    check_argdata_read, check_argdata_roundtrip, check_argdata_yaml, check_syscall_i386,
};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    for path in corpus(target) {
        let data = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| check(&data));
        if r.is_err() {
            panic!("{target}: corpus file {} fails its checks", path.display());
        }
    }
}

#[test]
fn argdata_read_corpus() {
    replay("argdata_read", check_argdata_read);
}

#[test]
fn argdata_roundtrip_corpus() {
    replay("argdata_roundtrip", check_argdata_roundtrip);
}

#[test]
fn argdata_yaml_corpus() {
    replay("argdata_yaml", check_argdata_yaml);
}

#[test]
fn syscall_i386_corpus() {
    replay("syscall_i386", check_syscall_i386);
}

/// A few fixed inputs, so the checks run even on a corpus-less checkout.
#[test]
fn fixed_inputs() {
    let inputs: [&[u8]; 6] = [
        b"",
        &[0x07, 0x81, 0x07, 0x82, 0x03, 0x00],
        &[0x06, 0x80, 0x80, 0x85, 0x03, 0, 0, 0, 1],
        &[0xff; 64],
        &[0x09, 0x80, 0x81, 0x00, 0x01, 0x02, 0x03],
        b"\x08hello\x00",
    ];
    for d in inputs {
        check_argdata_read(d);
        check_argdata_roundtrip(d);
        check_argdata_yaml(d);
        check_syscall_i386(d);
    }
}
