//! `struct image_args`: what an exec carries from the old program to the new one.

use alloc::vec::Vec;

use super::fd_list::FdList;
use crate::fdtable::FdTable;
#[cfg(doc)]
use crate::fdtable::fdescfree_remapped;

/// The kernel-side copy of an exec's arguments: the argument data (with the NUL the
/// kernel appends) and the remapped descriptor table built for the new image.
///
/// Dropping it before the point of no return releases the table (what
/// [`fdescfree_remapped`] does, in place), so an exec that fails leaks no reference.
pub struct ImageArgs<H> {
    /// `data_len + 1` bytes (data, then NUL) when `data_len > 0`, empty otherwise.
    pub(crate) buf: Vec<u8>,
    /// The new table, until it is installed.
    pub(crate) table: Option<FdTable<H>>,
    /// The descriptor list the table was built from (`fds`).
    pub(crate) list: FdList,
    /// `Some(generation)` while `table` is pending: laid out and checked, but the
    /// handles of the descriptors' first uses are still in the old table (of that
    /// generation), to be moved at the point of no return.
    pub(crate) pending: Option<u64>,
}

impl<H> ImageArgs<H> {
    /// No data and no table yet: the storage an exec's arguments are built in, in place.
    #[inline]
    pub(crate) fn empty() -> ImageArgs<H> {
        ImageArgs {
            buf: Vec::new(),
            table: None,
            list: FdList::new(),
            pending: None,
        }
    }

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
    /// Also `None` in [`proc_exec`](super::proc_exec())'s own arguments when the process is
    /// its table's only user ([`Process::fd_table_exclusive`](super::Process)): the
    /// table's handles are then moved from the old table only at the point of no
    /// return, and until then it holds only the extra references of descriptors named
    /// twice.
    #[inline]
    pub fn fd_table(&self) -> Option<&FdTable<H>> {
        self.table.as_ref().filter(|_| self.pending.is_none())
    }

    /// The table, to be installed in place (after the point of no return): it then
    /// holds the old table, released when these arguments are dropped.
    #[inline]
    pub(crate) fn table_mut(&mut self) -> Option<&mut FdTable<H>> {
        self.table.as_mut()
    }

    /// Drops the table held, in place.
    #[inline]
    pub(crate) fn release_table(&mut self) {
        self.table = None;
    }
}

impl<H> core::fmt::Debug for ImageArgs<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ImageArgs")
            .field("data_len", &self.data_len())
            .field("fds", &self.table.as_ref().map(FdTable::len))
            .field("pending", &self.pending)
            .finish()
    }
}
