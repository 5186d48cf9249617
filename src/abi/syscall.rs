//! The i386 system call entry: from a trapped register frame to a CloudABI system call
//! and back.
//!
//! The vDSO does `mov $N, %eax; int $0x80; ret`: the number is in `eax` and the
//! arguments stay on the user stack, read as 32-bit words from `esp + 4`. The number is
//! checked first: `>= 49` or not implemented here is `ENOSYS` before any
//! memory is read; then exactly that call's argument words are read. On success the
//! carry flag is cleared and the results go to `eax` (and `edx`); on failure the carry
//! is set and `eax` holds the CloudABI errno.

use alloc::vec::Vec;

use super::activator::EntryState32;
use super::cloudabi32::{
    Cloudabi32, FDSTAT_FLAGS, FDSTAT_RIGHTS, FDSTAT_SIZE, IOVEC32_SIZE, SYSCALL_COUNT, Syscall,
};
use super::stack::Entropy;
use crate::Errno;
use crate::exec::{
    CopyinRange, CopyoutRange, ExecOutcome, ImageActivator, Process, UserAccess, UserMemory,
    check_user_range, copyin, copyout, proc_exec, useracc,
};
use crate::fdtable::{Fd, FdRights, File, Rights};

/// The carry flag in `eflags`: set when a system call failed.
pub const EFLAGS_CF: u32 = 1;

/// Most iovecs one `fd_read` / `fd_write` accepts (POSIX `IOV_MAX`).
pub const IOV_MAX: u32 = 1024;

/// The i386 registers a system call reads and writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Regs32 {
    /// System call number in, first result or errno out.
    pub eax: u32,
    /// Unused by CloudABI system calls; kept for the kernel.
    pub ebx: u32,
    /// Unused by CloudABI system calls; kept for the kernel.
    pub ecx: u32,
    /// Second result out.
    pub edx: u32,
    /// Unused by CloudABI system calls; kept for the kernel.
    pub esi: u32,
    /// Unused by CloudABI system calls; kept for the kernel.
    pub edi: u32,
    /// Unused by CloudABI system calls; kept for the kernel.
    pub ebp: u32,
    /// User stack pointer: the arguments are at `esp + 4`.
    pub esp: u32,
    /// Instruction pointer.
    pub eip: u32,
    /// Flags; bit 0 is the carry.
    pub eflags: u32,
    /// The `%gs` segment base (set by a successful exec).
    pub gs_base: u32,
}

impl Regs32 {
    /// Success: `eax` and `edx` receive the two result words, the carry is cleared.
    pub fn return_ok(&mut self, eax: u32, edx: u32) {
        self.eax = eax;
        self.edx = edx;
        self.eflags &= !EFLAGS_CF;
    }

    /// Failure: `eax` receives the CloudABI errno, the carry is set.
    pub fn return_errno(&mut self, e: Errno) {
        self.eax = u32::from(e.raw());
        self.eflags |= EFLAGS_CF;
    }

    /// Whether the last system call failed (carry set).
    pub fn carry(&self) -> bool {
        self.eflags & EFLAGS_CF != 0
    }
}

/// What the kernel does after a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum SyscallAction {
    /// Resume the process with the updated registers (success or errno).
    Resume,
    /// `proc_exec` succeeded: the registers hold the new image's entry state (`eip`,
    /// `esp`, `gs_base`; other registers zero), the address space and the descriptor
    /// table are replaced.
    Exec(EntryState32),
    /// `proc_exit(rval)`: end the process with this exit value.
    Exit(u32),
    /// `proc_exec` failed after its point of no return: kill the process.
    Kill(Errno),
    /// `proc_exec` found another thread single-threading the process (FreeBSD
    /// `ERESTART`): nothing changed, the registers included. Let this thread be stopped
    /// by the other one, then restart the call: resume at `eip - 2`, the `int $0x80`.
    Restart,
}

/// The number of argument words of `call`, as a constant for [`args`]: the counts are
/// defined once, by [`Syscall::implemented_arg_words`], and a call site that destructures
/// a different number of words does not compile.
const fn words(call: Syscall) -> usize {
    match call.implemented_arg_words() {
        Some(n) => n,
        None => 0,
    }
}

/// Reads `N` argument words from `esp + 4`.
fn args<M: UserMemory<Abi = Cloudabi32> + ?Sized, const N: usize>(
    mem: &M,
    esp: u32,
) -> Result<[u32; N], Errno> {
    let base = esp.checked_add(4).ok_or(Errno::EFAULT)?;
    let mut raw = [0u8; 20];
    let bytes = raw.get_mut(..N * 4).ok_or(Errno::EFAULT)?;
    copyin(mem, base, bytes)?;
    let mut out = [0u32; N];
    for (i, w) in out.iter_mut().enumerate() {
        *w = u32::from_le_bytes([
            bytes[i * 4],
            bytes[i * 4 + 1],
            bytes[i * 4 + 2],
            bytes[i * 4 + 3],
        ]);
    }
    Ok(out)
}

/// A `cloudabi_fd_t` from user space as a descriptor: above `i32::MAX` is `EBADF`.
#[inline]
fn fd_arg(raw: u32) -> Result<Fd, Errno> {
    Fd::from_raw(i32::try_from(raw).map_err(|_| Errno::EBADF)?)
}

#[inline]
fn fd_result(fd: Fd) -> u32 {
    u32::try_from(fd.raw()).unwrap_or(u32::MAX)
}

/// Serves one CloudABI system call trapped with `regs`, for `process`.
///
/// `activator` loads images for `proc_exec` (usually a
/// [`Cloudabi32Activator`](super::Cloudabi32Activator)) and is also the kernel's one
/// [`Entropy`] source, which serves `random_get` (a failing fill is that call's errno).
/// Implemented: `fd_close`, `fd_dup`, `fd_read`, `fd_replace`, `fd_stat_get`,
/// `fd_stat_put`, `fd_write`, `proc_exec`, `proc_exit`, `random_get`; every other number
/// is `ENOSYS`. Never panics on any register or memory contents.
///
/// `fd_read` / `fd_write` copy the iovec array in once (more than [`IOV_MAX`] entries or
/// a total above `SSIZE_MAX` is `EINVAL`, a bad array `EFAULT`), look the descriptor up
/// (`EBADF`, `ENOTCAPABLE`; a file whose [`File::io`] is `None` is `ENOTSUP`), check every
/// buffer with [`useracc`](crate::exec::useracc) (`EFAULT` before the file
/// is touched), then make one [`FileIo::read_user`](crate::fdtable::FileIo::read_user) / [`FileIo::write_user`](crate::fdtable::FileIo::write_user) call per
/// non-empty iovec with that iovec's user buffer. A short transfer ends the call; an
/// error after some bytes moved returns the count moved.
///
/// # References
/// - FreeBSD 12 `sys/i386/cloudabi32/cloudabi32_sysvec.c` (`cloudabi32_fetch_syscall_args`,
///   `cloudabi32_set_syscall_retval`); CloudABI `cloudabi_vdso_i686.S`.
/// - FreeBSD `sys/kern/sys_generic.c` (`dofileread`, `dofilewrite`),
///   `sys/kern/subr_uio.c` (`copyinuio`).
pub fn syscall32<P, A>(process: &mut P, activator: &mut A, regs: &mut Regs32) -> SyscallAction
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
    A: ImageActivator<P, Entry = EntryState32> + Entropy + ?Sized,
{
    let nr = regs.eax;
    let call = match Syscall::from_raw(nr) {
        Some(c) if nr < SYSCALL_COUNT && c.implemented_arg_words().is_some() => c,
        _ => {
            regs.return_errno(Errno::ENOSYS);
            return SyscallAction::Resume;
        }
    };
    let result = match call {
        Syscall::proc_exec => {
            let a = match args::<_, { words(Syscall::proc_exec) }>(process.memory(), regs.esp) {
                Ok(a) => a,
                Err(e) => {
                    regs.return_errno(e);
                    return SyscallAction::Resume;
                }
            };
            return match proc_exec(process, activator, a[0], a[1], a[2], a[3], a[4]) {
                ExecOutcome::Failed(e) => {
                    regs.return_errno(e);
                    SyscallAction::Resume
                }
                ExecOutcome::Replaced(entry) => {
                    *regs = Regs32 {
                        eip: entry.eip,
                        esp: entry.esp,
                        gs_base: entry.gs_base,
                        ..Regs32::default()
                    };
                    SyscallAction::Exec(entry)
                }
                ExecOutcome::Killed(e) => SyscallAction::Kill(e),
                ExecOutcome::Restart => SyscallAction::Restart,
            };
        }
        Syscall::proc_exit => {
            match args::<_, { words(Syscall::proc_exit) }>(process.memory(), regs.esp) {
                Ok([rval]) => return SyscallAction::Exit(rval),
                Err(e) => Err(e),
            }
        }
        Syscall::fd_close => args::<_, { words(Syscall::fd_close) }>(process.memory(), regs.esp)
            .and_then(|[fd]| process.fd_table().close(fd_arg(fd)?))
            .map(|()| (0, 0)),
        Syscall::fd_dup => args::<_, { words(Syscall::fd_dup) }>(process.memory(), regs.esp)
            .and_then(|[fd]| process.fd_table().dup(fd_arg(fd)?))
            .map(|fd| (fd_result(fd), 0)),
        Syscall::fd_replace => {
            args::<_, { words(Syscall::fd_replace) }>(process.memory(), regs.esp)
                .and_then(|[from, to]| process.fd_table().replace(fd_arg(from)?, fd_arg(to)?))
                .map(|()| (0, 0))
        }
        Syscall::fd_stat_get => {
            args::<_, { words(Syscall::fd_stat_get) }>(process.memory(), regs.esp)
                .and_then(|[fd, buf]| fd_stat_get(process, fd, buf))
        }
        Syscall::fd_stat_put => {
            args::<_, { words(Syscall::fd_stat_put) }>(process.memory(), regs.esp)
                .and_then(|[fd, buf, flags]| fd_stat_put(process, fd, buf, flags))
        }
        Syscall::fd_read => args::<_, { words(Syscall::fd_read) }>(process.memory(), regs.esp)
            .and_then(|[fd, iovs, n]| fd_read(process, fd, iovs, n))
            .map(|n| (n, 0)),
        Syscall::fd_write => args::<_, { words(Syscall::fd_write) }>(process.memory(), regs.esp)
            .and_then(|[fd, iovs, n]| fd_write(process, fd, iovs, n))
            .map(|n| (n, 0)),
        Syscall::random_get => {
            args::<_, { words(Syscall::random_get) }>(process.memory(), regs.esp)
                .and_then(|[buf, len]| random_get(process, activator, buf, len))
                .map(|()| (0, 0))
        }
        _ => Err(Errno::ENOSYS),
    };
    match result {
        Ok((eax, edx)) => regs.return_ok(eax, edx),
        Err(e) => regs.return_errno(e),
    }
    SyscallAction::Resume
}

/// `fd_stat_get(fd, buf)`: writes the 24-byte `cloudabi_fdstat_t`.
fn fd_stat_get<P>(process: &mut P, fd: u32, buf: u32) -> Result<(u32, u32), Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let (file, rights) = process.fd_table().get_file(fd_arg(fd)?)?;
    let mut st = [0u8; FDSTAT_SIZE];
    st[0] = file.file_type().raw();
    st[8..16].copy_from_slice(&rights.base.bits().to_le_bytes());
    st[16..24].copy_from_slice(&rights.inheriting.bits().to_le_bytes());
    drop(file);
    copyout(process.memory_mut(), buf, &st)?;
    Ok((0, 0))
}

/// `fd_stat_put(fd, buf, flags)`: `FDSTAT_RIGHTS` narrows the rights (widening is
/// `ENOTCAPABLE`); `FDSTAT_FLAGS` needs `FD_STAT_PUT_FLAGS` and accepts only no flags
/// (capexec keeps no per-file status flags); other bits are `EINVAL`.
fn fd_stat_put<P>(process: &mut P, fd: u32, buf: u32, flags: u32) -> Result<(u32, u32), Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let fd = fd_arg(fd)?;
    let known = u32::from(FDSTAT_FLAGS | FDSTAT_RIGHTS);
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let mut st = [0u8; FDSTAT_SIZE];
    copyin(process.memory(), buf, &mut st)?;
    let mut table = process.fd_table().lock();
    let current = table.get(fd)?.rights();
    if flags & u32::from(FDSTAT_FLAGS) != 0 {
        if !current.base.contains(Rights::FD_STAT_PUT_FLAGS) {
            return Err(Errno::ENOTCAPABLE);
        }
        if u16::from_le_bytes([st[2], st[3]]) != 0 {
            return Err(Errno::ENOTSUP);
        }
    }
    if flags & u32::from(FDSTAT_RIGHTS) != 0 {
        let word = |o: usize| {
            u64::from_le_bytes([
                st[o],
                st[o + 1],
                st[o + 2],
                st[o + 3],
                st[o + 4],
                st[o + 5],
                st[o + 6],
                st[o + 7],
            ])
        };
        // Unknown bits are rights nobody has: asking for them is widening.
        let base = Rights::from_bits(word(8)).ok_or(Errno::ENOTCAPABLE)?;
        let inheriting = Rights::from_bits(word(16)).ok_or(Errno::ENOTCAPABLE)?;
        table.narrow_rights(fd, FdRights::new(base, inheriting))?;
    }
    Ok((0, 0))
}

/// The file of `fd` if its base rights include `need` (`EBADF`, `ENOTCAPABLE`).
fn file_with<P: Process + ?Sized>(process: &P, fd: u32, need: Rights) -> Result<P::Handle, Errno> {
    let (file, rights) = process.fd_table().get_file(fd_arg(fd)?)?;
    if !rights.base.contains(need) {
        return Err(Errno::ENOTCAPABLE);
    }
    Ok(file)
}

/// Iovec arrays of up to this many entries are copied in on the stack; longer ones into
/// a fallibly allocated buffer.
const SMALL_IOVS: usize = 8;

/// Most bytes one `fd_read` / `fd_write` moves (`SSIZE_MAX` on i386): a larger total
/// is `EINVAL`.
const MAX_TRANSFER: u32 = i32::MAX as u32;

/// The iovec array of one `fd_read` / `fd_write`, copied in once and checked.
struct Iovecs {
    small: [u8; SMALL_IOVS * IOVEC32_SIZE],
    large: Vec<u8>,
    count: usize,
}

impl Iovecs {
    /// Copies `n` iovecs in from `iovs` (FreeBSD `copyinuio`): more than [`IOV_MAX`] is
    /// `EINVAL`, a buffer that cannot be allocated `ENOMEM`, a bad array `EFAULT`, a
    /// total length above `SSIZE_MAX` `EINVAL`.
    fn copyin<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
        mem: &M,
        iovs: u32,
        n: u32,
    ) -> Result<Iovecs, Errno> {
        if n > IOV_MAX {
            return Err(Errno::EINVAL);
        }
        let count = n as usize;
        let bytes = count * IOVEC32_SIZE;
        let mut v = Iovecs {
            small: [0; SMALL_IOVS * IOVEC32_SIZE],
            large: Vec::new(),
            count,
        };
        if count > SMALL_IOVS {
            v.large
                .try_reserve_exact(bytes)
                .map_err(|_| Errno::ENOMEM)?;
            v.large.resize(bytes, 0);
            copyin(mem, iovs, &mut v.large)?;
        } else {
            copyin(mem, iovs, &mut v.small[..bytes])?;
        }
        let mut total: u32 = 0;
        for (_, len) in v.iter() {
            total = total
                .checked_add(len)
                .filter(|&t| t <= MAX_TRANSFER)
                .ok_or(Errno::EINVAL)?;
        }
        Ok(v)
    }

    /// The `(buf, buf_len)` pairs, in order.
    fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let raw = if self.count > SMALL_IOVS {
            &self.large[..]
        } else {
            &self.small[..self.count * IOVEC32_SIZE]
        };
        raw.chunks_exact(IOVEC32_SIZE).map(|b| {
            (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            )
        })
    }

    /// Checks that every buffer can be accessed as `access` (`EFAULT`), before the file
    /// is touched.
    fn check<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
        &self,
        mem: &M,
        access: UserAccess,
    ) -> Result<(), Errno> {
        for (buf, len) in self.iter() {
            useracc(mem, buf, len as usize, access)?;
        }
        Ok(())
    }
}

/// The result of a transfer that stopped at iovec `i` with `e`: the error when nothing
/// moved, else the count moved so far (the error shows again on the next call).
#[inline]
fn partial(moved: u32, e: Errno) -> Result<u32, Errno> {
    if moved == 0 { Err(e) } else { Ok(moved) }
}

/// `fd_write(fd, iovs, iovs_len) -> nwritten` (FreeBSD `dofilewrite`).
///
/// The iovec array is copied in once and checked (count, total length, fd and rights,
/// every buffer readable) before the file sees a byte; then each non-empty iovec is
/// one [`FileIo::write_user`](crate::fdtable::FileIo::write_user) call with that iovec's user buffer, so a write of one
/// iovec of up to `PIPE_BUF` bytes stays atomic. A short write ends the call. An
/// error after some bytes moved returns the count moved.
fn fd_write<P>(process: &mut P, fd: u32, iovs: u32, n: u32) -> Result<u32, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let list = Iovecs::copyin(process.memory(), iovs, n)?;
    let file = file_with(process, fd, Rights::FD_WRITE)?;
    let file = file.io().ok_or(Errno::ENOTSUP)?;
    let mem = process.memory();
    list.check(mem, UserAccess::Read)?;
    let mut moved: u32 = 0;
    for (buf, len) in list.iter() {
        if len == 0 {
            continue;
        }
        let mut src = CopyinRange::new(mem, buf, len);
        let wrote = match file.write_user(&mut src) {
            Ok(w) => u32::try_from(w).unwrap_or(u32::MAX).min(src.taken()),
            Err(e) => return partial(moved, e),
        };
        // The total was checked to stay below 2^31.
        moved += wrote;
        if wrote < len {
            break;
        }
    }
    Ok(moved)
}

/// `fd_read(fd, iovs, iovs_len) -> nread` (FreeBSD `dofileread`).
///
/// Checked as [`fd_write`] is (every buffer writable), then each non-empty iovec is one
/// [`FileIo::read_user`](crate::fdtable::FileIo::read_user) call that reads at most that iovec's length; a short read ends
/// the call. An error after some bytes moved returns the count moved.
fn fd_read<P>(process: &mut P, fd: u32, iovs: u32, n: u32) -> Result<u32, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let list = Iovecs::copyin(process.memory(), iovs, n)?;
    let file = file_with(process, fd, Rights::FD_READ)?;
    let file = file.io().ok_or(Errno::ENOTSUP)?;
    list.check(process.memory(), UserAccess::Write)?;
    let mut moved: u32 = 0;
    for (buf, len) in list.iter() {
        if len == 0 {
            continue;
        }
        let mut dst = CopyoutRange::new(process.memory_mut(), buf, len);
        let got = match file.read_user(&mut dst) {
            Ok(g) => u32::try_from(g).unwrap_or(u32::MAX).min(dst.delivered()),
            Err(e) => return partial(moved, e),
        };
        moved += got;
        if got < len {
            break;
        }
    }
    Ok(moved)
}

const BOUNCE: usize = 512;

/// `random_get(buf, len)`: fills user memory from the kernel's randomness.
fn random_get<P, R>(process: &mut P, rng: &mut R, buf: u32, len: u32) -> Result<(), Errno>
where
    P: Process + ?Sized,
    R: Entropy + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    check_user_range(buf, len as usize)?;
    let mut bounce = [0u8; BOUNCE];
    let mut done = 0u32;
    while done < len {
        let chunk = (len - done).min(BOUNCE as u32);
        let dst = &mut bounce[..chunk as usize];
        rng.fill(dst)?;
        copyout(process.memory_mut(), buf + done, dst)?;
        done += chunk;
    }
    Ok(())
}
