//! What an image activator needs from the kernel: reading the executable and mapping
//! the new address space.

use super::exec_abi::{AbiAddr, UserAddress};
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
///
/// # Example
///
/// An executable the kernel keeps in RAM (an initrd file):
///
/// ```
/// use capexec::Errno;
/// use capexec::exec::ImageFile;
/// use capexec::fdtable::{File, FileType};
///
/// struct RamFile {
///     bytes: &'static [u8],
/// }
///
/// impl File for RamFile {
///     fn file_type(&self) -> FileType {
///         FileType::RegularFile
///     }
/// }
///
/// impl ImageFile for RamFile {
///     fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
///         let start = usize::try_from(offset).unwrap_or(usize::MAX);
///         let src = self.bytes.get(start..).unwrap_or(&[]);
///         let n = src.len().min(buf.len());
///         buf[..n].copy_from_slice(&src[..n]);
///         Ok(n)
///     }
/// }
///
/// let f = RamFile { bytes: b"\x7fELF" };
/// let mut b = [0u8; 8];
/// assert_eq!(f.read_at(1, &mut b), Ok(3));
/// assert_eq!(f.read_at(9, &mut b), Ok(0));
/// ```
pub trait ImageFile: File {
    /// Reads up to `buf.len()` bytes at byte `offset` of the file; returns how many were
    /// read (fewer only at end of file). Errors are the kernel's (`EIO` ...).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;

    /// The whole file, when the kernel holds it in memory (a file of an initial RAM
    /// disk, of a RAM file system): the reference activator then parses the headers in
    /// place and copies each segment straight from these bytes into the new image,
    /// instead of reading everything into a kernel buffer first. `None` (the default):
    /// every byte is read with [`read_at`](Self::read_at).
    ///
    /// The bytes must be the file's and must not change while the file is open: the
    /// activator checks the image in them before the point of no return and copies
    /// from them after it (where nothing can be refused any more), asking again. A
    /// file that may be written while it runs keeps the default.
    ///
    /// # References
    /// - FreeBSD `sys/kern/imgact_elf.c`: the headers are read from the executable's
    ///   first page, mapped in kernel memory (`imgp->image_header`), not copied.
    fn bytes(&self) -> Option<&[u8]> {
        None
    }
}

/// The user address space of a process, as an image activator rebuilds it after the
/// point of no return.
///
/// # Example
///
/// A kernel's view of a small 32-bit process: one flat region of memory at address 0
/// (a real kernel maps pages in its page tables instead).
///
/// ```
/// use capexec::Errno;
/// use capexec::abi::Cloudabi32;
/// use capexec::exec::{AddressSpace, Protection, UserAccess, UserMemory};
///
/// struct Flat {
///     bytes: Vec<u8>,
///     mapped_up_to: usize,
/// }
///
/// impl Flat {
///     fn range(&self, addr: u32, len: usize) -> Result<core::ops::Range<usize>, Errno> {
///         let start = addr as usize;
///         match start.checked_add(len) {
///             Some(end) if end <= self.mapped_up_to => Ok(start..end),
///             _ => Err(Errno::EFAULT),
///         }
///     }
/// }
///
/// impl UserMemory for Flat {
///     type Abi = Cloudabi32;
///     fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
///         buf.copy_from_slice(&self.bytes[self.range(addr, buf.len())?]);
///         Ok(())
///     }
///     fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
///         let r = self.range(addr, data.len())?;
///         self.bytes[r].copy_from_slice(data);
///         Ok(())
///     }
///     fn check_access(&self, addr: u32, len: usize, _: UserAccess) -> Result<(), Errno> {
///         self.range(addr, len).map(|_| ())
///     }
/// }
///
/// impl AddressSpace for Flat {
///     fn reset(&mut self) {
///         self.mapped_up_to = 0;
///     }
///     fn map_region(&mut self, addr: u32, len: u32, _: Protection) -> Result<(), Errno> {
///         let end = (addr as usize).checked_add(len as usize).ok_or(Errno::ENOMEM)?;
///         if end > self.bytes.len() {
///             return Err(Errno::ENOMEM); // never allocate after the point of no return
///         }
///         self.bytes[addr as usize..end].fill(0);
///         self.mapped_up_to = self.mapped_up_to.max(end);
///         Ok(())
///     }
///     fn protect_region(&mut self, _: u32, _: u32, _: Protection) -> Result<(), Errno> {
///         Ok(()) // a real kernel sets the page protections here
///     }
/// }
///
/// let mut m = Flat { bytes: vec![0; 8192], mapped_up_to: 0 };
/// m.reset();
/// assert_eq!(m.map_region(0, 4096, Protection::READ | Protection::WRITE), Ok(()));
/// assert_eq!(m.map_region(4096, 8192, Protection::READ), Err(Errno::ENOMEM));
/// ```
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

    /// Maps `contents` at the page-aligned `addr` with protection `prot`, widened to
    /// whole pages (the rest of the last page reads as zero): bytes that never change
    /// and that every process maps alike, such as a vDSO. The range has not been mapped
    /// since the last [`reset`](Self::reset) (the activator checked it is clear of the
    /// image and the stack before the point of no return).
    ///
    /// A kernel prepares such contents once, in frames of its own, and maps those
    /// frames into every process instead of allocating and copying per exec: the same
    /// `contents` (a `'static` slice: same address, same length) comes with every call,
    /// so its address can key the kernel's prepared frames. The mapping stays private to
    /// the process: if a program later makes it writable (`mem_protect`), its stores go
    /// to a copy of the page (copy-on-write) and never reach the shared frames.
    ///
    /// The default maps, copies and protects ([`map_region`](Self::map_region),
    /// [`copyout`](super::copyout), [`protect_region`](Self::protect_region)): correct
    /// for every kernel, at the cost of one page and one copy per exec. Errors are the
    /// kernel's (`ENOMEM`).
    ///
    /// # References
    /// - Linux `install_special_mapping` (the vDSO's pages, shared by every process);
    ///   FreeBSD `sys/kern/kern_sharedpage.c` (the shared page of every image).
    fn map_shared(
        &mut self,
        addr: AbiAddr<Self>,
        contents: &'static [u8],
        prot: Protection,
    ) -> Result<(), Errno> {
        let len = AbiAddr::<Self>::from_u64(contents.len() as u64).ok_or(Errno::ENOMEM)?;
        self.map_region(addr, len, prot)?;
        super::usermem::copyout(self, addr, contents)?;
        self.protect_region(addr, len, prot)
    }
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
