//! The system calls, one file per group, and the dispatch from a call number to them.
//!
//! [`dispatch`] runs after the number was checked and the call's
//! [`Syscall::arg_words`] were read into [`Args`]; each group decodes its words into
//! typed values, copies in and checks the user structures, and either serves the call in
//! the library or hands it to the kernel's [`KernelCalls`] hook.

mod clock;
mod fd;
mod file;
mod iovec;
mod mem;
mod path;
mod poll;
mod proc;
mod random;
mod sock;
mod sync;
mod thread;

use super::activator::EntryState32;
use super::cloudabi32::{Cloudabi32, MAX_ARG_WORDS, Syscall};
use super::hooks::KernelCalls;
use super::stack::Entropy;
use super::syscall::SyscallAction;
use crate::Errno;
use crate::exec::{ImageActivator, UserMemory, copyin};
use crate::fdtable::Fd;

/// The argument words of one call, as read from `esp + 4` (words past the call's
/// [`Syscall::arg_words`] are zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Args([u32; MAX_ARG_WORDS]);

impl Args {
    /// Reads `call`'s argument words from `esp + 4`; a fault is `EFAULT`.
    pub(crate) fn read<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
        mem: &M,
        esp: u32,
        call: Syscall,
    ) -> Result<Args, Errno> {
        let n = usize::from(call.arg_words());
        let mut words = [0u32; MAX_ARG_WORDS];
        if n == 0 {
            return Ok(Args(words));
        }
        let base = esp.checked_add(4).ok_or(Errno::EFAULT)?;
        let mut raw = [0u8; MAX_ARG_WORDS * 4];
        let bytes = raw.get_mut(..n * 4).ok_or(Errno::EFAULT)?;
        copyin(mem, base, bytes)?;
        for (w, b) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Ok(Args(words))
    }

    /// Word `i` (zero past the call's count).
    #[inline]
    pub(crate) fn word(&self, i: usize) -> u32 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// The 64-bit value in words `i` (low) and `i + 1` (high).
    #[inline]
    pub(crate) fn u64_at(&self, i: usize) -> u64 {
        u64::from(self.word(i)) | (u64::from(self.word(i + 1)) << 32)
    }

    /// Word `i` as a descriptor: above `i32::MAX` is `EBADF`.
    #[inline]
    pub(crate) fn fd(&self, i: usize) -> Result<Fd, Errno> {
        fd_arg(self.word(i))
    }

    /// The low byte of word `i` (a `u8` argument passed as a word; the upper bytes
    /// are whatever the caller's stack held).
    #[inline]
    pub(crate) fn byte(&self, i: usize) -> u8 {
        self.word(i) as u8
    }

    /// The low 16 bits of word `i` (a `u16` argument passed as a word).
    #[inline]
    pub(crate) fn half(&self, i: usize) -> u16 {
        self.word(i) as u16
    }
}

/// A `cloudabi_fd_t` from user space as a descriptor: above `i32::MAX` is `EBADF`.
#[inline]
pub(crate) fn fd_arg(raw: u32) -> Result<Fd, Errno> {
    Fd::from_raw(i32::try_from(raw).map_err(|_| Errno::EBADF)?)
}

/// A descriptor as a `cloudabi_fd_t` result word.
#[inline]
pub(crate) fn fd_result(fd: Fd) -> u32 {
    u32::try_from(fd.raw()).unwrap_or(u32::MAX)
}

/// What a served call hands back: results for `eax` / `edx`, or something the kernel
/// must do instead of resuming the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// Success with these `eax` and `edx` words.
    Return(u32, u32),
    /// The kernel takes over (exit, exec, signal, yield, ...).
    Action(SyscallAction),
}

impl Served {
    /// Success with no result.
    pub(crate) const NONE: Served = Served::Return(0, 0);

    /// Success with one word.
    pub(crate) const fn word(w: u32) -> Served {
        Served::Return(w, 0)
    }

    /// Success with a 64-bit value, low half in `eax`.
    pub(crate) const fn double(v: u64) -> Served {
        Served::Return(v as u32, (v >> 32) as u32)
    }
}

/// Whether `call` is served at all for `process`: the library's own calls always (the
/// memory calls when the process has a
/// [`virtual_memory`](crate::exec::Process::virtual_memory)), a kernel hook's when the
/// kernel [provides](KernelCalls::provides) it. A call that is not served is `ENOSYS`
/// before any memory is read.
pub(crate) fn served<P: KernelCalls + ?Sized>(process: &mut P, call: Syscall) -> bool {
    match call {
        Syscall::mem_advise
        | Syscall::mem_map
        | Syscall::mem_protect
        | Syscall::mem_sync
        | Syscall::mem_unmap => mem::served(process, call),
        c if is_kernel_call(c) => process.provides(c),
        _ => true,
    }
}

/// Calls whose meaning is the kernel's: decoded and checked by the library, served by a
/// [`KernelCalls`] hook.
pub(crate) const fn is_kernel_call(call: Syscall) -> bool {
    matches!(
        call,
        Syscall::clock_res_get
            | Syscall::clock_time_get
            | Syscall::condvar_signal
            | Syscall::fd_create1
            | Syscall::fd_create2
            | Syscall::file_advise
            | Syscall::file_allocate
            | Syscall::file_create
            | Syscall::file_link
            | Syscall::file_open
            | Syscall::file_readdir
            | Syscall::file_readlink
            | Syscall::file_rename
            | Syscall::file_stat_fput
            | Syscall::file_stat_get
            | Syscall::file_stat_put
            | Syscall::file_symlink
            | Syscall::file_unlink
            | Syscall::lock_unlock
            | Syscall::poll
            | Syscall::proc_fork
            | Syscall::sock_recv
            | Syscall::sock_send
            | Syscall::sock_shutdown
            | Syscall::thread_create
    )
}

/// Serves `call` with its argument words `a`.
pub(crate) fn dispatch<P, A>(
    process: &mut P,
    activator: &mut A,
    call: Syscall,
    a: &Args,
) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
    A: ImageActivator<P, Entry = EntryState32> + Entropy + ?Sized,
{
    match call {
        Syscall::clock_res_get | Syscall::clock_time_get => clock::serve(process, call, a),
        Syscall::condvar_signal | Syscall::lock_unlock => sync::serve(process, call, a),
        Syscall::fd_close
        | Syscall::fd_create1
        | Syscall::fd_create2
        | Syscall::fd_datasync
        | Syscall::fd_dup
        | Syscall::fd_pread
        | Syscall::fd_pwrite
        | Syscall::fd_read
        | Syscall::fd_replace
        | Syscall::fd_seek
        | Syscall::fd_stat_get
        | Syscall::fd_stat_put
        | Syscall::fd_sync
        | Syscall::fd_write => fd::serve(process, call, a),
        Syscall::file_advise
        | Syscall::file_allocate
        | Syscall::file_create
        | Syscall::file_link
        | Syscall::file_open
        | Syscall::file_readdir
        | Syscall::file_readlink
        | Syscall::file_rename
        | Syscall::file_stat_fget
        | Syscall::file_stat_fput
        | Syscall::file_stat_get
        | Syscall::file_stat_put
        | Syscall::file_symlink
        | Syscall::file_unlink => file::serve(process, call, a),
        Syscall::mem_advise
        | Syscall::mem_map
        | Syscall::mem_protect
        | Syscall::mem_sync
        | Syscall::mem_unmap => mem::serve(process, call, a),
        Syscall::poll => poll::serve(process, a),
        Syscall::proc_exec | Syscall::proc_exit | Syscall::proc_fork | Syscall::proc_raise => {
            proc::serve(process, activator, call, a)
        }
        Syscall::random_get => random::serve(process, activator, a),
        Syscall::sock_recv | Syscall::sock_send | Syscall::sock_shutdown => {
            sock::serve(process, call, a)
        }
        Syscall::thread_create | Syscall::thread_exit | Syscall::thread_yield => {
            thread::serve(process, call, a)
        }
    }
}
