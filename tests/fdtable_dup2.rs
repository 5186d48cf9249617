//! `dup2(old, new)`: `new` may be free or open (its file handed back); `new >= limit`
//! and `old` not open are `EBADF`; `dup2(fd, fd)` returns `fd` and touches nothing;
//! otherwise `new` gets `old`'s file and rights with close-on-exec clear.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Closed, Fd};
use fdtable_common::*;

/// Open descriptors of the fixture: 0 (file 0, cloexec), 1 (file 1), 3 (file 2,
/// cloexec), 64 (file 3); limit 100.
fn fixture() -> (Table, Vec<Arc<TestFile>>) {
    let files: Vec<_> = (0..4).map(file).collect();
    let mut t = Table::with_limit(100);
    put(&mut t, 0, &files[0], R_READ, true);
    put(&mut t, 1, &files[1], R_WRITE, false);
    put(&mut t, 3, &files[2], R_RW, true);
    put(&mut t, 64, &files[3], R_RW, false);
    (t, files)
}

#[test]
fn dup2_table() {
    // (old, new, expected result, id of the file handed back)
    type Case = (i32, i32, Result<i32, Errno>, Option<usize>);
    let cases: &[Case] = &[
        (0, 2, Ok(2), None),
        (0, 1, Ok(1), Some(1)),
        (1, 0, Ok(0), Some(0)),
        (0, 3, Ok(3), Some(2)),
        (3, 64, Ok(64), Some(3)),
        (0, 65, Ok(65), None),
        (0, 99, Ok(99), None),
        (64, 63, Ok(63), None),
        (0, 100, Err(Errno::EBADF), None),
        (0, 1000, Err(Errno::EBADF), None),
        (0, i32::MAX, Err(Errno::EBADF), None),
        (2, 5, Err(Errno::EBADF), None),
        (2, 1, Err(Errno::EBADF), None),
        (65, 1, Err(Errno::EBADF), None),
        (100, 1, Err(Errno::EBADF), None),
        (i32::MAX, 1, Err(Errno::EBADF), None),
        (2, 2, Err(Errno::EBADF), None),
        (2, 100, Err(Errno::EBADF), None),
        (0, 0, Ok(0), None),
        (3, 3, Ok(3), None),
        (1, 1, Ok(1), None),
    ];
    for &(old, new, want, closed_id) in cases {
        let (mut t, files) = fixture();
        let before = snapshot(&t);
        let cap = t.capacity();
        let got = t.dup2(fd(old), fd(new));
        match got {
            Ok((n, closed)) => {
                assert_eq!(Ok(n.raw()), want, "dup2({old}, {new})");
                let closed = closed.map(Closed::into_file);
                assert_eq!(
                    closed.as_ref().map(|f| f.id),
                    closed_id,
                    "dup2({old}, {new})"
                );
                drop(closed);
                let src = before.iter().find(|s| s.fd == old).unwrap();
                let e = t.get(n).unwrap();
                assert_eq!(
                    Arc::as_ptr(e.file()) as usize,
                    src.ptr,
                    "dup2({old}, {new})"
                );
                assert_eq!(e.rights(), src.rights, "dup2({old}, {new}): rights");
                let mut after = snapshot(&t);
                if old == new {
                    assert_eq!(after, before, "dup2({old}, {old}) changed something");
                } else {
                    assert_eq!(t.cloexec(n), Ok(false), "dup2({old}, {new}): flag");
                    after.retain(|s| s.fd != new);
                    let mut rest = before.clone();
                    rest.retain(|s| s.fd != new);
                    assert_eq!(after, rest, "dup2({old}, {new}): others changed");
                    assert!(t.capacity() > new as usize);
                }
            }
            Err(e) => {
                assert_eq!(Err(e), want, "dup2({old}, {new})");
                assert_eq!(snapshot(&t), before, "failed dup2({old}, {new})");
                assert_eq!(t.capacity(), cap, "failed dup2({old}, {new}) grew");
            }
        }
        assert_eq!(t.lowest_free(Fd::STDIN), slow_lowest_free(&t, 0));
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn dup2_same_fd_keeps_close_on_exec_and_rights() {
    for flag in [false, true] {
        let a = file(1);
        let mut t = Table::with_limit(8);
        put(&mut t, 4, &a, R_WRITE, flag);
        let (n, closed) = t.dup2(fd(4), fd(4)).unwrap();
        assert_eq!(n, fd(4));
        assert!(closed.is_none());
        assert_eq!(t.cloexec(fd(4)), Ok(flag));
        assert_eq!(t.get(fd(4)).unwrap().rights(), R_WRITE);
        assert_eq!(Arc::strong_count(&a), 2);
    }
}

#[test]
fn dup2_onto_the_last_slot_and_over_the_limit() {
    let a = file(1);
    let mut t = table_with(70, &a, &[0]);
    assert_eq!(t.dup2(fd(0), fd(69)).map(|(n, _)| n), Ok(fd(69)));
    assert_eq!(t.lastfile(), Some(fd(69)));
    assert_eq!(t.capacity(), 70);
    assert_eq!(t.dup2(fd(0), fd(70)).err(), Some(Errno::EBADF));
    assert_eq!(t.capacity(), 70);
    // Closing the top lowers lastfile back.
    drop(t.close(fd(69)).unwrap());
    assert_eq!(t.lastfile(), Some(fd(0)));
}

#[test]
fn dup2_over_the_last_reference_releases_it_through_the_caller() {
    let a = file(1);
    let b = file(2);
    let mut t = Table::with_limit(8);
    put(&mut t, 0, &a, R_READ, false);
    put(&mut t, 1, &b, R_READ, false);
    let (_, closed) = t.dup2(fd(0), fd(1)).unwrap();
    let closed = closed.expect("descriptor 1 was open").into_file();
    assert!(Arc::ptr_eq(&closed, &b));
    assert_eq!(Arc::strong_count(&b), 2);
    drop(closed);
    assert_eq!(Arc::strong_count(&b), 1);
    assert_eq!(Arc::strong_count(&a), 3);
}
