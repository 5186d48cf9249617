//! capexec's user address space for a traced process: copies through
//! `process_vm_readv` / `process_vm_writev`, mappings through injected
//! `mmap2` / `mprotect` / `munmap`.

use std::collections::BTreeMap;
use std::ops::Range;

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::exec::{
    AddressSpace, MapRequest, Placement, Protection, SyncMode, UserAccess, UserMemory,
    VirtualMemory, place_pages,
};

use crate::tracee::{Error, Tracee};

/// Page size of the i386 tracee.
pub const PAGE_SIZE: u32 = 4096;

/// The lowest address a program may map: Linux's usual `vm.mmap_min_addr`.
pub const MAP_MIN_ADDR: u32 = 0x1_0000;

/// Where the runner's choice of placement for a program's mapping starts its
/// first-fit search upwards (above the images, below the stack): see
/// [`NATIVE_LAYOUT`](crate::NATIVE_LAYOUT).
pub const MAP_BASE: u32 = 0x1000_0000;

const LINUX_PROT_READ: u32 = 1;
const LINUX_PROT_WRITE: u32 = 2;
const LINUX_PROT_EXEC: u32 = 4;

/// The Linux `PROT_*` bits of a capexec protection.
fn linux_prot(p: Protection) -> u32 {
    let mut bits = 0;
    if p.contains(Protection::READ) {
        bits |= LINUX_PROT_READ;
    }
    if p.contains(Protection::WRITE) {
        bits |= LINUX_PROT_WRITE;
    }
    if p.contains(Protection::EXEC) {
        bits |= LINUX_PROT_EXEC;
    }
    bits
}

/// One page the runner mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PageState {
    /// The protection the page has now.
    current: Protection,
    /// The union of every final protection asked for the page (segments
    /// can share a page), once `protect_region` has been called for it.
    wanted: Option<Protection>,
}

/// Pages `first..=last` covering `len` bytes at `addr`; `None` for an empty
/// range, an error for one that runs past 4 GiB.
fn pages(addr: u32, len: u32) -> Result<Option<(u32, u32)>, Errno> {
    if len == 0 {
        return Ok(None);
    }
    let last = (u64::from(addr) + u64::from(len) - 1) / u64::from(PAGE_SIZE);
    let last = u32::try_from(last).map_err(|_| Errno::ENOMEM)?;
    Ok(Some((addr / PAGE_SIZE, last)))
}

/// Groups sorted `(page, value)` pairs into runs of consecutive pages with
/// equal values: `(first page, page count, value)`.
fn runs<T: PartialEq + Copy>(items: impl IntoIterator<Item = (u32, T)>) -> Vec<(u32, u32, T)> {
    let mut out: Vec<(u32, u32, T)> = Vec::new();
    for (page, v) in items {
        match out.last_mut() {
            Some((start, n, w)) if *start + *n == page && *w == v => *n += 1,
            _ => out.push((page, 1, v)),
        }
    }
    out
}

/// The address space of the traced process, as capexec's activator and
/// system calls reach it ([`UserMemory`], [`AddressSpace`]).
///
/// It owns the [`Tracee`], so that mapping a region can inject system
/// calls into it. Every page mapped through it (image segments, the stack,
/// the launcher's scratch page) is tracked; [`AddressSpace::reset`] unmaps
/// exactly those and leaves the stub's own mappings alone. New mappings use
/// `MAP_FIXED_NOREPLACE`, so an image that overlaps the stub fails to load
/// (`ENOMEM`) instead of overwriting it.
///
/// capexec's traits report only an errno; the host failure behind an
/// `ENOMEM` (or behind a `reset` that could not unmap) is kept and can be
/// taken with [`take_error`](Self::take_error).
#[derive(Debug)]
pub struct TraceeAddressSpace {
    tracee: Tracee,
    pages: BTreeMap<u32, PageState>,
    error: Option<Error>,
    /// Where a program's own mappings may go: never over the stub or the host's
    /// mappings above `user_top`.
    user: Range<u32>,
}

impl TraceeAddressSpace {
    /// The address space of `tracee`; nothing is tracked yet.
    pub fn new(tracee: Tracee) -> Self {
        TraceeAddressSpace {
            tracee,
            pages: BTreeMap::new(),
            error: None,
            user: MAP_MIN_ADDR..crate::NATIVE_LAYOUT.user_top,
        }
    }

    /// Sets the end of the addresses a program may map (the layout's
    /// `user_top`, rounded down to a page); they start at [`MAP_MIN_ADDR`].
    pub fn set_user_top(&mut self, user_top: u32) {
        let top = user_top - user_top % PAGE_SIZE;
        self.user = MAP_MIN_ADDR.min(top)..top;
    }

    /// The runner's protection of the page holding `addr`, if it mapped it
    /// (empty for a `PROT_NONE` reservation).
    pub fn protection(&self, addr: u32) -> Option<Protection> {
        self.pages.get(&(addr / PAGE_SIZE)).map(|s| s.current)
    }

    /// The traced process.
    pub fn tracee(&self) -> &Tracee {
        &self.tracee
    }

    /// The traced process, for injecting calls or serving it directly.
    pub fn tracee_mut(&mut self) -> &mut Tracee {
        &mut self.tracee
    }

    /// Number of pages the runner has mapped and tracks.
    pub fn mapped_pages(&self) -> usize {
        self.pages.len()
    }

    /// Whether the runner mapped the page holding `addr`.
    pub fn is_mapped(&self, addr: u32) -> bool {
        self.pages.contains_key(&(addr / PAGE_SIZE))
    }

    /// The first host failure since the last call, if any.
    pub fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    fn record<T>(&mut self, r: Result<T, Error>, errno: Errno) -> Result<T, Errno> {
        r.map_err(|e| {
            self.error.get_or_insert(e);
            errno
        })
    }

    /// The first page of a new program mapping of `count` pages.
    fn place(&self, placement: Placement<u32>, count: u32) -> Result<u32, Errno> {
        let page = |a: u32| a / PAGE_SIZE;
        place_pages(
            placement.map(page),
            count,
            page(self.user.start)..page(self.user.end),
            page(MAP_BASE),
            |r| self.pages.range(r).map(|(&p, _)| p),
        )
    }

    /// Unmaps every tracked page of `first..first + count`, one `munmap` per
    /// run, and stops tracking them.
    fn unmap_pages(&mut self, first: u32, count: u32) -> Result<(), Errno> {
        let tracked: Vec<(u32, ())> = self
            .pages
            .range(first..first + count)
            .map(|(&p, _)| (p, ()))
            .collect();
        for (start, n, ()) in runs(tracked) {
            let r = self.tracee.munmap(start * PAGE_SIZE, n * PAGE_SIZE);
            self.record(r, Errno::ENOMEM)?;
            for p in start..start + n {
                self.pages.remove(&p);
            }
        }
        Ok(())
    }

    /// Gives each listed page its protection, one `mprotect` per run.
    fn apply(&mut self, targets: Vec<(u32, Protection)>) -> Result<(), Errno> {
        let changes: Vec<(u32, Protection)> = targets
            .into_iter()
            .filter(|(p, t)| self.pages.get(p).is_some_and(|s| s.current != *t))
            .collect();
        for (start, n, prot) in runs(changes) {
            let r = self
                .tracee
                .mprotect(start * PAGE_SIZE, n * PAGE_SIZE, linux_prot(prot));
            self.record(r, Errno::ENOMEM)?;
            for p in start..start + n {
                if let Some(s) = self.pages.get_mut(&p) {
                    s.current = prot;
                }
            }
        }
        Ok(())
    }
}

impl UserMemory for TraceeAddressSpace {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.tracee
            .memory()
            .copy_in(addr, buf)
            .map_err(|_| Errno::EFAULT)
    }

    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        self.tracee
            .memory_mut()
            .copy_out(addr, data)
            .map_err(|_| Errno::EFAULT)
    }

    /// Answers from the pages the runner mapped (a program has no other memory): on
    /// i386 every mapped page with any protection is readable; writable needs `WRITE`.
    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        let len = u32::try_from(len).map_err(|_| Errno::EFAULT)?;
        let Some((first, last)) = pages(addr, len).map_err(|_| Errno::EFAULT)? else {
            return Ok(());
        };
        let need = match access {
            UserAccess::Read => Protection::all(),
            UserAccess::Write => Protection::WRITE,
        };
        for p in first..=last {
            match self.pages.get(&p) {
                Some(s) if s.current.intersects(need) => {}
                _ => return Err(Errno::EFAULT),
            }
        }
        Ok(())
    }
}

impl AddressSpace for TraceeAddressSpace {
    fn reset(&mut self) {
        let all = std::mem::take(&mut self.pages);
        for (start, n, ()) in runs(all.keys().map(|&p| (p, ()))) {
            let r = self.tracee.munmap(start * PAGE_SIZE, n * PAGE_SIZE);
            if let Err(e) = r {
                self.error.get_or_insert(e);
            }
        }
    }

    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let Some((first, last)) = pages(addr, len)? else {
            return Ok(());
        };
        // Never the first page, whatever the caller checked: a root runner
        // is not held back by the host's vm.mmap_min_addr.
        if first == 0 {
            return Err(Errno::ENOMEM);
        }
        let initial = prot | Protection::READ | Protection::WRITE;
        // Fresh pages: mapped read-write (and executable if asked) at once.
        let fresh: Vec<(u32, ())> = (first..=last)
            .filter(|p| !self.pages.contains_key(p))
            .map(|p| (p, ()))
            .collect();
        for (start, n, ()) in runs(fresh) {
            let r = self
                .tracee
                .mmap(start * PAGE_SIZE, n * PAGE_SIZE, linux_prot(initial), true);
            self.record(r, Errno::ENOMEM)?;
            for p in start..start + n {
                self.pages.insert(
                    p,
                    PageState {
                        current: initial,
                        wanted: None,
                    },
                );
            }
        }
        // Pages another segment already mapped and protected: writable again
        // until this segment's contents are in.
        let reopen: Vec<(u32, Protection)> = (first..=last)
            .filter_map(|p| {
                let s = self.pages.get(&p)?;
                (!s.current.contains(Protection::WRITE)).then_some((p, s.current | initial))
            })
            .collect();
        self.apply(reopen)
    }

    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let Some((first, last)) = pages(addr, len)? else {
            return Ok(());
        };
        let mut targets = Vec::new();
        for p in first..=last {
            let s = self.pages.get_mut(&p).ok_or(Errno::ENOMEM)?;
            let want = s.wanted.map_or(prot, |w| w | prot);
            s.wanted = Some(want);
            targets.push((p, want));
        }
        self.apply(targets)
    }
}

/// The `mem_*` calls of the program, served with injected `mmap2`,
/// `munmap` and `mprotect` (the three calls the stub's seccomp filter lets
/// through). Every mapping is `MAP_FIXED_NOREPLACE` at an address the runner
/// chose inside `MAP_MIN_ADDR..user_top` from the pages it tracks, so a
/// program can never map over the stub or the host's mappings: a fixed
/// mapping first unmaps the tracked pages it replaces, and an untracked
/// host mapping in the way fails it with `ENOMEM`. Shared anonymous memory is
/// mapped private (the program has no other process to share it with).
impl VirtualMemory for TraceeAddressSpace {
    fn user_range(&self) -> Range<u32> {
        self.user.clone()
    }

    fn mmap(&mut self, request: &MapRequest<u32>) -> Result<u32, Errno> {
        let count = request.len.div_ceil(PAGE_SIZE);
        let first = self.place(request.placement, count)?;
        if matches!(request.placement, Placement::Fixed(_)) {
            self.unmap_pages(first, count)?;
        }
        let r = self.tracee.mmap(
            first * PAGE_SIZE,
            count * PAGE_SIZE,
            linux_prot(request.prot),
            true,
        );
        self.record(r, Errno::ENOMEM)?;
        for p in first..first + count {
            self.pages.insert(
                p,
                PageState {
                    current: request.prot,
                    wanted: None,
                },
            );
        }
        Ok(first * PAGE_SIZE)
    }

    fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Errno> {
        self.unmap_pages(addr / PAGE_SIZE, len.div_ceil(PAGE_SIZE))
    }

    fn mprotect(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let first = addr / PAGE_SIZE;
        let targets: Vec<(u32, Protection)> = self
            .pages
            .range(first..first + len.div_ceil(PAGE_SIZE))
            .map(|(&p, _)| (p, prot))
            .collect();
        self.apply(targets)
    }

    fn msync(&mut self, addr: u32, len: u32, _: SyncMode) -> Result<(), Errno> {
        // Anonymous memory only: nothing to write back.
        let first = addr / PAGE_SIZE;
        let count = len.div_ceil(PAGE_SIZE);
        if self.pages.range(first..first + count).count() == count as usize {
            Ok(())
        } else {
            Err(Errno::ENOMEM)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_consecutive_equal_pages() {
        let r = runs([(1, 'a'), (2, 'a'), (3, 'b'), (5, 'b'), (6, 'b')]);
        assert_eq!(r, vec![(1, 2, 'a'), (3, 1, 'b'), (5, 2, 'b')]);
        assert!(runs::<()>([]).is_empty());
    }

    #[test]
    fn page_ranges() {
        assert_eq!(pages(0x1000, 0), Ok(None));
        assert_eq!(pages(0x1fff, 2), Ok(Some((1, 2))));
        assert_eq!(pages(0xffff_f000, 0x1000), Ok(Some((0xfffff, 0xfffff))));
    }

    #[test]
    fn protections_convert_to_linux_bits() {
        assert_eq!(linux_prot(Protection::READ | Protection::EXEC), 5);
        assert_eq!(linux_prot(Protection::READ | Protection::WRITE), 3);
        assert_eq!(linux_prot(Protection::empty()), 0);
    }
}
