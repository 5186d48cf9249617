//! The i386 system call entry: from a trapped register frame to a CloudABI system call
//! and back.
//!
//! The vDSO does `mov $N, %eax; int $0x80`: the number is in `eax` and the arguments
//! stay on the user stack, read as 32-bit words from `esp + 4`. The number is checked
//! first: `>= 49`, or a kernel call the kernel does not
//! [provide](super::KernelCalls::provides), is `ENOSYS` before any memory is read; then
//! exactly that call's [`Syscall::arg_words`] are read. On success the carry flag is
//! cleared and the results go to `eax` (and `edx`, see [`Syscall::results`]); on failure
//! the carry is set and `eax` holds the CloudABI errno.

use super::activator::EntryState32;
use super::calls::{Args, Served, dispatch, served};
use super::cloudabi32::{Cloudabi32, SYSCALL_COUNT, Signal, Syscall};
use super::hooks::KernelCalls;
use super::stack::Entropy;
use crate::Errno;
use crate::exec::{ImageActivator, UserMemory};

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
    /// `proc_raise` of a signal whose default action ends the process: end it with this
    /// signal (as if killed by it; a parent waiting on it sees the signal).
    Terminate(Signal),
    /// `proc_raise` of a stop signal: stop the process until it is continued. The
    /// registers already hold the call's success.
    Stop(Signal),
    /// `thread_yield`: let other threads run, then resume the caller. The registers
    /// already hold the call's success.
    Yield,
    /// `thread_exit` of a thread that is not the last one: the kernel's
    /// [`KernelCalls::thread_exit`] released its lock;
    /// end the calling thread.
    ThreadExit,
}

/// Serves one CloudABI system call trapped with `regs`, for `process`.
///
/// `activator` loads images for `proc_exec` (usually a
/// [`Cloudabi32Activator`](super::Cloudabi32Activator)) and is also the kernel's one
/// [`Entropy`] source, which serves `random_get` (a failing fill is that call's errno).
/// The calls whose meaning is the kernel's go to `process`'s [`KernelCalls`] hooks.
/// Never panics on any register or memory contents.
///
/// In the library: every `fd_*` call but `fd_create1` / `fd_create2`,
/// `file_stat_fget`, `proc_exec`, `proc_exit`, `proc_raise`, `random_get`,
/// `thread_exit` of the last thread, `thread_yield`, and the `mem_*` calls (validated
/// by [`mem`](super::mem), carried out by the process's
/// [`VirtualMemory`](crate::exec::VirtualMemory); `ENOSYS` when
/// [`Process::virtual_memory`](crate::exec::Process::virtual_memory) is `None`).
/// Through [`KernelCalls`] (decoded and
/// checked here): the clocks, the other `file_*` calls, `sock_*`, `poll`,
/// `condvar_signal`, `lock_unlock`, `fd_create1`, `fd_create2`, `proc_fork`,
/// `thread_create`, `thread_exit` of another thread.
///
/// `fd_read` / `fd_write` (and `fd_pread` / `fd_pwrite`) copy the iovec array in once
/// (more than [`IOV_MAX`] entries or a total above `SSIZE_MAX` is `EINVAL`, a bad array
/// `EFAULT`), look the descriptor up (`EBADF`, `ENOTCAPABLE`; a file whose
/// [`File::io`](crate::fdtable::File::io) is `None` is `ENOTSUP`), check every buffer
/// with [`useracc`](crate::exec::useracc) (`EFAULT` before the file is touched), then
/// make one [`FileIo::read_user`](crate::fdtable::FileIo::read_user) /
/// [`FileIo::write_user`](crate::fdtable::FileIo::write_user) call per non-empty iovec
/// with that iovec's user buffer. A short transfer ends the call; an error after some
/// bytes moved returns the count moved.
///
/// # References
/// - FreeBSD 12 `sys/i386/cloudabi32/cloudabi32_sysvec.c` (`cloudabi32_fetch_syscall_args`,
///   `cloudabi32_set_syscall_retval`), `sys/compat/cloudabi`, `sys/compat/cloudabi32`;
///   CloudABI `cloudabi_vdso_i686.S`.
/// - FreeBSD `sys/kern/sys_generic.c` (`dofileread`, `dofilewrite`),
///   `sys/kern/subr_uio.c` (`copyinuio`).
pub fn syscall32<P, A>(process: &mut P, activator: &mut A, regs: &mut Regs32) -> SyscallAction
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
    A: ImageActivator<P, Entry = EntryState32> + Entropy + ?Sized,
{
    let nr = regs.eax;
    let call = match Syscall::from_raw(nr) {
        Some(c) if nr < SYSCALL_COUNT && served(process, c) => c,
        _ => {
            regs.return_errno(Errno::ENOSYS);
            return SyscallAction::Resume;
        }
    };
    let result = Args::read(process.memory(), regs.esp, call)
        .and_then(|args| dispatch(process, activator, call, &args));
    match result {
        Ok(Served::Return(eax, edx)) => regs.return_ok(eax, edx),
        Ok(Served::Action(action)) => {
            match action {
                SyscallAction::Exec(entry) => {
                    *regs = Regs32 {
                        eip: entry.eip,
                        esp: entry.esp,
                        gs_base: entry.gs_base,
                        ..Regs32::default()
                    };
                }
                // The call succeeded for the caller once it runs again.
                SyscallAction::Stop(_) | SyscallAction::Yield => regs.return_ok(0, 0),
                _ => {}
            }
            return action;
        }
        Err(e) => regs.return_errno(e),
    }
    SyscallAction::Resume
}
