//! The typed descriptor number.

use crate::Errno;

/// A descriptor number: a non-negative index into a descriptor table.
///
/// The only way to make one from what a system call receives is [`Fd::from_raw`] (or
/// `TryFrom<i32>`), which rejects negative numbers with `EBADF`. Inside the crate the
/// number is a `u32`, so it can never be negative and never needs a cast to index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(u32);

impl Fd {
    /// Standard input, descriptor 0.
    pub const STDIN: Fd = Fd(0);
    /// Standard output, descriptor 1.
    pub const STDOUT: Fd = Fd(1);
    /// Standard error, descriptor 2.
    pub const STDERR: Fd = Fd(2);
    /// The largest descriptor number (`i32::MAX`), so every `Fd` fits a C `int`.
    pub const MAX: Fd = Fd(i32::MAX as u32);

    /// The checked conversion from a raw `int`: negative is `EBADF`.
    #[inline]
    pub const fn from_raw(raw: i32) -> Result<Fd, Errno> {
        if raw < 0 {
            Err(Errno::EBADF)
        } else {
            Ok(Fd(raw as u32))
        }
    }

    /// A descriptor from an index known to be at most [`Fd::MAX`]; `None` above it.
    #[inline]
    pub const fn from_index(index: usize) -> Option<Fd> {
        if index <= i32::MAX as usize {
            Some(Fd(index as u32))
        } else {
            None
        }
    }

    /// The descriptor as the `int` a system call returns (never negative).
    #[inline]
    pub const fn raw(self) -> i32 {
        self.0 as i32
    }

    /// The descriptor as a table index.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl TryFrom<i32> for Fd {
    type Error = Errno;
    #[inline]
    fn try_from(raw: i32) -> Result<Fd, Errno> {
        Fd::from_raw(raw)
    }
}

impl From<Fd> for i32 {
    #[inline]
    fn from(fd: Fd) -> i32 {
        fd.raw()
    }
}

impl core::fmt::Display for Fd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}
