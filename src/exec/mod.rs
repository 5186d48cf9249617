//! CloudABI `exec()` with remapped descriptors (FreeBSD r285622).
//!
//! - [`UserMemory`] is the kernel's user address space; [`copyin`] and [`copyout`] are the
//!   checked copies every layer uses (`EFAULT`, no wrap past 4 GiB, empty copies free).
//! - [`exec_copyin_data_fds`] copies the argument data and descriptor list in and builds
//!   the remapped table into an [`ImageArgs`].
//! - [`proc_exec`] drives an exec through a [`Process`] and an [`ImageActivator`], with a
//!   point of no return, and reports an [`ExecOutcome`].
//! - [`ElfImage`] parses and loads static ELF32 i386 CloudABI images (the reference
//!   activator in [`crate::abi`] uses it).

mod copyin;
mod elf;
mod image;
mod image_args;
mod proc_exec;
mod user_range;
mod usermem;

pub use copyin::{SMALL_FD_LIST, exec_copyin_data_fds};
pub use elf::{
    ELFOSABI_CLOUDABI, ElfImage, LoadSegment, MAX_LOAD_SEGMENTS, MAX_PHNUM, MIN_LOAD_ADDR,
};
pub use image::{AddressSpace, ImageFile, Protection};
pub use image_args::ImageArgs;
pub use proc_exec::{ExecOutcome, ImageActivator, Process, check_executable, proc_exec};
pub use user_range::{CopyinRange, CopyoutRange};
pub use usermem::{
    UserAccess, UserAddr, UserMemory, check_user_range, copyin, copyin_u32, copyout, useracc,
};
