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
///
/// # Example
///
/// A kernel writing its own bytes through a file's
/// [`write_user`](super::FileIo::write_user) (a log line to the console, say) hands it a
/// kernel buffer as the source:
///
/// ```
/// use capexec::Errno;
/// use capexec::fdtable::UserSource;
///
/// struct KernelSource<'a> {
///     data: &'a [u8],
///     taken: usize,
/// }
///
/// impl UserSource for KernelSource<'_> {
///     fn remaining(&self) -> usize {
///         self.data.len() - self.taken
///     }
///     fn take(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
///         let n = buf.len().min(self.remaining());
///         buf[..n].copy_from_slice(&self.data[self.taken..self.taken + n]);
///         self.taken += n;
///         Ok(n)
///     }
/// }
///
/// let mut src = KernelSource { data: b"boot ok\n", taken: 0 };
/// let mut b = [0u8; 5];
/// assert_eq!(src.take(&mut b), Ok(5));
/// assert_eq!(src.remaining(), 3);
/// ```
pub trait UserSource {
    /// Bytes not taken yet.
    fn remaining(&self) -> usize;

    /// Copies the next `min(buf.len(), remaining())` bytes into `buf`, advances past
    /// them and returns how many they were. `EFAULT` if one of them cannot be read; then
    /// nothing is taken and the position stays where it was.
    fn take(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
}

/// The user buffer of a read: where a file puts bytes, in order, in the caller's memory.
///
/// # Example
///
/// A pipe that hands out only what the reader's buffer accepted (a fault leaves the rest
/// queued), and a kernel buffer posing as the user buffer, for a read the kernel makes on
/// its own behalf (FreeBSD's `UIO_SYSSPACE`).
///
/// ```
/// use std::collections::VecDeque;
/// use std::sync::Mutex;
///
/// use capexec::Errno;
/// use capexec::fdtable::{File, FileIo, FileType, UserSink};
///
/// struct Pipe {
///     queue: Mutex<VecDeque<u8>>,
/// }
///
/// impl File for Pipe {
///     fn file_type(&self) -> FileType {
///         FileType::SocketStream
///     }
///     fn io(&self) -> Option<&dyn FileIo> {
///         Some(self)
///     }
/// }
///
/// impl FileIo for Pipe {
///     fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
///         let mut q = self.queue.lock().unwrap();
///         let n = buf.len().min(q.len());
///         for (b, v) in buf.iter_mut().zip(q.drain(..n)) {
///             *b = v;
///         }
///         Ok(n)
///     }
///     fn write(&self, data: &[u8]) -> Result<usize, Errno> {
///         self.queue.lock().unwrap().extend(data);
///         Ok(data.len())
///     }
///     /// Dequeues only what reached the reader.
///     fn read_user(&self, dst: &mut dyn UserSink) -> Result<usize, Errno> {
///         let mut q = self.queue.lock().unwrap();
///         let (front, _) = q.as_slices();
///         let n = dst.put(&front[..front.len().min(dst.remaining())])?;
///         q.drain(..n);
///         Ok(n)
///     }
/// }
///
/// /// A kernel buffer as the destination of a read.
/// struct KernelSink<'a> {
///     buf: &'a mut [u8],
///     filled: usize,
/// }
///
/// impl UserSink for KernelSink<'_> {
///     fn remaining(&self) -> usize {
///         self.buf.len() - self.filled
///     }
///     fn put(&mut self, data: &[u8]) -> Result<usize, Errno> {
///         let n = data.len().min(self.remaining());
///         self.buf[self.filled..self.filled + n].copy_from_slice(&data[..n]);
///         self.filled += n;
///         Ok(n)
///     }
/// }
///
/// /// A user buffer whose pages are gone: every copy faults.
/// struct Unmapped;
///
/// impl UserSink for Unmapped {
///     fn remaining(&self) -> usize {
///         16
///     }
///     fn put(&mut self, _: &[u8]) -> Result<usize, Errno> {
///         Err(Errno::EFAULT)
///     }
/// }
///
/// let pipe = Pipe { queue: Mutex::new(VecDeque::new()) };
/// pipe.write(b"hello")?;
/// assert_eq!(pipe.read_user(&mut Unmapped), Err(Errno::EFAULT));
/// let mut b = [0u8; 3];
/// let mut sink = KernelSink { buf: &mut b, filled: 0 };
/// assert_eq!(pipe.read_user(&mut sink), Ok(3));
/// assert_eq!(&b, b"hel"); // nothing was lost to the fault
/// # Ok::<(), Errno>(())
/// ```
pub trait UserSink {
    /// Bytes of room left.
    fn remaining(&self) -> usize;

    /// Copies the first `min(data.len(), remaining())` bytes of `data` out, advances past
    /// them and returns how many they were. `EFAULT` if one of them cannot be written;
    /// then the position stays where it was (a prefix of the bytes may have landed, but
    /// none counts as delivered).
    fn put(&mut self, data: &[u8]) -> Result<usize, Errno>;
}
