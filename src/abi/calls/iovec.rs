//! Iovec arrays (`cloudabi32_iovec_t[]`): copied in once, checked, then walked.

use alloc::vec::Vec;

use super::super::cloudabi32::{Cloudabi32, IOVEC32_SIZE};
use super::super::syscall::IOV_MAX;
use super::super::wire::Iovec32;
use crate::Errno;
use crate::exec::{UserAccess, UserMemory, copyin, useracc};

/// Iovec arrays of up to this many entries are copied in on the stack; longer ones into
/// a fallibly allocated buffer.
const SMALL_IOVS: usize = 8;

/// Most bytes one `fd_read` / `fd_write` moves (`SSIZE_MAX` on i386): a larger total
/// is `EINVAL`.
pub(crate) const MAX_TRANSFER: u32 = i32::MAX as u32;

/// The iovec array of one `fd_read` / `fd_write`, copied in once and checked.
pub(crate) struct Iovecs {
    small: [u8; SMALL_IOVS * IOVEC32_SIZE],
    large: Vec<u8>,
    count: usize,
}

impl Iovecs {
    /// Copies `n` iovecs in from `iovs` (FreeBSD `copyinuio`): more than [`IOV_MAX`] is
    /// `EINVAL`, a buffer that cannot be allocated `ENOMEM`, a bad array `EFAULT`, a
    /// total length above `SSIZE_MAX` `EINVAL`.
    pub(crate) fn copyin<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
        mem: &M,
        iovs: u32,
        n: u32,
    ) -> Result<Iovecs, Errno> {
        if n > IOV_MAX {
            return Err(Errno::EINVAL);
        }
        let count = n as usize;
        let bytes = count * IOVEC32_SIZE;
        let mut v = Iovecs {
            small: [0; SMALL_IOVS * IOVEC32_SIZE],
            large: Vec::new(),
            count,
        };
        if count > SMALL_IOVS {
            v.large
                .try_reserve_exact(bytes)
                .map_err(|_| Errno::ENOMEM)?;
            v.large.resize(bytes, 0);
            copyin(mem, iovs, &mut v.large)?;
        } else {
            copyin(mem, iovs, &mut v.small[..bytes])?;
        }
        let mut total: u32 = 0;
        for (_, len) in v.iter() {
            total = total
                .checked_add(len)
                .filter(|&t| t <= MAX_TRANSFER)
                .ok_or(Errno::EINVAL)?;
        }
        Ok(v)
    }

    /// The `(buf, buf_len)` pairs, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let raw = if self.count > SMALL_IOVS {
            &self.large[..]
        } else {
            &self.small[..self.count * IOVEC32_SIZE]
        };
        raw.chunks_exact(IOVEC32_SIZE).map(|b| {
            (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            )
        })
    }

    /// Checks that every buffer can be accessed as `access` (`EFAULT`), before the file
    /// is touched.
    pub(crate) fn check<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
        &self,
        mem: &M,
        access: UserAccess,
    ) -> Result<(), Errno> {
        for (buf, len) in self.iter() {
            useracc(mem, buf, len as usize, access)?;
        }
        Ok(())
    }
}

impl Iovecs {
    /// The iovecs as typed values, into a fallibly allocated list (for a hook).
    pub(crate) fn to_vec(&self) -> Result<Vec<Iovec32>, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(self.count).map_err(|_| Errno::ENOMEM)?;
        v.extend(self.iter().map(|(buf, buf_len)| Iovec32 { buf, buf_len }));
        Ok(v)
    }
}

/// The result of a transfer that stopped with `e`: the error when nothing moved, else
/// the count moved so far (the error shows again on the next call).
#[inline]
pub(crate) fn partial(moved: u32, e: Errno) -> Result<u32, Errno> {
    if moved == 0 { Err(e) } else { Ok(moved) }
}
