//! The futex calls: `condvar_signal`, `lock_unlock`.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_futex.c`.

use super::super::cloudabi32::{Cloudabi32, Scope, Syscall};
use super::super::hooks::KernelCalls;
use super::{Args, Served};
use crate::Errno;
use crate::exec::{UserAccess, UserMemory, useracc};

/// Checks a lock or condition variable address: 4-byte aligned (`EINVAL`) and
/// writable (`EFAULT`).
pub(super) fn check_futex<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
    mem: &M,
    addr: u32,
) -> Result<(), Errno> {
    if addr % 4 != 0 {
        return Err(Errno::EINVAL);
    }
    useracc(mem, addr, 4, UserAccess::Write)
}

/// Decodes a scope word (`EINVAL` when unknown).
pub(super) fn scope(raw: u8) -> Result<Scope, Errno> {
    Scope::from_raw(raw).ok_or(Errno::EINVAL)
}

/// Serves `condvar_signal(condvar, scope, nwaiters)` and `lock_unlock(lock, scope)`.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let addr = a.word(0);
    let scope = scope(a.byte(1))?;
    check_futex(process.memory(), addr)?;
    if call == Syscall::condvar_signal {
        process.condvar_signal(addr, scope, a.word(2))?;
    } else {
        process.lock_unlock(addr, scope)?;
    }
    Ok(Served::NONE)
}
