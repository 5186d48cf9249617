//! `set_limit(n)` (`RLIMIT_NOFILE`): new descriptors are made below `n` only; lowering it
//! closes nothing, and descriptors above it stay usable; raising it lets allocation go
//! on; it is clamped to `MAX_LIMIT`; a fork copy keeps both the limit and the
//! descriptors.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Fd, MAX_LIMIT, SharedFdTable};
use fdtable_common::*;

/// Descriptors 0..=9 open (file i at descriptor i), limit 100.
fn ten() -> (Table, Vec<std::sync::Arc<TestFile>>) {
    let files: Vec<_> = (0..10).map(file).collect();
    let mut t = Table::with_limit(100);
    for (i, f) in files.iter().enumerate() {
        put(&mut t, i as i32, f, R_RW, false);
    }
    (t, files)
}

#[test]
fn lowering_keeps_open_descriptors() {
    let (mut t, files) = ten();
    let before = snapshot(&t);
    t.set_limit(4);
    assert_eq!(t.limit(), 4);
    assert_eq!(
        snapshot(&t),
        before,
        "lowering the limit changes no descriptor"
    );
    assert_eq!(open_fds(&t), (0..10).collect::<Vec<_>>());
    assert!(std::sync::Arc::ptr_eq(t.file(fd(9)).unwrap(), &files[9]));
    assert_refcounts(&files, &[&t]);
}

#[test]
fn no_new_descriptor_at_or_above_the_limit() {
    let (mut t, files) = ten();
    t.set_limit(4);
    let extra = file(10);
    // (operation, expected)
    let r = t.open(extra.clone(), R_RW);
    assert_eq!(r.as_ref().map_err(|r| r.errno), Err(Errno::EMFILE));
    assert_eq!(t.dup(fd(9)), Err(Errno::EMFILE));
    assert_eq!(t.dup_min(fd(0), fd(2)), Err(Errno::EMFILE));
    assert_eq!(t.dup2(fd(0), fd(4)).map(|r| r.0), Err(Errno::EBADF));
    assert_eq!(t.dup2(fd(0), fd(50)).map(|r| r.0), Err(Errno::EBADF));
    // Below the limit, dup2 still works (and hands the old file back).
    let (got, closed) = t.dup2(fd(9), fd(3)).unwrap();
    assert_eq!(got, fd(3));
    assert!(closed.is_some());
    drop(closed);
    // Descriptors above the limit can still be replaced onto and closed.
    assert!(t.replace(fd(0), fd(8)).unwrap().is_some());
    drop(t.close(fd(9)).unwrap());
    drop(t.close(fd(2)).unwrap());
    // Freed below the limit: allocation goes there.
    assert_eq!(t.open(extra.clone(), R_RW).ok(), Some(fd(2)));
    assert_eq!(t.open(extra, R_RW).map_err(|r| r.errno), Err(Errno::EMFILE));
    drop(files);
}

#[test]
fn raising_lets_allocation_go_on() {
    let (mut t, _files) = ten();
    t.set_limit(10);
    assert_eq!(t.dup(fd(0)), Err(Errno::EMFILE));
    t.set_limit(12);
    assert_eq!(t.dup(fd(0)), Ok(fd(10)));
    assert_eq!(t.dup(fd(0)), Ok(fd(11)));
    assert_eq!(t.dup(fd(0)), Err(Errno::EMFILE));
    assert_eq!(t.lowest_free(Fd::STDIN), Err(Errno::EMFILE));
}

#[test]
fn clamped_to_max_limit() {
    let mut t = Table::new();
    t.set_limit(usize::MAX);
    assert_eq!(t.limit(), MAX_LIMIT);
    t.set_limit(0);
    assert_eq!(t.limit(), 0);
    assert_eq!(
        t.open(file(0), R_RW).map_err(|r| r.errno),
        Err(Errno::EMFILE)
    );
}

#[test]
fn fork_copy_keeps_limit_and_descriptors() {
    let (mut t, files) = ten();
    t.set_limit(4);
    let child = t.fork_copy().unwrap();
    assert_eq!(child.limit(), 4);
    assert_eq!(snapshot(&child), snapshot(&t));
    assert_refcounts(&files, &[&t, &child]);
}

#[test]
fn shared_table_set_limit() {
    let (t, files) = ten();
    let shared: SharedFdTable<Arc<TestFile>> = SharedFdTable::new(t);
    shared.set_limit(5);
    assert_eq!(shared.lock().limit(), 5);
    assert_eq!(shared.dup(fd(7)), Err(Errno::EMFILE));
    shared.close(fd(1)).unwrap();
    assert_eq!(shared.dup(fd(7)), Ok(fd(1)));
    let copy = shared.fork_copy().unwrap();
    assert_eq!(copy.limit(), 5);
    drop(copy);
    drop(shared);
    for f in &files {
        assert_eq!(std::sync::Arc::strong_count(f), 1);
    }
}
