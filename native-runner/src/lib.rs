//! Runs real i386 CloudABI programs natively on a Linux x86_64 host.
//!
//! A small static Linux i386 stub (`programs/stub.S`) is started under
//! `ptrace`. While it is stopped, the runner injects Linux system calls
//! (`mmap2`, `mprotect`, `munmap`) through an `int $0x80` inside the stub
//! to map a program's segments and a stack, writes them with
//! `process_vm_writev`, sets `eip`, `esp` and the `%gs` base, and resumes it
//! with `PTRACE_SYSEMU`: every `int $0x80` of the program then stops in
//! the tracer instead of reaching Linux, and a [`SyscallHandler`] serves it
//! by reading and writing the tracee's registers ([`I386Regs`]) and memory
//! ([`TraceeMemory`]).
//!
//! The crate is empty on anything but Linux on x86_64.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]
#![warn(missing_docs)]

mod image;
mod memory;
mod regs;
mod tracee;

pub use image::{ImageError, ImageLayout, Prot, Segment};
pub use memory::{Fault, TraceeMemory};
pub use regs::I386Regs;
pub use tracee::{
    Action, Error, Exec, StackBuilder, StackRegion, StackStart, SyscallHandler, Termination, Tracee,
};

/// Whether this process may trace a child (ptrace can be forbidden by a
/// container's seccomp policy or Yama). Tests use it to skip.
pub fn ptrace_available() -> bool {
    tracee::probe()
}
