//! The user buffer of one read or write, as a file sees it.
//!
//! A kernel's files move bytes between their own storage (a pipe's ring, a terminal's
//! queue, a page cache) and the calling process's memory. Rather than handing a file a
//! kernel copy of the user's buffer, the `fd_read` / `fd_write` system calls hand it the
//! user buffer itself behind these traits: the file copies as many bytes at a time as
//! suits it, learns of a fault at the copy that hit it, and so consumes only what it
//! delivered. Bytes taken or put are counted by the buffer, never guessed by the file.
//!
//! # References
//! - FreeBSD `uio(9)` and `uiomove(9)`; Linux `struct iov_iter` (`copy_to_iter`,
//!   `copy_from_iter`).

use crate::Errno;

/// The user buffer of a write: bytes a file takes, in order, from the caller's memory.
pub trait UserSource {
    /// Bytes not taken yet.
    fn remaining(&self) -> usize;

    /// Copies the next `min(buf.len(), remaining())` bytes into `buf`, advances past
    /// them and returns how many they were. `EFAULT` if one of them cannot be read; then
    /// nothing is taken and the position stays where it was.
    fn take(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
}

/// The user buffer of a read: where a file puts bytes, in order, in the caller's memory.
pub trait UserSink {
    /// Bytes of room left.
    fn remaining(&self) -> usize;

    /// Copies the first `min(data.len(), remaining())` bytes of `data` out, advances past
    /// them and returns how many they were. `EFAULT` if one of them cannot be written;
    /// then the position stays where it was (a prefix of the bytes may have landed, but
    /// none counts as delivered).
    fn put(&mut self, data: &[u8]) -> Result<usize, Errno>;
}
