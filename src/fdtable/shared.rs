//! A descriptor table shared by the threads of a process.

use alloc::sync::Arc;

use super::entry::Closed;
use super::{Fd, FdRights, FdTable, File};
use crate::Errno;

/// A table shared by the threads of a process: a `spin` lock around a table held by
/// value. The convenience methods drop closed files after releasing the lock, so a
/// file's destructor never runs under it.
#[derive(Default)]
pub struct SharedFdTable<F: ?Sized> {
    inner: spin::Mutex<FdTable<F>>,
}

impl<F: ?Sized> SharedFdTable<F> {
    /// Wraps `table`.
    pub const fn new(table: FdTable<F>) -> SharedFdTable<F> {
        SharedFdTable {
            inner: spin::Mutex::new(table),
        }
    }

    /// Locks the table. Keep the section short; drop closed files after the guard.
    #[inline]
    pub fn lock(&self) -> spin::MutexGuard<'_, FdTable<F>> {
        self.inner.lock()
    }

    /// Whether the lock is currently held (for tests and assertions).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
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

impl<F: ?Sized + File> SharedFdTable<F> {
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
