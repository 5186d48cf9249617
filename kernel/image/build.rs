//! Embeds the programs the kernel runs and hands the linker script to the linker.
//!
//! `CAPEXEC_KERNEL_PROGRAMS` names a folder of i386 CloudABI executables (the runner builds
//! `programs/` into it with `programs/build.sh`); every file listed in `PROGRAMS` below
//! must be there. `CAPEXEC_KERNEL_REALPROG`, when set, names the folder of the real
//! cloudlibc programs (`REAL_PROGRAMS`), embedded too and run (cfg `capexec_realprog`).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The programs of `programs/` the kernel starts.
const PROGRAMS: &[&str] = &["hello", "procstat", "spawn", "errors"];

/// The real cloudlibc programs the kernel starts when they are there.
const REAL_PROGRAMS: &[&str] = &["hello_real", "procstat_real", "exec_real"];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let script = manifest.join("link.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());

    println!("cargo:rerun-if-env-changed=CAPEXEC_KERNEL_PROGRAMS");
    println!("cargo:rerun-if-env-changed=CAPEXEC_KERNEL_REALPROG");
    println!("cargo::rustc-check-cfg=cfg(capexec_realprog)");
    let dir = env::var_os("CAPEXEC_KERNEL_PROGRAMS").unwrap_or_else(|| {
        panic!(
            "CAPEXEC_KERNEL_PROGRAMS is not set: build the kernel with \
             `cargo run -p capexec-kernel`, which builds programs/ first"
        )
    });
    let dir = PathBuf::from(dir);
    let mut files: Vec<(String, PathBuf)> = PROGRAMS
        .iter()
        .map(|name| (name.to_string(), dir.join(name)))
        .collect();
    if let Some(real) = env::var_os("CAPEXEC_KERNEL_REALPROG") {
        let real = PathBuf::from(real);
        files.extend(
            REAL_PROGRAMS
                .iter()
                .map(|name| (name.to_string(), real.join(name))),
        );
        println!("cargo::rustc-cfg=capexec_realprog");
    }

    let mut out = String::from(
        "/// The files of the in-memory file system: (name, bytes), embedded at build time.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in &files {
        let path = absolute(path);
        assert!(path.is_file(), "{} is missing", path.display());
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a string");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it")).join("files.rs");
    fs::write(dest, out).expect("writing the file list");
}

fn absolute(p: &Path) -> PathBuf {
    fs::canonicalize(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
