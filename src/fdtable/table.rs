//! The descriptor table itself (FreeBSD `struct filedesc`).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::bitmap::FdBitmap;
use super::entry::{Closed, ClosedFiles, EntryRef, Rejected};
use super::rights_pool::{Class, NeedRoom, PoolSpare, RightsPool};
use super::slots::Slots;
use super::{Fd, FdRights, File, FileHandle};
use crate::Errno;

/// The default descriptor limit: 1,048,576 descriptors, Linux's `nr_open` default.
pub const DEFAULT_LIMIT: usize = 1 << 20;

/// The most descriptors any table can have: every number fits a non-negative `i32`.
pub const MAX_LIMIT: usize = i32::MAX as usize + 1;

/// What a table must grow by before an operation can go on: a larger slot array, a
/// class array for a uniform one, or room in its pool of rights sets (0: no growth of
/// that part).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Need {
    /// Slots to have (a new slot array of this length).
    pub(crate) slots: usize,
    /// Whether that slot array comes with a class array.
    pub(crate) with_classes: bool,
    /// A class array of this length for the current (uniform) slot array.
    pub(crate) class_array: usize,
    /// Heap rights classes to have room for.
    pub(crate) classes: usize,
}

impl Need {
    /// Nothing.
    const NOTHING: Need = Need {
        slots: 0,
        with_classes: false,
        class_array: 0,
        classes: 0,
    };

    /// `n` slots, with a class array when `with_classes`.
    pub(crate) fn slots(n: usize, with_classes: bool) -> Need {
        Need {
            slots: n,
            with_classes,
            ..Need::NOTHING
        }
    }
}

impl From<NeedRoom> for Need {
    fn from(r: NeedRoom) -> Need {
        Need {
            classes: r.0,
            ..Need::NOTHING
        }
    }
}

/// The slot arrays, bitmaps and rights-pool room of a table of some capacity, allocated
/// before a lock section and adopted under it ([`FdTable::adopt`]), so that a shared
/// table never calls the allocator while its lock is held.
pub(crate) struct Storage<H> {
    slots: Slots<H>,
    map: FdBitmap,
    classes: Option<Box<[Class]>>,
    pool: PoolSpare,
}

impl<H> Storage<H> {
    /// What `need` asks for: empty storage for `need.slots` descriptors (every slot
    /// free), a class array, room for `need.classes` heap rights classes. `ENOMEM` on
    /// failure.
    pub(crate) fn try_new(need: Need) -> Result<Storage<H>, Errno> {
        let slots = Slots::try_new(need.slots, need.with_classes)?;
        let mut map = FdBitmap::EMPTY;
        if need.slots > 0 {
            map.try_grow(slots.len())?;
        }
        let classes = if need.class_array > 0 {
            Some(Slots::<H>::try_class_array(need.class_array)?)
        } else {
            None
        };
        let pool = PoolSpare::try_new(need.classes)?;
        Ok(Storage {
            slots,
            map,
            classes,
            pool,
        })
    }

    /// Storage for `cap` descriptors only.
    #[cfg(test)]
    pub(crate) fn try_slots(cap: usize) -> Result<Storage<H>, Errno> {
        Storage::try_new(Need::slots(cap, false))
    }
}

/// The outcome of one lock section of an operation that may need a larger table: done,
/// or the growth to allocate (outside the lock) before trying again.
pub(crate) enum Step<T> {
    /// The operation happened.
    Done(T),
    /// Nothing changed; grow and retry.
    Grow(Need),
}

/// [`FdTable::alloc_step`]'s failures: grow and retry, or give up; the file comes back.
pub(crate) enum AllocStep<H> {
    /// Nothing changed; grow and retry with the file.
    Grow(Need, H),
    /// The insert failed.
    Rejected(Rejected<H>),
}

/// Old rights classes to new ones, for a remapped copy from a table with several sets.
/// Old classes below [`ClassMap::SMALL`] (a table with few rights sets has only those)
/// go through a table on the stack: each is acquired in the new pool once and the
/// others counted at the end; larger ones are acquired per descriptor (the pool finds
/// an existing set in O(1)).
struct ClassMap {
    /// Per small old class: its new class (`u16::MAX`: not yet) and the descriptors
    /// of it the new pool has not counted yet.
    small: [(u16, u32); ClassMap::SMALL],
    /// Whether an acquisition failed (the reservation was short).
    failed: bool,
}

impl ClassMap {
    const SMALL: usize = 16;

    fn new() -> ClassMap {
        ClassMap {
            small: [(u16::MAX, 0); ClassMap::SMALL],
            failed: false,
        }
    }

    /// The new class of one more descriptor of old class `from`. The new pool has room
    /// reserved for every set the copy can need, so an acquisition cannot fail; if the
    /// reservation was short all the same, [`finish`](Self::finish) reports `ENOMEM`.
    #[inline(always)]
    fn translate<H>(&mut self, pool: &mut RightsPool, old: &FdTable<H>, from: Class) -> Class {
        let failed = &mut self.failed;
        let mut acquire = |rights| {
            pool.acquire(rights).unwrap_or_else(|_| {
                *failed = true;
                Class(0)
            })
        };
        match self.small.get_mut(usize::from(from.0)) {
            Some((to, extra)) if *to != u16::MAX => {
                *extra += 1;
                Class(*to)
            }
            Some((to, _)) => {
                let c = acquire(old.pool.rights(from));
                *to = c.0;
                c
            }
            None => acquire(old.pool.rights(from)),
        }
    }

    /// Counts the descriptors not counted yet; `ENOMEM` if an acquisition failed.
    fn finish(self, pool: &mut RightsPool) -> Result<(), Errno> {
        if self.failed {
            return Err(Errno::ENOMEM);
        }
        for (to, extra) in self.small {
            if to != u16::MAX {
                pool.retain_n(Class(to), extra);
            }
        }
        Ok(())
    }
}

/// What [`FdTable::close_range`] does with each open descriptor in the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRange {
    /// Close it.
    Close,
    /// Only mark it close-on-exec (Linux `CLOSE_RANGE_CLOEXEC`).
    CloexecOnly,
}

/// A process's descriptor table: descriptor numbers to open files, with per-descriptor
/// close-on-exec flags and rights.
///
/// Layout: a slot holds the file handle (8 bytes for `Arc<F>`), a parallel array its
/// 2-byte rights class (no such array while every descriptor shares one set); the
/// rights sets themselves are interned in a per-table pool (at most [`MAX_RIGHTS_SETS`](super::MAX_RIGHTS_SETS)
/// distinct sets in use at once); the open and close-on-exec bits are in a two-level
/// bitmap.
///
/// The header (the first [`INLINE_SLOTS`](super::INLINE_SLOTS) slots and the rest) is
/// aligned to a 64-byte cache line and so is whole lines long (256 bytes on a 64-bit
/// target). A table returned by value is moved with `memcpy`, which copies whole 32- or
/// 64-byte vectors; at 240 bytes its last vector overlapped the one before, and the next
/// move of the same table (out of the `Result`, into its place) could not read that back
/// from the pending stores and waited for them: the remap of 3 returned by value went
/// from 46 to 34 ns (BENCHMARKS.md, "sixth round").
///
/// The table is a plain value; a process whose threads share it wraps it in a
/// [`SharedFdTable`](super::SharedFdTable). All allocation is fallible: out of memory is
/// `ENOMEM` and leaves the table as it was. An empty table allocates nothing.
///
/// # References
/// - FreeBSD `sys/sys/filedesc.h`, `sys/kern/kern_descrip.c`.
/// - POSIX.1-2017 `dup`, `dup2`, `fcntl(F_DUPFD)`, `close`.
/// - Linux `fs/file.c`.
#[repr(align(64))]
pub struct FdTable<H> {
    slots: Slots<H>,
    map: FdBitmap,
    /// The rights sets of the open descriptors.
    pool: RightsPool,
    // The counters are `u32` (every descriptor number and count is at most
    // [`MAX_LIMIT`], 2^31), so that the header stays within 128 bytes.
    /// One past the highest open descriptor (`lastfile + 1`); 0 when empty.
    end: u32,
    /// A lower bound of the lowest free descriptor (FreeBSD `fd_freefile`).
    freefile: u32,
    /// Number of open descriptors.
    open_count: u32,
    /// Descriptor numbers must be below this (FreeBSD `getmaxfd`).
    limit: u32,
}

/// A descriptor number or count (at most [`MAX_LIMIT`]) as a table counter.
#[inline(always)]
const fn counter(n: usize) -> u32 {
    debug_assert!(n <= MAX_LIMIT);
    n as u32
}

impl<H> Default for FdTable<H> {
    fn default() -> Self {
        FdTable::new()
    }
}

impl<H> core::fmt::Debug for FdTable<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut m = f.debug_map();
        for (fd, e) in self.iter() {
            m.entry(&fd.raw(), &(e.rights(), self.map.cloexec(fd.index())));
        }
        m.finish()
    }
}

impl<H> FdTable<H> {
    /// An empty table with the [`DEFAULT_LIMIT`]. Allocates nothing.
    pub const fn new() -> FdTable<H> {
        FdTable::with_limit_const(DEFAULT_LIMIT)
    }

    const fn with_limit_const(limit: usize) -> FdTable<H> {
        FdTable {
            slots: Slots::EMPTY,
            map: FdBitmap::EMPTY,
            pool: RightsPool::EMPTY,
            end: 0,
            freefile: 0,
            open_count: 0,
            limit: counter(if limit > MAX_LIMIT { MAX_LIMIT } else { limit }),
        }
    }

    /// An empty table whose descriptors must be below `limit` (clamped to
    /// [`MAX_LIMIT`]). Allocates nothing.
    pub const fn with_limit(limit: usize) -> FdTable<H> {
        FdTable::with_limit_const(limit)
    }

    /// The descriptor limit: new descriptors are allocated below it. Descriptors opened
    /// before [`set_limit`](Self::set_limit) lowered it may lie at or above it.
    #[inline]
    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// Sets the descriptor limit (`RLIMIT_NOFILE`), clamped to [`MAX_LIMIT`]. As on
    /// FreeBSD, lowering it closes nothing: descriptors at or above the new limit stay
    /// open and usable (get, close, `dup` from them, `replace` onto them), but no new
    /// descriptor is made at or above it (`open` / `dup` are `EMFILE`, `dup2` to such a
    /// number is `EBADF`). Allocates and frees nothing.
    ///
    /// # References
    /// - POSIX.1-2017 `setrlimit` (`RLIMIT_NOFILE`); FreeBSD `kern_proc_setrlimit`,
    ///   `getmaxfd`.
    #[inline]
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = counter(limit.min(MAX_LIMIT));
    }

    /// Number of open descriptors.
    #[inline]
    pub fn len(&self) -> usize {
        self.open_count as usize
    }

    /// Whether no descriptor is open.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.open_count == 0
    }

    /// The highest open descriptor (FreeBSD `fd_lastfile`), `None` when empty.
    #[inline]
    pub fn lastfile(&self) -> Option<Fd> {
        (self.end as usize).checked_sub(1).and_then(Fd::from_index)
    }

    /// Number of descriptors the table holds without growing, at most the limit: the
    /// [`INLINE_SLOTS`](super::INLINE_SLOTS) slots of its header while it is small (no
    /// allocation), then its heap slot array, which grows by doubling and never shrinks.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.slots.len().min(self.limit as usize)
    }

    /// The file and rights of `fd`: `EBADF` if it is not open.
    #[inline]
    pub fn get(&self, fd: Fd) -> Result<EntryRef<'_, H>, Errno> {
        crate::work::count(crate::work::Work::Slot);
        match self.slots.entry(fd.index()) {
            Some((file, class)) => Ok(EntryRef {
                file,
                rights: self.pool.rights(class),
            }),
            None => Err(Errno::EBADF),
        }
    }

    /// The file of `fd` (a borrow; [`try_clone`](FileHandle::try_clone) it to keep it):
    /// `EBADF` if not open. Reads the slot's handle only.
    #[inline]
    pub fn file(&self, fd: Fd) -> Result<&H, Errno> {
        crate::work::count(crate::work::Work::Slot);
        self.slots.file(fd.index()).ok_or(Errno::EBADF)
    }

    /// The rights of `fd`: `EBADF` if not open.
    #[inline]
    pub fn rights(&self, fd: Fd) -> Result<FdRights, Errno> {
        self.get(fd).map(|e| e.rights())
    }

    /// Whether `fd` is open.
    #[inline]
    pub fn is_open(&self, fd: Fd) -> bool {
        self.slots.file(fd.index()).is_some()
    }

    /// The close-on-exec flag of `fd`: `EBADF` if not open.
    #[inline]
    pub fn cloexec(&self, fd: Fd) -> Result<bool, Errno> {
        self.file(fd)?;
        Ok(self.map.cloexec(fd.index()))
    }

    /// Sets or clears the close-on-exec flag of `fd` (`fcntl(F_SETFD)`): `EBADF` if not
    /// open.
    pub fn set_cloexec(&mut self, fd: Fd, on: bool) -> Result<(), Errno> {
        self.file(fd)?;
        self.map.set_cloexec(fd.index(), on);
        Ok(())
    }

    /// Narrows the rights of `fd` to `new` (CloudABI `fd_stat_put` with
    /// `FDSTAT_RIGHTS`). Each of base and inheriting must be a subset of the current
    /// set, checked independently; widening gives `ENOTCAPABLE` and changes nothing.
    /// `EBADF` if `fd` is not open; `ENOMEM` when the new set cannot be added to the
    /// table's pool (out of memory, or [`MAX_RIGHTS_SETS`](super::MAX_RIGHTS_SETS)
    /// distinct sets in use).
    ///
    /// # References
    /// - CloudABI `fd_stat_put`; FreeBSD `cap_rights_limit(2)`.
    pub fn narrow_rights(&mut self, fd: Fd, new: FdRights) -> Result<(), Errno> {
        self.grow_and_retry(|t| t.narrow_rights_step(fd, new))
    }

    /// One attempt of [`narrow_rights`](Self::narrow_rights) that never allocates.
    pub(crate) fn narrow_rights_step(&mut self, fd: Fd, new: FdRights) -> Result<Step<()>, Errno> {
        let (_, class) = self.slots.entry(fd.index()).ok_or(Errno::EBADF)?;
        let current = self.pool.rights(class);
        current.check_narrowing(&new)?;
        if current == new {
            return Ok(Step::Done(()));
        }
        let to = match self.pool.acquire(new) {
            Ok(c) => c,
            Err(Ok(room)) => return Ok(Step::Grow(room.into())),
            Err(Err(errno)) => return Err(errno),
        };
        if !self.slots.can_hold(to) {
            self.pool.release(to);
            return Ok(Step::Grow(self.need_class_array()));
        }
        self.pool.release(class);
        self.slots.set_class(fd.index(), to);
        Ok(Step::Done(()))
    }

    /// Iterates over the open descriptors in increasing order. Cost: the number of open
    /// descriptors plus one summary word per 4,096 slots.
    pub fn iter(&self) -> impl Iterator<Item = (Fd, EntryRef<'_, H>)> + '_ {
        let mut next = 0usize;
        core::iter::from_fn(move || {
            let fd = self.map.next_open(next, self.end as usize)?;
            next = fd + 1;
            let (file, class) = self.slots.entry(fd)?;
            Some((
                Fd::from_index(fd)?,
                EntryRef {
                    file,
                    rights: self.pool.rights(class),
                },
            ))
        })
    }

    /// The lowest free descriptor at or above `min`, without allocating it: `EMFILE` if
    /// there is none below the limit. Cost: one bitmap word plus one summary word per
    /// 4,096 slots above the hint.
    ///
    /// # References
    /// - FreeBSD `fdalloc` / `fd_first_free`; Linux `find_next_fd`.
    #[inline(always)]
    pub fn lowest_free(&self, min: Fd) -> Result<Fd, Errno> {
        let start = min.index().max(self.freefile as usize);
        let fd = self
            .map
            .lowest_free_from(start)
            .unwrap_or_else(|| start.max(self.map.capacity()));
        if fd >= self.limit as usize {
            return Err(Errno::EMFILE);
        }
        Fd::from_index(fd).ok_or(Errno::EMFILE)
    }

    /// What the slot array needs to hold `n` slots (with a class array if it has one).
    #[inline]
    fn need_slots(&self, n: usize) -> Need {
        Need::slots(n, !self.slots.uniform())
    }

    /// What a uniform slot array needs to hold a second rights class.
    #[inline]
    fn need_class_array(&self) -> Need {
        Need {
            class_array: self.slots.len(),
            ..Need::NOTHING
        }
    }

    /// The capacity to grow to so that slot `fd` (below the limit) exists, by doubling up
    /// to the limit; `None` when it exists already.
    #[inline]
    pub(crate) fn growth_for(&self, fd: usize) -> Option<usize> {
        if fd < self.slots.len() {
            return None;
        }
        let need = fd.saturating_add(1);
        Some(
            need.max(self.slots.len().saturating_mul(2))
                .min((self.limit as usize).max(need)),
        )
    }

    /// Moves the table into the parts of `storage` that are larger (slots, the rights
    /// pool's room), and hands back what is no longer used (the old buffers, or the
    /// parts of `storage` not taken), to be dropped after any lock is released. Never
    /// allocates or frees. Cost: the open descriptors, plus the bitmap words holding
    /// one, plus two summary words per 4,096 descriptors; plus the rights classes when
    /// the pool grows.
    pub(crate) fn adopt(&mut self, storage: Storage<H>) -> Storage<H> {
        let Storage {
            mut slots,
            mut map,
            classes,
            pool,
        } = storage;
        let pool = self.pool.adopt(pool);
        let classes = self.slots.adopt_classes(classes);
        if slots.len() > self.slots.len() && slots.can_replace(&self.slots) {
            let mut pos = 0;
            while let Some(fd) = self.map.next_open(pos, self.end as usize) {
                crate::work::count(crate::work::Work::Slot);
                slots.move_from(&mut self.slots, fd);
                pos = fd + 1;
            }
            map.copy_used_words(&self.map, self.end as usize);
            core::mem::swap(&mut self.slots, &mut slots);
            core::mem::swap(&mut self.map, &mut map);
        }
        Storage {
            slots,
            map,
            classes,
            pool,
        }
    }

    /// Runs `step` until it is done, growing the table between attempts.
    fn grow_and_retry<T>(
        &mut self,
        mut step: impl FnMut(&mut Self) -> Result<Step<T>, Errno>,
    ) -> Result<T, Errno> {
        loop {
            match step(self)? {
                Step::Done(v) => return Ok(v),
                Step::Grow(need) => drop(self.adopt(Storage::try_new(need)?)),
            }
        }
    }

    /// Puts `file` with rights `class` (already acquired for it) into the free slot `fd`
    /// (which exists), cloexec as given.
    #[inline(always)]
    fn install(&mut self, fd: usize, file: H, class: Class, cloexec: bool) {
        debug_assert!(
            fd < self.slots.len() && self.slots.file(fd).is_none() && self.slots.can_hold(class),
            "install into slot {fd}: missing or occupied, or no class array"
        );
        if fd < self.slots.len() {
            self.slots.put(fd, file, class);
            self.map.set_open(fd, cloexec);
            self.open_count += 1;
            if fd >= self.end as usize {
                self.end = counter(fd + 1);
            }
            if fd == self.freefile as usize {
                self.freefile = counter(fd + 1);
            }
        }
    }

    /// Empties open slot `fd`, releasing its rights class; hands back its file.
    #[inline(always)]
    fn remove(&mut self, fd: usize) -> Option<H> {
        let (file, class) = self.slots.take(fd)?;
        self.pool.release(class);
        self.map.set_closed(fd);
        self.open_count -= 1;
        if fd < self.freefile as usize {
            self.freefile = counter(fd);
        }
        if fd + 1 == self.end as usize {
            self.end = counter(match fd.checked_sub(1) {
                Some(below) => self.map.prev_open(below).map_or(0, |l| l + 1),
                None => 0,
            });
        }
        Some(file)
    }

    /// Inserts `file` at the lowest free descriptor at or above `min` (FreeBSD
    /// `fdalloc` + `_finstall`). On failure (`EMFILE`, `ENOMEM`: out of memory, or
    /// `rights` would be the table's [`MAX_RIGHTS_SETS`](super::MAX_RIGHTS_SETS)` + 1`st
    /// distinct set) the file is handed back untouched and the table is unchanged.
    #[inline(always)]
    pub fn alloc(
        &mut self,
        min: Fd,
        file: H,
        rights: FdRights,
        cloexec: bool,
    ) -> Result<Fd, Rejected<H>> {
        // Fast path: the slot exists (the table need not grow).
        let fd = match self.lowest_free(min) {
            Ok(fd) => fd,
            Err(errno) => return Err(Rejected { errno, file }),
        };
        if fd.index() < self.slots.len() {
            if let Ok(class) = self.pool.acquire(rights) {
                if self.slots.can_hold(class) {
                    self.install(fd.index(), file, class, cloexec);
                    return Ok(fd);
                }
                self.pool.release(class);
            }
        }
        self.alloc_growing(min, file, rights, cloexec)
    }

    /// [`alloc`](Self::alloc) when the table must grow first.
    #[cold]
    #[inline(never)]
    fn alloc_growing(
        &mut self,
        min: Fd,
        file: H,
        rights: FdRights,
        cloexec: bool,
    ) -> Result<Fd, Rejected<H>> {
        let mut file = file;
        loop {
            match self.alloc_step(min, file, rights, cloexec) {
                Ok(fd) => return Ok(fd),
                Err(AllocStep::Rejected(r)) => return Err(r),
                Err(AllocStep::Grow(need, f)) => match Storage::try_new(need) {
                    Ok(s) => {
                        drop(self.adopt(s));
                        file = f;
                    }
                    Err(errno) => return Err(Rejected { errno, file: f }),
                },
            }
        }
    }

    /// One attempt of [`alloc`](Self::alloc) that never allocates: when the slot does
    /// not exist yet, hands the file back with the capacity to grow to.
    pub(crate) fn alloc_step(
        &mut self,
        min: Fd,
        file: H,
        rights: FdRights,
        cloexec: bool,
    ) -> Result<Fd, AllocStep<H>> {
        let fd = match self.lowest_free(min) {
            Ok(fd) => fd,
            Err(errno) => return Err(AllocStep::Rejected(Rejected { errno, file })),
        };
        if let Some(want) = self.growth_for(fd.index()) {
            return Err(AllocStep::Grow(self.need_slots(want), file));
        }
        let class = match self.pool.acquire(rights) {
            Ok(c) => c,
            Err(Ok(room)) => return Err(AllocStep::Grow(room.into(), file)),
            Err(Err(errno)) => return Err(AllocStep::Rejected(Rejected { errno, file })),
        };
        if !self.slots.can_hold(class) {
            self.pool.release(class);
            return Err(AllocStep::Grow(self.need_class_array(), file));
        }
        self.install(fd.index(), file, class, cloexec);
        Ok(fd)
    }

    /// Inserts `file` at the lowest free descriptor (`open(2)`'s allocation rule), with
    /// close-on-exec clear.
    #[inline]
    pub fn open(&mut self, file: H, rights: FdRights) -> Result<Fd, Rejected<H>> {
        self.alloc(Fd::STDIN, file, rights, false)
    }

    /// Closes `fd` and hands its file back, to be released after any lock is dropped:
    /// `EBADF` if `fd` is not open.
    ///
    /// # References
    /// - POSIX.1-2017 `close`; FreeBSD `kern_close`; CloudABI `fd_close`.
    pub fn close(&mut self, fd: Fd) -> Result<Closed<H>, Errno> {
        self.remove(fd.index()).map(Closed).ok_or(Errno::EBADF)
    }

    /// Duplicates `old` onto the lowest free descriptor (`dup(2)`, CloudABI `fd_dup`).
    /// The new descriptor has `old`'s rights and close-on-exec clear. `EBADF`, `EMFILE`,
    /// `ENOMEM`.
    pub fn dup(&mut self, old: Fd) -> Result<Fd, Errno>
    where
        H: FileHandle,
    {
        self.dup_at_least(old, Fd::STDIN)
    }

    /// `fcntl(old, F_DUPFD, min)`: duplicates `old` onto the lowest free descriptor at or
    /// above `min`. `min >= limit` gives `EINVAL` (checked first, as FreeBSD does), then
    /// `EBADF` if `old` is not open, `EMFILE` if no slot is free.
    ///
    /// # References
    /// - POSIX.1-2017 `fcntl` `F_DUPFD`; FreeBSD `kern_dup(FDDUP_FCNTL)`.
    pub fn dup_min(&mut self, old: Fd, min: Fd) -> Result<Fd, Errno>
    where
        H: FileHandle,
    {
        if min.index() >= self.limit as usize {
            return Err(Errno::EINVAL);
        }
        self.dup_at_least(old, min)
    }

    fn dup_at_least(&mut self, old: Fd, min: Fd) -> Result<Fd, Errno>
    where
        H: FileHandle,
    {
        self.grow_and_retry(|t| t.dup_step(old, min))
    }

    /// One attempt of `dup` onto the lowest free descriptor at or above `min` that never
    /// allocates.
    pub(crate) fn dup_step(&mut self, old: Fd, min: Fd) -> Result<Step<Fd>, Errno>
    where
        H: FileHandle,
    {
        self.file(old)?;
        let fd = self.lowest_free(min)?;
        if let Some(want) = self.growth_for(fd.index()) {
            return Ok(Step::Grow(self.need_slots(want)));
        }
        let (file, class) = self.share(old)?;
        self.install(fd.index(), file, class, false);
        Ok(Step::Done(fd))
    }

    /// One more reference to `fd`'s file, and its rights class retained for it.
    #[inline]
    fn share(&mut self, fd: Fd) -> Result<(H, Class), Errno>
    where
        H: FileHandle,
    {
        let (file, class) = self.slots.entry(fd.index()).ok_or(Errno::EBADF)?;
        let file = file.try_clone()?;
        self.pool.retain(class);
        Ok((file, class))
    }

    /// `dup2(old, new)`: makes `new` refer to `old`'s file with `old`'s rights and
    /// close-on-exec clear, closing what `new` held (handed back). `new >= limit` gives
    /// `EBADF`; `old` not open gives `EBADF`; `dup2(fd, fd)` returns `fd` and changes
    /// nothing (not even close-on-exec).
    ///
    /// # References
    /// - POSIX.1-2017 `dup2`; FreeBSD `kern_dup(FDDUP_FIXED)`.
    pub fn dup2(&mut self, old: Fd, new: Fd) -> Result<(Fd, Option<Closed<H>>), Errno>
    where
        H: FileHandle,
    {
        self.grow_and_retry(|t| t.dup2_step(old, new))
    }

    /// One attempt of [`dup2`](Self::dup2) that never allocates.
    #[allow(clippy::type_complexity)]
    pub(crate) fn dup2_step(
        &mut self,
        old: Fd,
        new: Fd,
    ) -> Result<Step<(Fd, Option<Closed<H>>)>, Errno>
    where
        H: FileHandle,
    {
        if new.index() >= self.limit as usize {
            return Err(Errno::EBADF);
        }
        self.file(old)?;
        if old == new {
            return Ok(Step::Done((new, None)));
        }
        if let Some(want) = self.growth_for(new.index()) {
            return Ok(Step::Grow(self.need_slots(want)));
        }
        let (file, class) = self.share(old)?;
        let closed = self.remove(new.index()).map(Closed);
        self.install(new.index(), file, class, false);
        Ok(Step::Done((new, closed)))
    }

    /// CloudABI `fd_replace(from, to)` (FreeBSD `FDDUP_MUSTREPLACE`): `to` must already
    /// be open (else `EBADF`, as is `from` not open); atomically makes `to` refer to
    /// `from`'s file with `from`'s rights and close-on-exec clear, and hands back the file
    /// `to` held. `replace(fd, fd)` on an open `fd` succeeds and changes nothing. Never
    /// allocates.
    ///
    /// # References
    /// - CloudABI `fd_replace`; FreeBSD `cloudabi_sys_fd_replace`.
    pub fn replace(&mut self, from: Fd, to: Fd) -> Result<Option<Closed<H>>, Errno>
    where
        H: FileHandle,
    {
        self.file(from)?;
        self.file(to)?;
        if from == to {
            return Ok(None);
        }
        let (file, class) = self.share(from)?;
        let old = self.slots.put(to.index(), file, class);
        self.map.set_cloexec(to.index(), false);
        Ok(old.map(|(f, c)| {
            self.pool.release(c);
            Closed(f)
        }))
    }

    /// `close_range(first, last, mode)`, inclusive and clamped to the table, calling
    /// `release` with each removed file (the caller decides when to drop them). With
    /// [`CloseRange::CloexecOnly`] nothing is closed; every open descriptor in the range
    /// is marked close-on-exec. `first > last` gives `EINVAL`. Cost: the open
    /// descriptors in range plus one summary word per 4,096 slots. Returns how many
    /// descriptors it closed or marked.
    ///
    /// # References
    /// - Linux `close_range(2)` (`CLOSE_RANGE_CLOEXEC`); FreeBSD `close_range(2)`.
    pub fn close_range_with(
        &mut self,
        first: Fd,
        last: Fd,
        mode: CloseRange,
        mut release: impl FnMut(H),
    ) -> Result<usize, Errno> {
        if first > last {
            return Err(Errno::EINVAL);
        }
        let stop = last.index().saturating_add(1);
        let mut n = 0;
        let mut pos = first.index();
        while let Some(fd) = self.map.next_open(pos, stop.min(self.end as usize)) {
            match mode {
                CloseRange::Close => {
                    if let Some(f) = self.remove(fd) {
                        release(f);
                    }
                }
                CloseRange::CloexecOnly => self.map.set_cloexec(fd, true),
            }
            n += 1;
            pos = fd + 1;
        }
        Ok(n)
    }

    /// [`close_range_with`](Self::close_range_with) that collects the closed files for
    /// release after the lock is dropped. The collection is reserved up front: `ENOMEM`
    /// closes nothing.
    pub fn close_range(
        &mut self,
        first: Fd,
        last: Fd,
        mode: CloseRange,
    ) -> Result<ClosedFiles<H>, Errno> {
        if first > last {
            return Err(Errno::EINVAL);
        }
        let mut out = Vec::new();
        if mode == CloseRange::Close {
            let count = self.count_open(first.index(), last.index());
            out.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        }
        self.close_range_with(first, last, mode, |f| out.push(f))?;
        Ok(ClosedFiles(out))
    }

    /// How many descriptors in `first..=last` are open. Cost: those descriptors plus one
    /// summary word per 4,096 slots.
    pub(crate) fn count_open(&self, first: usize, last: usize) -> usize {
        let mut n = 0;
        let mut pos = first;
        while let Some(fd) = self
            .map
            .next_open(pos, last.saturating_add(1).min(self.end as usize))
        {
            n += 1;
            pos = fd + 1;
        }
        n
    }

    /// The close-on-exec sweep of an ordinary exec (FreeBSD `fdcloseexec`): closes every
    /// descriptor marked close-on-exec, calling `release` with each file. Cost: the open
    /// descriptors plus one summary word per 4,096 slots. Returns how many it closed.
    pub fn close_on_exec_with(&mut self, mut release: impl FnMut(H)) -> usize {
        let mut n = 0;
        let mut pos = 0;
        while let Some(fd) = self.map.next_open(pos, self.end as usize) {
            if self.map.cloexec(fd) {
                if let Some(f) = self.remove(fd) {
                    release(f);
                    n += 1;
                }
            }
            pos = fd + 1;
        }
        n
    }

    /// [`close_on_exec_with`](Self::close_on_exec_with) collecting the closed files;
    /// `ENOMEM` (reserving the collection) closes nothing.
    pub fn close_on_exec(&mut self) -> Result<ClosedFiles<H>, Errno> {
        let count = self.count_cloexec();
        let mut out = Vec::new();
        out.try_reserve_exact(count).map_err(|_| Errno::ENOMEM)?;
        self.close_on_exec_with(|f| out.push(f));
        Ok(ClosedFiles(out))
    }

    /// How many open descriptors are marked close-on-exec. Cost: the open descriptors
    /// plus one summary word per 4,096 slots.
    pub(crate) fn count_cloexec(&self) -> usize {
        self.iter()
            .filter(|(fd, _)| self.map.cloexec(fd.index()))
            .count()
    }

    /// Reserves room for exactly `n` dense descriptors using at most `classes` distinct
    /// rights sets in an empty table, in place (building in place avoids moving the
    /// table header through `Result`s).
    #[inline(always)]
    pub(crate) fn reserve_dense(&mut self, n: usize, classes: usize) -> Result<(), Errno> {
        if n > 0 {
            self.slots.make_free(n, classes > 1)?;
            self.map.try_grow(n)?;
            // Class 0 is inline: the heap holds the others.
            if classes > 1 {
                self.pool = RightsPool::with_spare(PoolSpare::try_new(classes - 1)?);
            }
        }
        Ok(())
    }

    /// How many rights classes the pool has allocated (an upper bound of the distinct
    /// sets in use).
    #[inline]
    pub(crate) fn rights_classes(&self) -> usize {
        self.pool.classes()
    }

    /// Whether the slots `fds` names all have the class of the first (closed or
    /// out-of-range slots read as class 0; the copy checks them afterwards). Stops at the
    /// first difference.
    #[inline]
    pub(crate) fn one_class(&self, fds: &[i32]) -> bool {
        let mut classes = fds.iter().map(|&raw| self.slots.class(raw as usize));
        match classes.next() {
            Some(first) => classes.all(|c| c == first),
            None => true,
        }
    }

    /// Whether every descriptor has class 0 (the table keeps no class array).
    #[inline]
    pub(crate) fn uniform_rights(&self) -> bool {
        self.slots.uniform()
    }

    /// Room for heap rights classes in a table being built by `reserve_dense`.
    #[inline]
    pub(crate) fn dense_class_room(&self) -> usize {
        self.pool.heap_capacity()
    }

    /// Appends `file` with `rights` as descriptor `self.open_count` of a dense table
    /// prepared by `reserve_dense` (room already reserved, so this cannot allocate):
    /// the file comes back (nothing added) if the rights need a class beyond the room
    /// reserved.
    #[cfg(test)]
    #[inline]
    pub(crate) fn push_dense(&mut self, file: H, rights: FdRights) -> Result<(), H> {
        let Ok(class) = self.pool.acquire(rights) else {
            return Err(file);
        };
        self.slots.push(self.open_count as usize, file, class);
        self.open_count += 1;
        Ok(())
    }

    /// The copy of [`fdcopy_remapped`](super::fdcopy_remapped) into this empty table,
    /// which has room reserved for `fds.len()` slots and the copy's `classes`
    /// ([`remap_classes`](super::remap::remap_classes)) rights sets: new descriptor `i` =
    /// old descriptor `fds[i]`, checked in index order (`EBADF`, `EINVAL` for a file that
    /// is not passable). Never allocates. Cost: per descriptor one slot read, one
    /// reference taken and one slot written; from a table whose descriptors have one
    /// rights set that is all, otherwise each class is translated through a 16-entry
    /// table ([`ClassMap`]). On failure the references taken so far are released (none
    /// is ever the last one: `old` holds each file) and `self` is left to be dropped.
    #[inline(always)]
    pub(crate) fn fill_remapped_from(
        &mut self,
        old: &FdTable<H>,
        fds: &[i32],
        classes: usize,
    ) -> Result<(), Errno>
    where
        H: FileHandle,
    {
        // The handles first: one tight pass that checks every descriptor.
        self.slots.fill_dense(fds, |raw| {
            crate::work::count(crate::work::Work::Slot);
            let fd = Fd::from_raw(raw)?;
            passable(old.slots.file(fd.index()))?.try_clone()
        })?;
        self.finish_remapped(old, fds, classes)
    }

    /// [`fill_remapped_from`](Self::fill_remapped_from) for a *moving* remap: the same
    /// checks in the same order with the same errors, but the first use of each
    /// descriptor takes no reference: its slot stays free while it counts as open. A
    /// descriptor named again later in `fds` takes a reference for each later use (to
    /// find them, the first use's open bit in `old` is cleared for the length of this
    /// call, without touching `old`'s summaries; every such bit is set again before
    /// returning, so `old` is left as it was).
    ///
    /// `self` is then *pending*: it must be completed by
    /// [`move_pending_from`](Self::move_pending_from) from an unchanged `old`, or
    /// dropped (which releases the references of the later uses only).
    pub(crate) fn fill_pending_from(
        &mut self,
        old: &mut FdTable<H>,
        fds: &[i32],
        classes: usize,
    ) -> Result<(), Errno>
    where
        H: FileHandle,
    {
        /// Tables whose descriptors all lie below this find repeats in a bitset on the
        /// stack (128 bytes); larger ones mark `old`'s own open bits.
        const LOCAL: usize = 1024;
        let dst = self.slots.files_mut(0..fds.len()).ok_or(Errno::ENOMEM)?;
        let src = old.slots.files(0..old.slots.len()).unwrap_or(&[]);
        if old.end as usize <= LOCAL {
            let mut seen = [0u64; LOCAL / 64];
            let (checked, _) = check_pending(dst, src, fds, |j| {
                let bit = 1u64 << (j % 64);
                match seen.get_mut(j / 64) {
                    Some(w) if *w & bit == 0 => {
                        *w |= bit;
                        true
                    }
                    _ => false,
                }
            });
            checked?;
        } else {
            let map = &mut old.map;
            let (checked, marked) = check_pending(dst, src, fds, |j| map.mark_open(j));
            // Every first use (a free slot) marked its descriptor: unmark them all.
            for (slot, &raw) in dst[..marked].iter().zip(fds) {
                if slot.is_none() {
                    map.unmark_open(raw as usize);
                }
            }
            checked?;
        }
        self.finish_remapped(old, fds, classes)
    }

    /// The rights and counters of a remapped copy whose handles are in place.
    #[inline(always)]
    fn finish_remapped(
        &mut self,
        old: &FdTable<H>,
        fds: &[i32],
        classes: usize,
    ) -> Result<(), Errno>
    where
        H: FileHandle,
    {
        if classes <= 1 {
            // One rights set for every copy (every descriptor of `old` has class 0, or
            // there is at most one copy): class 0 here, no class array.
            if let Some(&first) = fds.first() {
                let from = old.slots.class(first as usize);
                self.pool
                    .set_uniform(old.pool.rights(from), counter(fds.len()));
            }
        } else {
            self.fill_remapped_classes(old, fds)?;
        }
        self.open_count = counter(fds.len());
        self.finish_dense();
        Ok(())
    }

    /// Completes the pending table `self`, built by
    /// [`fill_pending_from`](Self::fill_pending_from) from `old` and `fds`, by *moving*
    /// into each of its free slots the handle of the descriptor `fds` names there. `old`
    /// must not have changed since (the caller checks its lock's generation) and is
    /// about to be replaced and dropped: afterwards its moved slots are free while
    /// their open bits are set, so it must only be dropped (releasing the handles the
    /// list did not name). Cannot fail; no reference count changes.
    #[inline(always)]
    pub(crate) fn move_pending_from(&mut self, old: &mut FdTable<H>, fds: &[i32]) {
        let Some(dst) = self.slots.files_mut(0..fds.len()) else {
            return;
        };
        let src = old.slots.files_mut(0..old.slots.len()).unwrap_or(&mut []);
        for (slot, &raw) in dst.iter_mut().zip(fds) {
            if slot.is_none() {
                *slot = src.get_mut(raw as usize).and_then(Option::take);
            }
        }
    }

    /// The classes of a remapped copy from a table with several rights sets, each
    /// descriptor checked already (out of line: the one-set copy stays small).
    #[inline(never)]
    fn fill_remapped_classes(&mut self, old: &FdTable<H>, fds: &[i32]) -> Result<(), Errno> {
        let mut map = ClassMap::new();
        let (pool, slots) = (&mut self.pool, &mut self.slots);
        slots.extend_classes(
            fds.iter()
                .map(|&raw| map.translate(pool, old, old.slots.class(raw as usize))),
        );
        map.finish(pool)
    }

    /// Starts building a table in place in `self`, which must be empty (`EINVAL`
    /// otherwise): a fresh table with `limit`, any storage `self` had released. Hands
    /// back `self`'s own limit, for [`abandon_in_place`](Self::abandon_in_place).
    #[inline]
    pub(crate) fn begin_in_place(&mut self, limit: usize) -> Result<usize, Errno> {
        if self.open_count != 0 {
            return Err(Errno::EINVAL);
        }
        let own = self.limit as usize;
        if self.pristine() {
            // Empty: every bit clear and every slot free already.
            self.end = 0;
            self.freefile = 0;
            self.limit = counter(limit.min(MAX_LIMIT));
        } else {
            *self = FdTable::with_limit(limit);
        }
        Ok(own)
    }

    /// Whether this empty table holds no storage beyond its header (so that starting
    /// over in place needs no drop).
    #[inline(always)]
    fn pristine(&self) -> bool {
        self.slots.is_header_only() && self.map.is_header_only() && self.pool.is_header_only()
    }

    /// Undoes a failed in-place build: `self` becomes an empty table with `limit` again
    /// (every reference taken is released). Hands back `Err(errno)`.
    #[cold]
    pub(crate) fn abandon_in_place(&mut self, limit: usize, errno: Errno) -> Result<(), Errno> {
        *self = FdTable::with_limit(limit);
        Err(errno)
    }

    /// Finishes a dense table of `open_count` entries: bitmap and counters.
    #[inline]
    pub(crate) fn finish_dense(&mut self) {
        let n = self.open_count as usize;
        self.map.set_dense(n);
        self.end = counter(n);
        self.freefile = counter(n);
        self.open_count = counter(n);
    }
}

impl<H: FileHandle> FdTable<H> {
    /// The fork copy (FreeBSD `fdcopy`): a new table with the same descriptor numbers,
    /// close-on-exec flags and rights, one new reference per copied entry. Empty and
    /// non-passable slots stay empty. Cost: allocating the new table, plus the open
    /// descriptors. `ENOMEM`, or `EBADF` when a file's reference count cannot grow
    /// ([`FileHandle::try_clone`]), leaves everything as it was.
    ///
    /// # References
    /// - FreeBSD `fdcopy`; POSIX.1-2017 `fork` (descriptors are duplicated, close-on-exec
    ///   kept).
    pub fn fork_copy(&self) -> Result<FdTable<H>, Errno> {
        let mut new = FdTable::with_limit(self.limit as usize);
        new.prepare(self.fork_need())?;
        if !self.fork_fill(&mut new)? {
            return Err(Errno::ENOMEM);
        }
        Ok(new)
    }

    /// [`fork_copy`](Self::fork_copy) built in place in `new`, an empty table (no open
    /// descriptor: `EINVAL` otherwise, nothing changed), which takes this table's limit.
    /// The table is never moved: a kernel that has the child's storage already (its
    /// process structure, a [`SharedFdTable`](super::SharedFdTable) made for it) fills it
    /// directly, as FreeBSD's `fdcopy` fills the `filedesc` it allocated. Any storage
    /// `new` had is released first. On failure (`ENOMEM`, `EBADF`) `new` is left empty
    /// with its own limit, every reference taken released, and `self` unchanged.
    ///
    /// # References
    /// - FreeBSD `fdcopy`; POSIX.1-2017 `fork`.
    pub fn fork_copy_into(&self, new: &mut FdTable<H>) -> Result<(), Errno> {
        let limit = new.begin_in_place(self.limit as usize)?;
        match new
            .prepare(self.fork_need())
            .and_then(|()| self.fork_fill(new))
        {
            Ok(true) => Ok(()),
            Ok(false) => new.abandon_in_place(limit, Errno::ENOMEM),
            Err(e) => new.abandon_in_place(limit, e),
        }
    }

    /// What a fork copy of this table needs: the highest open descriptor plus one slots,
    /// (the header's own while that is at most [`INLINE_SLOTS`](super::INLINE_SLOTS)); room for
    /// every rights class.
    #[inline]
    pub(crate) fn fork_need(&self) -> Need {
        Need {
            slots: self.end as usize,
            with_classes: !self.slots.uniform(),
            classes: self.pool.classes() - 1,
            ..Need::NOTHING
        }
    }

    /// Copies this table into `new`, an empty table built from storage of at least
    /// [`fork_need`](Self::fork_need). Never allocates; `Ok(false)` (nothing copied) when
    /// `new` is too small. Cost: the open descriptors plus one summary word per 4,096
    /// slots below the highest one, whatever the table's size (the free slots of `new`
    /// were made free when it was allocated), plus the rights classes. `EBADF` when a
    /// reference cannot be taken: `new` then holds the references taken so far, to be
    /// dropped (after any lock), and `self` is unchanged.
    pub(crate) fn fork_fill(&self, new: &mut FdTable<H>) -> Result<bool, Errno> {
        let need = self.fork_need();
        if new.slots.len() < need.slots
            || (need.slots > 0 && !new.slots.can_replace(&self.slots))
            || !self.pool.copy_into(&mut new.pool)
        {
            return Ok(false);
        }
        self.slots
            .copy_classes_to(&mut new.slots, 0, self.end as usize);
        new.limit = self.limit;
        // A lower bound of the lowest free slot: the source's, or a dropped slot below it.
        let mut freefile = self.freefile as usize;
        // Word by word: the passable descriptors of each level-0 word are cloned, then
        // the word's open and close-on-exec bits are written once.
        let words = (self.end as usize).div_ceil(64);
        let (Some(src_files), Some(dst_files)) = (
            self.slots.files(0..self.slots.len()),
            new.slots.files_mut(0..new.slots.len()),
        ) else {
            return Ok(false);
        };
        let mut w = 0;
        while let Some(next) = self.map.next_used_word(w, words) {
            w = next + 1;
            let (open, cloexec) = self.map.word(next);
            let base = next * 64;
            let mut passed = 0u64;
            let mut result = Ok(());
            let mut bits = open;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                crate::work::count(crate::work::Work::Slot);
                let fd = base + i;
                let (Some(Some(file)), Some(d)) = (src_files.get(fd), dst_files.get_mut(fd)) else {
                    continue;
                };
                if !file.is_passable() {
                    // The copied pool counted this descriptor: it does not come along.
                    new.pool.release(self.slots.class(fd));
                    freefile = freefile.min(fd);
                    continue;
                }
                match file.try_clone() {
                    Ok(copy) => *d = Some(copy),
                    Err(errno) => {
                        result = Err(errno);
                        break;
                    }
                }
                passed |= 1 << i;
            }
            if passed != 0 {
                new.open_count += passed.count_ones();
                new.end = counter(base + 64 - passed.leading_zeros() as usize);
            }
            // Even on failure the bitmap covers every reference taken, so that the
            // table dropped by the caller is consistent.
            new.map.set_word(next, passed, cloexec);
            result?;
        }
        new.freefile = counter(freefile.min(new.end as usize));
        Ok(true)
    }
}

impl<H> FdTable<H> {
    /// An empty table with what `need` asks for (slots, with a class array if asked,
    /// room in the rights pool), whose descriptors must be below `limit`. Built in place
    /// (no storage value moved into it). `ENOMEM` on failure.
    pub(crate) fn try_for(need: Need, limit: usize) -> Result<FdTable<H>, Errno> {
        let mut t = FdTable::with_limit(limit);
        t.prepare(need)?;
        Ok(t)
    }

    /// Gives this empty table what `need` asks for, in place (see
    /// [`try_for`](Self::try_for)).
    #[inline]
    pub(crate) fn prepare(&mut self, need: Need) -> Result<(), Errno> {
        if need.slots > 0 {
            self.slots.make_free(need.slots, need.with_classes)?;
            self.map.try_grow(self.slots.len())?;
        }
        if need.classes > 0 {
            self.pool = RightsPool::with_spare(PoolSpare::try_new(need.classes)?);
        }
        Ok(())
    }

    /// The rights sets in use with the number of descriptors using each, for tests.
    #[cfg(test)]
    pub(crate) fn rights_sets(&self) -> Vec<(FdRights, u32)> {
        self.pool.live()
    }
}

impl<H: FileHandle> PartialEq for FdTable<H> {
    /// Two tables are equal when they have the same limit, the same open descriptors
    /// referring to the *same* files (pointer identity), with the same rights and
    /// close-on-exec flags.
    fn eq(&self, other: &Self) -> bool {
        self.limit == other.limit
            && self.open_count == other.open_count
            && self.end == other.end
            && self.iter().zip(other.iter()).all(|((fa, a), (fb, b))| {
                fa == fb
                    && a.file().same_file(b.file())
                    && a.rights() == b.rights()
                    && self.map.cloexec(fa.index()) == other.map.cloexec(fb.index())
            })
    }
}

/// The file of a descriptor a remap names, `file` its slot's content: `EBADF` for an
/// empty slot (or none), `EINVAL` for a file that may not be passed on. The checks of
/// FreeBSD's `fdcopy_remapped` loop after the range check, in its order.
#[inline(always)]
fn passable<H: FileHandle>(file: Option<&H>) -> Result<&H, Errno> {
    let file = file.ok_or(Errno::EBADF)?;
    if file.is_passable() {
        Ok(file)
    } else {
        Err(Errno::EINVAL)
    }
}

/// The checks of [`FdTable::fill_pending_from`] over the old table's slots `src`, in
/// index order: `first_use(j)` says whether descriptor `j` is named for the first time
/// (its slot in `dst` stays free) or again (it takes a reference now). Hands back the
/// first failure, if any, and how many entries passed.
#[inline(always)]
fn check_pending<H: FileHandle>(
    dst: &mut [Option<H>],
    src: &[Option<H>],
    fds: &[i32],
    mut first_use: impl FnMut(usize) -> bool,
) -> (Result<(), Errno>, usize) {
    let mut passed = 0;
    for (slot, &raw) in dst.iter_mut().zip(fds) {
        crate::work::count(crate::work::Work::Slot);
        let j = match Fd::from_raw(raw) {
            Ok(fd) => fd.index(),
            Err(e) => return (Err(e), passed),
        };
        let file = match passable(src.get(j).and_then(Option::as_ref)) {
            Ok(file) => file,
            Err(e) => return (Err(e), passed),
        };
        if !first_use(j) {
            // Named before: this use gets a reference of its own.
            match file.try_clone() {
                Ok(h) => *slot = Some(h),
                Err(e) => return (Err(e), passed),
            }
        }
        passed += 1;
    }
    (Ok(()), passed)
}
