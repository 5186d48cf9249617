//! The cost of one trapped system call: the `loop` program makes N empty
//! `fd_write` calls, served once by capexec's shim (`syscall32`: argument
//! copy-in, table lookup, rights check) and once by a null handler (the
//! trap alone: `PTRACE_SYSEMU`, `waitpid`, `PTRACE_GETREGS`,
//! `PTRACE_SETREGS`). Prints nanoseconds per call; run with
//! `cargo test --release -p capexec-native --test cost -- --nocapture` for
//! the numbers to quote.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use capexec_native::{
    Action, HostFile, NativeProcess, Regs32, SyscallHandler, Termination, TraceeMemory, rights,
};
use common::{exe, fd, int, map, pipe, setup, table};

/// Succeeds every call with result 0; ends the program at `proc_exit`.
struct NullHandler;

impl SyscallHandler for NullHandler {
    fn syscall(&mut self, regs: &mut Regs32, mem: &mut TraceeMemory) -> Action {
        if regs.eax == 39 {
            return Action::Exit(mem.read_u32(regs.esp + 4).unwrap_or(u32::MAX));
        }
        regs.return_ok(0, 0);
        Action::Continue
    }
}

/// `loop` with `count`, loaded by capexec and ready to run.
fn start(dir: &Path, count: i64) -> NativeProcess<HostFile> {
    let (_r, out) = pipe();
    let launcher = table(&[
        (out, rights::STDOUT),
        (exe(dir, "loop"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(1, &map(&[("out", fd(0)), ("count", int(count))]), &[0])
        .unwrap();
    p
}

fn through_shim(dir: &Path, count: i64) -> Duration {
    let mut p = start(dir, count);
    let t = Instant::now();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    t.elapsed()
}

fn trap_only(dir: &Path, count: i64) -> Duration {
    let mut p = start(dir, count);
    let t = Instant::now();
    let end = p.address_space_mut().tracee_mut().serve(&mut NullHandler);
    assert_eq!(end.unwrap(), Termination::Exited(0));
    t.elapsed()
}

/// Nanoseconds per call: a run of `n` calls minus an empty run, best of 3.
fn per_call(run: impl Fn(i64) -> Duration, n: i64) -> f64 {
    (0..3)
        .map(|_| {
            let base = run(0);
            run(n).saturating_sub(base).as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn cost_per_trapped_syscall() {
    let Some(dir) = setup("cost_per_trapped_syscall") else {
        return;
    };
    let n = if cfg!(debug_assertions) {
        10_000
    } else {
        100_000
    };
    let shim = per_call(|c| through_shim(dir, c), n);
    let trap = per_call(|c| trap_only(dir, c), n);
    println!(
        "trapped fd_write through capexec's shim: {shim:.0} ns per call; \
         trap alone (null handler): {trap:.0} ns per call ({n} calls, best of 3)"
    );
    assert!(shim > 0.0 && trap > 0.0);
}
