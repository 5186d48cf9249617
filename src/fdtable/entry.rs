//! One open descriptor's slot contents, and the closed files handed back.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::FdRights;

/// What one descriptor holds: a reference to the shared open file and the
/// descriptor's own rights. Close-on-exec lives in the table's bitmap beside the open
/// bits, so a slot is 24 bytes for a sized `F` (8 for the `Arc`, 16 for the rights).
pub struct Entry<F: ?Sized> {
    pub(crate) file: Arc<F>,
    pub(crate) rights: FdRights,
}

impl<F: ?Sized> Entry<F> {
    /// A new entry holding `file` with `rights`.
    #[inline]
    pub fn new(file: Arc<F>, rights: FdRights) -> Entry<F> {
        Entry { file, rights }
    }

    /// The open file this descriptor refers to.
    #[inline]
    pub fn file(&self) -> &Arc<F> {
        &self.file
    }

    /// The descriptor's rights.
    #[inline]
    pub fn rights(&self) -> FdRights {
        self.rights
    }

    /// Takes one more reference to the same file with the same rights (FreeBSD
    /// `fhold` on a struct copy).
    #[inline]
    pub(crate) fn share(&self) -> Entry<F> {
        Entry {
            file: Arc::clone(&self.file),
            rights: self.rights,
        }
    }
}

impl<F: ?Sized> Clone for Entry<F> {
    /// One more reference to the same file, same rights (FreeBSD `fhold`).
    #[inline]
    fn clone(&self) -> Entry<F> {
        self.share()
    }
}

/// A file removed from a table, handed back so that its last reference is released
/// after every table lock is dropped (a file's destructor may block or take locks).
#[must_use = "a closed file must be released (dropped) after the table lock is released"]
pub struct Closed<F: ?Sized>(pub(crate) Arc<F>);

impl<F: ?Sized> Closed<F> {
    /// The file reference, to release or inspect.
    #[inline]
    pub fn into_file(self) -> Arc<F> {
        self.0
    }
}

/// Several files removed from a table (by `close_range` or the close-on-exec sweep),
/// to be released after the table lock is dropped.
#[must_use = "closed files must be released (dropped) after the table lock is released"]
pub struct ClosedFiles<F: ?Sized>(pub(crate) Vec<Arc<F>>);

impl<F: ?Sized> ClosedFiles<F> {
    /// How many descriptors were closed.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was closed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The file references, to release or inspect.
    #[inline]
    pub fn into_files(self) -> Vec<Arc<F>> {
        self.0
    }
}

/// A file that could not be inserted, handed back with the reason (as `heapless` does),
/// so that a failed insert neither leaks nor silently drops the caller's reference.
pub struct Rejected<F: ?Sized> {
    /// Why the insert failed (`EMFILE`, `EBADF` or `ENOMEM`).
    pub errno: crate::Errno,
    /// The file the caller passed in.
    pub file: Arc<F>,
}

impl<F: ?Sized> From<Rejected<F>> for crate::Errno {
    #[inline]
    fn from(r: Rejected<F>) -> crate::Errno {
        r.errno
    }
}

impl<F: ?Sized> core::fmt::Debug for Entry<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Entry")
            .field("file", &Arc::as_ptr(&self.file))
            .field("rights", &self.rights)
            .finish()
    }
}

impl<F: ?Sized> core::fmt::Debug for Closed<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Closed")
            .field(&Arc::as_ptr(&self.0))
            .finish()
    }
}

impl<F: ?Sized> core::fmt::Debug for ClosedFiles<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClosedFiles")
            .field("len", &self.0.len())
            .finish()
    }
}

impl<F: ?Sized> core::fmt::Debug for Rejected<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rejected")
            .field("errno", &self.errno)
            .finish_non_exhaustive()
    }
}
