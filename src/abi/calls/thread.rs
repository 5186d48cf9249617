//! The thread calls: `thread_create`, `thread_exit`, `thread_yield`.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_thread.c`,
//!   `sys/compat/cloudabi32/cloudabi32_thread.c`.

use super::super::cloudabi32::{Cloudabi32, Syscall};
use super::super::hooks::KernelCalls;
use super::super::syscall::SyscallAction;
use super::super::wire::ThreadAttr32;
use super::sync::scope;
use super::{Args, Served};
use crate::Errno;
use crate::exec::{UserMemory, copyin};

/// Serves the `thread_*` call `call`.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    match call {
        Syscall::thread_yield => Ok(Served::Action(SyscallAction::Yield)),
        Syscall::thread_exit => {
            let scope = scope(a.byte(1))?;
            if process.is_last_thread() {
                // The last thread: the process ends with exit value 0 (FreeBSD
                // `thr_exit` of the last thread calls `exit1(td, 0, 0)`); no thread
                // is left to wait for the lock.
                return Ok(Served::Action(SyscallAction::Exit(0)));
            }
            super::sync::check_futex(process.memory(), a.word(0))?;
            process.thread_exit(a.word(0), scope)?;
            Ok(Served::Action(SyscallAction::ThreadExit))
        }
        Syscall::thread_create => {
            let mut raw = [0u8; ThreadAttr32::SIZE];
            copyin(process.memory(), a.word(0), &mut raw)?;
            let attr = ThreadAttr32::decode(&raw);
            Ok(Served::word(process.thread_create(&attr)?))
        }
        _ => Err(Errno::ENOSYS),
    }
}
