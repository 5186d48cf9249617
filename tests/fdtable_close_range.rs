//! `close_range(first, last, mode)`: inclusive, clamped to the table, `first > last`
//! is `EINVAL`; `CloexecOnly` closes nothing and marks every open descriptor in range.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{CloseRange, Fd, INLINE_SLOTS};
use fdtable_common::*;

const OPEN: &[i32] = &[0, 1, 2, 5, 63, 64, 65, 100, 190];
/// Descriptors of the fixture that start with close-on-exec set.
const FLAGGED: &[i32] = &[2, 64, 190];

fn fixture() -> (Table, Vec<Arc<TestFile>>) {
    let files: Vec<_> = (0..OPEN.len()).map(file).collect();
    let mut t = Table::with_limit(200);
    for (i, &n) in OPEN.iter().enumerate() {
        put(&mut t, n, &files[i], R_RW, FLAGGED.contains(&n));
    }
    (t, files)
}

/// (first, last, expected: open descriptors in range, or the error)
fn cases() -> Vec<(i32, i32, Result<Vec<i32>, Errno>)> {
    let in_range = |a: i32, b: i32| -> Result<Vec<i32>, Errno> {
        Ok(OPEN.iter().copied().filter(|&n| a <= n && n <= b).collect())
    };
    vec![
        (0, i32::MAX, in_range(0, i32::MAX)),
        (0, 0, Ok(vec![0])),
        (1, 5, Ok(vec![1, 2, 5])),
        (3, 4, Ok(vec![])),
        (6, 63, Ok(vec![63])),
        (63, 64, Ok(vec![63, 64])),
        (64, 64, Ok(vec![64])),
        (65, 65, Ok(vec![65])),
        (66, 99, Ok(vec![])),
        (100, 199, Ok(vec![100, 190])),
        (190, 190, Ok(vec![190])),
        (191, 199, Ok(vec![])),
        (200, 1000, Ok(vec![])),
        (3, i32::MAX, in_range(3, i32::MAX)),
        (i32::MAX, i32::MAX, Ok(vec![])),
        (5, 4, Err(Errno::EINVAL)),
        (1, 0, Err(Errno::EINVAL)),
        (i32::MAX, 0, Err(Errno::EINVAL)),
        (300, 200, Err(Errno::EINVAL)),
    ]
}

#[test]
fn close_range_close_mode_table() {
    for (first, last, want) in cases() {
        let (mut t, files) = fixture();
        let before = snapshot(&t);
        let cap = t.capacity();
        let got = t.close_range(fd(first), fd(last), CloseRange::Close);
        match (got, want) {
            (Ok(closed), Ok(want)) => {
                assert_eq!(closed.len(), want.len(), "close_range({first}, {last})");
                assert_eq!(closed.is_empty(), want.is_empty());
                let mut got_ptrs: Vec<usize> = closed
                    .into_files()
                    .iter()
                    .map(|f| Arc::as_ptr(f) as usize)
                    .collect();
                let mut want_ptrs: Vec<usize> = before
                    .iter()
                    .filter(|s| want.contains(&s.fd))
                    .map(|s| s.ptr)
                    .collect();
                got_ptrs.sort_unstable();
                want_ptrs.sort_unstable();
                assert_eq!(got_ptrs, want_ptrs, "close_range({first}, {last}) files");
                let rest: Vec<Slot> = before
                    .iter()
                    .filter(|s| !want.contains(&s.fd))
                    .cloned()
                    .collect();
                assert_eq!(snapshot(&t), rest, "close_range({first}, {last})");
            }
            (Err(e), Err(w)) => {
                assert_eq!(e, w, "close_range({first}, {last})");
                assert_eq!(snapshot(&t), before);
            }
            (g, w) => panic!(
                "close_range({first}, {last}): {:?} vs {w:?}",
                g.map(|c| c.len())
            ),
        }
        assert_eq!(t.capacity(), cap, "close_range({first}, {last}) resized");
        assert_eq!(t.lowest_free(Fd::STDIN), slow_lowest_free(&t, 0));
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn close_range_cloexec_mode_table() {
    for (first, last, want) in cases() {
        let (mut t, files) = fixture();
        let before = snapshot(&t);
        let got = t.close_range(fd(first), fd(last), CloseRange::CloexecOnly);
        match (got, want) {
            (Ok(closed), Ok(want)) => {
                assert!(closed.is_empty(), "CloexecOnly closed something");
                let expect: Vec<Slot> = before
                    .iter()
                    .map(|s| Slot {
                        cloexec: s.cloexec || want.contains(&s.fd),
                        ..s.clone()
                    })
                    .collect();
                assert_eq!(snapshot(&t), expect, "CloexecOnly({first}, {last})");
            }
            (Err(e), Err(w)) => {
                assert_eq!(e, w, "CloexecOnly({first}, {last})");
                assert_eq!(snapshot(&t), before);
            }
            (g, w) => panic!(
                "CloexecOnly({first}, {last}): {:?} vs {w:?}",
                g.map(|c| c.len())
            ),
        }
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn close_range_with_reports_each_file_and_a_count() {
    for mode in [CloseRange::Close, CloseRange::CloexecOnly] {
        for (first, last, want) in cases() {
            let (mut t, files) = fixture();
            let mut released = Vec::new();
            let got = t.close_range_with(fd(first), fd(last), mode, |f| released.push(f.id));
            match want {
                Ok(want) => {
                    assert_eq!(got, Ok(want.len()), "{mode:?}({first}, {last})");
                    let want_ids: Vec<usize> = if mode == CloseRange::Close {
                        let ids = OPEN.iter().enumerate();
                        ids.filter(|(_, n)| want.contains(n))
                            .map(|(i, _)| i)
                            .collect()
                    } else {
                        vec![]
                    };
                    released.sort_unstable();
                    assert_eq!(released, want_ids, "{mode:?}({first}, {last}) released");
                }
                Err(e) => {
                    assert_eq!(got, Err(e));
                    assert!(released.is_empty());
                }
            }
            assert_refcounts(&files, &[&t]);
        }
    }
}

#[test]
fn close_range_marks_only_open_descriptors() {
    let (mut t, _files) = fixture();
    drop(
        t.close_range(Fd::STDIN, Fd::MAX, CloseRange::CloexecOnly)
            .unwrap(),
    );
    // Holes in the range stay holes: nothing opened, and a new descriptor in a former
    // hole starts with the flag clear.
    assert_eq!(open_fds(&t), OPEN);
    let a = file(99);
    assert_eq!(t.open(Arc::clone(&a), R_READ).unwrap(), fd(3));
    assert_eq!(t.cloexec(fd(3)), Ok(false));
    // A sweep now closes everything that was in range.
    let swept = t.close_on_exec().unwrap();
    assert_eq!(swept.len(), OPEN.len());
    drop(swept);
    assert_eq!(open_fds(&t), vec![3]);
}

#[test]
fn close_range_on_an_empty_table() {
    let mut t = Table::new();
    for mode in [CloseRange::Close, CloseRange::CloexecOnly] {
        let closed = t.close_range(Fd::STDIN, Fd::MAX, mode).unwrap();
        assert!(closed.is_empty());
        assert_eq!(
            t.close_range(Fd::MAX, Fd::STDIN, mode).err(),
            Some(Errno::EINVAL)
        );
    }
    assert_eq!(
        t.capacity(),
        INLINE_SLOTS,
        "clamping must not grow the table"
    );
}

#[test]
fn close_range_lowers_lastfile() {
    let (mut t, _files) = fixture();
    drop(t.close_range(fd(64), Fd::MAX, CloseRange::Close).unwrap());
    assert_eq!(t.lastfile(), Some(fd(63)));
    drop(t.close_range(fd(1), fd(63), CloseRange::Close).unwrap());
    assert_eq!(t.lastfile(), Some(fd(0)));
    assert_eq!(t.lowest_free(Fd::STDIN), Ok(fd(1)));
    drop(t.close_range(fd(0), fd(0), CloseRange::Close).unwrap());
    assert_eq!(t.lastfile(), None);
    assert!(t.is_empty());
}
