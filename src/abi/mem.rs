//! The cloudabi32 memory calls: `mem_map`, `mem_unmap`, `mem_protect`, `mem_advise`
//! and `mem_sync`, decoded and validated here and carried out by the kernel's
//! [`VirtualMemory`] (and, for a file, its [`Process::map_file`] hook).
//!
//! Each function takes the call's arguments as the i386 shim reads them (addresses and
//! lengths as 32-bit words, the `u8` flag types already cut to their low byte) and checks
//! them in the order FreeBSD's `cloudabi_mem.c` and `vm_mmap.c` do, so a program sees the
//! same errno for the same mistake:
//!
//! | check | errno |
//! |---|---|
//! | the kernel does not map memory on request ([`Process::virtual_memory`] is `None`) | `ENOSYS` |
//! | unknown protection bits; write and execute together (W^X) | `ENOTSUP` |
//! | zero length (`mem_map`, `mem_unmap`); `MAP_ANON` with a descriptor other than [`MAP_ANON_FD`] or a non-zero offset; `MAP_SHARED` with `MAP_PRIVATE` | `EINVAL` |
//! | a length that rounds past the end of the address space (`mem_map`) | `ENOMEM` |
//! | a fixed address that is not page-aligned (after the offset's page remainder is taken off); a range that wraps or leaves the user range | `EINVAL` |
//! | unknown advice (`NOREUSE` included, as on FreeBSD); `mem_sync` without exactly one of `MS_ASYNC` / `MS_SYNC`, or `MS_ASYNC` with `MS_INVALIDATE` | `EINVAL` |
//! | `mem_map` of a file: closed descriptor / missing right / neither private nor shared | `EBADF` / `ENOTCAPABLE` / `EINVAL` |
//!
//! Unknown `mem_map` flag bits are ignored, as FreeBSD ignores them.
//!
//! # References
//! - FreeBSD `sys/compat/cloudabi/cloudabi_mem.c`; `sys/vm/vm_mmap.c` (`kern_mmap`,
//!   `kern_munmap`, `kern_mprotect`, `kern_madvise`, `kern_msync`).
//! - NuxiNL/cloudabi `cloudabi.txt` (`mem_*`, `mprot`, `mflags`, `msflags`, `advice`).

use core::ops::Range;

use super::cloudabi32::PAGE_SIZE;
use crate::Errno;
use crate::exec::{
    Advice, MapRequest, Placement, Process, Protection, Sharing, SyncMode, UserMemory,
    VirtualMemory,
};
use crate::fdtable::{Fd, Rights};

/// `CLOUDABI_PROT_EXEC`.
pub const PROT_EXEC: u8 = 0x1;
/// `CLOUDABI_PROT_WRITE`.
pub const PROT_WRITE: u8 = 0x2;
/// `CLOUDABI_PROT_READ`.
pub const PROT_READ: u8 = 0x4;

/// `CLOUDABI_MAP_ANON`: zero-filled memory, no file.
pub const MAP_ANON: u8 = 0x1;
/// `CLOUDABI_MAP_FIXED`: exactly at the address, replacing what is there.
pub const MAP_FIXED: u8 = 0x2;
/// `CLOUDABI_MAP_PRIVATE`: copy-on-write.
pub const MAP_PRIVATE: u8 = 0x4;
/// `CLOUDABI_MAP_SHARED`: stores reach the object.
pub const MAP_SHARED: u8 = 0x8;
/// `CLOUDABI_MAP_ANON_FD`: the descriptor argument of an anonymous mapping.
pub const MAP_ANON_FD: u32 = 0xffff_ffff;

/// `CLOUDABI_MS_ASYNC`.
pub const MS_ASYNC: u8 = 0x1;
/// `CLOUDABI_MS_INVALIDATE`.
pub const MS_INVALIDATE: u8 = 0x2;
/// `CLOUDABI_MS_SYNC`.
pub const MS_SYNC: u8 = 0x4;

/// `CLOUDABI_ADVICE_DONTNEED`.
pub const ADVICE_DONTNEED: u8 = 1;
/// `CLOUDABI_ADVICE_NOREUSE` (FreeBSD rejects it: `EINVAL`).
pub const ADVICE_NOREUSE: u8 = 2;
/// `CLOUDABI_ADVICE_NORMAL`.
pub const ADVICE_NORMAL: u8 = 3;
/// `CLOUDABI_ADVICE_RANDOM`.
pub const ADVICE_RANDOM: u8 = 4;
/// `CLOUDABI_ADVICE_SEQUENTIAL`.
pub const ADVICE_SEQUENTIAL: u8 = 5;
/// `CLOUDABI_ADVICE_WILLNEED`.
pub const ADVICE_WILLNEED: u8 = 6;

const PAGE_MASK: u32 = PAGE_SIZE - 1;

/// A CloudABI `mprot` as a [`Protection`]: unknown bits, or write with execute, are
/// `ENOTSUP` (CloudABI enforces W^X).
///
/// # References
/// - FreeBSD `sys/compat/cloudabi/cloudabi_mem.c` (`convert_mprot`).
pub fn protection(prot: u8) -> Result<Protection, Errno> {
    if prot & !(PROT_EXEC | PROT_WRITE | PROT_READ) != 0 {
        return Err(Errno::ENOTSUP);
    }
    if prot & (PROT_EXEC | PROT_WRITE) == PROT_EXEC | PROT_WRITE {
        return Err(Errno::ENOTSUP);
    }
    let mut p = Protection::empty();
    if prot & PROT_EXEC != 0 {
        p |= Protection::EXEC;
    }
    if prot & PROT_WRITE != 0 {
        p |= Protection::WRITE;
    }
    if prot & PROT_READ != 0 {
        p |= Protection::READ;
    }
    Ok(p)
}

/// A CloudABI `advice` as an [`Advice`]: `NOREUSE` and unknown values are `EINVAL`.
pub fn advice(raw: u8) -> Result<Advice, Errno> {
    Ok(match raw {
        ADVICE_DONTNEED => Advice::DontNeed,
        ADVICE_NORMAL => Advice::Normal,
        ADVICE_RANDOM => Advice::Random,
        ADVICE_SEQUENTIAL => Advice::Sequential,
        ADVICE_WILLNEED => Advice::WillNeed,
        _ => return Err(Errno::EINVAL),
    })
}

/// CloudABI `msflags` as a [`SyncMode`]: exactly one of `MS_ASYNC` / `MS_SYNC`, and
/// `MS_INVALIDATE` only with `MS_SYNC`; otherwise `EINVAL`. Other bits are ignored.
pub fn sync_mode(flags: u8) -> Result<SyncMode, Errno> {
    let invalidate = flags & MS_INVALIDATE != 0;
    match (flags & (MS_ASYNC | MS_SYNC), invalidate) {
        (MS_ASYNC, false) => Ok(SyncMode::Async),
        (MS_SYNC, false) => Ok(SyncMode::Sync),
        (MS_SYNC, true) => Ok(SyncMode::SyncInvalidate),
        _ => Err(Errno::EINVAL),
    }
}

/// The page-aligned range covering `len` bytes at `addr` (start rounded down, end
/// rounded up) as `(start, length)`; `None` if it runs past 4 GiB.
fn page_span(addr: u32, len: u32) -> Option<(u32, u64)> {
    let off = addr & PAGE_MASK;
    let start = addr - off;
    let size = (u64::from(len) + u64::from(off)).next_multiple_of(u64::from(PAGE_SIZE));
    (u64::from(start) + size <= 1 << 32).then_some((start, size))
}

/// Whether `start..start + size` lies inside `user`.
fn inside(user: &Range<u32>, start: u32, size: u64) -> bool {
    start >= user.start && u64::from(start) + size <= u64::from(user.end)
}

/// The caller's virtual memory, or `ENOSYS`.
fn vm<P>(process: &mut P) -> Result<&mut dyn VirtualMemory<Abi = super::Cloudabi32>, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = super::Cloudabi32>,
{
    process.virtual_memory().ok_or(Errno::ENOSYS)
}

/// `mem_map(addr, len, prot, flags, fd, off) -> mem`: maps anonymous memory or a file
/// and returns the address of the first byte (for a file, the address that maps byte
/// `off`).
///
/// A NULL `addr` lets the kernel choose; another `addr` without `MAP_FIXED` is a hint;
/// with `MAP_FIXED` it is the place, and whatever was mapped there is replaced.
/// `PROT_NONE` reserves address space that faults until `mem_protect` or a fixed
/// mapping commits it. Errors: see the [module documentation](self); the kernel's own
/// are `ENOMEM` (no room, no memory), `ENODEV` (a file that cannot be mapped),
/// `EACCES`.
///
/// # References
/// - FreeBSD `cloudabi_sys_mem_map`, `kern_mmap`; POSIX `mmap`.
pub fn mem_map<P>(
    process: &mut P,
    addr: u32,
    len: u32,
    prot: u8,
    flags: u8,
    fd: u32,
    off: u64,
) -> Result<u32, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = super::Cloudabi32>,
{
    let user = vm(process)?.user_range();
    let prot = protection(prot)?;
    let anon = flags & MAP_ANON != 0;
    let shared = flags & MAP_SHARED != 0;
    let private = flags & MAP_PRIVATE != 0;
    if len == 0 || (anon && (fd != MAP_ANON_FD || off != 0)) || (shared && private) {
        return Err(Errno::EINVAL);
    }
    // The file offset is mapped from its page: the mapping grows by the remainder.
    let pageoff = (off & u64::from(PAGE_MASK)) as u32;
    let size = (u64::from(len) + u64::from(pageoff)).next_multiple_of(u64::from(PAGE_SIZE));
    let size = u32::try_from(size).map_err(|_| Errno::ENOMEM)?;
    let placement = if flags & MAP_FIXED != 0 {
        let at = addr.wrapping_sub(pageoff);
        if at & PAGE_MASK != 0 || !inside(&user, at, u64::from(size)) {
            return Err(Errno::EINVAL);
        }
        Placement::Fixed(at)
    } else if addr == 0 {
        Placement::Anywhere
    } else {
        Placement::Near(addr & !PAGE_MASK)
    };
    let request = MapRequest {
        placement,
        len: size,
        prot,
        sharing: if shared {
            Sharing::Shared
        } else {
            Sharing::Private
        },
    };
    if anon {
        return vm(process)?.mmap(&request);
    }
    let (file, rights) = process.fd_table().get_file(fd_arg(fd)?)?;
    let mut need = Rights::MEM_MAP;
    if prot.contains(Protection::READ) {
        need |= Rights::FD_READ;
    }
    if shared && prot.contains(Protection::WRITE) {
        need |= Rights::FD_WRITE;
    }
    if prot.contains(Protection::EXEC) {
        need |= Rights::MEM_MAP_EXEC;
    }
    if !rights.base.contains(need) {
        return Err(Errno::ENOTCAPABLE);
    }
    if !shared && !private {
        return Err(Errno::EINVAL);
    }
    let at = process.map_file(&file, &request, off - u64::from(pageoff))?;
    drop(file);
    at.checked_add(pageoff).ok_or(Errno::ENOMEM)
}

/// A `cloudabi_fd_t` as a descriptor: above `i32::MAX` (such as [`MAP_ANON_FD`]) is
/// `EBADF`.
fn fd_arg(raw: u32) -> Result<Fd, Errno> {
    Fd::from_raw(i32::try_from(raw).map_err(|_| Errno::EBADF)?)
}

/// `mem_unmap(mapping, mapping_len)`: removes every mapping in the pages covering the
/// range (part of a mapping may go; holes are fine). Zero length, a wrap, or a range
/// outside the user range is `EINVAL`.
///
/// # References
/// - FreeBSD `kern_munmap`; POSIX `munmap`.
pub fn mem_unmap<P>(process: &mut P, addr: u32, len: u32) -> Result<(), Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = super::Cloudabi32>,
{
    let vm = vm(process)?;
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let (start, size) = page_span(addr, len).ok_or(Errno::EINVAL)?;
    if !inside(&vm.user_range(), start, size) {
        return Err(Errno::EINVAL);
    }
    vm.munmap(start, size as u32)
}

/// `mem_protect(mapping, mapping_len, prot)`: gives the mapped pages covering the range
/// protection `prot` (`ENOTSUP` for unknown bits or write with execute). Unmapped pages
/// are skipped, and the range is clipped to the user range, as FreeBSD's
/// `vm_map_protect` does; a wrap is `EINVAL`.
///
/// # References
/// - FreeBSD `cloudabi_sys_mem_protect`, `kern_mprotect`; POSIX `mprotect`.
pub fn mem_protect<P>(process: &mut P, addr: u32, len: u32, prot: u8) -> Result<(), Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = super::Cloudabi32>,
{
    let vm = vm(process)?;
    let prot = protection(prot)?;
    let (start, size) = page_span(addr, len).ok_or(Errno::EINVAL)?;
    let user = vm.user_range();
    let lo = start.max(user.start);
    let hi = (u64::from(start) + size).min(u64::from(user.end));
    if u64::from(lo) >= hi {
        return Ok(());
    }
    vm.mprotect(lo, (hi - u64::from(lo)) as u32, prot)
}

/// `mem_advise(mapping, mapping_len, advice)`: passes advice about the pages covering
/// the range to the kernel. Unknown advice (including `NOREUSE`), a range outside the
/// user range, or a wrap is `EINVAL`.
///
/// # References
/// - FreeBSD `cloudabi_sys_mem_advise`, `kern_madvise`; POSIX `posix_madvise`.
pub fn mem_advise<P>(process: &mut P, addr: u32, len: u32, raw: u8) -> Result<(), Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = super::Cloudabi32>,
{
    let vm = vm(process)?;
    let advice = advice(raw)?;
    let user = vm.user_range();
    let end = u64::from(addr) + u64::from(len);
    if addr < user.start || end > u64::from(user.end) {
        return Err(Errno::EINVAL);
    }
    let start = addr & !PAGE_MASK;
    // The user range ends on a page, so the rounded end stays inside it.
    let end = end.next_multiple_of(u64::from(PAGE_SIZE));
    if end == u64::from(start) {
        return Ok(());
    }
    vm.madvise(start, (end - u64::from(start)) as u32, advice)
}

/// `mem_sync(mapping, mapping_len, flags)`: writes the pages covering the range back to
/// what they map. Bad flags or a wrap is `EINVAL`; an unmapped page in the range (or
/// outside the user range) is `ENOMEM`. A zero-length range needs its page to be
/// mapped, as FreeBSD's `vm_map_sync` does.
///
/// # References
/// - FreeBSD `cloudabi_sys_mem_sync`, `kern_msync`; POSIX `msync`.
pub fn mem_sync<P>(process: &mut P, addr: u32, len: u32, flags: u8) -> Result<(), Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = super::Cloudabi32>,
{
    let vm = vm(process)?;
    let mode = sync_mode(flags)?;
    let (start, size) = page_span(addr, len).ok_or(Errno::EINVAL)?;
    let size = size.max(u64::from(PAGE_SIZE));
    if !inside(&vm.user_range(), start, size) {
        return Err(Errno::ENOMEM);
    }
    vm.msync(start, size as u32, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_round_to_pages_and_stop_at_four_gib() {
        assert_eq!(page_span(0x1234, 1), Some((0x1000, 0x1000)));
        assert_eq!(page_span(0x1fff, 2), Some((0x1000, 0x2000)));
        assert_eq!(page_span(0x1000, 0), Some((0x1000, 0)));
        assert_eq!(page_span(0xffff_f000, 0x1000), Some((0xffff_f000, 0x1000)));
        assert_eq!(page_span(0xffff_f000, 0x1001), None);
        assert_eq!(page_span(0, u32::MAX), Some((0, 1 << 32)));
    }

    #[test]
    fn protections_follow_w_xor_x() {
        assert_eq!(protection(0), Ok(Protection::empty()));
        assert_eq!(
            protection(PROT_READ | PROT_EXEC),
            Ok(Protection::READ | Protection::EXEC)
        );
        assert_eq!(protection(PROT_WRITE | PROT_EXEC), Err(Errno::ENOTSUP));
        assert_eq!(protection(0x8), Err(Errno::ENOTSUP));
    }

    #[test]
    fn sync_modes() {
        assert_eq!(sync_mode(MS_ASYNC), Ok(SyncMode::Async));
        assert_eq!(sync_mode(MS_SYNC | 0x80), Ok(SyncMode::Sync));
        assert_eq!(
            sync_mode(MS_SYNC | MS_INVALIDATE),
            Ok(SyncMode::SyncInvalidate)
        );
        for bad in [
            0,
            MS_INVALIDATE,
            MS_ASYNC | MS_SYNC,
            MS_ASYNC | MS_INVALIDATE,
        ] {
            assert_eq!(sync_mode(bad), Err(Errno::EINVAL), "{bad:#x}");
        }
    }
}
