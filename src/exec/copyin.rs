//! `exec_copyin_data_fds`: copy the argument data and the descriptor list in from user
//! memory and build the remapped table; `exec_sysspace_data_fds`: the same from the
//! kernel's own memory.

use alloc::vec::Vec;

use super::exec_abi::{AbiAddr, ExecAbi, UserAddress};
use super::image_args::ImageArgs;
use super::usermem::{UserMemory, check_user_range, copyin, copyin_append};
use crate::Errno;
use crate::fdtable::{FdTable, FileHandle, SharedFdTable};

/// Copies in the data and the descriptor list of a `proc_exec` and builds the new
/// table, in FreeBSD's order (the first failure wins and leaves nothing behind):
///
/// 1. `data_len >=` the ABI's [`ARG_MAX`](ExecAbi::ARG_MAX) gives `E2BIG`;
/// 2. `fds_len > lastfile + 1` of the caller's table gives `E2BIG` (before any
///    allocation or copy; this also bounds `fds_len * 4`);
/// 3. the argument buffer and the list are allocated fallibly (`ENOMEM`); lists of up to
///    [`SMALL_FD_LIST`](crate::exec::SMALL_FD_LIST) descriptors stay on the stack;
/// 4. the data is copied in (`EFAULT`) and a NUL appended: the buffer is
///    `data_len + 1` bytes, or empty when `data_len == 0`;
/// 5. the list is copied in once (`EFAULT`); each `cloudabi_fd_t` is read as a signed
///    32-bit number, so values of 2^31 and above are negative and fail in step 6;
/// 6. [`fdcopy_remapped`](crate::fdtable::fdcopy_remapped) in one lock section of the
///    caller's table (`E2BIG`, `EBADF`, `EINVAL`, `ENOMEM`).
///
/// A kernel that starts a program with arguments it holds itself (the first process, a
/// launcher) uses [`exec_sysspace_data_fds`] instead: the same steps without the copies.
///
/// # References
/// - FreeBSD r285622, `sys/kern/kern_exec.c` `exec_copyin_data_fds`; `exec_copyin_args`
///   with `UIO_USERSPACE`.
#[inline]
pub fn exec_copyin_data_fds<H, R, M>(
    table: &SharedFdTable<H, R>,
    mem: &M,
    data: AbiAddr<M>,
    data_len: AbiAddr<M>,
    fds: AbiAddr<M>,
    fds_len: AbiAddr<M>,
) -> Result<ImageArgs<H>, Errno>
where
    H: FileHandle,
    R: lock_api::RawMutex,
    M: UserMemory + ?Sized,
{
    let mut args = ImageArgs::empty();
    exec_copyin_data_fds_into(&mut args, table, mem, data, data_len, fds, fds_len, false)?;
    Ok(args)
}

/// [`exec_copyin_data_fds`] into `args`, empty ([`ImageArgs::empty`]), in place: the
/// driver's own storage, so that the arguments and their table are built where they stay
/// until the table is installed (it is hundreds of bytes). On failure `args` holds
/// nothing that needs releasing beyond what dropping it does.
///
/// With `moving` (the process is its table's only user) the table is left *pending*:
/// checked and laid out, but holding no reference yet; the exec driver completes it at
/// the point of no return by moving the handles out of the old table
/// ([`SharedFdTable::fdinstall_remapped_moving`]).
// Inlined into `proc_exec`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn exec_copyin_data_fds_into<H, R, M>(
    args: &mut ImageArgs<H>,
    table: &SharedFdTable<H, R>,
    mem: &M,
    data: AbiAddr<M>,
    data_len: AbiAddr<M>,
    fds: AbiAddr<M>,
    fds_len: AbiAddr<M>,
    moving: bool,
) -> Result<(), Errno>
where
    H: FileHandle,
    R: lock_api::RawMutex,
    M: UserMemory + ?Sized,
{
    // 1., 2.
    let (data_len, n) = check_lengths::<M::Abi, H, R>(table, data_len.to_u64(), fds_len.to_u64())?;
    // 3.
    data_buffer(&mut args.buf, data_len)?;
    // Kept in the arguments: a moving remap reads it again at the point of no return.
    args.list.reserve(n)?;
    // 4.
    copyin_append(mem, data, data_len, &mut args.buf)?;
    append_nul(&mut args.buf)?;
    // 5.
    let bytes = n.checked_mul(4).ok_or(Errno::EFAULT)?;
    if bytes > 0 {
        check_user_range(fds, bytes)?;
    }
    let mut chunk = [0u8; 256];
    let mut addr = fds;
    let mut left = bytes;
    while left > 0 {
        let len = left.min(chunk.len());
        copyin(mem, addr, &mut chunk[..len])?;
        for w in chunk[..len].chunks_exact(4) {
            args.list
                .push(i32::from_le_bytes([w[0], w[1], w[2], w[3]]))?;
        }
        left -= len;
        // `check_user_range` above proved the whole list fits in the address space; the
        // address past its end may be 2^BITS, which is never used.
        addr = addr.checked_add_usize(len).unwrap_or(addr);
    }
    // 6.
    let new = args.table.insert(FdTable::new());
    // (With no descriptor there is nothing to move.)
    if moving && n > 0 {
        args.pending = Some(table.fdcopy_remapped_pending_into(new, args.list.as_slice())?);
        Ok(())
    } else {
        table.fdcopy_remapped_into(new, args.list.as_slice())
    }
}

/// Builds an exec's [`ImageArgs`] from argument data and a descriptor list the kernel
/// holds in its own memory: the kernel-space twin of [`exec_copyin_data_fds`], for
/// starting a program without a calling program (the first process, a launcher), with
/// the same checks in the same order and the same errors, the copies apart:
///
/// 1. `data.len() >=` `A::`[`ARG_MAX`](ExecAbi::ARG_MAX) gives `E2BIG`;
/// 2. `fds.len() > lastfile + 1` of `table` gives `E2BIG` (before any allocation);
/// 3. the argument buffer (`data.len() + 1` bytes with the NUL, none when `data` is
///    empty) is allocated fallibly (`ENOMEM`) and the data copied into it;
/// 4. [`fdcopy_remapped`](crate::fdtable::fdcopy_remapped) in one lock section of
///    `table` (`E2BIG`, `EBADF` for a descriptor that is negative or not open, `EINVAL`,
///    `ENOMEM`).
///
/// `A` is the ABI of the program to be started (for example `capexec::abi::Cloudabi32`);
/// `table` is the table of the process that will exec, whose descriptors `fds` names.
/// On failure nothing has changed. Hand the result to [`kern_execve`](super::kern_execve).
///
/// # Example
///
/// ```
/// use std::sync::Arc;
///
/// use capexec::Errno;
/// use capexec::abi::Cloudabi32;
/// use capexec::exec::exec_sysspace_data_fds;
/// use capexec::fdtable::{FdRights, FdTable, File, FileType, Rights, SharedFdTable};
///
/// struct Console;
/// impl File for Console {
///     fn file_type(&self) -> FileType {
///         FileType::CharacterDevice
///     }
/// }
///
/// let console = Arc::new(Console);
/// let mut t = FdTable::new();
/// t.open(console.clone(), FdRights::new(Rights::FD_WRITE, Rights::empty())).unwrap();
/// t.open(console, FdRights::new(Rights::FD_READ, Rights::empty())).unwrap();
/// let launcher: SharedFdTable<_> = SharedFdTable::new(t);
///
/// // The program gets descriptor 1 of the launcher twice, as its 0 and 1.
/// let args = exec_sysspace_data_fds::<Cloudabi32, _, _>(&launcher, b"data", &[1, 1])?;
/// assert_eq!(args.data_with_nul(), b"data\0");
/// assert_eq!(args.fd_table().map(|t| t.len()), Some(2));
/// // Descriptor 5 is not open: EBADF, and the launcher's table is untouched.
/// assert_eq!(
///     exec_sysspace_data_fds::<Cloudabi32, _, _>(&launcher, b"", &[0, 5]).unwrap_err(),
///     Errno::EBADF
/// );
/// # Ok::<(), Errno>(())
/// ```
///
/// # References
/// - FreeBSD `sys/kern/kern_exec.c` `exec_copyin_args` with `UIO_SYSSPACE` (how the
///   kernel starts `init`); r285622 `exec_copyin_data_fds`.
pub fn exec_sysspace_data_fds<A, H, R>(
    table: &SharedFdTable<H, R>,
    data: &[u8],
    fds: &[i32],
) -> Result<ImageArgs<H>, Errno>
where
    A: ExecAbi + ?Sized,
    H: FileHandle,
    R: lock_api::RawMutex,
{
    // 1., 2.
    let (data_len, _) = check_lengths::<A, H, R>(table, data.len() as u64, fds.len() as u64)?;
    // 3.
    let mut buf = Vec::new();
    data_buffer(&mut buf, data_len)?;
    if buf.capacity() > data.len() {
        buf.extend_from_slice(data);
    }
    append_nul(&mut buf)?;
    // 4.
    let mut args = ImageArgs::empty();
    remap(&mut args, table, buf, fds)?;
    Ok(args)
}

/// Steps 1 and 2 of both entries: the data against `ARG_MAX`, the list against the
/// caller's table; the lengths as `usize`.
fn check_lengths<A, H, R>(
    table: &SharedFdTable<H, R>,
    data_len: u64,
    fds_len: u64,
) -> Result<(usize, usize), Errno>
where
    A: ExecAbi + ?Sized,
    H: FileHandle,
    R: lock_api::RawMutex,
{
    let arg_max = u64::try_from(A::ARG_MAX).unwrap_or(u64::MAX);
    if data_len >= arg_max {
        return Err(Errno::E2BIG);
    }
    let nfiles = table
        .lock()
        .lastfile()
        .map_or(0u64, |l| l.index() as u64 + 1);
    if fds_len > nfiles {
        return Err(Errno::E2BIG);
    }
    let data_len = usize::try_from(data_len).map_err(|_| Errno::E2BIG)?;
    let n = usize::try_from(fds_len).map_err(|_| Errno::E2BIG)?;
    Ok((data_len, n))
}

/// Empties the argument buffer `buf` and gives it room for `data_len + 1` bytes (the
/// data, then the NUL) when `data_len > 0`, allocating fallibly only if it has less
/// (a buffer the kernel keeps ready, [`Process::take_arg_buffer`](super::Process), has
/// enough). The data is appended into it once, with no zero-fill first
/// ([`UserMemory::read_user_append`]).
fn data_buffer(buf: &mut Vec<u8>, data_len: usize) -> Result<(), Errno> {
    buf.clear();
    if data_len > 0 {
        buf.try_reserve_exact(data_len + 1)
            .map_err(|_| Errno::ENOMEM)?;
    }
    Ok(())
}

/// Ends the argument data with its NUL, in the room [`data_buffer`] reserved.
fn append_nul(buf: &mut Vec<u8>) -> Result<(), Errno> {
    if buf.is_empty() {
        return Ok(());
    }
    if buf.len() == buf.capacity() {
        return Err(Errno::ENOMEM);
    }
    buf.push(0);
    Ok(())
}

/// The last step of [`exec_sysspace_data_fds`]: the remapped table, built in one lock section in
/// place in `args` (empty), which takes `buf`.
#[inline(always)]
fn remap<H, R>(
    args: &mut ImageArgs<H>,
    table: &SharedFdTable<H, R>,
    buf: Vec<u8>,
    list: &[i32],
) -> Result<(), Errno>
where
    H: FileHandle,
    R: lock_api::RawMutex,
{
    args.buf = buf;
    let new = args.table.insert(FdTable::new());
    table.fdcopy_remapped_into(new, list)
}
