//! What an image activator needs from the kernel: reading the executable and mapping
//! the new address space.

use super::exec_abi::AbiAddr;
use super::usermem::UserMemory;
use crate::Errno;
use crate::fdtable::File;

bitflags::bitflags! {
    /// Protection of a mapped region (ELF `p_flags` order: execute 1, write 2, read 4).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Protection: u32 {
        /// Executable.
        const EXEC = 1;
        /// Writable.
        const WRITE = 2;
        /// Readable.
        const READ = 4;
    }
}

/// An open file an image can be loaded from: the kernel's file type implements this to
/// let the reference ELF activator read headers and segment contents.
pub trait ImageFile: File {
    /// Reads up to `buf.len()` bytes at byte `offset` of the file; returns how many were
    /// read (fewer only at end of file). Errors are the kernel's (`EIO` ...).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
}

/// The user address space of a process, as an image activator rebuilds it after the
/// point of no return.
pub trait AddressSpace: UserMemory {
    /// Destroys every mapping (FreeBSD `exec_new_vmspace`). Cannot fail.
    fn reset(&mut self);

    /// Maps `len` bytes at `addr`, widened by the kernel to whole pages, writable at
    /// least until [`protect_region`](Self::protect_region) is called, so the activator
    /// can copy segment contents in.
    ///
    /// Pages not mapped yet are zero-filled. A page already mapped by an earlier call
    /// since the last [`reset`](Self::reset) (two segments sharing a page: the end of
    /// one, the start of the next) keeps every byte it holds, and is made writable
    /// again until the next `protect_region`. The activator has checked the placement
    /// (in user space, clear of the stack) before the point of no return, so an error
    /// here is the kernel's own (`ENOMEM`).
    fn map_region(
        &mut self,
        addr: AbiAddr<Self>,
        len: AbiAddr<Self>,
        prot: Protection,
    ) -> Result<(), Errno>;

    /// Sets the final protection of a region mapped by `map_region`. A page shared by
    /// several regions gets the union of the protections asked for it (a read-execute
    /// segment and a read-write segment in one page leave it readable, writable and
    /// executable), whatever the order of the calls.
    fn protect_region(
        &mut self,
        addr: AbiAddr<Self>,
        len: AbiAddr<Self>,
        prot: Protection,
    ) -> Result<(), Errno>;
}

/// Reads exactly `buf.len()` bytes at `offset`: a short read is `ENOEXEC` (a truncated
/// image).
pub(crate) fn read_exact_at<F: ImageFile + ?Sized>(
    file: &F,
    offset: u64,
    buf: &mut [u8],
) -> Result<(), Errno> {
    let mut done = 0;
    while done < buf.len() {
        let off = offset.checked_add(done as u64).ok_or(Errno::ENOEXEC)?;
        let n = file.read_at(off, &mut buf[done..])?;
        if n == 0 {
            return Err(Errno::ENOEXEC);
        }
        done += n.min(buf.len() - done);
    }
    Ok(())
}
