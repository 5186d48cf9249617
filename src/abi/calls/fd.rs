//! The descriptor calls: `fd_close`, `fd_create1`, `fd_create2`, `fd_datasync`,
//! `fd_dup`, `fd_pread`, `fd_pwrite`, `fd_read`, `fd_replace`, `fd_seek`,
//! `fd_stat_get`, `fd_stat_put`, `fd_sync`, `fd_write`.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_fd.c`, `sys/compat/cloudabi32/cloudabi32_fd.c`;
//!   `sys/kern/sys_generic.c` (`dofileread`, `dofilewrite`, `kern_preadv`,
//!   `kern_pwritev`), `sys/kern/vfs_syscalls.c` (`kern_lseek`, `kern_fsync`).

use super::super::cloudabi32::{Cloudabi32, FDSTAT_FLAGS, FDSTAT_RIGHTS, Syscall, Whence};
use super::super::hooks::{KernelCalls, NewFile};
use super::super::wire::FdStat;
use super::iovec::{Iovecs, partial};
use super::{Args, Served, fd_result};
use crate::Errno;
use crate::exec::{CopyinRange, CopyoutRange, Process, UserAccess, UserMemory, copyin, copyout};
use crate::fdtable::{FdRights, File, FileIo, FileType, Rights, SeekFrom};

/// Serves the `fd_*` call `call`.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    match call {
        Syscall::fd_close => {
            process.fd_table().close(a.fd(0)?)?;
            Ok(Served::NONE)
        }
        Syscall::fd_dup => Ok(Served::word(fd_result(process.fd_table().dup(a.fd(0)?)?))),
        Syscall::fd_replace => {
            process.fd_table().replace(a.fd(0)?, a.fd(1)?)?;
            Ok(Served::NONE)
        }
        Syscall::fd_stat_get => fd_stat_get(process, a),
        Syscall::fd_stat_put => fd_stat_put(process, a),
        Syscall::fd_read => fd_read(process, a, None).map(Served::word),
        Syscall::fd_write => fd_write(process, a, None).map(Served::word),
        Syscall::fd_pread => fd_read(process, a, Some(a.u64_at(3))).map(Served::word),
        Syscall::fd_pwrite => fd_write(process, a, Some(a.u64_at(3))).map(Served::word),
        Syscall::fd_seek => fd_seek(process, a).map(Served::double),
        Syscall::fd_sync | Syscall::fd_datasync => {
            let (need, data_only) = if call == Syscall::fd_sync {
                (Rights::FD_SYNC, false)
            } else {
                (Rights::FD_DATASYNC, true)
            };
            let file = file_with(process, a, 0, need)?;
            file.sync(data_only)?;
            Ok(Served::NONE)
        }
        Syscall::fd_create1 => {
            let kind = FileType::from_raw(a.byte(0)).ok_or(Errno::EINVAL)?;
            let new = process.fd_create1(kind)?;
            Ok(Served::word(install(process, new, FdRights::ALL)?))
        }
        Syscall::fd_create2 => {
            let kind = FileType::from_raw(a.byte(0)).ok_or(Errno::EINVAL)?;
            let (one, two) = process.fd_create2(kind)?;
            let fd1 = install(process, one, FdRights::ALL)?;
            match install(process, two, FdRights::ALL) {
                Ok(fd2) => Ok(Served::Return(fd1, fd2)),
                Err(e) => {
                    // Undo the first: the call either installs both or neither.
                    if let Ok(fd) = super::fd_arg(fd1) {
                        let _ = process.fd_table().close(fd);
                    }
                    Err(e)
                }
            }
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// Installs a file the kernel created at the lowest free descriptor, with the rights
/// `want` narrowed to the file's own (`EMFILE` when the table is full: the file is
/// dropped).
pub(super) fn install<P: Process + ?Sized>(
    process: &P,
    new: NewFile<P::Handle>,
    want: FdRights,
) -> Result<u32, Errno> {
    let rights = FdRights::new(
        want.base & new.rights.base,
        want.inheriting & new.rights.inheriting,
    );
    match process.fd_table().open(new.file, rights) {
        Ok(fd) => Ok(fd_result(fd)),
        Err(rejected) => Err(rejected.into()),
    }
}

/// The file of descriptor word `i` if its base rights include `need` (`EBADF`,
/// `ENOTCAPABLE`).
pub(super) fn file_with<P: Process + ?Sized>(
    process: &P,
    a: &Args,
    i: usize,
    need: Rights,
) -> Result<P::Handle, Errno> {
    let (file, rights) = process.fd_table().get_file(a.fd(i)?)?;
    if !rights.base.contains(need) {
        return Err(Errno::ENOTCAPABLE);
    }
    Ok(file)
}

/// `fd_stat_get(fd, buf)`: writes the 24-byte `cloudabi_fdstat_t`.
fn fd_stat_get<P>(process: &mut P, a: &Args) -> Result<Served, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let (file, rights) = process.fd_table().get_file(a.fd(0)?)?;
    let st = FdStat {
        filetype: file.file_type().raw(),
        flags: 0,
        rights_base: rights.base.bits(),
        rights_inheriting: rights.inheriting.bits(),
    };
    drop(file);
    copyout(process.memory_mut(), a.word(1), &st.encode())?;
    Ok(Served::NONE)
}

/// `fd_stat_put(fd, buf, flags)`: `FDSTAT_RIGHTS` narrows the rights (widening is
/// `ENOTCAPABLE`); `FDSTAT_FLAGS` needs `FD_STAT_PUT_FLAGS` and accepts only no flags
/// (capexec keeps no per-file status flags); other bits are `EINVAL`.
fn fd_stat_put<P>(process: &mut P, a: &Args) -> Result<Served, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let fd = a.fd(0)?;
    let flags = a.word(2);
    let known = u32::from(FDSTAT_FLAGS | FDSTAT_RIGHTS);
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; FdStat::SIZE];
    copyin(process.memory(), a.word(1), &mut raw)?;
    let st = FdStat::decode(&raw);
    let mut table = process.fd_table().lock();
    let current = table.get(fd)?.rights();
    if flags & u32::from(FDSTAT_FLAGS) != 0 {
        if !current.base.contains(Rights::FD_STAT_PUT_FLAGS) {
            return Err(Errno::ENOTCAPABLE);
        }
        if st.flags != 0 {
            return Err(Errno::ENOTSUP);
        }
    }
    if flags & u32::from(FDSTAT_RIGHTS) != 0 {
        // Unknown bits are rights nobody has: asking for them is widening.
        table.narrow_rights(fd, st.rights()?)?;
    }
    Ok(Served::NONE)
}

/// `fd_seek(fd, offset, whence) -> newoffset`. An unknown `whence` is `EINVAL` before
/// the descriptor is looked up. Moving the offset needs `FD_SEEK`; reading it
/// (`WHENCE_CUR`, offset 0) needs `FD_TELL` or `FD_SEEK` (`FD_SEEK` implies `FD_TELL`).
fn fd_seek<P>(process: &mut P, a: &Args) -> Result<u64, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let offset = a.u64_at(1) as i64;
    let whence = Whence::from_raw(a.byte(3)).ok_or(Errno::EINVAL)?;
    let pos = match whence {
        Whence::WHENCE_CUR => SeekFrom::Current(offset),
        Whence::WHENCE_END => SeekFrom::End(offset),
        // A negative absolute offset is EINVAL (FreeBSD `vn_seek`).
        Whence::WHENCE_SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::EINVAL)?),
    };
    let (file, rights) = process.fd_table().get_file(a.fd(0)?)?;
    let tell = pos == SeekFrom::Current(0);
    let allowed =
        rights.base.contains(Rights::FD_SEEK) || (tell && rights.base.contains(Rights::FD_TELL));
    if !allowed {
        return Err(Errno::ENOTCAPABLE);
    }
    file.seek(pos)
}

/// `fd_write(fd, iovs, iovs_len) -> nwritten` and `fd_pwrite(.., offset)` (FreeBSD
/// `dofilewrite`).
///
/// The iovec array is copied in once and checked (count, total length, fd and rights,
/// every buffer readable) before the file sees a byte; then each non-empty iovec is
/// one [`FileIo::write_user`] (or [`FileIo::pwrite_user`] at the running offset) call
/// with that iovec's user buffer, so a write of one iovec of up to `PIPE_BUF` bytes
/// stays atomic. A short write ends the call. An error after some bytes moved returns
/// the count moved.
fn fd_write<P>(process: &mut P, a: &Args, at: Option<u64>) -> Result<u32, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let list = Iovecs::copyin(process.memory(), a.word(1), a.word(2))?;
    let need = if at.is_some() {
        Rights::FD_WRITE | Rights::FD_SEEK
    } else {
        Rights::FD_WRITE
    };
    let file = file_with(process, a, 0, need)?;
    let file = file.io().ok_or(Errno::ENOTSUP)?;
    let mem = process.memory();
    list.check(mem, UserAccess::Read)?;
    let mut moved: u32 = 0;
    for (buf, len) in list.iter() {
        if len == 0 {
            continue;
        }
        let mut src = CopyinRange::new(mem, buf, len);
        let r = match at {
            None => file.write_user(&mut src),
            Some(off) => match off.checked_add(u64::from(moved)) {
                Some(o) => file.pwrite_user(&mut src, o),
                None => Err(Errno::EINVAL),
            },
        };
        let wrote = match r {
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

/// `fd_read(fd, iovs, iovs_len) -> nread` and `fd_pread(.., offset)` (FreeBSD
/// `dofileread`).
///
/// Checked as [`fd_write`] is (every buffer writable), then each non-empty iovec is one
/// [`FileIo::read_user`] (or [`FileIo::pread_user`]) call that reads at most that
/// iovec's length; a short read ends the call. An error after some bytes moved returns
/// the count moved.
fn fd_read<P>(process: &mut P, a: &Args, at: Option<u64>) -> Result<u32, Errno>
where
    P: Process + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let list = Iovecs::copyin(process.memory(), a.word(1), a.word(2))?;
    let need = if at.is_some() {
        Rights::FD_READ | Rights::FD_SEEK
    } else {
        Rights::FD_READ
    };
    let file = file_with(process, a, 0, need)?;
    let file: &dyn FileIo = file.io().ok_or(Errno::ENOTSUP)?;
    list.check(process.memory(), UserAccess::Write)?;
    let mut moved: u32 = 0;
    for (buf, len) in list.iter() {
        if len == 0 {
            continue;
        }
        let mut dst = CopyoutRange::new(process.memory_mut(), buf, len);
        let r = match at {
            None => file.read_user(&mut dst),
            Some(off) => match off.checked_add(u64::from(moved)) {
                Some(o) => file.pread_user(&mut dst, o),
                None => Err(Errno::EINVAL),
            },
        };
        let got = match r {
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
