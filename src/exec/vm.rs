//! Mappings made on a program's request: what the `mem_*` system calls need from the
//! kernel's virtual memory system.
//!
//! The ABI layer decodes and validates a call (flags, protection, alignment, ranges,
//! rights), then asks the kernel's [`VirtualMemory`] for exactly one operation on a
//! page-aligned, non-empty range that lies inside [`VirtualMemory::user_range`].

use core::ops::Range;

use super::exec_abi::{AbiAddr, UserAddress};
use super::image::Protection;
use super::usermem::UserMemory;
use crate::Errno;

/// Where a new mapping goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement<A> {
    /// Anywhere the kernel chooses (a NULL address hint).
    Anywhere,
    /// Preferably at this page-aligned address, else where the kernel chooses; never
    /// over an existing mapping.
    Near(A),
    /// Exactly at this page-aligned address (`MAP_FIXED`): every existing mapping in the
    /// range is replaced, as if unmapped first.
    Fixed(A),
}

impl<A> Placement<A> {
    /// The same placement with its address converted (to a page number, say).
    #[inline]
    pub fn map<B>(self, f: impl FnOnce(A) -> B) -> Placement<B> {
        match self {
            Placement::Anywhere => Placement::Anywhere,
            Placement::Near(a) => Placement::Near(f(a)),
            Placement::Fixed(a) => Placement::Fixed(f(a)),
        }
    }
}

/// Chooses the first page of a new mapping of `count` pages, for a kernel that keeps its
/// mapped pages in order: a [`Placement::Fixed`] page as given; a [`Placement::Near`]
/// page if the whole range lies in `user` and no page of it is mapped; otherwise the
/// first fit at or above `base`, then below it (`ENOMEM` when nothing fits).
///
/// All values are page numbers. `mapped(r)` yields the mapped page numbers inside `r`,
/// in ascending order (a `BTreeMap::range` over the page map, for example).
///
/// ```
/// use std::collections::BTreeSet;
/// use capexec::exec::{Placement, place_pages};
///
/// let mapped: BTreeSet<u32> = [16, 17, 20].into();
/// let pick = |p| place_pages(p, 2, 1..64, 16, |r| mapped.range(r).copied());
/// assert_eq!(pick(Placement::Anywhere), Ok(18));
/// assert_eq!(pick(Placement::Near(40)), Ok(40));
/// assert_eq!(pick(Placement::Near(19)), Ok(18)); // 19..21 overlaps page 20
/// assert_eq!(pick(Placement::Near(63)), Ok(18)); // past the user range
/// ```
///
/// # References
/// - FreeBSD `sys/vm/vm_map.c` `vm_map_findspace` (first fit above a hint).
pub fn place_pages<A, I>(
    placement: Placement<A>,
    count: A,
    user: Range<A>,
    base: A,
    mut mapped: impl FnMut(Range<A>) -> I,
) -> Result<A, Errno>
where
    A: UserAddress,
    I: Iterator<Item = A>,
{
    let (lo, hi, n) = (user.start.to_u64(), user.end.to_u64(), count.to_u64());
    let base = base.to_u64().clamp(lo, hi);
    let page = |p: u64| A::from_u64(p).ok_or(Errno::ENOMEM);
    let mut first_fit = |from: u64, end: u64| -> Option<u64> {
        let mut candidate = from;
        for p in mapped(page(from).ok()?..page(end).ok()?) {
            if p.to_u64() >= candidate.checked_add(n)? {
                break;
            }
            candidate = p.to_u64() + 1;
        }
        (candidate.checked_add(n)? <= end).then_some(candidate)
    };
    match placement {
        Placement::Fixed(p) => return Ok(p),
        Placement::Near(h) => {
            let h64 = h.to_u64();
            if h64 >= lo && h64.checked_add(n).is_some_and(|e| e <= hi) {
                let end = page(h64 + n)?;
                if first_fit(h64, end.to_u64()) == Some(h64) {
                    return Ok(h);
                }
            }
        }
        Placement::Anywhere => {}
    }
    let found = first_fit(base, hi).or_else(|| first_fit(lo, base));
    page(found.ok_or(Errno::ENOMEM)?)
}

/// Whether stores to a mapping are seen by other mappings of the same object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// Copy-on-write: stores stay in this mapping (`MAP_PRIVATE`).
    Private,
    /// Stores go to the object and are seen by every mapping of it (`MAP_SHARED`).
    Shared,
}

/// One mapping a program asked for, validated: `len` is a non-zero multiple of the
/// page size, a [`Placement::Fixed`] range lies inside
/// [`user_range`](VirtualMemory::user_range), and `prot` never has both
/// [`Protection::WRITE`] and [`Protection::EXEC`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MapRequest<A> {
    /// Where it goes.
    pub placement: Placement<A>,
    /// Its length in bytes (whole pages).
    pub len: A,
    /// Its protection; empty is a reservation (`PROT_NONE`): every access faults.
    pub prot: Protection,
    /// Private or shared.
    pub sharing: Sharing,
}

/// Advice about the future use of a range (`posix_madvise`). Advice never changes the
/// contents a program reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Advice {
    /// No particular pattern (`MADV_NORMAL`).
    Normal,
    /// Random access: read-ahead is wasted (`MADV_RANDOM`).
    Random,
    /// Sequential access: read ahead aggressively (`MADV_SEQUENTIAL`).
    Sequential,
    /// The range is needed soon: start paging it in (`MADV_WILLNEED`).
    WillNeed,
    /// The range is not needed soon: its pages may be deactivated (`MADV_DONTNEED`; as
    /// on FreeBSD, the contents stay).
    DontNeed,
}

/// How `mem_sync` writes a range back to the objects it maps (`msync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncMode {
    /// Start the write-back and return (`MS_ASYNC`).
    Async,
    /// Write back and wait for it (`MS_SYNC`).
    Sync,
    /// Write back, wait, and drop cached copies so that later reads see the object
    /// again (`MS_SYNC | MS_INVALIDATE`).
    SyncInvalidate,
}

/// The virtual memory of one process, as the `mem_*` system calls change it: the
/// kernel's VM implements this next to its [`UserMemory`].
///
/// capexec has already validated every argument when it calls a method: addresses and
/// lengths are page-aligned, lengths are non-zero, ranges do not wrap and lie inside
/// [`user_range`](Self::user_range) (a [`Placement::Near`] hint may be anywhere; the
/// kernel treats one it cannot use as [`Placement::Anywhere`]). Errors are the kernel's:
/// `ENOMEM` when no room is left or a page cannot be allocated (a kernel never aborts
/// here), `EACCES` when a protection exceeds what an object allows.
///
/// File-backed mappings go through the process's
/// [`map_file`](super::Process::map_file) hook, which knows the kernel's file type.
///
/// # Example
///
/// A kernel's VM that keeps a list of regions and places new ones first-fit (here, as a
/// host test would, over a `Vec`; a kernel edits its page tables as well):
///
/// ```
/// use capexec::Errno;
/// use capexec::abi::Cloudabi32;
/// use capexec::exec::{
///     MapRequest, Placement, Protection, UserAccess, UserMemory, VirtualMemory,
/// };
///
/// #[derive(Default)]
/// struct Regions {
///     /// (start, end, protection), sorted, disjoint.
///     list: Vec<(u32, u32, Protection)>,
/// }
///
/// impl UserMemory for Regions {
///     type Abi = Cloudabi32;
///     fn read_user(&self, _: u32, _: &mut [u8]) -> Result<(), Errno> {
///         Err(Errno::EFAULT) // the bytes live in the kernel's pages
///     }
///     fn write_user(&mut self, _: u32, _: &[u8]) -> Result<(), Errno> {
///         Err(Errno::EFAULT)
///     }
///     fn check_access(&self, _: u32, _: usize, _: UserAccess) -> Result<(), Errno> {
///         Err(Errno::EFAULT)
///     }
/// }
///
/// impl Regions {
///     fn cut(&mut self, start: u32, end: u32) {
///         let mut kept = Vec::new();
///         for &(s, e, p) in &self.list {
///             if e <= start || s >= end {
///                 kept.push((s, e, p));
///                 continue;
///             }
///             if s < start {
///                 kept.push((s, start, p));
///             }
///             if e > end {
///                 kept.push((end, e, p));
///             }
///         }
///         self.list = kept;
///     }
///     fn free(&self, start: u32, end: u32) -> bool {
///         self.list.iter().all(|&(s, e, _)| e <= start || s >= end)
///     }
/// }
///
/// impl VirtualMemory for Regions {
///     fn user_range(&self) -> core::ops::Range<u32> {
///         0x1000..0xc000_0000
///     }
///     fn mmap(&mut self, req: &MapRequest<u32>) -> Result<u32, Errno> {
///         let at = match req.placement {
///             Placement::Fixed(a) => {
///                 self.cut(a, a + req.len);
///                 a
///             }
///             _ => (0x1000_0000u32..0xc000_0000)
///                 .step_by(4096)
///                 .find(|&a| self.free(a, a + req.len))
///                 .ok_or(Errno::ENOMEM)?,
///         };
///         self.list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
///         self.list.push((at, at + req.len, req.prot));
///         self.list.sort_unstable_by_key(|r| r.0);
///         Ok(at)
///     }
///     fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Errno> {
///         self.cut(addr, addr + len);
///         Ok(())
///     }
///     fn mprotect(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
///         for r in self.list.iter_mut().filter(|r| r.0 >= addr && r.1 <= addr + len) {
///             r.2 = prot; // (a real VM splits partially covered regions)
///         }
///         Ok(())
///     }
///     fn msync(&mut self, _: u32, _: u32, _: capexec::exec::SyncMode) -> Result<(), Errno> {
///         Ok(()) // anonymous memory only: nothing to write back
///     }
/// }
///
/// let mut vm = Regions::default();
/// let req = MapRequest {
///     placement: Placement::Anywhere,
///     len: 0x2000,
///     prot: Protection::READ | Protection::WRITE,
///     sharing: capexec::exec::Sharing::Private,
/// };
/// assert_eq!(vm.mmap(&req), Ok(0x1000_0000));
/// assert_eq!(vm.mmap(&req), Ok(0x1000_2000));
/// ```
pub trait VirtualMemory: UserMemory {
    /// The addresses a program may map: a fixed mapping, an unmap or an advice outside
    /// it is `EINVAL` before the kernel is asked (FreeBSD's `vm_map_min` /
    /// `vm_map_max`). Page-aligned.
    fn user_range(&self) -> Range<AbiAddr<Self>>;

    /// Creates an anonymous mapping of zero-filled pages (`mem_map` with `MAP_ANON`) and
    /// returns its address. A [`Placement::Fixed`] mapping replaces whatever the range
    /// held; a failure leaves the address space as it was, or with the range unmapped
    /// (as FreeBSD may, after it removed the old mappings).
    fn mmap(&mut self, request: &MapRequest<AbiAddr<Self>>) -> Result<AbiAddr<Self>, Errno>;

    /// Removes every mapping in the range; pages that are not mapped are skipped. Part
    /// of a mapping may be removed (the rest stays mapped, with its contents).
    fn munmap(&mut self, addr: AbiAddr<Self>, len: AbiAddr<Self>) -> Result<(), Errno>;

    /// Gives every mapped page of the range protection `prot` (an empty protection
    /// makes the pages inaccessible, keeping their contents); pages that are not mapped
    /// are skipped, as FreeBSD's `vm_map_protect` skips them. `EACCES` if `prot`
    /// exceeds what a mapped object allows (a shared mapping of a read-only file made
    /// writable).
    fn mprotect(
        &mut self,
        addr: AbiAddr<Self>,
        len: AbiAddr<Self>,
        prot: Protection,
    ) -> Result<(), Errno>;

    /// Takes advice about the range. Advice is only a hint: the default ignores it,
    /// which is always correct.
    fn madvise(
        &mut self,
        addr: AbiAddr<Self>,
        len: AbiAddr<Self>,
        advice: Advice,
    ) -> Result<(), Errno> {
        let _ = (addr, len, advice);
        Ok(())
    }

    /// Writes the range back to the objects it maps. `ENOMEM` if any page of the range
    /// is not mapped (FreeBSD's `msync`), `EIO` if a write-back failed. Anonymous
    /// memory has nothing to write back.
    fn msync(
        &mut self,
        addr: AbiAddr<Self>,
        len: AbiAddr<Self>,
        mode: SyncMode,
    ) -> Result<(), Errno>;
}
