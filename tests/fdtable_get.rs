//! `get` and the other read accessors: an entry for an open descriptor, `EBADF` for a
//! negative raw number, a hole, anything above the last open descriptor or the
//! allocated slots.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Fd, FdRights};
use fdtable_common::*;

#[test]
fn get_table() {
    let a = file(1);
    let b = file(2);
    let mut t = Table::with_limit(200);
    put(&mut t, 0, &a, R_READ, false);
    put(&mut t, 2, &b, R_WRITE, true);
    put(&mut t, 64, &a, R_RW, false);
    put(&mut t, 130, &b, FdRights::NONE, true);
    let cap = t.capacity();
    assert!(cap > 130 && cap <= 200);

    // (raw descriptor, expected (file, rights, cloexec) or error)
    type Want<'a> = Result<(&'a Arc<TestFile>, FdRights, bool), Errno>;
    let cases: Vec<(i32, Want)> = vec![
        (0, Ok((&a, R_READ, false))),
        (1, Err(Errno::EBADF)),
        (2, Ok((&b, R_WRITE, true))),
        (3, Err(Errno::EBADF)),
        (63, Err(Errno::EBADF)),
        (64, Ok((&a, R_RW, false))),
        (65, Err(Errno::EBADF)),
        (129, Err(Errno::EBADF)),
        (130, Ok((&b, FdRights::NONE, true))),
        (131, Err(Errno::EBADF)),
        (cap as i32, Err(Errno::EBADF)),
        (199, Err(Errno::EBADF)),
        (200, Err(Errno::EBADF)),
        (i32::MAX, Err(Errno::EBADF)),
        (-1, Err(Errno::EBADF)),
        (i32::MIN, Err(Errno::EBADF)),
    ];
    for (raw, want) in cases {
        let got = Fd::from_raw(raw).and_then(|n| t.get(n));
        match (got, want) {
            (Ok(e), Ok((f, r, cloexec))) => {
                let n = fd(raw);
                assert!(Arc::ptr_eq(e.file(), f), "get({raw}): file");
                assert_eq!(e.rights(), r, "get({raw}): rights");
                assert!(Arc::ptr_eq(t.file(n).unwrap(), f), "file({raw})");
                assert!(t.is_open(n), "is_open({raw})");
                assert_eq!(t.cloexec(n), Ok(cloexec), "cloexec({raw})");
            }
            (Err(got), Err(want)) => {
                assert_eq!(got, want, "get({raw})");
                if let Ok(n) = Fd::from_raw(raw) {
                    assert_eq!(t.file(n).err(), Some(Errno::EBADF), "file({raw})");
                    assert!(!t.is_open(n), "is_open({raw})");
                    assert_eq!(t.cloexec(n), Err(Errno::EBADF), "cloexec({raw})");
                    assert_eq!(t.set_cloexec(n, true), Err(Errno::EBADF), "set({raw})");
                }
            }
            (got, want) => panic!("get({raw}): got {:?}, want {:?}", got.err(), want.err()),
        }
    }
    // The failed set_cloexec calls must not have opened or flagged anything.
    assert_eq!(open_fds(&t), vec![0, 2, 64, 130]);
    assert_eq!(t.capacity(), cap);
    assert_refcounts(&[a, b], &[&t]);
}

#[test]
fn get_after_close_is_ebadf() {
    let a = file(1);
    let mut t = table_with(16, &a, &[0, 1, 2]);
    drop(t.close(fd(1)).unwrap());
    assert_eq!(t.get(fd(1)).err(), Some(Errno::EBADF));
    assert!(t.get(fd(0)).is_ok() && t.get(fd(2)).is_ok());
    drop(t.close(fd(2)).unwrap());
    assert_eq!(t.get(fd(2)).err(), Some(Errno::EBADF));
    assert_eq!(t.lastfile(), Some(fd(0)));
}

#[test]
fn get_on_an_empty_table() {
    let t = Table::new();
    for raw in [0, 1, 63, 64, i32::MAX] {
        assert_eq!(t.get(fd(raw)).err(), Some(Errno::EBADF), "get({raw})");
    }
    assert_eq!(t.iter().count(), 0);
}

#[test]
fn fd_conversions() {
    // (raw, expected)
    let cases = [
        (0, Ok(0usize)),
        (1, Ok(1)),
        (i32::MAX, Ok(i32::MAX as usize)),
        (-1, Err(Errno::EBADF)),
        (-64, Err(Errno::EBADF)),
        (i32::MIN, Err(Errno::EBADF)),
    ];
    for (raw, want) in cases {
        assert_eq!(Fd::from_raw(raw).map(Fd::index), want, "from_raw({raw})");
        assert_eq!(Fd::try_from(raw).map(Fd::index), want, "try_from({raw})");
        if let Ok(n) = Fd::from_raw(raw) {
            assert_eq!(n.raw(), raw);
            assert_eq!(i32::from(n), raw);
            assert_eq!(n.to_string(), raw.to_string());
        }
    }
    assert_eq!(Fd::MAX.raw(), i32::MAX);
    assert_eq!(Fd::from_index(i32::MAX as usize), Some(Fd::MAX));
    assert_eq!(Fd::from_index(i32::MAX as usize + 1), None);
    assert_eq!(Fd::from_index(usize::MAX), None);
    assert_eq!([Fd::STDIN, Fd::STDOUT, Fd::STDERR].map(Fd::raw), [0, 1, 2]);
}
