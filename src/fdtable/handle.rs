//! The kernel's reference to an open file, as the table stores it.

use alloc::sync::Arc;
use core::ops::Deref;

use super::File;
use crate::Errno;

/// A counted reference to an open file: what a descriptor table stores in each slot.
///
/// Taking another reference ([`try_clone`](Self::try_clone), FreeBSD `fhold`) may fail:
/// a kernel whose reference counts are narrow refuses the overflow with `EBADF`, as
/// FreeBSD's `fhold` does, and every table operation that takes a reference (`dup`,
/// `dup2`, `replace`, the fork copy, the remapped copy, `get_file`) then fails with
/// that error and changes nothing. Dropping the handle releases the reference (`fdrop`).
///
/// `Arc<F>` is one implementation (its count cannot overflow in practice: the standard
/// library aborts first). A kernel with its own object allocator implements this for
/// its own handle type:
///
/// ```
/// use core::ops::Deref;
/// use core::sync::atomic::{AtomicU16, Ordering};
/// use capexec::Errno;
/// use capexec::fdtable::{File, FileHandle, FileType};
///
/// /// A kernel file with a 16-bit reference count, in memory the kernel manages.
/// struct KFile {
///     refs: AtomicU16,
/// }
///
/// impl File for KFile {
///     fn file_type(&self) -> FileType {
///         FileType::RegularFile
///     }
/// }
///
/// /// The kernel's counted reference (here to a static object, for brevity).
/// struct KRef(&'static KFile);
///
/// impl Deref for KRef {
///     type Target = KFile;
///     fn deref(&self) -> &KFile {
///         self.0
///     }
/// }
///
/// impl FileHandle for KRef {
///     fn try_clone(&self) -> Result<KRef, Errno> {
///         self.0
///             .refs
///             .fetch_update(Ordering::Acquire, Ordering::Relaxed, |n| n.checked_add(1))
///             .map_err(|_| Errno::EBADF)?;
///         Ok(KRef(self.0))
///     }
/// }
///
/// impl Drop for KRef {
///     fn drop(&mut self) {
///         self.0.refs.fetch_sub(1, Ordering::Release);
///     }
/// }
///
/// static FULL: KFile = KFile { refs: AtomicU16::new(u16::MAX) };
/// let r = KRef(&FULL);
/// assert_eq!(r.try_clone().err(), Some(Errno::EBADF));
/// # core::mem::forget(r);
/// ```
///
/// # References
/// - FreeBSD `sys/sys/file.h` `fhold` (refuses a count that would overflow), `fdrop`.
pub trait FileHandle: Sized + Deref<Target: File> {
    /// Takes one more reference to the same file (FreeBSD `fhold`): `EBADF` when the
    /// reference count cannot grow.
    fn try_clone(&self) -> Result<Self, Errno>;

    /// Whether `self` and `other` refer to the same open file. The default compares
    /// the addresses of the files they dereference to.
    #[inline]
    fn same_file(&self, other: &Self) -> bool {
        core::ptr::addr_eq(
            &**self as *const Self::Target,
            &**other as *const Self::Target,
        )
    }
}

impl<F: ?Sized + File> FileHandle for Arc<F> {
    #[inline]
    fn try_clone(&self) -> Result<Arc<F>, Errno> {
        Ok(Arc::clone(self))
    }

    #[inline]
    fn same_file(&self, other: &Arc<F>) -> bool {
        Arc::ptr_eq(self, other)
    }
}
