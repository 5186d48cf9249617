//! The remapped primitives of FreeBSD r285622: build, install and free a table whose
//! layout is given by a descriptor list (`new fd i = old fd fds[i]`).

use super::{FdTable, FileHandle, SharedFdTable};
use crate::Errno;

/// Builds the table of a remapped exec (FreeBSD `fdcopy_remapped`): new descriptor `i`
/// refers to old descriptor `fds[i]`'s file, with its rights, close-on-exec clear.
///
/// Checks, in FreeBSD's order (the first failure wins):
/// 1. `fds.len() > lastfile + 1` gives `E2BIG` (an empty table accepts only an empty list);
/// 2. the new table is allocated (`ENOMEM`), as FreeBSD's `fdinit` comes before the loop;
/// 3. for each `i` in index order: `fds[i]` negative or above `lastfile` gives `EBADF`,
///    an empty slot `EBADF`, a file that is not passable `EINVAL`.
///
/// A failure releases every reference taken so far and never changes `old`: `old` and
/// every reference count are exactly as they were. The same source may appear several
/// times; each occurrence is its own entry with its own reference. The result is dense
/// (`0..n`). Cost O(`fds.len()`) in one pass, independent of the size of `old`.
///
/// **Differs from FreeBSD:** copied entries start with close-on-exec *cleared*. FreeBSD
/// copied the flag by accident of a struct copy; here the list is the whole truth of
/// what the new program gets.
///
/// # References
/// - FreeBSD r285622, `sys/kern/kern_descrip.c` `fdcopy_remapped`.
#[inline]
pub fn fdcopy_remapped<H: FileHandle>(old: &FdTable<H>, fds: &[i32]) -> Result<FdTable<H>, Errno> {
    check_remap_len(old, fds)?;
    // One pass, as FreeBSD does: the table is allocated first, then each entry is checked
    // and copied. On a failure `new` is dropped here, releasing every reference taken so
    // far, and `old` was never changed.
    let classes = remap_classes(old, fds);
    let mut new = FdTable::with_limit(old.limit());
    new.reserve_dense(fds.len(), classes)?;
    new.fill_remapped_from(old, fds, classes)?;
    Ok(new)
}

/// [`fdcopy_remapped`] built in place in `new`, an empty table (no open descriptor:
/// `EINVAL` otherwise, nothing changed), which takes `old`'s limit. The checks and their
/// order are [`fdcopy_remapped`]'s. The table is never moved: a kernel that has the new
/// image's storage already (a [`SharedFdTable`] made for it, a spare table in its
/// process structure) fills it directly, as FreeBSD's `fdcopy_remapped` fills the
/// `filedesc` it allocated, and installs it by swapping it in (`core::mem::swap` under
/// the lock, or the process's handle to its [`SharedFdTable`] replaced). Any storage
/// `new` had is released first. On failure
/// `new` is left empty with its own limit, every reference taken released, and `old`
/// unchanged.
///
/// # References
/// - FreeBSD r285622, `sys/kern/kern_descrip.c` `fdcopy_remapped`.
#[inline]
pub fn fdcopy_remapped_into<H: FileHandle>(
    new: &mut FdTable<H>,
    old: &FdTable<H>,
    fds: &[i32],
) -> Result<(), Errno> {
    let limit = new.begin_in_place(old.limit())?;
    let classes = remap_classes(old, fds);
    let r = check_remap_len(old, fds)
        .and_then(|()| new.reserve_dense(fds.len(), classes))
        .and_then(|()| new.fill_remapped_from(old, fds, classes));
    r.or_else(|e| new.abandon_in_place(limit, e))
}

/// Step 1 of [`fdcopy_remapped`]: `E2BIG` when the list is longer than the table.
#[inline]
pub(crate) fn check_remap_len<H: FileHandle>(old: &FdTable<H>, fds: &[i32]) -> Result<(), Errno> {
    let lastfile_plus_one = old.lastfile().map_or(0, |l| l.index() + 1);
    if fds.len() > lastfile_plus_one {
        return Err(Errno::E2BIG);
    }
    Ok(())
}

/// The most distinct rights sets a table remapped from `old` by `fds` can use: one when
/// `old`'s descriptors share one set or the descriptors `fds` names do (a scan of their
/// classes that stops at the first difference), otherwise one per descriptor and no
/// more than `old` has. More than one is what makes the copy reserve and fill a class
/// array and a pool of its own.
#[inline]
pub(crate) fn remap_classes<H>(old: &FdTable<H>, fds: &[i32]) -> usize {
    let sets = if old.uniform_rights() || old.one_class(fds) {
        1
    } else {
        old.rights_classes()
    };
    fds.len().min(sets)
}

/// Step 3 of [`fdcopy_remapped`], writing into `new` in place: `new` is empty with room
/// reserved for `fds.len()` entries and [`remap_classes`] rights sets, so this never
/// allocates; `Ok(false)` (nothing copied) when the room reserved for rights sets is too
/// small for `old` (its sets changed since). Cost O(`fds.len()`).
#[inline(always)]
pub(crate) fn fill_remapped<H: FileHandle>(
    new: &mut FdTable<H>,
    old: &FdTable<H>,
    fds: &[i32],
) -> Result<bool, Errno> {
    let Some(classes) = class_room(new, old, fds) else {
        return Ok(false);
    };
    new.fill_remapped_from(old, fds, classes)?;
    Ok(true)
}

/// [`fill_remapped`] for a moving remap: `new` is left pending (see
/// [`FdTable::fill_pending_from`]); `old` is borrowed mutably for the lock section only
/// to find descriptors named twice, and is left as it was.
#[inline(always)]
pub(crate) fn fill_remapped_pending<H: FileHandle>(
    new: &mut FdTable<H>,
    old: &mut FdTable<H>,
    fds: &[i32],
) -> Result<bool, Errno> {
    let Some(classes) = class_room(new, old, fds) else {
        return Ok(false);
    };
    new.fill_pending_from(old, fds, classes)?;
    Ok(true)
}

/// The copy's [`remap_classes`] if `new` has room reserved for them, `None` if `old`
/// gained rights sets since the room was reserved.
#[inline(always)]
fn class_room<H>(new: &FdTable<H>, old: &FdTable<H>, fds: &[i32]) -> Option<usize> {
    let classes = remap_classes(old, fds);
    (new.dense_class_room() + 1 >= classes).then_some(classes)
}

/// Installs a table built by [`fdcopy_remapped`] as the process's table (FreeBSD
/// `fdinstall_remapped`): swaps it in place under the lock and hands the old table back,
/// to be dropped (closing every file no other holder keeps) after the lock is released.
/// Cannot fail.
///
/// A table shared with *other processes* must not be swapped in place (they would see
/// the new table): such a kernel gives the exec'ing process a fresh
/// [`SharedFdTable`] instead (see `capexec::exec::Process`).
///
/// # References
/// - FreeBSD r285622, `sys/kern/kern_descrip.c` `fdinstall_remapped`.
#[must_use = "the old table must be dropped after the lock is released"]
pub fn fdinstall_remapped<H, R: lock_api::RawMutex>(
    shared: &SharedFdTable<H, R>,
    new: FdTable<H>,
) -> FdTable<H> {
    core::mem::replace(&mut *shared.lock(), new)
}

/// [`fdinstall_remapped`] in place: swaps `new`, built in place (see
/// [`fdcopy_remapped_into`]), with the process's table under the lock, so that neither
/// is moved through a return value; afterwards `new` holds the old table, to be dropped
/// after the lock is released. Cannot fail. The same rule holds: a table shared with
/// other processes must not be swapped in place.
///
/// # References
/// - FreeBSD r285622, `sys/kern/kern_descrip.c` `fdinstall_remapped` (which swaps the
///   process's `filedesc` pointer).
pub fn fdinstall_remapped_in_place<H, R: lock_api::RawMutex>(
    shared: &SharedFdTable<H, R>,
    new: &mut FdTable<H>,
) {
    core::mem::swap(&mut *shared.lock(), new);
}

/// Releases a table that was built by [`fdcopy_remapped`] but never installed (the exec
/// failed before its point of no return): drops each file reference, nothing else.
///
/// # References
/// - FreeBSD r285622, `sys/kern/kern_descrip.c` `fdescfree_remapped`.
pub fn fdescfree_remapped<H>(new: FdTable<H>) {
    drop(new);
}
