//! The pitfalls listed at the end of the descriptor-table spec, one named test each.
//!
//! This test binary runs on an allocator that refuses any single request above 1 GiB,
//! like a kernel heap would, so that "try to grow to 2^31 slots" gives a deterministic
//! `ENOMEM` instead of depending on the host's memory and overcommit policy.

mod fdtable_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Fd, FdRights, FdTable, MAX_LIMIT, fdinstall_remapped};
use fdtable_common::*;

const HEAP_REQUEST_CAP: usize = 1 << 30;

struct CappedHeap;

// SAFETY: every call is forwarded to `System` unchanged, except requests above the cap,
// which report failure (a null pointer) as the `GlobalAlloc` contract allows.
unsafe impl GlobalAlloc for CappedHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HEAP_REQUEST_CAP {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HEAP_REQUEST_CAP {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > HEAP_REQUEST_CAP {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static HEAP: CappedHeap = CappedHeap;

#[test]
fn pitfall_next_fit_instead_of_lowest_free() {
    let a = file(1);
    let mut t = table_with(64, &a, &[0, 1, 2, 3, 4]);
    // (descriptor to close, or -1 to open; expected descriptor of the open)
    let steps: &[(i32, i32)] = &[(1, 0), (-1, 1), (3, 0), (1, 0), (-1, 1), (-1, 3), (-1, 5)];
    for &(close, want) in steps {
        if close >= 0 {
            drop(t.close(fd(close)).unwrap());
        } else {
            assert_eq!(t.open(Arc::clone(&a), R_READ).unwrap(), fd(want));
        }
    }
    // Across a word boundary too: a hole at 2 wins over the free slots above 64.
    let mut t = table_with(128, &a, &(0..70).collect::<Vec<_>>());
    drop(t.close(fd(2)).unwrap());
    drop(t.close(fd(65)).unwrap());
    assert_eq!(t.open(Arc::clone(&a), R_READ).unwrap(), fd(2));
    assert_eq!(t.open(Arc::clone(&a), R_READ).unwrap(), fd(65));
    assert_eq!(t.open(Arc::clone(&a), R_READ).unwrap(), fd(70));
}

#[test]
fn pitfall_cloexec_stored_on_the_open_file_so_dup_shares_it() {
    let a = file(1);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, R_READ, true);
    assert_eq!(t.dup(fd(0)), Ok(fd(1)));
    assert_eq!(t.cloexec(fd(0)), Ok(true));
    assert_eq!(t.cloexec(fd(1)), Ok(false), "dup shared the flag");
    t.set_cloexec(fd(1), true).unwrap();
    t.set_cloexec(fd(0), false).unwrap();
    assert_eq!(t.cloexec(fd(1)), Ok(true), "clearing one cleared the other");
    // Two separate opens of one file are independent as well.
    put(&mut t, 2, &a, R_READ, false);
    assert_eq!(t.cloexec(fd(2)), Ok(false));
    let swept = t.close_on_exec().unwrap();
    assert_eq!(swept.len(), 1);
    drop(swept);
    assert_eq!(open_fds(&t), vec![0, 2]);
}

#[test]
fn pitfall_cloexec_applied_at_fork_instead_of_exec() {
    let a = file(1);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, R_READ, false);
    put(&mut t, 1, &a, R_READ, true);
    put(&mut t, 2, &a, R_READ, true);
    let mut child = t.fork_copy().unwrap();
    assert_eq!(
        open_fds(&child),
        vec![0, 1, 2],
        "fork closed close-on-exec entries"
    );
    assert_eq!(child.cloexec(fd(1)), Ok(true), "fork cleared the flag");
    assert_eq!(child.cloexec(fd(2)), Ok(true));
    drop(child.close_on_exec().unwrap());
    assert_eq!(open_fds(&child), vec![0]);
    assert_eq!(open_fds(&t), vec![0, 1, 2]);
}

#[test]
fn pitfall_huge_target_on_a_small_limit_table() {
    let a = file(1);
    let mut t = table_with(64, &a, &[0, 1]);
    let cap = t.capacity();
    let before = snapshot(&t);
    for raw in [64, 65, 1 << 20, i32::MAX] {
        let n = fd(raw);
        assert_eq!(t.dup2(fd(0), n).err(), Some(Errno::EBADF), "dup2 to {raw}");
        assert_eq!(t.dup_min(fd(0), n), Err(Errno::EINVAL), "dup_min {raw}");
        assert_eq!(
            t.replace(fd(0), n).err(),
            Some(Errno::EBADF),
            "replace {raw}"
        );
        assert_eq!(t.close(n).err(), Some(Errno::EBADF), "close {raw}");
        let rej = t.alloc(n, Arc::clone(&a), R_READ, false).unwrap_err();
        assert_eq!(rej.errno, Errno::EMFILE, "alloc at {raw}");
        assert_eq!(t.capacity(), cap, "{raw}: the table was resized");
    }
    for raw in [-1, -2, i32::MIN] {
        let r = Fd::from_raw(raw).and_then(|n| t.dup2(fd(0), n).map(|(n, _)| n));
        assert_eq!(r, Err(Errno::EBADF), "dup2 to {raw}");
    }
    assert_eq!(snapshot(&t), before);
    assert_eq!(Arc::strong_count(&a), 3);
}

#[test]
fn pitfall_huge_target_on_a_max_limit_table() {
    // 2^31 slots of 20-24 bytes do not fit a 32-bit address space and exceed the
    // 1 GiB heap cap on 64-bit: the growth must fail with ENOMEM, never panic or abort,
    // and leave the table as it was.
    let a = file(1);
    let mut t = Table::with_limit(usize::MAX);
    assert_eq!(t.limit(), MAX_LIMIT);
    put(&mut t, 0, &a, R_READ, true);
    let before = snapshot(&t);
    let cap = t.capacity();
    assert_eq!(t.lowest_free(Fd::MAX), Ok(Fd::MAX));
    assert_eq!(t.dup2(fd(0), Fd::MAX).err(), Some(Errno::ENOMEM));
    assert_eq!(t.dup_min(fd(0), Fd::MAX), Err(Errno::ENOMEM));
    let rej = t.alloc(Fd::MAX, Arc::clone(&a), R_READ, false).unwrap_err();
    assert_eq!(rej.errno, Errno::ENOMEM);
    assert!(Arc::ptr_eq(&rej.file, &a));
    drop(rej);
    assert_eq!(snapshot(&t), before);
    assert_eq!(t.capacity(), cap);
    assert_eq!(Arc::strong_count(&a), 2);
    // Errors that do not depend on memory still come first.
    assert_eq!(t.dup2(fd(1), Fd::MAX).err(), Some(Errno::EBADF));
    // The table keeps working after the failed growths.
    assert_eq!(t.dup(fd(0)), Ok(fd(1)));
    assert_eq!(t.dup2(fd(0), fd(1000)).map(|(n, _)| n), Ok(fd(1000)));
    assert!(t.capacity() > 1000);
}

#[test]
fn pitfall_dup2_same_fd_clears_cloexec() {
    let a = file(1);
    let mut t = Table::with_limit(8);
    put(&mut t, 3, &a, R_RW, true);
    let (n, closed) = t.dup2(fd(3), fd(3)).unwrap();
    assert_eq!(n, fd(3));
    assert!(closed.is_none());
    assert_eq!(
        t.cloexec(fd(3)),
        Ok(true),
        "dup2(fd, fd) cleared close-on-exec"
    );
    assert!(t.replace(fd(3), fd(3)).unwrap().is_none());
    assert_eq!(
        t.cloexec(fd(3)),
        Ok(true),
        "replace(fd, fd) cleared close-on-exec"
    );
    assert_eq!(t.get(fd(3)).unwrap().rights(), R_RW);
    assert_eq!(Arc::strong_count(&a), 2);
}

#[test]
fn pitfall_close_of_an_empty_slot_returns_success() {
    let a = file(1);
    let mut t = table_with(128, &a, &[0, 2, 64]);
    for raw in [1, 3, 63, 65, 127, 128, i32::MAX] {
        assert_eq!(t.close(fd(raw)).err(), Some(Errno::EBADF), "close({raw})");
    }
    drop(t.close(fd(2)).unwrap());
    assert_eq!(t.close(fd(2)).err(), Some(Errno::EBADF), "second close(2)");
    assert_eq!(Table::new().close(Fd::STDIN).err(), Some(Errno::EBADF));
    assert_eq!(open_fds(&t), vec![0, 64]);
}

#[test]
fn pitfall_file_destructor_run_while_the_table_lock_is_held() {
    let (shared, log, make) = watched(16);
    for i in 0..4 {
        shared.lock().open(make(i, true), FdRights::ALL).unwrap();
    }
    shared.close(fd(0)).unwrap();
    shared.replace(fd(1), fd(2)).unwrap();
    shared.dup2(fd(1), fd(3)).unwrap();
    let old = fdinstall_remapped(&shared, FdTable::with_limit(16));
    drop(old);
    assert_eq!(log.total(), 4, "every file was released");
    assert_eq!(log.under_lock(), 0, "a destructor ran under the table lock");
}

#[test]
fn pitfall_unwrap_on_a_user_supplied_number() {
    let a = file(1);
    let mut t = table_with(8, &a, &[0]);
    for raw in [-1, -2, -64, i32::MIN] {
        assert_eq!(Fd::from_raw(raw), Err(Errno::EBADF), "from_raw({raw})");
        assert_eq!(Fd::try_from(raw), Err(Errno::EBADF), "try_from({raw})");
        let closed = Fd::from_raw(raw).and_then(|n| t.close(n).map(drop));
        assert_eq!(closed, Err(Errno::EBADF));
        let got = Fd::from_raw(raw).and_then(|n| t.get(n).map(drop));
        assert_eq!(got, Err(Errno::EBADF));
        assert_eq!(
            capexec::fdtable::fdcopy_remapped(&t, &[raw]).err(),
            Some(Errno::EBADF),
            "remap list [{raw}]"
        );
    }
    assert_eq!(open_fds(&t), vec![0]);
    assert_eq!(Arc::strong_count(&a), 2);
}
