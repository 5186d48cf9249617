//! Path arguments: copied in once, bounded, without NUL bytes.

use alloc::vec::Vec;

use super::super::cloudabi32::{Cloudabi32, PATH_MAX};
use crate::Errno;
use crate::exec::{UserMemory, copyin};

/// Copies the path `(addr, len)` in: `len >= PATH_MAX` is `ENAMETOOLONG`, a buffer that
/// cannot be allocated `ENOMEM`, a fault `EFAULT`, a NUL byte inside `EINVAL` (FreeBSD
/// `cloudabi_copyinstr`).
pub(crate) fn copyin_path<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
    mem: &M,
    addr: u32,
    len: u32,
) -> Result<Vec<u8>, Errno> {
    if len >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut v = Vec::new();
    v.try_reserve_exact(len as usize)
        .map_err(|_| Errno::ENOMEM)?;
    v.resize(len as usize, 0);
    copyin(mem, addr, &mut v)?;
    if v.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(v)
}
