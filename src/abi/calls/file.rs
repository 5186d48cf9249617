//! The file system calls: `file_stat_fget` in the library; `file_advise`,
//! `file_allocate`, `file_create`, `file_link`, `file_open`, `file_readdir`,
//! `file_readlink`, `file_rename`, `file_stat_fput`, `file_stat_get`, `file_stat_put`,
//! `file_symlink`, `file_unlink` decoded and checked here, served by the kernel.
//!
//! Each descriptor is checked for the right `cloudabi.txt` names for the call
//! (`ENOTCAPABLE`); flags and enumerations are checked (`EINVAL`); paths are copied in
//! (`ENAMETOOLONG`, `EINVAL` for a NUL inside); output buffers are checked writable
//! (`EFAULT`) before the kernel is called.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_file.c`; NuxiNL/cloudabi `cloudabi.txt`
//!   (`rights`).

use super::super::cloudabi32::{
    Advice, Cloudabi32, FILESTAT_ATIM, FILESTAT_ATIM_NOW, FILESTAT_MTIM, FILESTAT_MTIM_NOW,
    FILESTAT_SIZE, O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC, Syscall, UNLINK_REMOVEDIR,
};
use super::super::hooks::KernelCalls;
use super::super::wire::{FdStat, Lookup};
use super::fd::{file_with, install};
use super::path::copyin_path;
use super::{Args, Served};
use crate::Errno;
use crate::exec::{UserAccess, UserMemory, copyin, copyout, useracc};
use crate::fdtable::{File, FileStat, FileType, Rights};

/// The `cloudabi_fdflags_t` bits (`APPEND`, `DSYNC`, `NONBLOCK`, `RSYNC`, `SYNC`).
const FDFLAG_APPEND: u16 = 0x01;
const FDFLAG_DSYNC: u16 = 0x02;
const FDFLAG_NONBLOCK: u16 = 0x04;
const FDFLAG_RSYNC: u16 = 0x08;
const FDFLAG_SYNC: u16 = 0x10;
const FDFLAGS: u16 = FDFLAG_APPEND | FDFLAG_DSYNC | FDFLAG_NONBLOCK | FDFLAG_RSYNC | FDFLAG_SYNC;
const OFLAGS: u16 = O_CREAT | O_DIRECTORY | O_EXCL | O_TRUNC;
const TIMES: u16 = FILESTAT_ATIM | FILESTAT_ATIM_NOW | FILESTAT_MTIM | FILESTAT_MTIM_NOW;

/// Copies in the `cloudabi_filestat_t` at `addr`.
fn filestat_in<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
    mem: &M,
    addr: u32,
) -> Result<FileStat, Errno> {
    let mut raw = [0u8; FileStat::SIZE];
    copyin(mem, addr, &mut raw)?;
    Ok(FileStat::decode(&raw))
}

/// Checks the time flags of a `file_stat_*put`: only time flags, no `ATIM` with
/// `ATIM_NOW` nor `MTIM` with `MTIM_NOW` (`EINVAL`).
fn check_times(flags: u16) -> Result<(), Errno> {
    let both = |a: u16, b: u16| flags & a != 0 && flags & b != 0;
    if flags & !TIMES != 0
        || both(FILESTAT_ATIM, FILESTAT_ATIM_NOW)
        || both(FILESTAT_MTIM, FILESTAT_MTIM_NOW)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Serves the `file_*` call `call`.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    match call {
        Syscall::file_stat_fget => {
            let file = file_with(process, a, 0, Rights::FILE_STAT_FGET)?;
            let st = file.stat()?;
            drop(file);
            copyout(process.memory_mut(), a.word(1), &st.encode())?;
            Ok(Served::NONE)
        }
        Syscall::file_advise => {
            let advice = Advice::from_raw(a.byte(5)).ok_or(Errno::EINVAL)?;
            let file = file_with(process, a, 0, Rights::FILE_ADVISE)?;
            process.file_advise(&file, a.u64_at(1), a.u64_at(3), advice)?;
            Ok(Served::NONE)
        }
        Syscall::file_allocate => {
            let file = file_with(process, a, 0, Rights::FILE_ALLOCATE)?;
            process.file_allocate(&file, a.u64_at(1), a.u64_at(3))?;
            Ok(Served::NONE)
        }
        Syscall::file_create => {
            // Only directories are created this way (files through `file_open`).
            let kind = FileType::from_raw(a.byte(3)).ok_or(Errno::EINVAL)?;
            if kind != FileType::Directory {
                return Err(Errno::EINVAL);
            }
            let path = copyin_path(process.memory(), a.word(1), a.word(2))?;
            let dir = file_with(process, a, 0, Rights::FILE_CREATE_DIRECTORY)?;
            process.file_create(&dir, &path, kind)?;
            Ok(Served::NONE)
        }
        Syscall::file_link => {
            let lookup = Lookup {
                fd: a.word(0),
                flags: a.word(1),
            };
            let path1 = copyin_path(process.memory(), a.word(2), a.word(3))?;
            let path2 = copyin_path(process.memory(), a.word(5), a.word(6))?;
            let dir1 = file_with(process, a, 0, Rights::FILE_LINK_SOURCE)?;
            let dir2 = file_with(process, a, 4, Rights::FILE_LINK_TARGET)?;
            process.file_link(&dir1, lookup.follow_symlinks(), &path1, &dir2, &path2)?;
            Ok(Served::NONE)
        }
        Syscall::file_open => file_open(process, a),
        Syscall::file_readdir => {
            let (buf, len) = (a.word(1), a.word(2));
            let dir = file_with(process, a, 0, Rights::FILE_READDIR)?;
            useracc(process.memory(), buf, len as usize, UserAccess::Write)?;
            let used = process.file_readdir(&dir, buf, len, a.u64_at(3))?;
            Ok(Served::word(used.min(len)))
        }
        Syscall::file_readlink => {
            let path = copyin_path(process.memory(), a.word(1), a.word(2))?;
            let (buf, len) = (a.word(3), a.word(4));
            let dir = file_with(process, a, 0, Rights::FILE_READLINK)?;
            useracc(process.memory(), buf, len as usize, UserAccess::Write)?;
            let used = process.file_readlink(&dir, &path, buf, len)?;
            Ok(Served::word(used.min(len)))
        }
        Syscall::file_rename => {
            let path1 = copyin_path(process.memory(), a.word(1), a.word(2))?;
            let path2 = copyin_path(process.memory(), a.word(4), a.word(5))?;
            let dir1 = file_with(process, a, 0, Rights::FILE_RENAME_SOURCE)?;
            let dir2 = file_with(process, a, 3, Rights::FILE_RENAME_TARGET)?;
            process.file_rename(&dir1, &path1, &dir2, &path2)?;
            Ok(Served::NONE)
        }
        Syscall::file_stat_fput => {
            let flags = a.half(2);
            // Either the size alone, or times.
            let need = if flags == FILESTAT_SIZE {
                Rights::FILE_STAT_FPUT_SIZE
            } else if flags != 0 {
                check_times(flags)?;
                Rights::FILE_STAT_FPUT_TIMES
            } else {
                return Err(Errno::EINVAL);
            };
            let st = filestat_in(process.memory(), a.word(1))?;
            let file = file_with(process, a, 0, need)?;
            process.file_stat_fput(&file, &st, flags)?;
            Ok(Served::NONE)
        }
        Syscall::file_stat_get => {
            let lookup = Lookup {
                fd: a.word(0),
                flags: a.word(1),
            };
            let path = copyin_path(process.memory(), a.word(2), a.word(3))?;
            let buf = a.word(4);
            let dir = file_with(process, a, 0, Rights::FILE_STAT_GET)?;
            useracc(process.memory(), buf, FileStat::SIZE, UserAccess::Write)?;
            let st = process.file_stat_get(&dir, lookup.follow_symlinks(), &path)?;
            drop(dir);
            copyout(process.memory_mut(), buf, &st.encode())?;
            Ok(Served::NONE)
        }
        Syscall::file_stat_put => {
            let lookup = Lookup {
                fd: a.word(0),
                flags: a.word(1),
            };
            let flags = a.half(5);
            if flags == 0 {
                return Err(Errno::EINVAL);
            }
            check_times(flags)?;
            let path = copyin_path(process.memory(), a.word(2), a.word(3))?;
            let st = filestat_in(process.memory(), a.word(4))?;
            let dir = file_with(process, a, 0, Rights::FILE_STAT_PUT_TIMES)?;
            process.file_stat_put(&dir, lookup.follow_symlinks(), &path, &st, flags)?;
            Ok(Served::NONE)
        }
        Syscall::file_symlink => {
            let target = copyin_path(process.memory(), a.word(0), a.word(1))?;
            let path = copyin_path(process.memory(), a.word(3), a.word(4))?;
            let dir = file_with(process, a, 2, Rights::FILE_SYMLINK)?;
            process.file_symlink(&target, &dir, &path)?;
            Ok(Served::NONE)
        }
        Syscall::file_unlink => {
            let flags = a.byte(3);
            if flags & !UNLINK_REMOVEDIR != 0 {
                return Err(Errno::EINVAL);
            }
            let path = copyin_path(process.memory(), a.word(1), a.word(2))?;
            let dir = file_with(process, a, 0, Rights::FILE_UNLINK)?;
            process.file_unlink(&dir, &path, flags)?;
            Ok(Served::NONE)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// `file_open(dirfd, path, oflags, fds) -> fd`.
///
/// Unknown `oflags` or `fs_flags` bits are `EINVAL`. The directory needs `FILE_OPEN`,
/// plus `FILE_CREATE_FILE` for `O_CREAT`, `FILE_STAT_FPUT_SIZE` for `O_TRUNC`,
/// `FD_DATASYNC` or `FD_SYNC` for `FDFLAG_DSYNC`, `FD_SYNC` for `FDFLAG_RSYNC` and
/// `FDFLAG_SYNC`; the requested rights (base and inheriting) must be among the
/// directory's inheriting rights. Otherwise `ENOTCAPABLE`.
fn file_open<P>(process: &mut P, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let lookup = Lookup {
        fd: a.word(0),
        flags: a.word(1),
    };
    let oflags = a.half(4);
    if oflags & !OFLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let path = copyin_path(process.memory(), a.word(2), a.word(3))?;
    let mut raw = [0u8; FdStat::SIZE];
    copyin(process.memory(), a.word(5), &mut raw)?;
    let fds = FdStat::decode(&raw);
    if fds.flags & !FDFLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let want = fds.rights()?;
    let (dir, rights) = process.fd_table().get_file(a.fd(0)?)?;
    let mut need = Rights::FILE_OPEN;
    if oflags & O_CREAT != 0 {
        need |= Rights::FILE_CREATE_FILE;
    }
    if oflags & O_TRUNC != 0 {
        need |= Rights::FILE_STAT_FPUT_SIZE;
    }
    if fds.flags & (FDFLAG_RSYNC | FDFLAG_SYNC) != 0 {
        need |= Rights::FD_SYNC;
    }
    let dsync_ok = fds.flags & FDFLAG_DSYNC == 0
        || rights
            .base
            .intersects(Rights::FD_DATASYNC | Rights::FD_SYNC);
    if !rights.base.contains(need)
        || !dsync_ok
        || !rights.inheriting.contains(want.base | want.inheriting)
    {
        return Err(Errno::ENOTCAPABLE);
    }
    let new = process.file_open(&dir, lookup.follow_symlinks(), &path, oflags, &fds)?;
    drop(dir);
    Ok(Served::word(install(process, new, want)?))
}
