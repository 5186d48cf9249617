//! Native tests never pass by skipping. A test that cannot run its subject
//! fails, unless the run opts out explicitly with
//! `CAPEXEC_ALLOW_NATIVE_SKIP=1` (which `.ci/run` never sets) and the cause
//! is the machine (no ptrace, no `gcc -m32`), never the code under test.
//! When `CAPEXEC_NATIVE_TEST_LOG` names a file, each native test appends
//! `ran NAME` or `opted-out NAME` to it, so `.ci/run` can say how many ran.
//!
//! Shared by `native-runner`'s and `cloudabi-run`'s test suites.
#![allow(dead_code)]

use std::io::Write;

/// The opt-out variable.
pub const OPT_OUT: &str = "CAPEXEC_ALLOW_NATIVE_SKIP";
/// The variable naming the file of outcomes.
pub const LOG: &str = "CAPEXEC_NATIVE_TEST_LOG";

fn log(line: &str) {
    let Some(path) = std::env::var_os(LOG) else {
        return;
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{LOG}={}: {e}", path.to_string_lossy()));
    // One write of one short line: appends from parallel tests do not mix.
    f.write_all(format!("{line}\n").as_bytes())
        .unwrap_or_else(|e| panic!("{LOG}: {e}"));
}

/// Whether the run opted out of native tests the machine cannot run.
pub fn opted_out() -> bool {
    std::env::var_os(OPT_OUT).is_some_and(|v| v == "1")
}

/// Records that the native test `name` runs its subject.
pub fn ran(name: &str) {
    log(&format!("ran {name}"));
}

/// The machine cannot run the native test `name` (`why`): panics (the test
/// fails) unless the run opted out, in which case it is recorded and the
/// caller returns.
pub fn machine_lacks(name: &str, why: &str) {
    if !opted_out() {
        panic!("{name} cannot run: {why}\n(set {OPT_OUT}=1 to let it pass without running)");
    }
    println!("OPTED OUT {name}: {why}");
    log(&format!("opted-out {name}"));
}

/// Checks what native tests need of the machine (ptrace, `gcc -m32`):
/// `true` when the test `name` can run; otherwise see [`machine_lacks`].
pub fn machine_ready(name: &str) -> bool {
    if !capexec_native::ptrace_available() {
        machine_lacks(name, "ptrace is not permitted on this machine");
        return false;
    }
    if let Err(e) = capexec_native::probe_compiler() {
        machine_lacks(name, &e);
        return false;
    }
    true
}
