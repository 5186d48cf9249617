//! `struct image_args`: what an exec carries from the old program to the new one.

use alloc::vec::Vec;

use crate::fdtable::{FdTable, fdescfree_remapped};

/// The kernel-side copy of an exec's arguments: the argument data (with the NUL the
/// kernel appends) and the remapped descriptor table built for the new image.
///
/// Dropping it before the point of no return releases the table through
/// [`fdescfree_remapped`], so an exec that fails leaks no reference.
pub struct ImageArgs<H> {
    /// `data_len + 1` bytes (data, then NUL) when `data_len > 0`, empty otherwise.
    pub(crate) buf: Vec<u8>,
    /// The new table, until it is installed.
    pub(crate) table: Option<FdTable<H>>,
}

impl<H> ImageArgs<H> {
    /// The argument data as the program passed it (without the appended NUL).
    #[inline]
    pub fn data(&self) -> &[u8] {
        self.buf.split_last().map_or(&[], |(_, data)| data)
    }

    /// The argument data followed by the NUL the kernel appends; empty when the data is
    /// empty. This is what is copied onto the new stack.
    #[inline]
    pub fn data_with_nul(&self) -> &[u8] {
        &self.buf
    }

    /// `AT_ARGDATALEN`: the data length without the NUL.
    #[inline]
    pub fn data_len(&self) -> usize {
        self.data().len()
    }

    /// The remapped table the new image will get (`None` once taken for installation).
    #[inline]
    pub fn fd_table(&self) -> Option<&FdTable<H>> {
        self.table.as_ref()
    }

    /// Takes the table out for installation (after the point of no return).
    #[inline]
    pub(crate) fn take_table(&mut self) -> Option<FdTable<H>> {
        self.table.take()
    }
}

impl<H> Drop for ImageArgs<H> {
    fn drop(&mut self) {
        if let Some(t) = self.table.take() {
            fdescfree_remapped(t);
        }
    }
}

impl<H> core::fmt::Debug for ImageArgs<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ImageArgs")
            .field("data_len", &self.data_len())
            .field("fds", &self.table.as_ref().map(FdTable::len))
            .finish()
    }
}
