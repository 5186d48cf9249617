//! The cost of one trapped system call in the native runner, against the bare trap in
//! the same run: the bundled `loop` program makes N empty `fd_write` calls, served
//!
//! - by a null handler (the trap alone: `PTRACE_SYSEMU`, `waitpid`, `PTRACE_GETREGS`,
//!   `PTRACE_SETREGS`): the baseline;
//! - by capexec's shim (`syscall32`: argument copy-in, table lookup, rights check);
//! - by the shim with a `--trace` observer attached (the argument words it sees
//!   come from the same copy as the shim's).
//!
//! Each measurement runs the program twice, with N calls and with none, and keeps the
//! difference, so start-up and loading are not counted.
//! `cargo bench -p capexec-native --bench trap` (Linux on x86_64 only).

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
criterion::criterion_main!(linux::benches);

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn main() {}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "../tests/common/mod.rs"]
mod common;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod linux {

    use std::hint::black_box;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use crate::common::{self, exe, fd, int, map, pipe, table};
    use capexec_native::{
        Action, NativeProcess, Regs32, SyscallHandler, Termination, TraceeMemory, rights,
    };
    use criterion::{Criterion, criterion_group};

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

    /// How the calls are served.
    #[derive(Clone, Copy)]
    enum Serve {
        TrapAlone,
        Shim,
        ShimTraced,
    }

    /// The time to serve `loop` with `count` calls, from its first instruction to its exit.
    fn run(dir: &Path, count: u64, how: Serve) -> Duration {
        let (_r, out) = pipe();
        let launcher = table(&[
            (out, rights::STDOUT),
            (exe(dir, "loop"), rights::EXECUTABLE),
        ]);
        let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
        let count = i64::try_from(count).unwrap();
        p.exec(1, &map(&[("out", fd(0)), ("count", int(count))]), &[0])
            .unwrap();
        let t = Instant::now();
        let end = match how {
            Serve::TrapAlone => p.address_space_mut().tracee_mut().serve(&mut NullHandler),
            Serve::Shim => p.serve(),
            Serve::ShimTraced => p.serve_traced(&mut |r| {
                black_box(r.args);
            }),
        };
        let elapsed = t.elapsed();
        assert_eq!(end.unwrap(), Termination::Exited(0));
        elapsed
    }

    fn trapped_call(c: &mut Criterion) {
        let dir = common::programs().expect("the C programs build (gcc -m32)");
        assert!(
            capexec_native::ptrace_available(),
            "ptrace is not permitted"
        );
        let mut g = c.benchmark_group("native_trapped_fd_write");
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(10));
        for (name, how) in [
            ("trap_alone", Serve::TrapAlone),
            ("capexec_shim", Serve::Shim),
            ("capexec_shim_traced", Serve::ShimTraced),
        ] {
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let with = run(dir, iters, how);
                    let without = run(dir, 0, how);
                    with.saturating_sub(without)
                })
            });
        }
        g.finish();
    }

    criterion_group!(benches, trapped_call);
}
