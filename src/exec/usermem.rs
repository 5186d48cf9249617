//! User memory as the kernel sees it: a trait the kernel implements, and the checked
//! `copyin` / `copyout` every layer of capexec goes through.

use super::exec_abi::{AbiAddr, ExecAbi, UserAddress};
use alloc::vec::Vec;

use crate::Errno;

/// The user address space of one process, as the kernel reaches it through one ABI.
///
/// Implementations copy bytes and report any byte that cannot be reached as `EFAULT`.
/// capexec calls them only through [`copyin`] and [`copyout`], which have already
/// rejected empty copies (they succeed without a call) and ranges that run past the end
/// of the ABI's address space, so an implementation sees `data.len() >= 1` and
/// `addr + len <= 2^BITS` (`BITS` of the ABI's [`UserAddress`]).
///
/// # Example
///
/// A kernel's view of a 32-bit process's memory, here a flat buffer mapped at address 0:
///
/// ```
/// use capexec::Errno;
/// use capexec::exec::{ExecAbi, UserAccess, UserMemory, copyin, copyout};
///
/// /// The kernel's 32-bit ABI (`capexec::abi::Cloudabi32` is one).
/// struct Abi32;
///
/// impl ExecAbi for Abi32 {
///     type Addr = u32;
///     const ARG_MAX: usize = 256 * 1024;
/// }
///
/// struct FlatMemory {
///     bytes: [u8; 4096],
/// }
///
/// impl UserMemory for FlatMemory {
///     type Abi = Abi32;
///
///     fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
///         let start = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
///         let src = start
///             .checked_add(buf.len())
///             .and_then(|end| self.bytes.get(start..end))
///             .ok_or(Errno::EFAULT)?;
///         buf.copy_from_slice(src);
///         Ok(())
///     }
///
///     fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
///         let start = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
///         let dst = start
///             .checked_add(data.len())
///             .and_then(|end| self.bytes.get_mut(start..end))
///             .ok_or(Errno::EFAULT)?;
///         dst.copy_from_slice(data);
///         Ok(())
///     }
///
///     fn check_access(&self, addr: u32, len: usize, _: UserAccess) -> Result<(), Errno> {
///         let start = usize::try_from(addr).map_err(|_| Errno::EFAULT)?;
///         match start.checked_add(len) {
///             Some(end) if end <= self.bytes.len() => Ok(()),
///             _ => Err(Errno::EFAULT),
///         }
///     }
/// }
///
/// let mut mem = FlatMemory { bytes: [0; 4096] };
/// copyout(&mut mem, 100, b"hi")?;
/// let mut b = [0u8; 2];
/// copyin(&mem, 100, &mut b)?;
/// assert_eq!(&b, b"hi");
/// assert_eq!(copyin(&mem, 4095, &mut b), Err(Errno::EFAULT));
/// # Ok::<(), Errno>(())
/// ```
pub trait UserMemory {
    /// The ABI this memory is reached through: the width of its addresses and its exec
    /// limits.
    type Abi: ExecAbi;

    /// Copies `buf.len()` bytes starting at user address `addr` into `buf`: `EFAULT` if
    /// any of them is not readable (the contents of `buf` are then unspecified).
    fn read_user(&self, addr: AbiAddr<Self>, buf: &mut [u8]) -> Result<(), Errno>;

    /// Copies `data` to user address `addr`: `EFAULT` if any byte is not writable (a
    /// prefix may have been written).
    fn write_user(&mut self, addr: AbiAddr<Self>, data: &[u8]) -> Result<(), Errno>;

    /// Checks, without copying anything, that each of the `len` bytes at `addr` could be
    /// copied in ([`UserAccess::Read`]) or out ([`UserAccess::Write`]) right now:
    /// `EFAULT` otherwise. A kernel answers from its page tables or its list of mappings.
    ///
    /// `fd_read` and `fd_write` check every buffer of a call through [`useracc`] before
    /// the file is touched, so a bad pointer fails the call before any input is consumed
    /// or any output is produced.
    fn check_access(
        &self,
        addr: AbiAddr<Self>,
        len: usize,
        access: UserAccess,
    ) -> Result<(), Errno>;

    /// Appends the `len` bytes at user address `addr` to `out`, which has room for them
    /// already (so this never allocates): `EFAULT` as [`read_user`](Self::read_user),
    /// `out` then cut back to its length. What the exec's copy-in uses for the
    /// argument data.
    ///
    /// The default zero-fills the room, then reads into it. A kernel whose copy routine
    /// can write into uninitialised memory (or whose user memory is a slice it can
    /// `extend_from_slice` from) overrides it to copy once instead of writing every byte
    /// twice.
    fn read_user_append(
        &self,
        addr: AbiAddr<Self>,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), Errno> {
        let start = out.len();
        let end = start.checked_add(len).ok_or(Errno::EFAULT)?;
        if out.capacity() < end {
            return Err(Errno::ENOMEM);
        }
        out.resize(end, 0);
        let read = match out.get_mut(start..) {
            Some(dst) => self.read_user(addr, dst),
            None => Err(Errno::EFAULT),
        };
        if read.is_err() {
            out.truncate(start);
        }
        read
    }
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
    type Abi = M::Abi;

    fn read_user(&self, addr: AbiAddr<Self>, buf: &mut [u8]) -> Result<(), Errno> {
        (**self).read_user(addr, buf)
    }
    fn write_user(&mut self, addr: AbiAddr<Self>, data: &[u8]) -> Result<(), Errno> {
        (**self).write_user(addr, data)
    }
    fn read_user_append(
        &self,
        addr: AbiAddr<Self>,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), Errno> {
        (**self).read_user_append(addr, len, out)
    }
    fn check_access(
        &self,
        addr: AbiAddr<Self>,
        len: usize,
        access: UserAccess,
    ) -> Result<(), Errno> {
        (**self).check_access(addr, len, access)
    }
}

/// Checks that `len` bytes at `addr` stay inside the address space of `A`'s width (no
/// wrap past `2^BITS`; past 4 GiB for a 32-bit ABI): `EFAULT` otherwise.
#[inline]
pub fn check_user_range<A: UserAddress>(addr: A, len: usize) -> Result<(), Errno> {
    let len = u128::try_from(len).map_err(|_| Errno::EFAULT)?;
    if u128::from(addr.to_u64()) + len <= 1u128 << A::BITS {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copies `buf.len()` bytes in from user address `addr` (FreeBSD `copyin`). An empty copy
/// succeeds at any address without touching memory; a range that wraps past the end of
/// the address space or touches an unmapped byte is `EFAULT`.
///
/// # References
/// - FreeBSD `copyin(9)`; Linux `copy_from_user`.
#[inline]
pub fn copyin<M: UserMemory + ?Sized>(
    mem: &M,
    addr: AbiAddr<M>,
    buf: &mut [u8],
) -> Result<(), Errno> {
    if buf.is_empty() {
        return Ok(());
    }
    check_user_range(addr, buf.len())?;
    mem.read_user(addr, buf)
}

/// [`copyin`] of `len` bytes appended to `out`, which has room for them already
/// ([`UserMemory::read_user_append`]): `EFAULT` past the address space or for an
/// unreadable byte (`out` keeps its length), `ENOMEM` if `out` lacks the room.
///
/// # References
/// - FreeBSD `copyin(9)`; Linux `copy_from_user`.
#[inline]
pub fn copyin_append<M: UserMemory + ?Sized>(
    mem: &M,
    addr: AbiAddr<M>,
    len: usize,
    out: &mut Vec<u8>,
) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    check_user_range(addr, len)?;
    mem.read_user_append(addr, len, out)
}

/// Copies `data` out to user address `addr` (FreeBSD `copyout`), with the same rules as
/// [`copyin`].
///
/// # References
/// - FreeBSD `copyout(9)`; Linux `copy_to_user`.
#[inline]
pub fn copyout<M: UserMemory + ?Sized>(
    mem: &mut M,
    addr: AbiAddr<M>,
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
/// without asking the memory, a range that wraps past the end of the address space is
/// `EFAULT`, and otherwise [`UserMemory::check_access`] decides.
///
/// # References
/// - FreeBSD `useracc(9)`.
#[inline]
pub fn useracc<M: UserMemory + ?Sized>(
    mem: &M,
    addr: AbiAddr<M>,
    len: usize,
    access: UserAccess,
) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    check_user_range(addr, len)?;
    mem.check_access(addr, len, access)
}

/// Reads one little-endian `u32` (a 32-bit word such as a `cloudabi_fd_t`) from user
/// memory.
///
/// # References
/// - FreeBSD `fuword32(9)`.
#[inline]
pub fn copyin_u32<M: UserMemory + ?Sized>(mem: &M, addr: AbiAddr<M>) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    copyin(mem, addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}
