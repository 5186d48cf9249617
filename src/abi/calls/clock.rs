//! The clock calls: `clock_res_get`, `clock_time_get`, through the kernel's clock hooks.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_clock.c`.

use super::super::cloudabi32::{ClockId, Cloudabi32, Syscall};
use super::super::hooks::KernelCalls;
use super::{Args, Served};
use crate::Errno;
use crate::exec::UserMemory;

/// Serves `clock_res_get(clock_id)` and `clock_time_get(clock_id, precision)`: an
/// unknown clock is `EINVAL` before the kernel is asked.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let clock = ClockId::from_raw(a.word(0)).ok_or(Errno::EINVAL)?;
    let t = if call == Syscall::clock_res_get {
        process.clock_res_get(clock)?
    } else {
        process.clock_time_get(clock, a.u64_at(1))?
    };
    Ok(Served::double(t))
}
