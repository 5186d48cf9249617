//! One range of user memory as the buffer of a read or a write: what `fd_read` and
//! `fd_write` hand a file ([`UserSink`], [`UserSource`]), one per iovec.
//!
//! Every copy goes through [`copyin`] / [`copyout`], so the rules of those hold (no wrap
//! past the end of the address space; a fault is `EFAULT`), and the position moves only
//! past bytes that were copied. Addresses and lengths are the ABI's (`size_t` is as wide
//! as a pointer).

use super::exec_abi::{AbiAddr, UserAddress};
use super::usermem::{UserMemory, copyin, copyout};
use crate::Errno;
use crate::fdtable::{UserSink, UserSource};

/// A user range a write takes its bytes from (a copy-in cursor).
#[derive(Debug)]
pub struct CopyinRange<'a, M: UserMemory + ?Sized> {
    mem: &'a M,
    addr: AbiAddr<M>,
    len: AbiAddr<M>,
    done: AbiAddr<M>,
}

impl<'a, M: UserMemory + ?Sized> CopyinRange<'a, M> {
    /// The `len` bytes at `addr` of `mem`, nothing taken yet.
    pub fn new(mem: &'a M, addr: AbiAddr<M>, len: AbiAddr<M>) -> CopyinRange<'a, M> {
        CopyinRange {
            mem,
            addr,
            len,
            done: UserAddress::ZERO,
        }
    }

    /// Bytes taken so far.
    pub fn taken(&self) -> AbiAddr<M> {
        self.done
    }
}

impl<M: UserMemory + ?Sized> UserSource for CopyinRange<'_, M> {
    fn remaining(&self) -> usize {
        remaining(self.len, self.done)
    }

    fn take(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = buf.len().min(self.remaining());
        let at = at(self.addr, self.done)?;
        copyin(self.mem, at, &mut buf[..n])?;
        self.done = advance(self.done, n);
        Ok(n)
    }
}

/// A user range a read puts its bytes into (a copy-out cursor).
#[derive(Debug)]
pub struct CopyoutRange<'a, M: UserMemory + ?Sized> {
    mem: &'a mut M,
    addr: AbiAddr<M>,
    len: AbiAddr<M>,
    done: AbiAddr<M>,
}

impl<'a, M: UserMemory + ?Sized> CopyoutRange<'a, M> {
    /// The `len` bytes at `addr` of `mem`, nothing put yet.
    pub fn new(mem: &'a mut M, addr: AbiAddr<M>, len: AbiAddr<M>) -> CopyoutRange<'a, M> {
        CopyoutRange {
            mem,
            addr,
            len,
            done: UserAddress::ZERO,
        }
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> AbiAddr<M> {
        self.done
    }
}

impl<M: UserMemory + ?Sized> UserSink for CopyoutRange<'_, M> {
    fn remaining(&self) -> usize {
        remaining(self.len, self.done)
    }

    fn put(&mut self, data: &[u8]) -> Result<usize, Errno> {
        let n = data.len().min(self.remaining());
        let at = at(self.addr, self.done)?;
        copyout(self.mem, at, &data[..n])?;
        self.done = advance(self.done, n);
        Ok(n)
    }
}

/// `len - done` (`done <= len` always holds), saturated to `usize`.
fn remaining<A: UserAddress>(len: A, done: A) -> usize {
    usize::try_from(len.to_u64().saturating_sub(done.to_u64())).unwrap_or(usize::MAX)
}

/// The address `done` bytes past `addr`: `EFAULT` past the end of the address space.
fn at<A: UserAddress>(addr: A, done: A) -> Result<A, Errno> {
    A::from_u64(
        addr.to_u64()
            .checked_add(done.to_u64())
            .ok_or(Errno::EFAULT)?,
    )
    .ok_or(Errno::EFAULT)
}

/// `done + n`, where `n` is at most the bytes remaining, so the sum is at most `len` and
/// fits.
fn advance<A: UserAddress>(done: A, n: usize) -> A {
    done.checked_add_usize(n).unwrap_or(done)
}
