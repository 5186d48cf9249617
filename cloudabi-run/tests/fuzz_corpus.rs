//! Replays the committed fuzz corpus of `cloudabi_run_yaml`
//! (`tests/data/fuzz-corpus/cloudabi_run_yaml/` at the top of the repository) through
//! the check the fuzz target runs, so CI guards what the fuzzer found on stable Rust.

mod fuzz_common;

use std::path::{Path, PathBuf};

use fuzz_common::check_config_yaml;

fn corpus() -> Vec<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/fuzz-corpus/cloudabi_run_yaml");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus {} too small", dir.display());
    files
}

#[test]
fn cloudabi_run_yaml_corpus() {
    for path in corpus() {
        let data = std::fs::read(&path).unwrap();
        let r = std::panic::catch_unwind(|| check_config_yaml(&data));
        assert!(r.is_ok(), "corpus file {} fails its check", path.display());
    }
}

/// The man page example converts and comes back from its printed form.
#[test]
fn fixed_inputs() {
    let inputs: [&[u8]; 9] = [
        b"",
        b"%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n- !fd stdout\n- !fd stdout\n",
        b"- !fd {fd: stderr, rights: [fd_write]}\n- !fd stderr\n- !fd {fd: 2, rights: [fd_write]}\n",
        b"{a: !file {path: /p, rights: [fd_read, fd_seek], inheriting: []}, b: !executable {}}\n",
        b"- !fd {fd: 1, rights: [sock_shutdown]}\n",
        b"{a: !!binary AAE=, b: [1, 2.5, -.inf, null, true, \"s\\u0007\"]}\n",
        b"!!timestamp 0000-01-01T00:00:00+01:00\n",
        b"- !file {path: missing}\n",
        b"\xff\xfe",
    ];
    for d in inputs {
        check_config_yaml(d);
    }
}
