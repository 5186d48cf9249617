//! The descriptor table (FreeBSD `struct filedesc`).
//!
//! - [`FdTable`]: lowest-free allocation through a two-level bitmap, `dup`, `dup2`,
//!   `dup_min` (`F_DUPFD`), `replace` (CloudABI `fd_replace`), `close`, `close_range`,
//!   the close-on-exec sweep, the fork copy and rights narrowing.
//! - [`SharedFdTable`]: the table shared by a process's threads, behind the kernel's lock
//!   (any [`lock_api::RawMutex`]; a spin lock by default).
//! - The remapped primitives of FreeBSD r285622: [`fdcopy_remapped`],
//!   [`fdinstall_remapped`], [`fdescfree_remapped`].
//!
//! The kernel plugs in its own open-file type by implementing [`File`], and its own
//! counted reference to it by implementing [`FileHandle`] (whose clone may fail, as
//! FreeBSD's `fhold`); `Arc<F>` is one such handle. The table stores handles:
//! `FdTable<Arc<dyn File>>`, or `FdTable<KernelRef>`. A descriptor number from user space becomes an [`Fd`] through one
//! checked conversion, [`Fd::from_raw`] (negative: `EBADF`).

mod bitmap;
#[cfg(test)]
mod cost_tests;
mod entry;
mod fd;
mod file;
mod handle;
#[cfg(test)]
mod lock_cost_tests;
mod remap;
#[cfg(test)]
mod remap_moving_tests;
mod rights;
mod rights_pool;
#[cfg(test)]
mod rights_pool_tests;
mod shared;
mod slots;
mod stat;
mod table;
#[cfg(test)]
mod test_file;
mod uio;

pub use entry::{Closed, ClosedFiles, Entry, EntryRef, Rejected};
pub use fd::Fd;
pub use file::{File, FileIo, FileType, SeekFrom};
pub use handle::FileHandle;
pub use remap::{
    fdcopy_remapped, fdcopy_remapped_into, fdescfree_remapped, fdinstall_remapped,
    fdinstall_remapped_in_place,
};
pub use rights::{FdRights, Rights};
pub use rights_pool::MAX_RIGHTS_SETS;
pub use shared::{DefaultRawMutex, SharedFdTable, SharedFdTableGuard};
pub use slots::INLINE_SLOTS;
pub use stat::FileStat;
pub use table::{CloseRange, DEFAULT_LIMIT, FdTable, MAX_LIMIT};
pub use uio::{UserSink, UserSource};
