//! `random_get`: user memory filled from the kernel's entropy source.

use super::super::cloudabi32::Cloudabi32;
use super::super::hooks::KernelCalls;
use super::super::stack::Entropy;
use super::{Args, Served};
use crate::Errno;
use crate::exec::{UserAccess, UserMemory, copyout, useracc};

const BOUNCE: usize = 512;

/// `random_get(buf, buf_len)`: the whole range is checked writable first (`EFAULT`,
/// nothing written); then it is filled in chunks from `rng`. A generator error stops
/// the call with that error (the buffer's contents are then unspecified, as a failed
/// call's output is).
pub(super) fn serve<P, R>(process: &mut P, rng: &mut R, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    R: Entropy + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let (buf, len) = (a.word(0), a.word(1));
    useracc(process.memory(), buf, len as usize, UserAccess::Write)?;
    let mut bounce = [0u8; BOUNCE];
    let mut done = 0u32;
    while done < len {
        let chunk = (len - done).min(BOUNCE as u32);
        let dst = &mut bounce[..chunk as usize];
        rng.fill(dst)?;
        copyout(process.memory_mut(), buf + done, dst)?;
        done += chunk;
    }
    Ok(Served::NONE)
}
