//! `replace(from, to)` (CloudABI `fd_replace`): both must be open (`EBADF`); `to` gets
//! `from`'s file and rights with close-on-exec clear; the old file at `to` is handed
//! back; `replace(fd, fd)` on an open `fd` changes nothing.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Closed, Fd};
use fdtable_common::*;

/// 0: file 0 (R_READ, cloexec), 1: file 1 (R_WRITE), 5: file 2 (R_RW, cloexec),
/// 70: file 3 (R_READ); limit 128.
fn fixture() -> (Table, Vec<Arc<TestFile>>) {
    let files: Vec<_> = (0..4).map(file).collect();
    let mut t = Table::with_limit(128);
    put(&mut t, 0, &files[0], R_READ, true);
    put(&mut t, 1, &files[1], R_WRITE, false);
    put(&mut t, 5, &files[2], R_RW, true);
    put(&mut t, 70, &files[3], R_READ, false);
    (t, files)
}

#[test]
fn replace_table() {
    // (from, to, expected: Ok(id of the file handed back) or the error)
    type Case = (i32, i32, Result<Option<usize>, Errno>);
    let cases: &[Case] = &[
        (0, 1, Ok(Some(1))),
        (1, 0, Ok(Some(0))),
        (1, 5, Ok(Some(2))),
        (70, 0, Ok(Some(0))),
        (0, 70, Ok(Some(3))),
        (0, 2, Err(Errno::EBADF)),
        (0, 71, Err(Errno::EBADF)),
        (0, 127, Err(Errno::EBADF)),
        (0, 128, Err(Errno::EBADF)),
        (0, i32::MAX, Err(Errno::EBADF)),
        (2, 0, Err(Errno::EBADF)),
        (71, 0, Err(Errno::EBADF)),
        (i32::MAX, 0, Err(Errno::EBADF)),
        (2, 3, Err(Errno::EBADF)),
        (2, 2, Err(Errno::EBADF)),
        (200, 200, Err(Errno::EBADF)),
        (0, 0, Ok(None)),
        (5, 5, Ok(None)),
        (1, 1, Ok(None)),
    ];
    for &(from, to, want) in cases {
        let (mut t, files) = fixture();
        let before = snapshot(&t);
        let cap = t.capacity();
        match t.replace(fd(from), fd(to)) {
            Ok(closed) => {
                let closed = closed.map(Closed::into_file);
                assert_eq!(
                    Ok(closed.as_ref().map(|f| f.id)),
                    want,
                    "replace({from}, {to})"
                );
                drop(closed);
                let after = snapshot(&t);
                if from == to {
                    assert_eq!(after, before, "replace({from}, {from}) changed something");
                } else {
                    let src = before.iter().find(|s| s.fd == from).unwrap();
                    let dst = after.iter().find(|s| s.fd == to).unwrap();
                    assert_eq!((dst.ptr, dst.rights), (src.ptr, src.rights));
                    assert!(!dst.cloexec, "replace({from}, {to}) kept close-on-exec");
                    let strip = |v: &[Slot]| -> Vec<Slot> {
                        v.iter().filter(|s| s.fd != to).cloned().collect()
                    };
                    assert_eq!(strip(&after), strip(&before), "replace({from}, {to})");
                    assert_eq!(t.len(), before.len());
                    assert_eq!(t.lastfile(), Some(fd(70)));
                }
            }
            Err(e) => {
                assert_eq!(Err(e), want, "replace({from}, {to})");
                assert_eq!(snapshot(&t), before, "failed replace({from}, {to})");
            }
        }
        assert_eq!(t.capacity(), cap, "replace never allocates");
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn replace_over_the_last_reference_hands_it_back() {
    let (mut t, files) = fixture();
    let closed = t.replace(fd(0), fd(1)).unwrap().unwrap().into_file();
    assert!(Arc::ptr_eq(&closed, &files[1]));
    assert_eq!(Arc::strong_count(&files[1]), 2);
    drop(closed);
    assert_eq!(Arc::strong_count(&files[1]), 1);
    assert_eq!(Arc::strong_count(&files[0]), 3);
    // Replacing a descriptor with another one of the same file is still a replacement.
    let closed = t.replace(fd(0), fd(1)).unwrap().unwrap().into_file();
    assert!(Arc::ptr_eq(&closed, &files[0]));
    drop(closed);
    assert_refcounts(&files, &[&t]);
    assert_eq!(t.lowest_free(Fd::STDIN), Ok(fd(2)));
}
