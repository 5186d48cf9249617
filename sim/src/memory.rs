//! A simulated 32-bit user address space, for host tests and demos.
//!
//! Page granular (4 KiB): a range is mapped or not, and any access that touches an
//! unmapped page is `EFAULT`, exactly as a kernel's `copyin` reports it. Pages can be
//! mapped read-only to test faulting copy-outs. Kernel authors can use it in their own
//! host tests; it allocates with the global allocator when pages are mapped (it is test
//! tooling, not a syscall path).

use std::collections::BTreeMap;

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::exec::{AddressSpace, Protection, UserAccess, UserMemory, check_user_range};

/// Size of one simulated page.
pub const SIM_PAGE_SIZE: u32 = 4096;
const PAGE: usize = SIM_PAGE_SIZE as usize;

struct Page {
    bytes: Box<[u8; PAGE]>,
    writable: bool,
    /// The union of the final protections `protect_region` gave the page (segments can
    /// share a page), once it has been called for it.
    wanted: Option<Protection>,
}

/// A simulated 32-bit address space: a sparse set of 4 KiB pages.
#[derive(Default)]
pub struct SimAddressSpace {
    pages: BTreeMap<u32, Page>,
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
        self.map_with(addr, len, true);
    }

    /// Maps the pages covering the range read-only (writes fault).
    pub fn map_readonly(&mut self, addr: u32, len: u32) {
        self.map_with(addr, len, false);
    }

    fn map_with(&mut self, addr: u32, len: u32, writable: bool) {
        let Some((first, last)) = page_range(addr, len) else {
            return;
        };
        for p in first..=last {
            self.pages
                .entry(p)
                .and_modify(|pg| pg.writable = writable)
                .or_insert_with(|| Page {
                    bytes: Box::new([0; PAGE]),
                    writable,
                    wanted: None,
                });
        }
    }

    /// The protection of the page holding `addr`: what
    /// [`protect_region`](AddressSpace::protect_region) gave it (the union, for a page
    /// shared by segments), else read-write or read-only as mapped; `None` if unmapped.
    pub fn protection(&self, addr: u32) -> Option<Protection> {
        let pg = self.pages.get(&(addr / SIM_PAGE_SIZE))?;
        Some(pg.wanted.unwrap_or(if pg.writable {
            Protection::READ | Protection::WRITE
        } else {
            Protection::READ
        }))
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

    /// Whether the byte at `addr` is mapped.
    pub fn is_mapped(&self, addr: u32) -> bool {
        self.pages.contains_key(&(addr / SIM_PAGE_SIZE))
    }

    /// Number of mapped pages.
    pub fn mapped_pages(&self) -> usize {
        self.pages.len()
    }
}

impl UserMemory for SimAddressSpace {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        let mut a = u64::from(addr);
        let mut done = 0;
        while done < buf.len() {
            let page = u32::try_from(a / u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let off = usize::try_from(a % u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let pg = self.pages.get(&page).ok_or(Errno::EFAULT)?;
            let n = (PAGE - off).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&pg.bytes[off..off + n]);
            done += n;
            a += n as u64;
        }
        Ok(())
    }

    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        let mut a = u64::from(addr);
        let mut done = 0;
        while done < data.len() {
            let page = u32::try_from(a / u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let off = usize::try_from(a % u64::from(SIM_PAGE_SIZE)).map_err(|_| Errno::EFAULT)?;
            let pg = self.pages.get_mut(&page).ok_or(Errno::EFAULT)?;
            if !pg.writable {
                return Err(Errno::EFAULT);
            }
            let n = (PAGE - off).min(data.len() - done);
            pg.bytes[off..off + n].copy_from_slice(&data[done..done + n]);
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
                Some(pg) if access == UserAccess::Read || pg.writable => {}
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
            pg.writable = want.contains(Protection::WRITE);
        }
        Ok(())
    }
}
