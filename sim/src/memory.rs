//! A simulated 32-bit user address space, for host tests and demos.
//!
//! Page granular (4 KiB): a range is mapped or not, and any access that touches an
//! unmapped page (or a `PROT_NONE` one) is `EFAULT`, exactly as a kernel's `copyin`
//! reports it. Pages can be mapped read-only to test faulting copy-outs. It also serves
//! the `mem_*` system calls as a kernel's VM does. Kernel authors can use it in their own
//! host tests; it allocates with the global allocator when pages are mapped (it is test
//! tooling, not a syscall path).

use std::collections::BTreeMap;

use capexec::Errno;
use capexec::abi::Cloudabi32;
use core::ops::Range;

use capexec::exec::{
    AddressSpace, MapRequest, Placement, Protection, SyncMode, UserAccess, UserMemory,
    VirtualMemory, check_user_range, place_pages,
};

/// Size of one simulated page.
pub const SIM_PAGE_SIZE: u32 = 4096;
const PAGE: usize = SIM_PAGE_SIZE as usize;

/// Default lowest address a program may map (the first page is never mapped).
pub const SIM_USER_BOTTOM: u32 = 0x1000;
/// Default end of the user half: the kernel's half starts at 3 GiB (the usual i386
/// split).
pub const SIM_USER_TOP: u32 = 0xc000_0000;
/// Default address from which the kernel's choice of placement searches upwards.
pub const SIM_MAP_BASE: u32 = 0x1000_0000;

struct Page {
    /// The contents; `None` until the first store (a zero-filled page, or `shared`).
    bytes: Option<Box<[u8; PAGE]>>,
    /// Contents shared with every other mapping of them ([`AddressSpace::map_shared`]),
    /// read while `bytes` is `None`: this page's part of them (at most a page; the rest
    /// reads as zero). The first store copies them into `bytes` (copy-on-write).
    shared: Option<&'static [u8]>,
    /// What user accesses may do now: reads need any bit (on i386 every mapped
    /// page with a protection is readable), writes need `WRITE`; empty is a
    /// reservation (`PROT_NONE`), where every access faults.
    access: Protection,
    /// The union of the final protections `protect_region` gave the page (segments can
    /// share a page), once it has been called for it.
    wanted: Option<Protection>,
}

impl Page {
    fn zeroed(access: Protection) -> Page {
        Page {
            bytes: None,
            shared: None,
            access,
            wanted: None,
        }
    }

    /// The page's bytes for a store: its own copy, made on the first store (from the
    /// shared contents, if any).
    fn bytes_mut(&mut self) -> &mut [u8; PAGE] {
        let shared = self.shared.take();
        self.bytes.get_or_insert_with(|| {
            let mut b = Box::new([0; PAGE]);
            if let Some(src) = shared {
                b[..src.len()].copy_from_slice(src);
            }
            b
        })
    }

    fn readable(&self) -> bool {
        !self.access.is_empty()
    }

    fn writable(&self) -> bool {
        self.access.contains(Protection::WRITE)
    }
}

/// A simulated 32-bit address space: a sparse set of 4 KiB pages, each with its
/// protection.
///
/// It serves the exec layer ([`AddressSpace`]) and the `mem_*` system calls
/// ([`VirtualMemory`]): anonymous mappings placed first-fit from a base address
/// ([`SIM_MAP_BASE`]) or at a hint, fixed mappings that replace what was there,
/// `PROT_NONE` reservations, partial unmaps and protection changes page by page. An
/// optional page limit makes mappings fail with `ENOMEM` as a kernel out of memory
/// would.
pub struct SimAddressSpace {
    pages: BTreeMap<u32, Page>,
    user: Range<u32>,
    map_base: u32,
    page_limit: Option<usize>,
}

impl Default for SimAddressSpace {
    fn default() -> SimAddressSpace {
        SimAddressSpace {
            pages: BTreeMap::new(),
            user: SIM_USER_BOTTOM..SIM_USER_TOP,
            map_base: SIM_MAP_BASE,
            page_limit: None,
        }
    }
}

impl core::fmt::Debug for SimAddressSpace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimAddressSpace")
            .field("pages", &self.pages.len())
            .finish()
    }
}

fn page_range(addr: u32, len: u32) -> Option<(u32, u32)> {
    if len == 0 {
        return None;
    }
    let first = addr / SIM_PAGE_SIZE;
    let last = (u64::from(addr) + u64::from(len) - 1) / u64::from(SIM_PAGE_SIZE);
    Some((first, u32::try_from(last).ok()?))
}

impl SimAddressSpace {
    /// An empty address space (every access faults).
    pub fn new() -> SimAddressSpace {
        SimAddressSpace::default()
    }

    /// Maps the pages covering `addr..addr+len`, zero-filled, readable and writable.
    /// Pages already mapped keep their contents. A range wrapping past 4 GiB maps up to
    /// the end.
    pub fn map(&mut self, addr: u32, len: u32) {
        self.map_with(addr, len, Protection::READ | Protection::WRITE);
    }

    /// Maps the pages covering the range read-only (writes fault).
    pub fn map_readonly(&mut self, addr: u32, len: u32) {
        self.map_with(addr, len, Protection::READ);
    }

    fn map_with(&mut self, addr: u32, len: u32, access: Protection) {
        let Some((first, last)) = page_range(addr, len) else {
            return;
        };
        for p in first..=last {
            self.pages
                .entry(p)
                .and_modify(|pg| pg.access = access)
                .or_insert_with(|| Page::zeroed(access));
        }
    }

    /// The protection of the page holding `addr`: what
    /// [`protect_region`](AddressSpace::protect_region) gave it (the union, for a page
    /// shared by segments), else what it was mapped or last protected with (empty for
    /// a `PROT_NONE` reservation); `None` if unmapped.
    pub fn protection(&self, addr: u32) -> Option<Protection> {
        let pg = self.pages.get(&(addr / SIM_PAGE_SIZE))?;
        Some(pg.wanted.unwrap_or(pg.access))
    }

    /// Unmaps the pages covering the range.
    pub fn unmap(&mut self, addr: u32, len: u32) {
        let Some((first, last)) = page_range(addr, len) else {
            return;
        };
        let doomed: Vec<u32> = self.pages.range(first..=last).map(|(&k, _)| k).collect();
        for p in doomed {
            self.pages.remove(&p);
        }
    }

    /// Unmaps everything.
    pub fn clear(&mut self) {
        self.pages.clear();
    }

    /// Whether the byte at `addr` is mapped (a `PROT_NONE` reservation is).
    pub fn is_mapped(&self, addr: u32) -> bool {
        self.pages.contains_key(&(addr / SIM_PAGE_SIZE))
    }

    /// Number of mapped pages.
    pub fn mapped_pages(&self) -> usize {
        self.pages.len()
    }

    /// Sets the addresses programs may map ([`VirtualMemory::user_range`]); both ends
    /// are rounded down to pages. The default is [`SIM_USER_BOTTOM`]`..`[`SIM_USER_TOP`].
    pub fn set_user_range(&mut self, range: Range<u32>) {
        let down = |a: u32| a - a % SIM_PAGE_SIZE;
        self.user = down(range.start)..down(range.end);
    }

    /// Sets where the kernel's choice of placement starts its upward first-fit search
    /// (it wraps around to the bottom of the user range). The default is
    /// [`SIM_MAP_BASE`].
    pub fn set_map_base(&mut self, base: u32) {
        self.map_base = base - base % SIM_PAGE_SIZE;
    }

    /// Limits the number of mapped pages: a [`VirtualMemory::mmap`] that would go past
    /// it fails with `ENOMEM` and changes nothing. `None` (the default) is no limit.
    pub fn set_page_limit(&mut self, limit: Option<usize>) {
        self.page_limit = limit;
    }

    /// The bytes at `addr`, whatever the protection of their pages (a test's look at
    /// a `PROT_NONE` reservation): `EFAULT` if a page is unmapped.
    pub fn peek(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.copy_in(addr, buf, false)
    }

    fn copy_in(&self, addr: u32, buf: &mut [u8], checked: bool) -> Result<(), Errno> {
        let mut a = u64::from(addr);
        let mut done = 0;
        while done < buf.len() {
            let page = u32::try_from(a / u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let off = usize::try_from(a % u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let pg = self.pages.get(&page).ok_or(Errno::EFAULT)?;
            if checked && !pg.readable() {
                return Err(Errno::EFAULT);
            }
            let n = (PAGE - off).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match (&pg.bytes, pg.shared) {
                (Some(b), _) => dst.copy_from_slice(&b[off..off + n]),
                (None, Some(src)) => {
                    // The shared part, then zeros past its end.
                    let have = src.len().saturating_sub(off).min(n);
                    dst[..have].copy_from_slice(&src[off..off + have]);
                    dst[have..].fill(0);
                }
                (None, None) => dst.fill(0),
            }
            done += n;
            a += n as u64;
        }
        Ok(())
    }

    /// The page where a new mapping of `count` pages goes.
    fn place(&self, placement: Placement<u32>, count: u32) -> Result<u32, Errno> {
        let page = |a: u32| a / SIM_PAGE_SIZE;
        place_pages(
            placement.map(page),
            count,
            page(self.user.start)..page(self.user.end),
            page(self.map_base),
            |r| self.pages.range(r).map(|(&p, _)| p),
        )
    }
}

impl UserMemory for SimAddressSpace {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.copy_in(addr, buf, true)
    }

    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        let mut a = u64::from(addr);
        let mut done = 0;
        while done < data.len() {
            let page = u32::try_from(a / u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let off = usize::try_from(a % u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let pg = self.pages.get_mut(&page).ok_or(Errno::EFAULT)?;
            if !pg.writable() {
                return Err(Errno::EFAULT);
            }
            let n = (PAGE - off).min(data.len() - done);
            let bytes = pg.bytes_mut();
            bytes[off..off + n].copy_from_slice(&data[done..done + n]);
            done += n;
            a += n as u64;
        }
        Ok(())
    }

    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        let len = u32::try_from(len).map_err(|_| Errno::EFAULT)?;
        let Some((first, last)) = page_range(addr, len) else {
            return Ok(());
        };
        for p in first..=last {
            match self.pages.get(&p) {
                Some(pg) if pg.readable() && (access == UserAccess::Read || pg.writable()) => {}
                _ => return Err(Errno::EFAULT),
            }
        }
        Ok(())
    }
}

impl AddressSpace for SimAddressSpace {
    fn reset(&mut self) {
        self.clear();
    }

    /// Maps the pages writable (segments are filled through copyout after mapping);
    /// a page already mapped, by an earlier segment sharing it, keeps its bytes and
    /// becomes writable again until the next `protect_region`.
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        check_user_range(addr, len as usize)?;
        let _ = prot;
        self.map(addr, len);
        Ok(())
    }

    /// Maps `contents` without copying them: each page refers to its part of the
    /// `'static` bytes until a store (after a `mem_protect` that makes it writable)
    /// gives the page its own copy, as a kernel maps one prepared frame copy-on-write.
    fn map_shared(
        &mut self,
        addr: u32,
        contents: &'static [u8],
        prot: Protection,
    ) -> Result<(), Errno> {
        let len = u32::try_from(contents.len()).map_err(|_| Errno::ENOMEM)?;
        check_user_range(addr, len as usize)?;
        if addr % SIM_PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        let Some((first, last)) = page_range(addr, len) else {
            return Ok(());
        };
        for (i, p) in (first..=last).enumerate() {
            let part = contents.get(i * PAGE..).unwrap_or(&[]);
            let part = part.get(..PAGE).unwrap_or(part);
            let mut pg = Page::zeroed(prot | Protection::READ);
            pg.shared = Some(part);
            pg.wanted = Some(prot);
            self.pages.insert(p, pg);
        }
        Ok(())
    }

    /// Gives each page the union of every protection asked for it: a page shared by a
    /// read-only and a writable segment stays writable, whatever their order.
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let Some((first, last)) = page_range(addr, len) else {
            return Ok(());
        };
        for p in first..=last {
            let pg = self.pages.get_mut(&p).ok_or(Errno::ENOMEM)?;
            let want = pg.wanted.unwrap_or(Protection::empty()) | prot;
            pg.wanted = Some(want);
            // Readable whatever it asked for (i386 pages with any protection are).
            pg.access = want | Protection::READ;
        }
        Ok(())
    }
}

/// The pages `first..=last` of a validated range (non-empty, page-aligned, no wrap).
fn pages_of(addr: u32, len: u32) -> core::ops::RangeInclusive<u32> {
    match page_range(addr, len) {
        Some((first, last)) => first..=last,
        #[allow(clippy::reversed_empty_ranges)]
        None => 1..=0,
    }
}

impl VirtualMemory for SimAddressSpace {
    fn user_range(&self) -> Range<u32> {
        self.user.clone()
    }

    fn mmap(&mut self, request: &MapRequest<u32>) -> Result<u32, Errno> {
        let count = request.len.div_ceil(SIM_PAGE_SIZE);
        let first = self.place(request.placement, count)?;
        let end = first.checked_add(count).ok_or(Errno::ENOMEM)?;
        if let Some(limit) = self.page_limit {
            let replaced = self.pages.range(first..end).count();
            if self.pages.len() - replaced + count as usize > limit {
                return Err(Errno::ENOMEM);
            }
        }
        // Fixed: whatever was there goes (MAP_FIXED replaces).
        let doomed: Vec<u32> = self.pages.range(first..end).map(|(&k, _)| k).collect();
        for p in doomed {
            self.pages.remove(&p);
        }
        for p in first..end {
            self.pages.insert(p, Page::zeroed(request.prot));
        }
        Ok(first * SIM_PAGE_SIZE)
    }

    fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Errno> {
        self.unmap(addr, len);
        Ok(())
    }

    fn mprotect(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        for p in pages_of(addr, len) {
            if let Some(pg) = self.pages.get_mut(&p) {
                pg.access = prot;
                pg.wanted = None;
            }
        }
        Ok(())
    }

    fn msync(&mut self, addr: u32, len: u32, _: SyncMode) -> Result<(), Errno> {
        // Anonymous memory only: nothing to write back, but every page must be mapped.
        if pages_of(addr, len).all(|p| self.pages.contains_key(&p)) {
            Ok(())
        } else {
            Err(Errno::ENOMEM)
        }
    }
}
