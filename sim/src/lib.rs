//! # capexec-sim
//!
//! The simulated kernel pieces capexec's own tests, benches and `cloudabi-run` build on.
//! None of this is linked into a kernel: it allocates with the global allocator and may
//! abort on allocation failure, which is fine for host test tooling and not for a
//! syscall path.
//!
//! - [`SimAddressSpace`]: a page-granular 32-bit user address space (unmapped and
//!   read-only pages fault with `EFAULT`, as a kernel's `copyin` reports them) that is
//!   also a kernel's VM for the `mem_*` calls (placement, reservations, partial unmaps).
//! - [`SimProcess`]: a shared descriptor table and a [`SimAddressSpace`], enough to drive
//!   [`capexec::exec::proc_exec`] and the i386 shim.
//! - [`minimal_cloudabi_elf`]: builds the smallest static ELF32 i386 CloudABI image.
//! - [`MemImage`] and [`read_slice_at`]: executables held in memory.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod elf;
mod image;
mod memory;
mod process;

pub use elf::minimal_cloudabi_elf;
pub use image::{MemImage, read_slice_at};
pub use memory::{SIM_MAP_BASE, SIM_PAGE_SIZE, SIM_USER_BOTTOM, SIM_USER_TOP, SimAddressSpace};
pub use process::SimProcess;
