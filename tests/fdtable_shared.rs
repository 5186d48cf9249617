//! `SharedFdTable`: every convenience method releases the lock, on success and on
//! error, and no file destructor ever runs while the table lock is held.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{CloseRange, Fd, FdTable, SharedFdTable, fdinstall_remapped};
use fdtable_common::*;

type Call<'a> = Box<dyn Fn() -> Result<(), Errno> + 'a>;

#[test]
fn every_method_releases_the_lock() {
    let (shared, log, make) = watched(8);
    let a = make(0, true);
    shared.lock().open(Arc::clone(&a), R_RW).unwrap();
    // (name, result of the call as Result<(), Errno>)
    let calls: Vec<(&str, Call)> = vec![
        ("get_file ok", Box::new(|| shared.get_file(fd(0)).map(drop))),
        (
            "get_file bad",
            Box::new(|| shared.get_file(fd(5)).map(drop)),
        ),
        ("dup ok", Box::new(|| shared.dup(fd(0)).map(drop))),
        ("dup bad", Box::new(|| shared.dup(fd(7)).map(drop))),
        ("dup2 ok", Box::new(|| shared.dup2(fd(0), fd(5)).map(drop))),
        ("dup2 bad", Box::new(|| shared.dup2(fd(0), fd(8)).map(drop))),
        ("replace ok", Box::new(|| shared.replace(fd(0), fd(1)))),
        ("replace bad", Box::new(|| shared.replace(fd(0), fd(6)))),
        ("close ok", Box::new(|| shared.close(fd(5)))),
        ("close bad", Box::new(|| shared.close(fd(5)))),
        ("fork ok", Box::new(|| shared.fork_copy().map(drop))),
        (
            "remap ok",
            Box::new(|| shared.fdcopy_remapped(&[0]).map(drop)),
        ),
        (
            "remap bad",
            Box::new(|| shared.fdcopy_remapped(&[-1]).map(drop)),
        ),
    ];
    for (name, call) in &calls {
        let r = call();
        assert_eq!(r.is_ok(), name.ends_with("ok"), "{name}: {r:?}");
        assert!(!shared.is_locked(), "{name} left the lock held");
    }
    drop(calls);
    assert_eq!(open_fds(&*shared.lock()), vec![0, 1]);
    assert_refcounts(std::slice::from_ref(&a), &[&*shared.lock()]);
    assert_eq!(log.under_lock(), 0);
}

#[test]
fn get_file_takes_a_reference() {
    let (shared, _log, make) = watched(8);
    let a = make(0, true);
    shared.lock().open(Arc::clone(&a), R_WRITE).unwrap();
    let (f, r) = shared.get_file(fd(0)).unwrap();
    assert!(Arc::ptr_eq(&f, &a));
    assert_eq!(r, R_WRITE);
    assert_eq!(Arc::strong_count(&a), 3);
    assert_eq!(shared.get_file(fd(1)).err(), Some(Errno::EBADF));
    // The reference outlives a close.
    shared.close(fd(0)).unwrap();
    assert_eq!(Arc::strong_count(&a), 2);
    drop(f);
    assert_eq!(Arc::strong_count(&a), 1);
}

#[test]
fn destructors_run_after_the_lock_is_released() {
    let (shared, log, make) = watched(16);
    // Each step drops the last reference of one file through the shared table.
    shared.lock().open(make(0, true), R_RW).unwrap(); // 0
    shared.lock().open(make(1, true), R_RW).unwrap(); // 1
    shared.lock().open(make(2, true), R_RW).unwrap(); // 2
    shared.lock().open(make(3, true), R_RW).unwrap(); // 3
    assert_eq!(log.total(), 0);
    shared.close(fd(3)).unwrap();
    assert_eq!(log.total(), 1, "close released the last reference");
    shared.replace(fd(0), fd(2)).unwrap();
    assert_eq!(log.total(), 2, "replace released the last reference");
    shared.dup2(fd(0), fd(1)).unwrap();
    assert_eq!(log.total(), 3, "dup2 released the last reference");
    // Failures release nothing.
    assert!(shared.close(fd(3)).is_err());
    assert!(shared.replace(fd(0), fd(9)).is_err());
    assert!(shared.dup2(fd(9), fd(0)).is_err());
    assert_eq!(log.total(), 3);
    // Installing a new table and dropping the old one after the call.
    let new = FdTable::with_limit(16);
    let old = fdinstall_remapped(&shared, new);
    assert_eq!(log.total(), 3);
    drop(old);
    assert_eq!(log.total(), 4, "the old table held the last file");
    assert_eq!(log.under_lock(), 0, "a destructor ran under the table lock");
}

#[test]
fn the_detector_sees_a_destructor_under_the_lock() {
    // Negative control: dropping a closed file while still holding the guard is what
    // the other tests must never observe.
    let (shared, log, make) = watched(8);
    shared.lock().open(make(0, true), R_RW).unwrap();
    {
        let mut guard = shared.lock();
        let closed = guard.close(Fd::STDIN).unwrap();
        drop(closed);
        drop(guard);
    }
    assert_eq!(log.total(), 1);
    assert_eq!(log.under_lock(), 1);
}

#[test]
fn batch_closes_released_after_the_guard() {
    let (shared, log, make) = watched(128);
    for i in 0..100 {
        let cloexec = i % 3 == 0;
        shared
            .lock()
            .alloc(Fd::STDIN, make(i, true), R_RW, cloexec)
            .unwrap();
    }
    let swept = shared.lock().close_on_exec().unwrap();
    assert_eq!(swept.len(), 34);
    assert_eq!(log.total(), 0, "files are held by the collection");
    drop(swept);
    assert_eq!(log.total(), 34);
    let closed = shared
        .lock()
        .close_range(fd(0), Fd::MAX, CloseRange::Close)
        .unwrap();
    assert_eq!(closed.len(), 66);
    drop(closed);
    assert_eq!(log.total(), 100);
    assert_eq!(log.under_lock(), 0);
    assert!(shared.lock().is_empty());
}

#[test]
fn threads_share_one_table() {
    let (shared, log, make) = watched(4096);
    let a = make(0, true);
    shared.lock().open(Arc::clone(&a), R_RW).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..200 {
                    let n = shared.dup(Fd::STDIN).unwrap();
                    assert!(n != Fd::STDIN);
                    shared.close(n).unwrap();
                }
            });
        }
    });
    assert_eq!(open_fds(&*shared.lock()), vec![0]);
    assert_eq!(Arc::strong_count(&a), 2);
    assert_eq!(log.under_lock(), 0);
}

#[test]
fn into_inner_hands_back_the_table() {
    let (shared, _log, make) = watched(8);
    let a = make(0, true);
    shared.lock().open(Arc::clone(&a), R_READ).unwrap();
    let plain: SharedFdTable<Arc<LockFile>> = SharedFdTable::new(FdTable::with_limit(8));
    assert!(plain.into_inner().is_empty());
    let shared = Arc::try_unwrap(shared).ok().expect("only handle");
    let t = shared.into_inner();
    assert_eq!(open_fds(&t), vec![0]);
    assert_eq!(t.limit(), 8);
}
