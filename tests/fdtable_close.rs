//! `close(fd)`: `EBADF` unless open; the removed file is handed back (so it can be
//! released after any lock), the flag goes with the slot, lastfile and the lowest free
//! descriptor follow.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::Fd;
use fdtable_common::*;

#[test]
fn close_table() {
    // (raw descriptor to close, expected error, open descriptors afterwards, lastfile)
    type Case = (i32, Option<Errno>, &'static [i32], Option<i32>);
    let steps: &[Case] = &[
        (1, Some(Errno::EBADF), &[0, 5, 63, 64, 200], Some(200)),
        (6, Some(Errno::EBADF), &[0, 5, 63, 64, 200], Some(200)),
        (201, Some(Errno::EBADF), &[0, 5, 63, 64, 200], Some(200)),
        (255, Some(Errno::EBADF), &[0, 5, 63, 64, 200], Some(200)),
        (
            i32::MAX,
            Some(Errno::EBADF),
            &[0, 5, 63, 64, 200],
            Some(200),
        ),
        (-1, Some(Errno::EBADF), &[0, 5, 63, 64, 200], Some(200)),
        (200, None, &[0, 5, 63, 64], Some(64)),
        (200, Some(Errno::EBADF), &[0, 5, 63, 64], Some(64)),
        (64, None, &[0, 5, 63], Some(63)),
        (0, None, &[5, 63], Some(63)),
        (0, Some(Errno::EBADF), &[5, 63], Some(63)),
        (63, None, &[5], Some(5)),
        (5, None, &[], None),
        (5, Some(Errno::EBADF), &[], None),
    ];
    let files: Vec<_> = (0..5).map(file).collect();
    let mut t = Table::with_limit(256);
    for (i, n) in [0, 5, 63, 64, 200].into_iter().enumerate() {
        put(&mut t, n, &files[i], R_RW, i % 2 == 0);
    }
    let cap = t.capacity();
    for &(raw, err, after, last) in steps {
        let before = snapshot(&t);
        match Fd::from_raw(raw).and_then(|n| t.close(n)) {
            Ok(closed) => {
                assert_eq!(err, None, "close({raw}) should have failed");
                let slot = before.iter().find(|s| s.fd == raw).expect("was open");
                let f = closed.into_file();
                assert_eq!(Arc::as_ptr(&f) as usize, slot.ptr, "close({raw}): file");
                // The handed-back reference is still counted until the caller drops it.
                assert_eq!(Arc::strong_count(&f), 2, "close({raw}): count");
                drop(f);
                assert_eq!(Arc::strong_count(&files[slot.id]), 1);
            }
            Err(e) => {
                assert_eq!(Some(e), err, "close({raw})");
                assert_eq!(
                    snapshot(&t),
                    before,
                    "failed close({raw}) changed the table"
                );
            }
        }
        assert_eq!(open_fds(&t), after, "after close({raw})");
        assert_eq!(
            t.lastfile().map(Fd::raw),
            last,
            "lastfile after close({raw})"
        );
        assert_eq!(t.capacity(), cap);
        assert_eq!(t.lowest_free(Fd::STDIN), slow_lowest_free(&t, 0));
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn close_then_reuse_starts_with_cloexec_clear() {
    let a = file(1);
    let b = file(2);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, R_READ, true);
    put(&mut t, 1, &a, R_READ, true);
    drop(t.close(fd(0)).unwrap());
    assert_eq!(t.open(Arc::clone(&b), R_WRITE).unwrap(), fd(0));
    assert_eq!(t.cloexec(fd(0)), Ok(false));
    assert_eq!(t.get(fd(0)).unwrap().rights(), R_WRITE);
    assert!(Arc::ptr_eq(t.file(fd(0)).unwrap(), &b));
    assert_eq!(t.cloexec(fd(1)), Ok(true));
}

#[test]
fn close_keeps_other_descriptors_of_the_same_file() {
    let a = file(1);
    let mut t = table_with(16, &a, &[0, 1, 2]);
    assert_eq!(Arc::strong_count(&a), 4);
    let closed = t.close(fd(1)).unwrap();
    assert_eq!(Arc::strong_count(&a), 4);
    drop(closed);
    assert_eq!(Arc::strong_count(&a), 3);
    assert!(Arc::ptr_eq(t.file(fd(0)).unwrap(), &a));
    assert!(Arc::ptr_eq(t.file(fd(2)).unwrap(), &a));
}
