//! Descriptor conversion: how a reader turns a stored descriptor number into a descriptor.
//!
//! Encoded argdata stores descriptors as 32-bit numbers. What a number means depends on who
//! reads it: in a freshly started program it is an index into the descriptors the kernel
//! installed ([`program_fd`]); a reader holding raw bytes of unknown origin should not be
//! able to name descriptors at all (no conversion, every read gives `EBADF`).
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_from_buffer`'s `convert_fd` callback,
//!   `argdata_get_fd`).

use crate::Errno;

/// A conversion from a stored descriptor number to a descriptor of the reading process.
///
/// Implemented for every `Fn(u32) -> Result<i32, Errno>`, so a closure or a function such
/// as [`program_fd`] can be passed directly. A successful conversion must give a
/// non-negative descriptor; a negative one is treated as a failed conversion by the
/// serialiser.
pub trait FdConvert {
    /// Converts the stored number `raw`, or fails (normally with `EBADF`).
    fn convert(&self, raw: u32) -> Result<i32, Errno>;
}

impl<F: Fn(u32) -> Result<i32, Errno>> FdConvert for F {
    #[inline]
    fn convert(&self, raw: u32) -> Result<i32, Errno> {
        self(raw)
    }
}

/// The conversion a newly started program applies to its own argdata.
///
/// A stored value `raw <= i32::MAX` is descriptor `raw`; anything larger (including the
/// invalid marker `0xFFFF_FFFF`) gives `EBADF`.
///
/// # References
/// - NuxiNL cloudlibc `src/libc/argdata` and the program start-up code, which read the
///   argument data with this rule.
#[inline]
pub fn program_fd(raw: u32) -> Result<i32, Errno> {
    i32::try_from(raw).map_err(|_| Errno::EBADF)
}

/// [`program_fd`] as a `'static` trait object, ready for [`super::ArgdataRef::with_fds`].
pub static PROGRAM_FD: fn(u32) -> Result<i32, Errno> = program_fd;
