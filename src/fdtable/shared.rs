//! A descriptor table shared by the threads of a process, behind the kernel's lock.

use alloc::vec::Vec;

use lock_api::{Mutex, MutexGuard, RawMutex};

use super::entry::{Closed, Rejected};
use super::remap::{check_remap_len, fill_remapped, fill_remapped_pending, remap_classes};
use super::table::{AllocStep, Step, Storage};
use super::{CloseRange, Fd, FdRights, FdTable, FileHandle};
use crate::Errno;

/// The lock [`SharedFdTable`] uses when the kernel names none: a spinning raw mutex
/// (today the one of the `spin` crate). A kernel that needs an IRQ-safe or a sleeping
/// lock supplies its own [`lock_api::RawMutex`] instead; code that wants to stay
/// independent of the default should name it only through this alias and the
/// `RawMutex` trait.
pub type DefaultRawMutex = spin::Mutex<()>;

/// The guard of a locked [`SharedFdTable`]: the table, borrowed mutably until the guard
/// is dropped. Each mutable borrow through it counts as a change of the table (see
/// [`SharedFdTableGuard::generation`]).
pub struct SharedFdTableGuard<'a, H, R: RawMutex = DefaultRawMutex> {
    guard: MutexGuard<'a, R, Locked<H>>,
}

/// What the lock protects: the table and its generation.
struct Locked<H> {
    table: FdTable<H>,
    /// Bumped by every mutable borrow of `table`.
    generation: u64,
}

impl<H, R: RawMutex> SharedFdTableGuard<'_, H, R> {
    /// The table's generation now (reading it changes nothing): a count of the mutable
    /// borrows of the table so far (through this guard's `DerefMut` or
    /// [`SharedFdTable::get_mut`]). Equal generations prove the table did not change in
    /// between; an exec's moving remap relies on it (`Process::fd_table_exclusive`).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.guard.generation
    }
}

impl<H, R: RawMutex> core::ops::Deref for SharedFdTableGuard<'_, H, R> {
    type Target = FdTable<H>;

    #[inline(always)]
    fn deref(&self) -> &FdTable<H> {
        &self.guard.table
    }
}

impl<H, R: RawMutex> core::ops::DerefMut for SharedFdTableGuard<'_, H, R> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut FdTable<H> {
        let locked = &mut *self.guard;
        locked.generation = locked.generation.wrapping_add(1);
        &mut locked.table
    }
}

/// A table shared by the threads of a process: a lock around a table held by value.
///
/// The lock is the kernel's: any [`lock_api::RawMutex`] (an IRQ-safe spin lock, a
/// sleeping mutex); [`DefaultRawMutex`] spins.
///
/// The methods of this type keep lock sections short and allocation-free:
/// - nothing is allocated or freed while the lock is held. An operation that needs
///   memory (growing the table, a fork copy, a remapped copy, the list of files closed
///   by `close_range`) measures under the lock, releases it, allocates, locks again,
///   checks that what it measured still holds, and retries otherwise, as Linux's
///   `expand_files` does;
/// - closed files are released after the lock is dropped, so a file's destructor never
///   runs under it;
/// - a lock section costs the descriptors the operation touches: O(`fds.len()`) for a
///   remapped copy, O(open descriptors) for a fork copy or for moving the table into
///   larger storage, plus one summary word per 4,096 slots.
///
/// [`lock`](Self::lock) gives the table itself; [`FdTable`]'s own methods allocate where
/// they need to, so a kernel that must not allocate under its lock uses the methods
/// here.
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
/// // Arc handles and the default lock; a kernel may write
/// // `SharedFdTable<KernelRef, IrqSafeRawMutex>`.
/// let shared: SharedFdTable<Arc<Pipe>> = SharedFdTable::new(FdTable::new());
/// let fd = shared
///     .open(Arc::new(Pipe), FdRights::new(Rights::FD_READ, Rights::empty()))
///     .map_err(|r| r.errno)?;
/// let copy = shared.dup(fd)?;
/// shared.close(fd)?;
/// assert!(shared.lock().is_open(copy));
/// # Ok::<(), capexec::Errno>(())
/// ```
pub struct SharedFdTable<H, R: RawMutex = DefaultRawMutex> {
    inner: Mutex<R, Locked<H>>,
}

impl<H: FileHandle, R: RawMutex> Default for SharedFdTable<H, R> {
    fn default() -> Self {
        SharedFdTable::new(FdTable::new())
    }
}

impl<H, R: RawMutex> SharedFdTable<H, R> {
    /// Wraps `table`.
    pub const fn new(table: FdTable<H>) -> SharedFdTable<H, R> {
        SharedFdTable {
            inner: Mutex::new(Locked {
                table,
                generation: 0,
            }),
        }
    }

    /// Locks the table. Keep the section short; drop closed files after the guard.
    #[inline]
    pub fn lock(&self) -> SharedFdTableGuard<'_, H, R> {
        SharedFdTableGuard {
            guard: self.inner.lock(),
        }
    }

    /// Locks the table if the lock is free, without waiting.
    #[inline]
    pub fn try_lock(&self) -> Option<SharedFdTableGuard<'_, H, R>> {
        self.inner
            .try_lock()
            .map(|guard| SharedFdTableGuard { guard })
    }

    /// Whether the lock is currently held (for tests and assertions).
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// The table, without locking: the exclusive borrow proves no other thread holds it.
    /// Counts as a change (see [`SharedFdTableGuard::generation`]).
    #[inline]
    pub fn get_mut(&mut self) -> &mut FdTable<H> {
        let locked = self.inner.get_mut();
        locked.generation = locked.generation.wrapping_add(1);
        &mut locked.table
    }

    /// Unwraps the table.
    pub fn into_inner(self) -> FdTable<H> {
        self.inner.into_inner().table
    }
}

impl<H: FileHandle, R: RawMutex> SharedFdTable<H, R> {
    /// The file of `fd`, with one new reference taken under the lock (FreeBSD `fget`):
    /// `EBADF` if `fd` is not open or the file's reference count cannot grow.
    pub fn get_file(&self, fd: Fd) -> Result<(H, FdRights), Errno> {
        let t = self.lock();
        let e = t.get(fd)?;
        Ok((e.file().try_clone()?, e.rights()))
    }

    /// Runs `step` under the lock until it is done; when it asks for a larger table the
    /// storage is allocated with the lock released, then adopted under the lock at the
    /// next attempt (unless another thread grew the table meanwhile). Storage no longer
    /// used is freed after the lock is released.
    fn grow_and_retry<T>(
        &self,
        mut step: impl FnMut(&mut FdTable<H>) -> Result<Step<T>, Errno>,
    ) -> Result<T, Errno> {
        let mut spare: Option<Storage<H>> = None;
        loop {
            let mut t = self.lock();
            let unused = spare.take().map(|s| t.adopt(s));
            let r = step(&mut t);
            drop(t);
            drop(unused);
            match r? {
                Step::Done(v) => return Ok(v),
                Step::Grow(need) => spare = Some(Storage::try_new(need)?),
            }
        }
    }

    /// Inserts `file` at the lowest free descriptor at or above `min`
    /// ([`FdTable::alloc`]), growing the table outside the lock. On failure (`EMFILE`,
    /// `ENOMEM`) the file is handed back and the table is unchanged.
    pub fn alloc(
        &self,
        min: Fd,
        file: H,
        rights: FdRights,
        cloexec: bool,
    ) -> Result<Fd, Rejected<H>> {
        let mut file = file;
        let mut spare: Option<Storage<H>> = None;
        loop {
            let mut t = self.lock();
            let unused = spare.take().map(|s| t.adopt(s));
            let r = t.alloc_step(min, file, rights, cloexec);
            drop(t);
            drop(unused);
            match r {
                Ok(fd) => return Ok(fd),
                Err(AllocStep::Rejected(r)) => return Err(r),
                Err(AllocStep::Grow(need, f)) => match Storage::try_new(need) {
                    Ok(s) => {
                        spare = Some(s);
                        file = f;
                    }
                    Err(errno) => return Err(Rejected { errno, file: f }),
                },
            }
        }
    }

    /// Inserts `file` at the lowest free descriptor with close-on-exec clear
    /// ([`FdTable::open`]).
    #[inline]
    pub fn open(&self, file: H, rights: FdRights) -> Result<Fd, Rejected<H>> {
        self.alloc(Fd::STDIN, file, rights, false)
    }

    /// Closes `fd`; the file is released after the lock is dropped.
    pub fn close(&self, fd: Fd) -> Result<(), Errno> {
        let closed: Closed<H> = self.lock().close(fd)?;
        drop(closed);
        Ok(())
    }

    /// `dup(old)` ([`FdTable::dup`]), growing the table outside the lock.
    pub fn dup(&self, old: Fd) -> Result<Fd, Errno> {
        self.grow_and_retry(|t| t.dup_step(old, Fd::STDIN))
    }

    /// `fcntl(old, F_DUPFD, min)` ([`FdTable::dup_min`]), growing the table outside the
    /// lock.
    pub fn dup_min(&self, old: Fd, min: Fd) -> Result<Fd, Errno> {
        self.grow_and_retry(|t| {
            if min.index() >= t.limit() {
                return Err(Errno::EINVAL);
            }
            t.dup_step(old, min)
        })
    }

    /// `fd_replace(from, to)`; the replaced file is released after the lock is dropped.
    pub fn replace(&self, from: Fd, to: Fd) -> Result<(), Errno> {
        let closed = self.lock().replace(from, to)?;
        drop(closed);
        Ok(())
    }

    /// `dup2(old, new)` ([`FdTable::dup2`]), growing the table outside the lock; the
    /// replaced file is released after the lock is dropped.
    pub fn dup2(&self, old: Fd, new: Fd) -> Result<Fd, Errno> {
        let (fd, closed) = self.grow_and_retry(|t| t.dup2_step(old, new))?;
        drop(closed);
        Ok(fd)
    }

    /// Sets or clears the close-on-exec flag of `fd` ([`FdTable::set_cloexec`]).
    pub fn set_cloexec(&self, fd: Fd, on: bool) -> Result<(), Errno> {
        self.lock().set_cloexec(fd, on)
    }

    /// Narrows the rights of `fd` ([`FdTable::narrow_rights`]).
    pub fn narrow_rights(&self, fd: Fd, new: FdRights) -> Result<(), Errno> {
        self.grow_and_retry(|t| t.narrow_rights_step(fd, new))
    }

    /// `close_range(first, last, mode)` ([`FdTable::close_range`]): returns how many
    /// descriptors it closed or marked. The list of closed files is allocated outside
    /// the lock, and the files are released after it.
    pub fn close_range(&self, first: Fd, last: Fd, mode: CloseRange) -> Result<usize, Errno> {
        if mode == CloseRange::CloexecOnly {
            return self.lock().close_range_with(first, last, mode, drop);
        }
        if first > last {
            return Err(Errno::EINVAL);
        }
        self.close_collecting(
            |t| t.count_open(first.index(), last.index()),
            |t, out| t.close_range_with(first, last, mode, |f| out.push(f)),
        )
    }

    /// The close-on-exec sweep of an ordinary exec ([`FdTable::close_on_exec`]): returns
    /// how many descriptors it closed. The list of closed files is allocated outside the
    /// lock, and the files are released after it.
    pub fn close_on_exec(&self) -> Result<usize, Errno> {
        self.close_collecting(FdTable::count_cloexec, |t, out| {
            Ok(t.close_on_exec_with(|f| out.push(f)))
        })
    }

    /// Counts under the lock the files `close` will remove, reserves a list for them
    /// outside it, and closes under the lock once the list is large enough.
    fn close_collecting(
        &self,
        count: impl Fn(&FdTable<H>) -> usize,
        close: impl FnOnce(&mut FdTable<H>, &mut Vec<H>) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut out: Vec<H> = Vec::new();
        loop {
            let mut t = self.lock();
            let n = count(&t);
            if n <= out.capacity() {
                let r = close(&mut t, &mut out);
                drop(t);
                drop(out);
                return r;
            }
            drop(t);
            out.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        }
    }
}

impl<H: FileHandle, R: RawMutex> SharedFdTable<H, R> {
    /// [`fdcopy_remapped`](super::fdcopy_remapped) with validation and copy in one lock
    /// section, so they see one consistent snapshot while other threads use the table.
    /// The new table is allocated before that section (after a first, short one that
    /// checks `E2BIG`), and freed after it on failure. The section costs
    /// O(`fds.len()`). (The table is returned by value: see
    /// [`fdcopy_remapped_into`](Self::fdcopy_remapped_into) to build it in place.)
    pub fn fdcopy_remapped(&self, fds: &[i32]) -> Result<FdTable<H>, Errno> {
        let mut new = FdTable::new();
        self.fdcopy_remapped_into(&mut new, fds)?;
        Ok(new)
    }

    /// [`fdcopy_remapped_into`](super::fdcopy_remapped_into) from this table, with
    /// validation and copy in one lock section as in
    /// [`fdcopy_remapped`](Self::fdcopy_remapped): `new`, an empty table (`EINVAL`
    /// otherwise, nothing changed) that is not this one's, gets the copy and this table's
    /// limit. Its storage is made before the section; on failure the references taken
    /// are released after it, and `new` is left empty with its own limit.
    pub fn fdcopy_remapped_into(&self, new: &mut FdTable<H>, fds: &[i32]) -> Result<(), Errno> {
        self.copy_remapped_into::<false>(new, fds).map(|_| ())
    }

    /// The first half of a *moving* remap, for an exec whose process is this table's only
    /// user: [`fdcopy_remapped_into`](Self::fdcopy_remapped_into) with the same checks,
    /// errors and storage, but no reference taken for the first use of each descriptor
    /// (a later use of the same descriptor takes one). `new` is left *pending*: those
    /// slots are free while their descriptors count as open. Hands back the table's
    /// [`generation`](SharedFdTableGuard::generation) at the end of the section. `new` must only be
    /// completed by [`fdinstall_remapped_moving`](Self::fdinstall_remapped_moving) with
    /// the same `fds` and that generation, or dropped.
    pub(crate) fn fdcopy_remapped_pending_into(
        &self,
        new: &mut FdTable<H>,
        fds: &[i32],
    ) -> Result<u64, Errno> {
        self.copy_remapped_into::<true>(new, fds)
    }

    /// The second half of a moving remap, at an exec's point of no return: in one lock
    /// section, if the table's generation is still `generation` (nothing changed since
    /// `new` was built), moves the handles of the pending `new`'s free slots out of this
    /// table and swaps the two tables. `new` then holds the old table, to be dropped
    /// after the lock is released (it releases the handles the list did not name); half
    /// emptied, it must not be used otherwise.
    ///
    /// `false` if the table changed in between (by a thread the kernel did not stop):
    /// nothing changed, `new` still pending; the exec starts over.
    ///
    /// Per descriptor passed, this is two atomic reference-count operations fewer than
    /// [`fdcopy_remapped`](Self::fdcopy_remapped) followed by dropping the old table.
    pub(crate) fn fdinstall_remapped_moving(
        &self,
        new: &mut FdTable<H>,
        fds: &[i32],
        generation: u64,
    ) -> bool {
        let mut t = self.lock();
        if t.generation() != generation {
            return false;
        }
        new.move_pending_from(&mut t, fds);
        core::mem::swap(&mut *t, new);
        true
    }

    /// [`fdcopy_remapped_into`](Self::fdcopy_remapped_into), or its pending form; hands
    /// back the generation at the end of the filling section.
    #[inline(always)]
    fn copy_remapped_into<const PENDING: bool>(
        &self,
        new: &mut FdTable<H>,
        fds: &[i32],
    ) -> Result<u64, Errno> {
        if !new.is_empty() {
            return Err(Errno::EINVAL);
        }
        let (mut limit, mut classes) = {
            let t = self.lock();
            check_remap_len(&t, fds)?;
            (t.limit(), remap_classes(&t, fds))
        };
        let own = new.limit();
        loop {
            let reserved = new
                .begin_in_place(limit)
                .and_then(|_| new.reserve_dense(fds.len(), classes));
            if let Err(e) = reserved {
                return new.abandon_in_place(own, e).map(|()| 0);
            }
            let mut t = self.lock();
            let filled = check_remap_len(&t, fds).and_then(|()| {
                new.set_limit(t.limit());
                if PENDING {
                    fill_remapped_pending(new, &mut t, fds)
                } else {
                    fill_remapped(new, &t, fds)
                }
            });
            // The table gained rights sets in between: reserve again (outside the lock).
            if let Ok(false) = filled {
                limit = t.limit();
                classes = remap_classes(&t, fds);
                drop(t);
                continue;
            }
            let generation = t.generation();
            drop(t);
            // On failure the references taken so far are released here, after the lock.
            return match filled {
                Ok(_) => Ok(generation),
                Err(e) => new.abandon_in_place(own, e).map(|()| generation),
            };
        }
    }

    /// [`FdTable::set_limit`] (`RLIMIT_NOFILE`) in one lock section of O(1).
    pub fn set_limit(&self, limit: usize) {
        self.lock().set_limit(limit);
    }

    /// The fork copy ([`FdTable::fork_copy`]) in one lock section of O(open
    /// descriptors): the new table is allocated before it, sized by a first short
    /// section, and allocated again if the table grew in between.
    pub fn fork_copy(&self) -> Result<FdTable<H>, Errno> {
        let (mut need, mut limit) = {
            let t = self.lock();
            (t.fork_need(), t.limit())
        };
        loop {
            let mut new = FdTable::try_for(need, limit)?;
            let t = self.lock();
            match t.fork_fill(&mut new) {
                Ok(false) => {
                    // The table grew in between: allocate again (outside the lock).
                    need = t.fork_need();
                    limit = t.limit();
                    drop(t);
                    drop(new);
                }
                filled => {
                    drop(t);
                    // On failure `new` (with the references taken so far) is freed
                    // here, after the lock.
                    return filled.map(|_| new);
                }
            }
        }
    }
}
