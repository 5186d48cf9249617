//! Test support: building the C programs, host files and tables for the
//! launcher, capturing output through pipes, and encoding argdata.
#![allow(dead_code)]

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use capexec::fdtable::{FdRights, FdTable};
use capexec_native::{HostFile, build_programs, rights};

pub mod gate;

/// Builds `programs/` once per test binary; the error carries the
/// compiler's output.
pub fn programs() -> Result<&'static Path, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("programs");
        build_programs(&out).map_err(|e| e.to_string())
    })
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(Clone::clone)
}

/// The programs directory for the native test `name`. Panics (the test
/// fails) when the programs do not build, or when the machine cannot run
/// native tests and the run did not opt out (see [`gate`]); `None` only
/// for an opted-out run.
pub fn setup(name: &str) -> Option<&'static Path> {
    if !gate::machine_ready(name) {
        return None;
    }
    match programs() {
        Ok(dir) => {
            gate::ran(name);
            Some(dir)
        }
        Err(e) => panic!("{name}: the C programs do not build (the compiler works):\n{e}"),
    }
}

// ---- host files and tables ----------------------------------------

/// A pipe: the read end for the test, the write end as a host file.
pub fn pipe() -> (OwnedFd, Arc<HostFile>) {
    let (r, w) = nix::unistd::pipe().expect("pipe");
    (r, Arc::new(HostFile::from_fd(w).expect("pipe write end")))
}

/// Everything readable from `r` until every write end is closed.
pub fn drain(r: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(r)
        .read_to_string(&mut s)
        .expect("read pipe");
    s
}

/// The program `name` of `dir` as an executable file.
pub fn exe(dir: &Path, name: &str) -> Arc<HostFile> {
    Arc::new(HostFile::open_executable(&dir.join(name)).expect("program file"))
}

/// `/dev/null` read-only, with stdin's rights.
pub fn null() -> (Arc<HostFile>, FdRights) {
    let f = HostFile::open_read_only(Path::new("/dev/null")).expect("/dev/null");
    (Arc::new(f), rights::STDIN)
}

/// A table holding `files` at descriptors 0, 1, 2, ... in order.
pub fn table(files: &[(Arc<HostFile>, FdRights)]) -> FdTable<Arc<HostFile>> {
    let mut t = FdTable::new();
    for (f, r) in files {
        assert!(t.open(f.clone(), *r).is_ok(), "open in the launcher table");
    }
    t
}

// ---- argdata encoding -------------------------------------------------

/// Appends one subfield: base-128 length, most significant digit first,
/// bit 7 marking the last digit; then the value.
fn subfield(out: &mut Vec<u8>, value: &[u8]) {
    let mut digits = vec![(value.len() & 0x7f) as u8 | 0x80];
    let mut n = value.len() >> 7;
    while n > 0 {
        digits.push((n & 0x7f) as u8);
        n >>= 7;
    }
    digits.reverse();
    out.extend_from_slice(&digits);
    out.extend_from_slice(value);
}

/// An fd node.
pub fn fd(n: u32) -> Vec<u8> {
    let mut v = vec![0x03];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

/// A str node.
pub fn string(s: &str) -> Vec<u8> {
    let mut v = vec![0x08];
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// An int node (minimal two's complement, big-endian).
pub fn int(i: i64) -> Vec<u8> {
    let mut bytes = i.to_be_bytes().to_vec();
    // Drop leading bytes that only repeat the sign of the next one.
    while bytes.len() > 1
        && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes.remove(0);
    }
    if bytes == [0] {
        bytes.clear();
    }
    let mut v = vec![0x05];
    v.extend_from_slice(&bytes);
    v
}

/// A seq node.
pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0x07];
    for i in items {
        subfield(&mut v, i);
    }
    v
}

/// A map node with str keys.
pub fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0x06];
    for (k, val) in entries {
        subfield(&mut v, &string(k));
        subfield(&mut v, val);
    }
    v
}
