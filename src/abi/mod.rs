//! The i386 CloudABI (cloudabi32) shim: what a kernel calls from its `int $0x80`
//! handler when a 32-bit CloudABI process makes a system call.
//!
//! - [`syscall32`] decodes a trapped [`Regs32`] frame, serves the call and sets the
//!   return state (carry flag and errno, or results, or a new image's entry state);
//!   the calls whose meaning is the kernel's go to its [`KernelCalls`] hooks.
//! - [`wire`] holds the 32-bit layouts of the calls' user structures.
//! - [`Cloudabi32Activator`] is the reference image activator for `proc_exec`: a static
//!   ELF32 CloudABI image and the initial stack of [`build_initial_stack`].
//! - [`vdso`] is the image through which CloudABI programs make their system calls,
//!   generated at compile time; the activator maps it into every new image.
//! - [`read_start_info`] and [`read_argdata`] are the new program's side (cloudlibc's
//!   `crt0`).
//! - [`mem`] decodes and validates the memory calls (`mem_map`, `mem_unmap`,
//!   `mem_protect`, `mem_advise`, `mem_sync`) for the kernel's
//!   [`VirtualMemory`](crate::exec::VirtualMemory).
//! - [`cloudabi32`] holds the numbers and [`Cloudabi32`], the ABI's address width and
//!   limits for the exec layer; [`errno`] converts error numbers to and from
//!   FreeBSD's and Linux's.

mod activator;
mod calls;
pub mod cloudabi32;
pub mod errno;
mod hooks;
pub mod mem;
mod program;
mod stack;
mod syscall;
pub mod vdso;
pub mod wire;

pub use activator::{
    Cloudabi32Activator, EntryState32, Layout32, MAX_MAPPED_REGIONS, PreparedImage32,
};
pub use cloudabi32::{Cloudabi32, SyscallResults};
pub use hooks::{Forked, KernelCalls, NewFile, NewPair, Path};
pub use program::{MAX_AUXV_ENTRIES, StartInfo, read_argdata, read_start_info};
pub use stack::{AUXV_ENTRIES, AuxInfo, Entropy, STACK_HEADER, StackImage, build_initial_stack};
pub use syscall::{EFLAGS_CF, IOV_MAX, Regs32, SyscallAction, syscall32};
