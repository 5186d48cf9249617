//! # capexec
//!
//! A `no_std` file-descriptor table and CloudABI-style `exec()` for hobby kernels.
//!
//! A program started through CloudABI's `proc_exec` gets *exactly* the descriptors its
//! argument data references, renumbered from 0, and nothing else. The design follows
//! FreeBSD r285622 ("Implement CloudABI's exec() call").
//!
//! Layers, bottom up (a layer whose feature is off in this build is named, not linked):
//! - [`fdtable`]: the descriptor table (FreeBSD `struct filedesc`), with the remapped
//!   primitives [`fdtable::fdcopy_remapped`], [`fdtable::fdinstall_remapped`] and
//!   [`fdtable::fdescfree_remapped`].
#![cfg_attr(
    feature = "argdata",
    doc = "- [`argdata`]: the argdata codec (serialise with descriptor extraction; parse)."
)]
#![cfg_attr(
    not(feature = "argdata"),
    doc = "- `argdata` (feature `argdata`): the argdata codec."
)]
#![cfg_attr(
    feature = "exec",
    doc = "- [`exec`]: [`exec::exec_copyin_data_fds`] and the [`exec::proc_exec`] driver \
           with a point of no return."
)]
#![cfg_attr(
    not(feature = "exec"),
    doc = "- `exec` (feature `exec`): `exec_copyin_data_fds` and the `proc_exec` driver."
)]
#![cfg_attr(
    feature = "abi-i386",
    doc = "- [`abi`]: the i386 (cloudabi32) shim: syscall entry, errno numbers, initial stack."
)]
#![cfg_attr(
    not(feature = "abi-i386"),
    doc = "- `abi` (feature `abi-i386`): the i386 (cloudabi32) shim."
)]
//!
//! Cargo features (all on by default): `argdata`, `exec`, and `abi-i386` (which needs
//! `exec`). The table and [`Errno`] are always built: with `default-features = false`
//! capexec is the table alone and pulls in no ELF parser, hash map or codec.
//!
//! Everything a user process hands in is treated as hostile: no panic on user input,
//! every allocation fallible, every error an [`Errno`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "abi-i386")]
pub mod abi;
#[cfg(feature = "argdata")]
pub mod argdata;
pub mod errno;
#[cfg(feature = "exec")]
pub mod exec;
pub mod fdtable;
mod work;

pub use errno::Errno;

/// The raw-mutex trait a kernel implements to supply the lock of a
/// [`fdtable::SharedFdTable`] (re-exported so that the kernel names the same version).
pub use lock_api;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "argdata", feature = "abi-i386"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
