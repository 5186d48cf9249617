//! One open descriptor's slot contents, and the closed files handed back.

use alloc::vec::Vec;
use core::ops::Deref;

use super::{FdRights, FileHandle};

/// A descriptor's contents as a value: a reference to the shared open file (the kernel's
/// [`FileHandle`]) and the descriptor's own rights. The table does not store it as such
/// (it keeps the handle in the slot and the rights interned per table, see
/// [`EntryRef`]); this is what [`EntryRef::try_share`] hands out.
pub struct Entry<H> {
    pub(crate) file: H,
    pub(crate) rights: FdRights,
}

impl<H> Entry<H> {
    /// A new entry holding `file` with `rights`.
    #[inline]
    pub fn new(file: H, rights: FdRights) -> Entry<H> {
        Entry { file, rights }
    }

    /// The open file this descriptor refers to.
    #[inline]
    pub fn file(&self) -> &H {
        &self.file
    }

    /// The descriptor's rights.
    #[inline]
    pub fn rights(&self) -> FdRights {
        self.rights
    }
}

impl<H: FileHandle> Entry<H> {
    /// Takes one more reference to the same file with the same rights (FreeBSD
    /// `fhold` on a struct copy): `EBADF` when the file's reference count cannot grow.
    #[inline]
    pub fn try_share(&self) -> Result<Entry<H>, crate::Errno> {
        EntryRef {
            file: &self.file,
            rights: self.rights,
        }
        .try_share()
    }
}

/// One open descriptor of a table, borrowed: its file and its rights, as
/// [`FdTable::get`](super::FdTable::get) and [`FdTable::iter`](super::FdTable::iter) see
/// them.
///
/// A slot stores the file handle and a 2-byte rights class; the rights are read from the
/// table's pool of rights sets when the view is made, so that `rights()` is a copy.
pub struct EntryRef<'a, H> {
    pub(crate) file: &'a H,
    pub(crate) rights: FdRights,
}

impl<H> Clone for EntryRef<'_, H> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<H> Copy for EntryRef<'_, H> {}

impl<'a, H> EntryRef<'a, H> {
    /// The open file this descriptor refers to.
    #[inline]
    pub fn file(&self) -> &'a H {
        self.file
    }

    /// The descriptor's rights.
    #[inline]
    pub fn rights(&self) -> FdRights {
        self.rights
    }
}

impl<H: FileHandle> EntryRef<'_, H> {
    /// Takes one more reference to the same file with the same rights (FreeBSD
    /// `fhold`): `EBADF` when the file's reference count cannot grow.
    #[inline]
    pub fn try_share(&self) -> Result<Entry<H>, crate::Errno> {
        Ok(Entry {
            file: self.file.try_clone()?,
            rights: self.rights,
        })
    }
}

/// A file removed from a table, handed back so that its last reference is released
/// after every table lock is dropped (a file's destructor may block or take locks).
#[must_use = "a closed file must be released (dropped) after the table lock is released"]
pub struct Closed<H>(pub(crate) H);

impl<H> Closed<H> {
    /// The file reference, to release or inspect.
    #[inline]
    pub fn into_file(self) -> H {
        self.0
    }
}

/// Several files removed from a table (by `close_range` or the close-on-exec sweep),
/// to be released after the table lock is dropped.
#[must_use = "closed files must be released (dropped) after the table lock is released"]
pub struct ClosedFiles<H>(pub(crate) Vec<H>);

impl<H> ClosedFiles<H> {
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
    pub fn into_files(self) -> Vec<H> {
        self.0
    }
}

/// A file that could not be inserted, handed back with the reason (as `heapless` does),
/// so that a failed insert neither leaks nor silently drops the caller's reference.
pub struct Rejected<H> {
    /// Why the insert failed (`EMFILE`, `EBADF` or `ENOMEM`).
    pub errno: crate::Errno,
    /// The file the caller passed in.
    pub file: H,
}

impl<H> From<Rejected<H>> for crate::Errno {
    #[inline]
    fn from(r: Rejected<H>) -> crate::Errno {
        r.errno
    }
}

/// The address of the file `h` refers to, for `Debug` output.
fn addr<H: Deref>(h: &H) -> *const () {
    (&**h as *const H::Target).cast()
}

impl<H: Deref> core::fmt::Debug for Entry<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Entry")
            .field("file", &addr(&self.file))
            .field("rights", &self.rights)
            .finish()
    }
}

impl<H: Deref> core::fmt::Debug for EntryRef<'_, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EntryRef")
            .field("file", &addr(self.file))
            .field("rights", &self.rights)
            .finish()
    }
}

impl<H: Deref> core::fmt::Debug for Closed<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Closed").field(&addr(&self.0)).finish()
    }
}

impl<H> core::fmt::Debug for ClosedFiles<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClosedFiles")
            .field("len", &self.0.len())
            .finish()
    }
}

impl<H> core::fmt::Debug for Rejected<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rejected")
            .field("errno", &self.errno)
            .finish_non_exhaustive()
    }
}
