//! The memory calls: `mem_advise`, `mem_map`, `mem_protect`, `mem_sync`, `mem_unmap`.

use super::super::cloudabi32::{Cloudabi32, Syscall};
use super::super::hooks::KernelCalls;
use super::{Args, Served};
use crate::Errno;
use crate::exec::UserMemory;

/// Whether the memory call `call` is served for `process` (not yet: `ENOSYS`).
pub(super) fn served<P: KernelCalls + ?Sized>(process: &P, call: Syscall) -> bool {
    let _ = (process, call);
    false
}

/// Serves the memory call `call`.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let _ = (process, call, a);
    Err(Errno::ENOSYS)
}
