//! A descriptor table shared by the threads of a process, behind the kernel's lock.

use alloc::sync::Arc;

use lock_api::{Mutex, MutexGuard, RawMutex};

use super::entry::Closed;
use super::{Fd, FdRights, FdTable, File};
use crate::Errno;

/// The lock [`SharedFdTable`] uses when the kernel names none: a spinning raw mutex
/// (today the one of the `spin` crate). A kernel that needs an IRQ-safe or a sleeping
/// lock supplies its own [`lock_api::RawMutex`] instead; code that wants to stay
/// independent of the default should name it only through this alias and the
/// `RawMutex` trait.
pub type DefaultRawMutex = spin::Mutex<()>;

/// The guard of a locked [`SharedFdTable`]: the table, borrowed mutably until the guard
/// is dropped.
pub type SharedFdTableGuard<'a, F, R = DefaultRawMutex> = MutexGuard<'a, R, FdTable<F>>;

/// A table shared by the threads of a process: a lock around a table held by value.
///
/// The lock is the kernel's: any [`lock_api::RawMutex`] (an IRQ-safe spin lock, a
/// sleeping mutex); [`DefaultRawMutex`] spins. The convenience methods drop closed files
/// after releasing the lock, so a file's destructor never runs under it.
///
/// ```
/// use std::sync::Arc;
/// use capexec::fdtable::{FdRights, FdTable, File, FileType, Rights, SharedFdTable};
///
/// struct Pipe;
/// impl File for Pipe {
///     fn file_type(&self) -> FileType {
///         FileType::SocketStream
///     }
/// }
///
/// // The default lock; a kernel writes `SharedFdTable<Pipe, MyIrqSafeRawMutex>`.
/// let shared: SharedFdTable<Pipe> = SharedFdTable::new(FdTable::new());
/// let fd = shared
///     .lock()
///     .open(Arc::new(Pipe), FdRights::new(Rights::FD_READ, Rights::empty()))
///     .map_err(|r| r.errno)?;
/// let copy = shared.dup(fd)?;
/// shared.close(fd)?;
/// assert!(shared.lock().is_open(copy));
/// # Ok::<(), capexec::Errno>(())
/// ```
pub struct SharedFdTable<F: ?Sized, R: RawMutex = DefaultRawMutex> {
    inner: Mutex<R, FdTable<F>>,
}

impl<F: ?Sized, R: RawMutex> Default for SharedFdTable<F, R> {
    fn default() -> Self {
        SharedFdTable::new(FdTable::new())
    }
}

impl<F: ?Sized, R: RawMutex> SharedFdTable<F, R> {
    /// Wraps `table`.
    pub const fn new(table: FdTable<F>) -> SharedFdTable<F, R> {
        SharedFdTable {
            inner: Mutex::new(table),
        }
    }

    /// Locks the table. Keep the section short; drop closed files after the guard.
    #[inline]
    pub fn lock(&self) -> SharedFdTableGuard<'_, F, R> {
        self.inner.lock()
    }

    /// Locks the table if the lock is free, without waiting.
    #[inline]
    pub fn try_lock(&self) -> Option<SharedFdTableGuard<'_, F, R>> {
        self.inner.try_lock()
    }

    /// Whether the lock is currently held (for tests and assertions).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// The table, without locking: the exclusive borrow proves no other thread holds it.
    #[inline]
    pub fn get_mut(&mut self) -> &mut FdTable<F> {
        self.inner.get_mut()
    }

    /// Unwraps the table.
    pub fn into_inner(self) -> FdTable<F> {
        self.inner.into_inner()
    }

    /// The file of `fd`, with one new reference taken under the lock (FreeBSD `fget`).
    pub fn get_file(&self, fd: Fd) -> Result<(Arc<F>, FdRights), Errno> {
        let t = self.lock();
        let e = t.get(fd)?;
        Ok((e.file().clone(), e.rights()))
    }

    /// Closes `fd`; the file is released after the lock is dropped.
    pub fn close(&self, fd: Fd) -> Result<(), Errno> {
        let closed: Closed<F> = self.lock().close(fd)?;
        drop(closed);
        Ok(())
    }

    /// `dup(old)` under the lock.
    pub fn dup(&self, old: Fd) -> Result<Fd, Errno> {
        self.lock().dup(old)
    }

    /// `fd_replace(from, to)`; the replaced file is released after the lock is dropped.
    pub fn replace(&self, from: Fd, to: Fd) -> Result<(), Errno> {
        let closed = self.lock().replace(from, to)?;
        drop(closed);
        Ok(())
    }

    /// `dup2(old, new)`; the replaced file is released after the lock is dropped.
    pub fn dup2(&self, old: Fd, new: Fd) -> Result<Fd, Errno> {
        let (fd, closed) = self.lock().dup2(old, new)?;
        drop(closed);
        Ok(fd)
    }
}

impl<F: ?Sized + File, R: RawMutex> SharedFdTable<F, R> {
    /// [`fdcopy_remapped`](super::fdcopy_remapped) in one lock section, so validation and
    /// copy see one consistent snapshot while other threads use the table.
    pub fn fdcopy_remapped(&self, fds: &[i32]) -> Result<FdTable<F>, Errno> {
        let t = self.lock();
        super::fdcopy_remapped(&t, fds)
    }

    /// The fork copy in one lock section.
    pub fn fork_copy(&self) -> Result<FdTable<F>, Errno> {
        self.lock().fork_copy()
    }
}
