//! CloudABI `exec()` with remapped descriptors (FreeBSD r285622).
//!
//! - [`ExecAbi`] is what the exec layer knows of an ABI: the width of its addresses
//!   ([`UserAddress`]) and `ARG_MAX`. The ABI layer supplies it (`capexec::abi::Cloudabi32`);
//!   nothing here assumes an address width.
//! - [`UserMemory`] is the kernel's user address space, reached through one ABI;
//!   [`copyin()`] and [`copyout`] are the checked copies every layer uses (`EFAULT`, no wrap
//!   past the end of the address space, empty copies free).
//! - [`exec_copyin_data_fds`] copies the argument data and descriptor list in and builds
//!   the remapped table into an [`ImageArgs`]; [`exec_sysspace_data_fds`] builds the same
//!   from the kernel's own memory.
//! - [`proc_exec()`] drives an exec through a [`Process`] and an [`ImageActivator`], with a
//!   point of no return, and reports an [`ExecOutcome`]; [`kern_execve`] runs the same
//!   driver with [`ImageArgs`] the kernel built (to start a program no program asked for).
//! - [`VirtualMemory`] is the kernel's VM as the `mem_*` system calls change it
//!   (anonymous mappings, reservations, partial unmaps, protections), reached through
//!   [`Process::virtual_memory`]; file-backed mappings go through [`Process::map_file`].
//! - [`ElfImage`] parses static ELF32 i386 CloudABI images and loads them into a 32-bit
//!   address space (the reference activator in `capexec::abi`, feature `abi-i386`, uses it).

mod copyin;
mod elf;
mod exec_abi;
mod fd_list;
mod image;
mod image_args;
mod proc_exec;
mod user_range;
mod usermem;
mod vm;

pub use copyin::{exec_copyin_data_fds, exec_sysspace_data_fds};
pub use elf::{
    ELFOSABI_CLOUDABI, ElfImage, LoadSegment, MAX_LOAD_SEGMENTS, MAX_PHNUM, MIN_LOAD_ADDR,
    SegmentContents,
};
pub use exec_abi::{AbiAddr, ExecAbi, UserAddress};
pub use fd_list::SMALL_FD_LIST;
pub use image::{AddressSpace, ImageFile, Protection};
pub use image_args::ImageArgs;
pub use proc_exec::{
    ExecOutcome, ImageActivator, Process, Restart, SingleThreadEnd, check_executable, kern_execve,
    proc_exec,
};
pub use user_range::{CopyinRange, CopyoutRange};
pub use usermem::{
    UserAccess, UserMemory, check_user_range, copyin, copyin_append, copyin_u32, copyout, useracc,
};
pub use vm::{Advice, MapRequest, Placement, Sharing, SyncMode, VirtualMemory, place_pages};
