//! A process's address space: its own page directory, whose user half (below 3 GiB) maps
//! the program with 4 KiB pages and whose kernel half is the boot page directory's.
//!
//! capexec reaches user memory only through [`UserSpace`]'s `UserMemory` implementation,
//! which walks these page tables in software and copies through the kernel's map of
//! physical memory. An address that is unmapped, not user-accessible (the kernel's half)
//! or read-only for a copy-out is `EFAULT`: a bad pointer from a program never makes the
//! kernel fault.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::exec::{
    AddressSpace, MapRequest, Placement, Protection, SyncMode, UserAccess, UserMemory,
    VirtualMemory,
};

use crate::boot::{KERNEL_BASE, kernel_page_directory, phys_to_virt};
use crate::cpu;
use crate::frames::{self, FRAME_SIZE, Frame};

/// Page table entry bits.
const PRESENT: u32 = 1 << 0;
const WRITABLE: u32 = 1 << 1;
const USER: u32 = 1 << 2;
/// Software bit (one of the three the CPU leaves to the OS): the union of the
/// protections `protect_region` asked for this page includes write.
const GRANTED_WRITE: u32 = 1 << 9;
/// Software bit: the page belongs to a mapping, even while not present (a `PROT_NONE`
/// page of a `mem_map` reservation, which gets its frame when it is first made
/// accessible).
const MAPPED: u32 = 1 << 10;
const FRAME_MASK: u32 = !0xFFF;

/// The first page directory entry of the kernel's half.
const KERNEL_PDE: usize = (KERNEL_BASE >> 22) as usize;

/// The page table (or directory) in the frame at `phys`.
///
/// # Safety
/// The frame must hold a page table or directory owned by the caller's address space
/// (or be the boot page directory, read only), and no other reference to it may be
/// alive while the returned one is used.
unsafe fn table<'a>(phys: u32) -> &'a mut [u32; 1024] {
    // SAFETY: frames are 4 KiB-aligned and mapped in the kernel's map of physical
    // memory; exclusivity is the caller's promise.
    unsafe { &mut *phys_to_virt(phys).cast() }
}

/// The user address space of one process.
pub struct UserSpace {
    /// Physical address of the page directory (a frame this space owns).
    pd: u32,
    /// Frames set aside before an exec's point of no return, used first by
    /// [`map_region`](AddressSpace::map_region) so the new image is built without
    /// allocating.
    reserve: Vec<Frame>,
    /// A reservation is in force (see [`UserSpace::reserve`]).
    reserving: bool,
}

/// Frames an exec took beyond what its `prepare` reserved, that is, allocated after its
/// point of no return. The kernel checks that this stays 0.
pub static UNRESERVED_FRAMES: AtomicUsize = AtomicUsize::new(0);

impl UserSpace {
    /// An empty address space: a new page directory sharing the kernel's half.
    pub fn new() -> Result<UserSpace, Errno> {
        let frame = frames::alloc().ok_or(Errno::ENOMEM)?;
        let pd = frame.into_phys();
        // SAFETY: `pd` is a fresh frame owned by this space; the boot page directory's
        // kernel half is constant after boot, so copying it gives the kernel the same
        // mappings in every address space.
        unsafe {
            let kernel = table(kernel_page_directory());
            table(pd)[KERNEL_PDE..].copy_from_slice(&kernel[KERNEL_PDE..]);
        }
        Ok(UserSpace {
            pd,
            reserve: Vec::new(),
            reserving: false,
        })
    }

    /// Sets `frames` frames aside for later [`map_region`](AddressSpace::map_region)
    /// calls: `ENOMEM` (and nothing set aside) if memory is short. Until
    /// [`release_reserve`](Self::release_reserve), a frame taken beyond the reservation
    /// is counted in [`UNRESERVED_FRAMES`].
    pub fn reserve(&mut self, frames: usize) -> Result<(), Errno> {
        self.reserving = true;
        self.reserve
            .try_reserve_exact(frames)
            .map_err(|_| Errno::ENOMEM)?;
        for _ in 0..frames {
            match frames::alloc() {
                Some(f) => self.reserve.push(f),
                None => {
                    for f in self.reserve.drain(..) {
                        frames::free(f);
                    }
                    return Err(Errno::ENOMEM);
                }
            }
        }
        Ok(())
    }

    /// The page directory's physical address, for CR3.
    pub fn page_directory(&self) -> u32 {
        self.pd
    }

    /// A frame: from the reserve first.
    fn take_frame(&mut self) -> Result<Frame, Errno> {
        if let Some(f) = self.reserve.pop() {
            return Ok(f);
        }
        if self.reserving {
            // A reservation fell short: the exec allocates past its point of no return.
            UNRESERVED_FRAMES.fetch_add(1, Ordering::Relaxed);
        }
        frames::alloc().ok_or(Errno::ENOMEM)
    }

    /// Ends the reservation made by [`reserve`](Self::reserve): frames left over go back
    /// to the allocator.
    pub fn release_reserve(&mut self) {
        self.reserving = false;
        for f in self.reserve.drain(..) {
            frames::free(f);
        }
    }

    /// The page table entry of user address `addr`, if its page table exists and the
    /// directory entry is a user one.
    fn pte(&self, addr: u32) -> Option<u32> {
        if addr >= KERNEL_BASE {
            return None;
        }
        // SAFETY: `pd` and the page tables it points to are frames this space owns.
        unsafe {
            let pde = table(self.pd)[(addr >> 22) as usize];
            if pde & (PRESENT | USER) != PRESENT | USER {
                return None;
            }
            Some(table(pde & FRAME_MASK)[((addr >> 12) & 0x3FF) as usize])
        }
    }

    /// A pointer to the entry of `addr` (below 3 GiB), creating its page table.
    fn pte_mut(&mut self, addr: u32) -> Result<*mut u32, Errno> {
        let dir = (addr >> 22) as usize;
        // SAFETY: `pd` is owned by this space, `dir` is in the user half.
        let pde = unsafe { table(self.pd)[dir] };
        let pt = if pde & PRESENT != 0 {
            pde & FRAME_MASK
        } else {
            let pt = self.take_frame()?.into_phys();
            // SAFETY: as above; the new page table is a zeroed frame now owned by `pd`.
            unsafe { table(self.pd)[dir] = pt | PRESENT | WRITABLE | USER };
            pt
        };
        // SAFETY: `pt` is a page table owned by this space.
        Ok(unsafe { &raw mut table(pt)[((addr >> 12) & 0x3FF) as usize] })
    }

    /// Drops the CPU's cached translation of `addr` if this space is the current one.
    fn flush(&self, addr: u32) {
        if cpu::cr3() == self.pd {
            // SAFETY: `invlpg` only drops a TLB entry.
            unsafe { core::arch::asm!("invlpg [{}]", in(reg) addr, options(nostack)) };
        }
    }

    /// The physical address of user byte `addr` if it may be accessed as `access`.
    fn translate(&self, addr: u32, access: UserAccess) -> Result<u32, Errno> {
        let pte = self.pte(addr).ok_or(Errno::EFAULT)?;
        let need = match access {
            UserAccess::Read => PRESENT | USER,
            UserAccess::Write => PRESENT | USER | WRITABLE,
        };
        if pte & need != need {
            return Err(Errno::EFAULT);
        }
        Ok((pte & FRAME_MASK) | (addr & 0xFFF))
    }

    /// Calls `f(physical address, offset, length)` for each piece of `[addr, addr + len)`
    /// that lies in one page, after checking every page first.
    fn for_each_piece(
        &self,
        addr: u32,
        len: usize,
        access: UserAccess,
        mut f: impl FnMut(u32, usize, usize),
    ) -> Result<(), Errno> {
        let end = u64::from(addr) + len as u64;
        let mut at = u64::from(addr);
        while at < end {
            let page_end = (at / u64::from(FRAME_SIZE) + 1) * u64::from(FRAME_SIZE);
            let n = (page_end.min(end) - at) as usize;
            let phys = self.translate(at as u32, access)?;
            f(phys, (at - u64::from(addr)) as usize, n);
            at += n as u64;
        }
        Ok(())
    }

    /// Unmaps every user page and frees its frame and the page tables.
    fn unmap_all(&mut self) {
        for dir in 0..KERNEL_PDE {
            // SAFETY: `pd` and its page tables are frames this space owns; each frame
            // referenced from them was given up with `into_phys` by this space and is
            // claimed back exactly once, as its entry is cleared.
            unsafe {
                let pde = table(self.pd)[dir];
                if pde & PRESENT == 0 {
                    continue;
                }
                let pt = pde & FRAME_MASK;
                for pte in table(pt).iter_mut() {
                    if *pte & FRAME_MASK != 0 {
                        frames::free(Frame::from_phys(*pte & FRAME_MASK));
                    }
                    *pte = 0;
                }
                table(self.pd)[dir] = 0;
                frames::free(Frame::from_phys(pt));
            }
        }
        if cpu::cr3() == self.pd {
            // SAFETY: reloading the current page directory only flushes the TLB.
            unsafe { cpu::load_cr3(self.pd) };
        }
    }

    /// Whether the page at `page` belongs to a mapping.
    fn is_mapped(&self, page: u32) -> bool {
        self.pte(page).is_some_and(|e| e & (PRESENT | MAPPED) != 0)
    }

    /// Whether `[addr, addr + len)` starts on a page, lies inside `[lo, hi)` and every
    /// page of it is free.
    fn is_free(&self, addr: u32, len: u32, lo: u32, hi: u32) -> bool {
        let end = u64::from(addr) + u64::from(len);
        addr.is_multiple_of(FRAME_SIZE)
            && addr >= lo
            && end <= u64::from(hi)
            && (u64::from(addr)..end)
                .step_by(FRAME_SIZE as usize)
                .all(|p| !self.is_mapped(p as u32))
    }

    /// The first free range of `len` bytes at or above [`MMAP_BASE`] (first fit), below
    /// the stack's region.
    fn find_free(&self, len: u32) -> Result<u32, Errno> {
        let mut at = MMAP_BASE;
        while u64::from(at) + u64::from(len) <= u64::from(MMAP_TOP) {
            // Past the last used page of the candidate range, if any.
            match (at..at + len)
                .step_by(FRAME_SIZE as usize)
                .find(|&p| self.is_mapped(p))
            {
                None => return Ok(at),
                Some(used) => at = used + FRAME_SIZE,
            }
        }
        Err(Errno::ENOMEM)
    }

    /// Gives the page at `page` the protection `prot` (a frame on first access).
    fn set_protection(&mut self, page: u32, prot: Protection) -> Result<(), Errno> {
        let pte = self.pte_mut(page)?;
        // SAFETY: `pte` points into a page table this space owns.
        let old = unsafe { pte.read() };
        let mut new = old & (FRAME_MASK | MAPPED);
        if !prot.is_empty() {
            if new & FRAME_MASK == 0 {
                new |= self.take_frame()?.into_phys();
            }
            new |= PRESENT | USER;
            if prot.contains(Protection::WRITE) {
                new |= WRITABLE | GRANTED_WRITE;
            }
        }
        // SAFETY: as above; a new frame is owned through this entry from now on.
        unsafe { pte.write(new) };
        self.flush(page);
        Ok(())
    }

    /// The page-aligned span of `[addr, addr + len)`, in user space.
    fn pages(addr: u32, len: u32) -> Result<core::ops::Range<u64>, Errno> {
        let start = u64::from(addr) & !0xFFF;
        let end = (u64::from(addr) + u64::from(len)).next_multiple_of(u64::from(FRAME_SIZE));
        if end > u64::from(KERNEL_BASE) {
            return Err(Errno::ENOMEM);
        }
        Ok(start..end)
    }
}

impl Drop for UserSpace {
    /// Frees the page directory, every page table and every user frame.
    fn drop(&mut self) {
        if cpu::cr3() == self.pd {
            // SAFETY: the boot page directory maps the kernel's half like this one.
            unsafe { cpu::load_cr3(kernel_page_directory()) };
        }
        self.unmap_all();
        self.release_reserve();
        // SAFETY: the page directory frame was given up by `new` and is no longer loaded.
        frames::free(unsafe { Frame::from_phys(self.pd) });
    }
}

impl UserMemory for UserSpace {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.for_each_piece(addr, buf.len(), UserAccess::Read, |_, _, _| {})?;
        self.for_each_piece(addr, buf.len(), UserAccess::Read, |phys, off, n| {
            // SAFETY: `phys..phys + n` is inside one user frame of this space (checked
            // by `translate`), mapped in the kernel's map of physical memory; `buf` has
            // `off + n` bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(phys_to_virt(phys), buf[off..].as_mut_ptr(), n)
            }
        })
    }

    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        self.for_each_piece(addr, data.len(), UserAccess::Write, |_, _, _| {})?;
        self.for_each_piece(addr, data.len(), UserAccess::Write, |phys, off, n| {
            // SAFETY: as in `read_user`, for a writable user frame.
            unsafe { core::ptr::copy_nonoverlapping(data[off..].as_ptr(), phys_to_virt(phys), n) }
        })
    }

    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        self.for_each_piece(addr, len, access, |_, _, _| {})
    }
}

/// Where `mem_map` places mappings the program lets the kernel place: first fit from
/// 1 GiB up to the stack's region (`Layout32::default`: stack below 0xbfc00000).
const MMAP_BASE: u32 = 0x4000_0000;
const MMAP_TOP: u32 = 0xbf00_0000;

/// The `mem_*` system calls: anonymous mappings, eagerly backed by zeroed frames (a
/// `PROT_NONE` reservation takes frames only when made accessible). i386 without PAE has
/// no execute-disable bit: every present page is executable.
impl VirtualMemory for UserSpace {
    fn user_range(&self) -> core::ops::Range<u32> {
        FRAME_SIZE..KERNEL_BASE
    }

    fn mmap(&mut self, request: &MapRequest<u32>) -> Result<u32, Errno> {
        let len = request.len;
        let at = match request.placement {
            Placement::Fixed(at) => {
                self.munmap(at, len)?;
                at
            }
            Placement::Near(hint) if self.is_free(hint, len, MMAP_BASE, MMAP_TOP) => hint,
            Placement::Near(_) | Placement::Anywhere => self.find_free(len)?,
        };
        for page in (u64::from(at)..u64::from(at) + u64::from(len)).step_by(FRAME_SIZE as usize) {
            let page = page as u32;
            let mapped = self.pte_mut(page).map(|pte| {
                // SAFETY: `pte` points into a page table this space owns; the page was
                // free (unmapped above, or found free).
                unsafe { pte.write(MAPPED) }
            });
            if let Err(e) = mapped.and_then(|()| self.set_protection(page, request.prot)) {
                // Leave the range unmapped, as FreeBSD may after a failed fixed mapping.
                self.munmap(at, len)?;
                return Err(e);
            }
        }
        Ok(at)
    }

    fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Errno> {
        for page in Self::pages(addr, len)?.step_by(FRAME_SIZE as usize) {
            let page = page as u32;
            if !self.is_mapped(page) {
                continue;
            }
            let pte = self.pte_mut(page)?;
            // SAFETY: `pte` points into a page table this space owns; its frame, if
            // any, was given up to it and is claimed back once, as the entry is cleared.
            unsafe {
                let old = pte.read();
                pte.write(0);
                if old & FRAME_MASK != 0 {
                    frames::free(Frame::from_phys(old & FRAME_MASK));
                }
            }
            self.flush(page);
        }
        Ok(())
    }

    fn mprotect(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        for page in Self::pages(addr, len)?.step_by(FRAME_SIZE as usize) {
            let page = page as u32;
            if self.is_mapped(page) {
                self.set_protection(page, prot)?;
            }
        }
        Ok(())
    }

    fn msync(&mut self, addr: u32, len: u32, _mode: SyncMode) -> Result<(), Errno> {
        // Anonymous memory only: nothing to write back, but every page must be mapped.
        let all = Self::pages(addr, len)?
            .step_by(FRAME_SIZE as usize)
            .all(|p| self.is_mapped(p as u32));
        if all { Ok(()) } else { Err(Errno::ENOMEM) }
    }
}

impl AddressSpace for UserSpace {
    fn reset(&mut self) {
        self.unmap_all();
    }

    fn map_region(&mut self, addr: u32, len: u32, _prot: Protection) -> Result<(), Errno> {
        for page in Self::pages(addr, len)?.step_by(FRAME_SIZE as usize) {
            let page = page as u32;
            let pte = self.pte_mut(page)?;
            // SAFETY: `pte` points into a page table this space owns.
            let old = unsafe { pte.read() };
            let new = if old & PRESENT != 0 {
                old | WRITABLE
            } else {
                self.take_frame()?.into_phys() | MAPPED | PRESENT | WRITABLE | USER
            };
            // SAFETY: as above; a new frame is now owned through this entry.
            unsafe { pte.write(new) };
            self.flush(page);
        }
        Ok(())
    }

    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        for page in Self::pages(addr, len)?.step_by(FRAME_SIZE as usize) {
            let page = page as u32;
            if self.pte(page).is_none_or(|e| e & PRESENT == 0) {
                continue;
            }
            let pte = self.pte_mut(page)?;
            // SAFETY: `pte` points into a page table this space owns.
            unsafe {
                let old = pte.read();
                let granted = old & GRANTED_WRITE != 0 || prot.contains(Protection::WRITE);
                let new = if granted {
                    old | WRITABLE | GRANTED_WRITE
                } else {
                    old & !WRITABLE
                };
                pte.write(new);
            }
            self.flush(page);
        }
        Ok(())
    }
}
