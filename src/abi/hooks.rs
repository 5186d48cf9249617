//! [`KernelCalls`]: the system calls whose meaning is the kernel's (file systems,
//! sockets, threads, futexes, clocks, processes), as typed hooks.

use super::cloudabi32::{Advice, ClockId, Scope, Syscall};
use super::wire::{Event, FdStat, Iovec32, RecvOut32, Subscription, ThreadAttr32};
use crate::Errno;
use crate::exec::Process;
use crate::fdtable::FileStat;
use crate::fdtable::{FdRights, FileType};

/// A file the kernel created for a system call, with the most rights it supports; the
/// library installs it in the caller's table (rights narrowed to what the caller may
/// have) and returns the new descriptor.
#[derive(Debug)]
pub struct NewFile<H> {
    /// The kernel's handle to the new file.
    pub file: H,
    /// The most rights a descriptor of this file can have.
    pub rights: FdRights,
}

/// The two connected files of an `fd_create2`.
pub type NewPair<H> = (NewFile<H>, NewFile<H>);

/// A path argument, copied in by the library: at most `PATH_MAX - 1` bytes, no NUL
/// inside (`ENAMETOOLONG`, `EINVAL` otherwise), not NUL-terminated.
pub type Path<'a> = &'a [u8];

/// What `proc_fork` returns to the parent: the child's process descriptor and the
/// thread id of the child's only thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forked {
    /// The process descriptor, already installed in the parent's table.
    pub fd: u32,
    /// The child's thread id.
    pub tid: u32,
}

/// The hooks of the system calls whose meaning is the kernel's, implemented on the
/// kernel's process type next to [`Process`].
///
/// Every method has a default that answers `ENOSYS`. The library decodes each call,
/// copies in and checks its user structures (paths, iovec arrays, `fdstat`, `filestat`,
/// subscriptions, thread attributes), looks up its descriptors and checks their CloudABI
/// rights (`EBADF`, `ENOTCAPABLE`) where FreeBSD does, then calls the hook with typed
/// values and the caller's file handles; what a hook returns it writes back (results,
/// `filestat`, events, `recv_out`) and installs (new files).
///
/// A call is served only when [`provides`](Self::provides) says so: otherwise it is
/// `ENOSYS` before any user memory is read, as for a system call table entry that is not
/// there. A kernel that implements a hook also lists its call there.
///
/// # Example
///
/// A kernel with a monotonic clock and nothing else:
///
/// ```
/// use capexec::Errno;
/// use capexec::abi::KernelCalls;
/// use capexec::abi::cloudabi32::{ClockId, Syscall};
/// # use capexec::exec::{Process, UserAccess, UserMemory};
/// # use capexec::fdtable::{File, FileType, SharedFdTable, FdTable};
/// # use std::sync::Arc;
/// # struct Vnode;
/// # impl File for Vnode { fn file_type(&self) -> FileType { FileType::RegularFile } }
/// # struct NoMemory;
/// # impl UserMemory for NoMemory {
/// #     type Abi = capexec::abi::Cloudabi32;
/// #     fn read_user(&self, _: u32, _: &mut [u8]) -> Result<(), Errno> { Err(Errno::EFAULT) }
/// #     fn write_user(&mut self, _: u32, _: &[u8]) -> Result<(), Errno> { Err(Errno::EFAULT) }
/// #     fn check_access(&self, _: u32, _: usize, _: UserAccess) -> Result<(), Errno> { Err(Errno::EFAULT) }
/// # }
/// # struct KernelProcess { table: SharedFdTable<Arc<Vnode>>, mem: NoMemory, ticks: u64 }
/// # impl Process for KernelProcess {
/// #     type File = Vnode; type Handle = Arc<Vnode>; type Memory = NoMemory;
/// #     type Lock = capexec::fdtable::DefaultRawMutex;
/// #     fn fd_table(&self) -> &SharedFdTable<Arc<Vnode>> { &self.table }
/// #     fn memory(&self) -> &NoMemory { &self.mem }
/// #     fn memory_mut(&mut self) -> &mut NoMemory { &mut self.mem }
/// #     fn install_fd_table(&mut self, new: FdTable<Arc<Vnode>>) -> FdTable<Arc<Vnode>> {
/// #         capexec::fdtable::fdinstall_remapped(&self.table, new)
/// #     }
/// # }
///
/// impl KernelCalls for KernelProcess {
///     fn provides(&self, call: Syscall) -> bool {
///         matches!(call, Syscall::clock_res_get | Syscall::clock_time_get)
///     }
///     fn clock_res_get(&mut self, clock: ClockId) -> Result<u64, Errno> {
///         match clock {
///             ClockId::CLOCK_MONOTONIC => Ok(1_000_000), // a 1 kHz tick
///             _ => Err(Errno::EINVAL),
///         }
///     }
///     fn clock_time_get(&mut self, clock: ClockId, _precision: u64) -> Result<u64, Errno> {
///         match clock {
///             ClockId::CLOCK_MONOTONIC => Ok(self.ticks * 1_000_000),
///             _ => Err(Errno::EINVAL),
///         }
///     }
/// }
/// # let p = KernelProcess { table: SharedFdTable::new(FdTable::new()), mem: NoMemory, ticks: 0 };
/// # assert!(p.provides(Syscall::clock_time_get));
/// ```
///
/// # References
/// - FreeBSD 12 `sys/compat/cloudabi` (`cloudabi_clock.c`, `cloudabi_fd.c`,
///   `cloudabi_file.c`, `cloudabi_futex.c`, `cloudabi_proc.c`, `cloudabi_sock.c`,
///   `cloudabi_thread.c`), `sys/compat/cloudabi32` (`cloudabi32_poll.c`,
///   `cloudabi32_sock.c`, `cloudabi32_thread.c`).
#[allow(unused_variables)]
pub trait KernelCalls: Process {
    /// Whether the kernel serves `call` through its hook. Asked only for the calls this
    /// trait has hooks for; the default, `false`, makes every one of them `ENOSYS`.
    fn provides(&self, call: Syscall) -> bool {
        false
    }

    /// `clock_res_get(clock_id) -> resolution`: the clock's resolution in nanoseconds.
    ///
    /// # References
    /// - POSIX `clock_getres`; FreeBSD `cloudabi_sys_clock_res_get`.
    fn clock_res_get(&mut self, clock: ClockId) -> Result<u64, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `clock_time_get(clock_id, precision) -> time`: the clock's time in nanoseconds;
    /// `precision` is the error the caller tolerates.
    ///
    /// # References
    /// - POSIX `clock_gettime`; FreeBSD `cloudabi_sys_clock_time_get`.
    fn clock_time_get(&mut self, clock: ClockId, precision: u64) -> Result<u64, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `condvar_signal(condvar, scope, nwaiters)`: wakes up to `nwaiters` threads
    /// waiting on the condition variable at user address `condvar` (4-byte aligned,
    /// checked).
    ///
    /// # References
    /// - FreeBSD `cloudabi_futex.c` (`cloudabi_sys_condvar_signal`).
    fn condvar_signal(&mut self, condvar: u32, scope: Scope, nwaiters: u32) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `lock_unlock(lock, scope)`: releases the kernel-managed write lock at user
    /// address `lock` (4-byte aligned, checked) and wakes a waiter.
    ///
    /// # References
    /// - FreeBSD `cloudabi_futex.c` (`cloudabi_sys_lock_unlock`).
    fn lock_unlock(&mut self, lock: u32, scope: Scope) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `fd_create1(type) -> fd`: a new anonymous object of `kind` (FreeBSD: only
    /// [`FileType::SharedMemory`]).
    ///
    /// # References
    /// - FreeBSD `cloudabi_fd.c` (`cloudabi_sys_fd_create1`).
    fn fd_create1(&mut self, kind: FileType) -> Result<NewFile<Self::Handle>, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `fd_create2(type) -> (fd1, fd2)`: a connected pair of `kind` (FreeBSD: the
    /// socket types).
    ///
    /// # References
    /// - FreeBSD `cloudabi_fd.c` (`cloudabi_sys_fd_create2`); POSIX `socketpair`.
    fn fd_create2(&mut self, kind: FileType) -> Result<NewPair<Self::Handle>, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_advise(fd, offset, len, advice)` on an open file (the caller holds
    /// `FILE_ADVISE`).
    ///
    /// # References
    /// - POSIX `posix_fadvise`; FreeBSD `cloudabi_sys_file_advise`.
    fn file_advise(
        &mut self,
        file: &Self::Handle,
        offset: u64,
        len: u64,
        advice: Advice,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_allocate(fd, offset, len)`: reserves storage (the caller holds
    /// `FILE_ALLOCATE`).
    ///
    /// # References
    /// - POSIX `posix_fallocate`; FreeBSD `cloudabi_sys_file_allocate`.
    fn file_allocate(&mut self, file: &Self::Handle, offset: u64, len: u64) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_create(fd, path, type)`: creates a directory ([`FileType::Directory`], the
    /// only type FreeBSD creates) at `path` under `dir` (the caller holds
    /// `FILE_CREATE_DIRECTORY`).
    ///
    /// # References
    /// - POSIX `mkdirat`; FreeBSD `cloudabi_sys_file_create`.
    fn file_create(
        &mut self,
        dir: &Self::Handle,
        path: Path<'_>,
        kind: FileType,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_link(fd1, path1, fd2, path2)`: a hard link at `path2` under `dir2` to
    /// `path1` under `dir1` (`follow`: the lookup flag of `fd1`). The caller holds
    /// `FILE_LINK_SOURCE` on `dir1` and `FILE_LINK_TARGET` on `dir2`.
    ///
    /// # References
    /// - POSIX `linkat`; FreeBSD `cloudabi_sys_file_link`.
    fn file_link(
        &mut self,
        dir1: &Self::Handle,
        follow: bool,
        path1: Path<'_>,
        dir2: &Self::Handle,
        path2: Path<'_>,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_open(dirfd, path, oflags, fds) -> fd`: opens `path` under `dir`. `fds`
    /// holds the requested rights and flags; the library checked them against `dir`'s
    /// inheriting rights and installs the result with the requested rights (narrowed to
    /// [`NewFile::rights`]).
    ///
    /// # References
    /// - POSIX `openat`; FreeBSD `cloudabi_sys_file_open`.
    fn file_open(
        &mut self,
        dir: &Self::Handle,
        follow: bool,
        path: Path<'_>,
        oflags: u16,
        fds: &FdStat,
    ) -> Result<NewFile<Self::Handle>, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_readdir(fd, buf, buf_len, cookie) -> bufused`: writes `cloudabi_dirent_t`
    /// records and names into the user buffer `buf` (checked writable) starting at
    /// `cookie`; returns the bytes used.
    ///
    /// # References
    /// - FreeBSD `cloudabi_sys_file_readdir`.
    fn file_readdir(
        &mut self,
        dir: &Self::Handle,
        buf: u32,
        buf_len: u32,
        cookie: u64,
    ) -> Result<u32, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_readlink(fd, path, buf, buf_len) -> bufused`: writes the link's contents
    /// into the user buffer `buf` (checked writable); returns the bytes used.
    ///
    /// # References
    /// - POSIX `readlinkat`; FreeBSD `cloudabi_sys_file_readlink`.
    fn file_readlink(
        &mut self,
        dir: &Self::Handle,
        path: Path<'_>,
        buf: u32,
        buf_len: u32,
    ) -> Result<u32, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_rename(fd1, path1, fd2, path2)`.
    ///
    /// # References
    /// - POSIX `renameat`; FreeBSD `cloudabi_sys_file_rename`.
    fn file_rename(
        &mut self,
        dir1: &Self::Handle,
        path1: Path<'_>,
        dir2: &Self::Handle,
        path2: Path<'_>,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_stat_fput(fd, buf, flags)`: sets the size (`FILESTAT_SIZE`, alone) or the
    /// times (the `FILESTAT_*TIM*` flags) of an open file.
    ///
    /// # References
    /// - POSIX `ftruncate`, `futimens`; FreeBSD `cloudabi_sys_file_stat_fput`.
    fn file_stat_fput(
        &mut self,
        file: &Self::Handle,
        stat: &FileStat,
        flags: u16,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_stat_get(fd, path, buf)`: the attributes of `path` under `dir`.
    ///
    /// # References
    /// - POSIX `fstatat`; FreeBSD `cloudabi_sys_file_stat_get`.
    fn file_stat_get(
        &mut self,
        dir: &Self::Handle,
        follow: bool,
        path: Path<'_>,
    ) -> Result<FileStat, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_stat_put(fd, path, buf, flags)`: sets the times of `path` under `dir`.
    ///
    /// # References
    /// - POSIX `utimensat`; FreeBSD `cloudabi_sys_file_stat_put`.
    fn file_stat_put(
        &mut self,
        dir: &Self::Handle,
        follow: bool,
        path: Path<'_>,
        stat: &FileStat,
        flags: u16,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_symlink(path1, fd, path2)`: a symbolic link at `path2` under `dir`
    /// containing `path1`.
    ///
    /// # References
    /// - POSIX `symlinkat`; FreeBSD `cloudabi_sys_file_symlink`.
    fn file_symlink(
        &mut self,
        target: Path<'_>,
        dir: &Self::Handle,
        path: Path<'_>,
    ) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `file_unlink(fd, path, flags)`: removes a file, or a directory with
    /// `UNLINK_REMOVEDIR`.
    ///
    /// # References
    /// - POSIX `unlinkat`; FreeBSD `cloudabi_sys_file_unlink`.
    fn file_unlink(&mut self, dir: &Self::Handle, path: Path<'_>, flags: u8) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `poll(in, out, nsubscriptions) -> nevents`: waits for the subscriptions (decoded
    /// and checked) and fills `events` from the front, returning how many it filled.
    /// `events` has one slot per subscription; the library writes the filled ones out.
    ///
    /// # References
    /// - FreeBSD `cloudabi32_poll.c` (`cloudabi32_sys_poll`).
    fn poll(
        &mut self,
        subscriptions: &[Subscription],
        events: &mut [Event],
    ) -> Result<usize, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `proc_fork() -> (fd, tid)`: the parent's side of a fork. The kernel creates the
    /// child (its table from [`SharedFdTable::fork_copy`](crate::fdtable::SharedFdTable::fork_copy)),
    /// installs the process descriptor in the parent and arranges for the child to return
    /// `PROCESS_CHILD` and its thread id.
    ///
    /// # References
    /// - FreeBSD `cloudabi_proc.c` (`cloudabi_sys_proc_fork`).
    fn proc_fork(&mut self) -> Result<Forked, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `sock_recv(sock, in, out)`: receives into the user buffers `data` (every one
    /// checked writable) and up to `fds_len` descriptors into the user array `fds`
    /// (checked writable); returns what goes into `recv_out`.
    ///
    /// # References
    /// - POSIX `recvmsg`; FreeBSD `cloudabi32_sock.c` (`cloudabi32_sys_sock_recv`).
    fn sock_recv(
        &mut self,
        sock: &Self::Handle,
        data: &[Iovec32],
        fds: u32,
        fds_len: u32,
        flags: u16,
    ) -> Result<RecvOut32, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `sock_send(sock, in, out)`: sends the user buffers `data` (every one checked
    /// readable) and the descriptors `fds` (copied in; each open); returns the bytes
    /// sent.
    ///
    /// # References
    /// - POSIX `sendmsg`; FreeBSD `cloudabi32_sock.c` (`cloudabi32_sys_sock_send`).
    fn sock_send(
        &mut self,
        sock: &Self::Handle,
        data: &[Iovec32],
        fds: &[u32],
        flags: u16,
    ) -> Result<u32, Errno> {
        Err(Errno::ENOSYS)
    }

    /// `sock_shutdown(sock, how)`: `how` is `SHUT_RD`, `SHUT_WR` or both (checked);
    /// the caller holds `SOCK_SHUTDOWN`.
    ///
    /// # References
    /// - POSIX `shutdown`; FreeBSD `cloudabi_sys_sock_shutdown`.
    fn sock_shutdown(&mut self, sock: &Self::Handle, how: u8) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }

    /// `thread_create(attr) -> tid`: starts a thread at `attr.entry_point` with
    /// `(tid, attr.argument)` on `attr`'s stack; returns its thread id.
    ///
    /// # References
    /// - FreeBSD `cloudabi32_thread.c` (`cloudabi32_sys_thread_create`).
    fn thread_create(&mut self, attr: &ThreadAttr32) -> Result<u32, Errno> {
        Err(Errno::ENOSYS)
    }

    /// Whether the calling thread is the process's only thread. `thread_exit` of the
    /// only thread ends the process (exit value 0) in the library; otherwise
    /// [`thread_exit`](Self::thread_exit) is called. The default, `true`, is a kernel
    /// without threads.
    fn is_last_thread(&self) -> bool {
        true
    }

    /// `thread_exit(lock, scope)` of a thread that is not the last one: release the
    /// lock at user address `lock` and end the calling thread. Only an error returns
    /// to the caller; on `Ok` the library reports
    /// [`SyscallAction::ThreadExit`](super::SyscallAction::ThreadExit).
    ///
    /// # References
    /// - FreeBSD `cloudabi_thread.c` (`cloudabi_sys_thread_exit`).
    fn thread_exit(&mut self, lock: u32, scope: Scope) -> Result<(), Errno> {
        Err(Errno::ENOSYS)
    }
}
