//! Host I/O errors as CloudABI errnos.

use std::io;

use capexec::Errno;

/// The CloudABI errno for a host I/O error: the Linux number converted by
/// capexec's table, `EIO` for an error with no number.
///
/// # References
/// - Linux `errno(3)`; capexec's `abi::errno::from_linux`.
pub fn errno_from_io(e: &io::Error) -> Errno {
    match e.raw_os_error() {
        Some(n) => capexec::abi::errno::from_linux(n),
        None => Errno::EIO,
    }
}
