//! `dup(old)`: lowest free descriptor, `EBADF` / `EMFILE`, rights copied, close-on-exec
//! cleared on the new descriptor only.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Fd, FdRights};
use fdtable_common::*;

#[test]
fn dup_table() {
    // (name, limit, open descriptors, old, expected)
    type Case = (&'static str, usize, Vec<i32>, i32, Result<i32, Errno>);
    let cases: Vec<Case> = vec![
        ("only fd", 8, vec![0], 0, Ok(1)),
        ("fills a hole", 8, vec![0, 1, 3], 3, Ok(2)),
        ("hole at 0", 8, vec![1, 2], 2, Ok(0)),
        ("word boundary", 128, (0..64).collect(), 5, Ok(64)),
        ("old is a hole", 8, vec![0, 2], 1, Err(Errno::EBADF)),
        ("old above lastfile", 8, vec![0], 5, Err(Errno::EBADF)),
        ("old far above", 8, vec![0], i32::MAX, Err(Errno::EBADF)),
        ("empty table", 8, vec![], 0, Err(Errno::EBADF)),
        ("full table", 4, vec![0, 1, 2, 3], 2, Err(Errno::EMFILE)),
        ("full 70", 70, (0..70).collect(), 69, Err(Errno::EMFILE)),
        (
            "full and old bad",
            4,
            vec![0, 1, 2, 3],
            4,
            Err(Errno::EBADF),
        ),
    ];
    for (name, limit, open, old, want) in cases {
        let a = file(1);
        let src = file(2);
        let mut t = table_with(limit, &a, &open);
        if t.is_open(fd(old)) {
            drop(t.close(fd(old)).unwrap());
            put(&mut t, old, &src, R_RW, true);
        }
        let before = snapshot(&t);
        let got = t.dup(fd(old));
        assert_eq!(got, want.map(fd), "{name}");
        match got {
            Ok(n) => {
                let e = t.get(n).unwrap();
                assert!(Arc::ptr_eq(e.file(), &src), "{name}: same file");
                assert_eq!(e.rights(), R_RW, "{name}: rights copied");
                assert_eq!(t.cloexec(n), Ok(false), "{name}: new flag cleared");
                assert_eq!(t.cloexec(fd(old)), Ok(true), "{name}: old flag kept");
                assert_eq!(t.len(), before.len() + 1);
                let mut after = snapshot(&t);
                after.retain(|s| s.fd != n.raw());
                assert_eq!(after, before, "{name}: other descriptors changed");
            }
            Err(_) => assert_eq!(snapshot(&t), before, "{name}: failed dup changed it"),
        }
        assert_refcounts(&[a, src], &[&t]);
    }
}

#[test]
fn dup_then_close_original_keeps_file() {
    let a = file(1);
    let mut t = Table::with_limit(8);
    put(&mut t, 0, &a, R_READ, false);
    assert_eq!(t.dup(fd(0)), Ok(fd(1)));
    assert_eq!(Arc::strong_count(&a), 3);
    drop(t.close(fd(0)).unwrap());
    assert!(Arc::ptr_eq(t.file(fd(1)).unwrap(), &a));
    assert_eq!(t.get(fd(1)).unwrap().rights(), R_READ);
    assert_eq!(Arc::strong_count(&a), 2);
    // The hole at 0 is the next dup target.
    assert_eq!(t.dup(fd(1)), Ok(fd(0)));
}

#[test]
fn repeated_dup_fills_in_order_and_stops_at_the_limit() {
    let a = file(1);
    let mut t = Table::with_limit(70);
    put(&mut t, 0, &a, FdRights::ALL, false);
    for want in 1..70 {
        assert_eq!(t.dup(Fd::STDIN), Ok(fd(want)));
    }
    assert_eq!(t.dup(Fd::STDIN), Err(Errno::EMFILE));
    assert_eq!(t.len(), 70);
    assert_eq!(Arc::strong_count(&a), 71);
}
