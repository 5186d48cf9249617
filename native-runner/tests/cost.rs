//! The cost of one trapped system call: the `loop` program makes N
//! `fd_write` calls that a null handler answers without touching memory.
//! Prints nanoseconds per call (run with `--release --nocapture` for the
//! number to quote).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::time::Instant;

use capexec_native::{Action, I386Regs, SyscallHandler, Termination, Tracee, TraceeMemory};
use common::{exec_file, fd, int, map, setup};

/// Succeeds every call with result 0; ends the program at `proc_exit`.
struct NullHandler;

impl SyscallHandler for NullHandler {
    fn syscall(&mut self, regs: &mut I386Regs, mem: &mut TraceeMemory) -> Action {
        if regs.eax == 39 {
            return Action::Exit(mem.read_u32(regs.esp + 4).unwrap_or(u32::MAX));
        }
        regs.return_ok(0, 0);
        Action::Continue
    }
}

fn run(dir: &std::path::Path, count: i64) -> std::time::Duration {
    let mut t = Tracee::spawn(&dir.join("stub")).unwrap();
    t.exec(exec_file(
        &dir.join("loop"),
        map(&[("out", fd(0)), ("count", int(count))]),
    ))
    .unwrap();
    let start = Instant::now();
    assert_eq!(t.serve(&mut NullHandler).unwrap(), Termination::Exited(0));
    start.elapsed()
}

#[test]
fn cost_per_trapped_syscall() {
    let Some(dir) = setup("cost_per_trapped_syscall") else {
        return;
    };
    // Subtracting a short run removes start-up and exit from the figure.
    let n = 100_000;
    let base = run(dir, 0);
    let full = run(dir, n);
    let per = full.saturating_sub(base).as_nanos() as f64 / n as f64;
    println!("trapped system call: {per:.0} ns per call ({n} calls in {full:?})");
    assert!(per > 0.0);
}
