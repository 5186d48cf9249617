//! Close-on-exec: a per-descriptor flag (not per file), set by `alloc`/`set_cloexec`,
//! cleared on close; the sweep of an ordinary exec closes exactly the flagged ones.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{CloseRange, Fd, FdRights};
use fdtable_common::*;

#[test]
fn flag_belongs_to_the_descriptor() {
    let a = file(1);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, R_READ, false);
    assert_eq!(t.dup(fd(0)), Ok(fd(1)));
    assert_eq!(t.dup2(fd(0), fd(2)).map(|(n, _)| n), Ok(fd(2)));
    assert_eq!(t.dup_min(fd(0), fd(3)), Ok(fd(3)));
    // (descriptor to toggle, value, expected flags of 0..4 afterwards)
    let steps: &[(i32, bool, [bool; 4])] = &[
        (0, true, [true, false, false, false]),
        (2, true, [true, false, true, false]),
        (0, false, [false, false, true, false]),
        (3, true, [false, false, true, true]),
        (3, true, [false, false, true, true]),
        (2, false, [false, false, false, true]),
        (1, false, [false, false, false, true]),
    ];
    for &(n, on, want) in steps {
        t.set_cloexec(fd(n), on).unwrap();
        let got: Vec<bool> = (0..4).map(|i| t.cloexec(fd(i)).unwrap()).collect();
        assert_eq!(got, want, "after set_cloexec({n}, {on})");
    }
    assert_eq!(Arc::strong_count(&a), 5);
}

#[test]
fn flag_accessors_reject_descriptors_that_are_not_open() {
    let a = file(1);
    let mut t = table_with(128, &a, &[0, 64]);
    for n in [1, 63, 65, 127, 128, i32::MAX] {
        assert_eq!(t.cloexec(fd(n)), Err(Errno::EBADF), "cloexec({n})");
        assert_eq!(t.set_cloexec(fd(n), true), Err(Errno::EBADF), "set({n})");
        assert_eq!(t.set_cloexec(fd(n), false), Err(Errno::EBADF), "clear({n})");
    }
    // Nothing got flagged behind the scenes: a new descriptor at 1 starts clear even
    // when allocated at a formerly rejected number.
    assert_eq!(t.open(Arc::clone(&a), R_READ).unwrap(), fd(1));
    assert_eq!(t.cloexec(fd(1)), Ok(false));
    assert_eq!(t.cloexec(fd(0)), Ok(false));
    assert_eq!(t.cloexec(fd(64)), Ok(false));
}

#[test]
fn alloc_sets_the_flag_it_is_given() {
    let a = file(1);
    let mut t = Table::with_limit(16);
    for (i, on) in [true, false, true, true, false].into_iter().enumerate() {
        let n = t.alloc(Fd::STDIN, Arc::clone(&a), R_READ, on).unwrap();
        assert_eq!(n.index(), i);
        assert_eq!(t.cloexec(n), Ok(on));
    }
}

#[test]
fn sweep_closes_exactly_the_flagged_descriptors() {
    // (open descriptors, flagged ones)
    let cases: &[(&[i32], &[i32])] = &[
        (&[], &[]),
        (&[0, 1, 2], &[]),
        (&[0, 1, 2], &[0, 1, 2]),
        (&[0, 1, 2, 3], &[1, 3]),
        (&[0, 63, 64, 65, 127, 128, 199], &[63, 64, 199]),
        (&[5, 70, 150], &[150]),
        (&[5, 70, 150], &[5]),
    ];
    for &(open, flagged) in cases {
        let files: Vec<_> = open.iter().map(|&n| file(n as usize)).collect();
        let mut t = Table::with_limit(200);
        for (i, &n) in open.iter().enumerate() {
            put(&mut t, n, &files[i], R_RW, flagged.contains(&n));
        }
        let before = snapshot(&t);
        let swept = t.close_on_exec().unwrap();
        assert_eq!(swept.len(), flagged.len(), "{open:?} / {flagged:?}");
        let mut ids: Vec<usize> = swept.into_files().iter().map(|f| f.id).collect();
        ids.sort_unstable();
        let mut want_ids: Vec<usize> = flagged.iter().map(|&n| n as usize).collect();
        want_ids.sort_unstable();
        assert_eq!(ids, want_ids, "{open:?} / {flagged:?}");
        let rest: Vec<Slot> = before
            .into_iter()
            .filter(|s| !flagged.contains(&s.fd))
            .collect();
        assert!(rest.iter().all(|s| !s.cloexec));
        assert_eq!(snapshot(&t), rest, "{open:?} / {flagged:?}");
        assert_eq!(t.lowest_free(Fd::STDIN), slow_lowest_free(&t, 0));
        assert_refcounts(&files, &[&t]);
        // A second sweep finds nothing.
        let mut calls = 0;
        assert_eq!(t.close_on_exec_with(|_| calls += 1), 0);
        assert_eq!(calls, 0);
    }
}

#[test]
fn sweep_with_callback_counts_and_releases() {
    let a = file(1);
    let b = file(2);
    let mut t = Table::with_limit(100);
    put(&mut t, 0, &a, FdRights::ALL, true);
    put(&mut t, 1, &b, FdRights::ALL, false);
    put(&mut t, 70, &a, FdRights::ALL, true);
    let mut released = Vec::new();
    assert_eq!(t.close_on_exec_with(|f| released.push(f)), 2);
    assert_eq!(released.len(), 2);
    assert!(released.iter().all(|f| Arc::ptr_eq(f, &a)));
    assert_eq!(Arc::strong_count(&a), 3);
    drop(released);
    assert_eq!(Arc::strong_count(&a), 1);
    assert_eq!(open_fds(&t), vec![1]);
    assert_eq!(t.lastfile(), Some(fd(1)));
}

#[test]
fn replace_and_dup2_clear_the_target_flag_but_not_the_source() {
    let a = file(1);
    let b = file(2);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, R_READ, true);
    put(&mut t, 1, &b, R_READ, true);
    put(&mut t, 2, &b, R_READ, true);
    drop(t.replace(fd(0), fd(1)).unwrap());
    assert_eq!(t.cloexec(fd(1)), Ok(false));
    assert_eq!(t.cloexec(fd(0)), Ok(true));
    drop(t.dup2(fd(0), fd(2)).unwrap());
    assert_eq!(t.cloexec(fd(2)), Ok(false));
    assert_eq!(t.cloexec(fd(0)), Ok(true));
}

#[test]
fn close_range_cloexec_then_sweep() {
    let a = file(1);
    let mut t = table_with(200, &a, &[0, 1, 2, 100, 150]);
    drop(
        t.close_range(fd(1), fd(100), CloseRange::CloexecOnly)
            .unwrap(),
    );
    let swept = t.close_on_exec().unwrap();
    assert_eq!(swept.len(), 3);
    drop(swept);
    assert_eq!(open_fds(&t), vec![0, 150]);
    assert_eq!(Arc::strong_count(&a), 3);
}
