//! Runs real i386 CloudABI programs natively on a Linux x86_64 host, with
//! every system call served by capexec's i386 shim.
//!
//! A small static Linux i386 stub (`programs/stub.S`) is started under
//! `ptrace`; it is the [`NativeProcess`], capexec's
//! [`Process`](capexec::exec::Process) with the caller's descriptor table.
//! The launcher's exec goes through capexec's kernel-space entry
//! (`exec_sysspace_data_fds`, then `kern_execve`), and a program's
//! `proc_exec` through [`capexec::abi::syscall32`] like any trapped call:
//! either way capexec's ELF activator maps the image and the initial
//! stack through the [`TraceeAddressSpace`] (which injects `mmap2`,
//! `mprotect` and `munmap` into the stopped stub and copies with
//! `process_vm_writev`), and the runner sets `eip`, `esp` and the `%gs`
//! base. The program then runs under `PTRACE_SYSEMU`: each `int $0x80`
//! stops in the tracer instead of reaching Linux, and `syscall32` serves it
//! from the tracee's registers and memory.
//!
//! Before any image is loaded the stub is confined: its vDSO is unmapped
//! and a seccomp filter lets Linux serve only the runner's own injected
//! `mmap2`, `mprotect` and `munmap`, so nothing the program does (even from
//! 64-bit mode, through the legacy vsyscall page) gets a host kernel result
//! without a stop in the runner. Signals a program ignores by default and
//! stop signals are discarded; faults and terminating signals end it.
//!
//! Entry points: [`run_program`] (what `cloudabi-run --native` calls),
//! [`HostFile`] (host descriptors and executables as capexec files, from
//! the `capexec-host` crate `cloudabi-run` shares),
//! [`build_programs`] (the C programs and the stub). The lower layer,
//! [`Tracee`] with a [`SyscallHandler`], serves calls without capexec (to
//! measure the cost of a trap alone).
//!
//! The crate is empty on anything but Linux on x86_64.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
#![warn(missing_docs)]

mod clock;
mod memory;
mod process;
mod programs;
mod regs;
mod space;
mod tracee;

pub use capexec_host::{HostEntropy, HostFile, errno_from_io, rights};
pub use memory::{Fault, TraceeMemory};
pub use process::{NATIVE_LAYOUT, NativeProcess, SyscallRecord, run_program, run_program_traced};
pub use programs::{
    BUNDLED_PROGRAMS, BuiltPrograms, build_programs, probe_compiler, programs_source_dir,
};
pub use space::{MAP_BASE, MAP_MIN_ADDR, PAGE_SIZE, TraceeAddressSpace};
pub use tracee::{Action, Error, SyscallHandler, Termination, Tracee};

/// The register frame handlers read and write: capexec's own i386 view.
pub use capexec::abi::Regs32;

/// Whether this process may trace a child (ptrace can be forbidden by a
/// container's seccomp policy or Yama).
pub fn ptrace_available() -> bool {
    tracee::probe()
}
