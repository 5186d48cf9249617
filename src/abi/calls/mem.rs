//! The memory calls: `mem_advise`, `mem_map`, `mem_protect`, `mem_sync`, `mem_unmap`,
//! decoded from their argument words and served by [`crate::abi::mem`] through the
//! kernel's [`VirtualMemory`](crate::exec::VirtualMemory).

use super::super::cloudabi32::{Cloudabi32, Syscall};
use super::super::hooks::KernelCalls;
use super::super::mem;
use super::{Args, Served};
use crate::Errno;
use crate::exec::UserMemory;

/// Whether the memory call `call` is served for `process`: when the kernel maps memory
/// on request ([`virtual_memory`](crate::exec::Process::virtual_memory) is `Some`);
/// otherwise it is `ENOSYS` before any memory is read.
pub(super) fn served<P: KernelCalls + ?Sized>(process: &mut P, call: Syscall) -> bool {
    let _ = call;
    process.virtual_memory().is_some()
}

/// Serves the memory call `call`: `mem_map(addr, len, prot, flags, fd, off_lo, off_hi)`
/// (the address in `eax`), `mem_unmap(addr, len)`, `mem_protect(addr, len, prot)`,
/// `mem_advise(addr, len, advice)`, `mem_sync(addr, len, flags)`. The `u8` arguments
/// (`prot`, `flags`, `advice`) are the low byte of their words.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let (addr, len) = (a.word(0), a.word(1));
    match call {
        Syscall::mem_map => mem::mem_map(
            process,
            addr,
            len,
            a.byte(2),
            a.byte(3),
            a.word(4),
            a.u64_at(5),
        )
        .map(Served::word),
        Syscall::mem_unmap => mem::mem_unmap(process, addr, len).map(|()| Served::NONE),
        Syscall::mem_protect => {
            mem::mem_protect(process, addr, len, a.byte(2)).map(|()| Served::NONE)
        }
        Syscall::mem_advise => {
            mem::mem_advise(process, addr, len, a.byte(2)).map(|()| Served::NONE)
        }
        Syscall::mem_sync => mem::mem_sync(process, addr, len, a.byte(2)).map(|()| Served::NONE),
        _ => Err(Errno::ENOSYS),
    }
}
