//! User memory as the kernel sees it: a trait the kernel implements, and the checked
//! `copyin` / `copyout` every layer of capexec goes through.

use crate::Errno;

/// A user address on a 32-bit ABI (`cloudabi32`: pointers and `size_t` are `u32`).
pub type UserAddr = u32;

/// The user address space of one process, as the kernel reaches it.
///
/// Implementations copy bytes and report any byte that cannot be reached as `EFAULT`.
/// capexec calls them only through [`copyin`] and [`copyout`], which have already
/// rejected empty copies (they succeed without a call) and ranges that run past the end
/// of the 32-bit address space, so an implementation sees `data.len() >= 1` and
/// `addr + len <= 2^32`.
pub trait UserMemory {
    /// Copies `buf.len()` bytes starting at user address `addr` into `buf`: `EFAULT` if
    /// any of them is not readable (the contents of `buf` are then unspecified).
    fn read_user(&self, addr: UserAddr, buf: &mut [u8]) -> Result<(), Errno>;

    /// Copies `data` to user address `addr`: `EFAULT` if any byte is not writable (a
    /// prefix may have been written).
    fn write_user(&mut self, addr: UserAddr, data: &[u8]) -> Result<(), Errno>;

    /// Checks, without copying anything, that each of the `len` bytes at `addr` could be
    /// copied in ([`UserAccess::Read`]) or out ([`UserAccess::Write`]) right now:
    /// `EFAULT` otherwise. A kernel answers from its page tables or its list of mappings.
    ///
    /// `fd_read` and `fd_write` check every buffer of a call through [`useracc`] before
    /// the file is touched, so a bad pointer fails the call before any input is consumed
    /// or any output is produced.
    fn check_access(&self, addr: UserAddr, len: usize, access: UserAccess) -> Result<(), Errno>;
}

/// What a [`UserMemory::check_access`] asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserAccess {
    /// The bytes are read by the kernel (a copy in: the buffer of a write).
    Read,
    /// The bytes are written by the kernel (a copy out: the buffer of a read).
    Write,
}

impl<M: UserMemory + ?Sized> UserMemory for &mut M {
    fn read_user(&self, addr: UserAddr, buf: &mut [u8]) -> Result<(), Errno> {
        (**self).read_user(addr, buf)
    }
    fn write_user(&mut self, addr: UserAddr, data: &[u8]) -> Result<(), Errno> {
        (**self).write_user(addr, data)
    }
    fn check_access(&self, addr: UserAddr, len: usize, access: UserAccess) -> Result<(), Errno> {
        (**self).check_access(addr, len, access)
    }
}

/// Checks that `len` bytes at `addr` stay inside the 32-bit address space (no wrap past
/// 4 GiB): `EFAULT` otherwise.
#[inline]
pub fn check_user_range(addr: UserAddr, len: usize) -> Result<(), Errno> {
    let len = u64::try_from(len).map_err(|_| Errno::EFAULT)?;
    match u64::from(addr).checked_add(len) {
        Some(end) if end <= 1u64 << 32 => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Copies `buf.len()` bytes in from user address `addr` (FreeBSD `copyin`). An empty copy
/// succeeds at any address without touching memory; a range that wraps past 4 GiB or
/// touches an unmapped byte is `EFAULT`.
///
/// # References
/// - FreeBSD `copyin(9)`; Linux `copy_from_user`.
#[inline]
pub fn copyin<M: UserMemory + ?Sized>(
    mem: &M,
    addr: UserAddr,
    buf: &mut [u8],
) -> Result<(), Errno> {
    if buf.is_empty() {
        return Ok(());
    }
    check_user_range(addr, buf.len())?;
    mem.read_user(addr, buf)
}

/// Copies `data` out to user address `addr` (FreeBSD `copyout`), with the same rules as
/// [`copyin`].
///
/// # References
/// - FreeBSD `copyout(9)`; Linux `copy_to_user`.
#[inline]
pub fn copyout<M: UserMemory + ?Sized>(
    mem: &mut M,
    addr: UserAddr,
    data: &[u8],
) -> Result<(), Errno> {
    if data.is_empty() {
        return Ok(());
    }
    check_user_range(addr, data.len())?;
    mem.write_user(addr, data)
}

/// Checks that `len` bytes at user address `addr` can be accessed as `access` (FreeBSD
/// `useracc`), with the same rules as [`copyin`]: an empty range succeeds at any address
/// without asking the memory, a range that wraps past 4 GiB is `EFAULT`, and otherwise
/// [`UserMemory::check_access`] decides.
///
/// # References
/// - FreeBSD `useracc(9)`.
#[inline]
pub fn useracc<M: UserMemory + ?Sized>(
    mem: &M,
    addr: UserAddr,
    len: usize,
    access: UserAccess,
) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    check_user_range(addr, len)?;
    mem.check_access(addr, len, access)
}

/// Reads one little-endian `u32` (an i386 word) from user memory.
#[inline]
pub fn copyin_u32<M: UserMemory + ?Sized>(mem: &M, addr: UserAddr) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    copyin(mem, addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}
