//! `dup_min(old, min)` (`F_DUPFD`): `min >= limit` is `EINVAL` before anything else,
//! then `EBADF` for `old`, then `EMFILE`; the lowest free descriptor at or above `min`.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::Fd;
use fdtable_common::*;

#[test]
fn dup_min_table() {
    // Fixture: limit 8, open 0, 1, 2, 5, 7 (file 0 at 0 with cloexec, rights R_RW).
    // (old, min, expected)
    let cases: &[(i32, i32, Result<i32, Errno>)] = &[
        (0, 0, Ok(3)),
        (0, 1, Ok(3)),
        (0, 3, Ok(3)),
        (0, 4, Ok(4)),
        (0, 5, Ok(6)),
        (0, 6, Ok(6)),
        (0, 7, Err(Errno::EMFILE)),
        (0, 8, Err(Errno::EINVAL)),
        (0, 9, Err(Errno::EINVAL)),
        (0, i32::MAX, Err(Errno::EINVAL)),
        (3, 0, Err(Errno::EBADF)),
        (3, 7, Err(Errno::EBADF)),
        (8, 0, Err(Errno::EBADF)),
        (i32::MAX, 0, Err(Errno::EBADF)),
        // EINVAL wins over EBADF.
        (3, 8, Err(Errno::EINVAL)),
        (i32::MAX, i32::MAX, Err(Errno::EINVAL)),
        (7, 2, Ok(3)),
    ];
    for &(old, min, want) in cases {
        let a = file(1);
        let b = file(2);
        let mut t = Table::with_limit(8);
        put(&mut t, 0, &a, R_RW, true);
        for n in [1, 2, 5, 7] {
            put(&mut t, n, &b, R_READ, n == 7);
        }
        let before = snapshot(&t);
        let got = t.dup_min(fd(old), fd(min));
        assert_eq!(got, want.map(fd), "dup_min({old}, {min})");
        match got {
            Ok(n) => {
                let src = before.iter().find(|s| s.fd == old).unwrap();
                let e = t.get(n).unwrap();
                assert_eq!(Arc::as_ptr(e.file()) as usize, src.ptr);
                assert_eq!(e.rights(), src.rights, "dup_min({old}, {min}): rights");
                assert_eq!(t.cloexec(n), Ok(false), "dup_min({old}, {min}): flag");
                assert_eq!(t.cloexec(fd(old)), Ok(src.cloexec), "source flag");
                let mut after = snapshot(&t);
                after.retain(|s| s.fd != n.raw());
                assert_eq!(after, before);
            }
            Err(_) => assert_eq!(snapshot(&t), before, "failed dup_min({old}, {min})"),
        }
        assert_refcounts(&[a, b], &[&t]);
    }
}

#[test]
fn dup_min_grows_to_a_high_minimum() {
    let a = file(1);
    let mut t = table_with(1000, &a, &[0]);
    assert_eq!(t.dup_min(Fd::STDIN, fd(999)), Ok(fd(999)));
    assert_eq!(t.capacity(), 1000);
    assert_eq!(t.dup_min(Fd::STDIN, fd(999)), Err(Errno::EMFILE));
    assert_eq!(t.dup_min(Fd::STDIN, fd(998)), Ok(fd(998)));
    assert_eq!(t.dup_min(Fd::STDIN, fd(1000)), Err(Errno::EINVAL));
    assert_eq!(t.lastfile(), Some(fd(999)));
    assert_eq!(Arc::strong_count(&a), 4);
}

#[test]
fn dup_min_on_a_zero_limit_table_is_einval() {
    let mut t = Table::with_limit(0);
    assert_eq!(t.dup_min(Fd::STDIN, Fd::STDIN), Err(Errno::EINVAL));
}
