//! One range of user memory as the buffer of a read or a write: what `fd_read` and
//! `fd_write` hand a file ([`UserSink`], [`UserSource`]), one per iovec.
//!
//! Every copy goes through [`copyin`] / [`copyout`], so the rules of those hold (no wrap
//! past 4 GiB; a fault is `EFAULT`), and the position moves only past bytes that were
//! copied.

use super::usermem::{UserAddr, UserMemory, copyin, copyout};
use crate::Errno;
use crate::fdtable::{UserSink, UserSource};

/// A user range a write takes its bytes from (a copy-in cursor).
#[derive(Debug)]
pub struct CopyinRange<'a, M: UserMemory + ?Sized> {
    mem: &'a M,
    addr: UserAddr,
    len: u32,
    done: u32,
}

impl<'a, M: UserMemory + ?Sized> CopyinRange<'a, M> {
    /// The `len` bytes at `addr` of `mem`, nothing taken yet.
    pub fn new(mem: &'a M, addr: UserAddr, len: u32) -> CopyinRange<'a, M> {
        CopyinRange {
            mem,
            addr,
            len,
            done: 0,
        }
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> u32 {
        self.done
    }
}

impl<M: UserMemory + ?Sized> UserSource for CopyinRange<'_, M> {
    fn remaining(&self) -> usize {
        (self.len - self.done) as usize
    }

    fn take(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = buf.len().min(self.remaining());
        let at = self.addr.checked_add(self.done).ok_or(Errno::EFAULT)?;
        copyin(self.mem, at, &mut buf[..n])?;
        // `n <= len - done`, so it fits in a u32 and `done` stays <= `len`.
        self.done += n as u32;
        Ok(n)
    }
}

/// A user range a read puts its bytes into (a copy-out cursor).
#[derive(Debug)]
pub struct CopyoutRange<'a, M: UserMemory + ?Sized> {
    mem: &'a mut M,
    addr: UserAddr,
    len: u32,
    done: u32,
}

impl<'a, M: UserMemory + ?Sized> CopyoutRange<'a, M> {
    /// The `len` bytes at `addr` of `mem`, nothing put yet.
    pub fn new(mem: &'a mut M, addr: UserAddr, len: u32) -> CopyoutRange<'a, M> {
        CopyoutRange {
            mem,
            addr,
            len,
            done: 0,
        }
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u32 {
        self.done
    }
}

impl<M: UserMemory + ?Sized> UserSink for CopyoutRange<'_, M> {
    fn remaining(&self) -> usize {
        (self.len - self.done) as usize
    }

    fn put(&mut self, data: &[u8]) -> Result<usize, Errno> {
        let n = data.len().min(self.remaining());
        let at = self.addr.checked_add(self.done).ok_or(Errno::EFAULT)?;
        copyout(self.mem, at, &data[..n])?;
        self.done += n as u32;
        Ok(n)
    }
}
