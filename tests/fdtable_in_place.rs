//! The in-place forms of the fork copy and the remapped copy (`FdTable::fork_copy_into`,
//! `fdcopy_remapped_into`): the table they build equals the by-value form's, whatever
//! the destination held before (nothing, or storage from earlier use); a destination
//! with an open descriptor is refused; a failure leaves the destination empty with its
//! own limit and every reference count as it was. (`fdtable_model` compares both forms
//! on random sequences; `hardening_alloc` fails each of their allocations.)

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{
    CloseRange, Fd, FdRights, INLINE_SLOTS, fdcopy_remapped, fdcopy_remapped_into,
};
use fdtable_common::*;

/// A table with descriptors `0..n` open on `a` (rights in turn `R_READ`, `R_WRITE`, `R_RW`
/// when `mixed`; every third close-on-exec) and one on `u`, not passable, at `n`.
fn source(n: i32, a: &Arc<TestFile>, u: &Arc<TestFile>, mixed: bool) -> Table {
    let mut t = Table::with_limit(1 << 12);
    for i in 0..n {
        let r = if mixed {
            [R_READ, R_WRITE, R_RW][i as usize % 3]
        } else {
            FdRights::ALL
        };
        put(&mut t, i, a, r, i % 3 == 0);
    }
    put(&mut t, n, u, FdRights::ALL, false);
    t
}

/// Destinations: fresh with a small limit; used and emptied (heap slots, a class
/// array, pool room left from 200 descriptors with three rights sets).
fn destinations() -> Vec<(&'static str, Table)> {
    let b = file(9);
    let mut used = Table::with_limit(300);
    for i in 0..200 {
        put(
            &mut used,
            i,
            &b,
            [R_READ, R_WRITE, R_RW][i as usize % 3],
            true,
        );
    }
    drop(
        used.close_range(Fd::STDIN, Fd::MAX, CloseRange::Close)
            .unwrap(),
    );
    assert!(used.is_empty() && used.capacity() >= 200);
    vec![("fresh", Table::with_limit(7)), ("used", used)]
}

#[test]
fn fork_copy_into_equals_fork_copy() {
    let (a, u) = (file(1), unpassable(2));
    for n in [0, 3, INLINE_SLOTS as i32 - 1, INLINE_SLOTS as i32, 100] {
        for mixed in [false, true] {
            let src = source(n, &a, &u, mixed);
            let want = src.fork_copy().unwrap();
            for (name, mut dst) in destinations() {
                let refs = Arc::strong_count(&a);
                src.fork_copy_into(&mut dst).unwrap();
                assert!(dst == want, "n {n} mixed {mixed} into {name}");
                assert_eq!(snapshot(&dst), snapshot(&want), "n {n} {name}");
                assert_eq!(dst.limit(), src.limit());
                assert_eq!(Arc::strong_count(&a), refs + n as usize);
                // The destination works as a table: the lowest free slot is the
                // unpassable file's, which did not come along.
                assert_eq!(dst.open(Arc::clone(&a), FdRights::ALL).unwrap(), fd(n));
            }
        }
    }
}

#[test]
fn fdcopy_remapped_into_equals_fdcopy_remapped() {
    let (a, u) = (file(1), unpassable(2));
    let lists: [&[i32]; 5] = [
        &[],
        &[2],
        &[5, 0, 5],
        &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
        &[40, 1, 2, 3],
    ];
    for mixed in [false, true] {
        let src = source(50, &a, &u, mixed);
        for list in lists {
            let want = fdcopy_remapped(&src, list).unwrap();
            for (name, mut dst) in destinations() {
                fdcopy_remapped_into(&mut dst, &src, list).unwrap();
                assert!(dst == want, "{list:?} mixed {mixed} into {name}");
                assert_eq!(snapshot(&dst), snapshot(&want));
                assert_eq!(dst.limit(), src.limit());
                assert!(snapshot(&dst).iter().all(|s| !s.cloexec));
            }
        }
    }
}

#[test]
fn a_destination_in_use_is_refused_and_unchanged() {
    let (a, u) = (file(1), unpassable(2));
    let src = source(5, &a, &u, true);
    let mut dst = table_with(9, &file(3), &[4]);
    let before = snapshot(&dst);
    let refs = Arc::strong_count(&a);
    assert_eq!(src.fork_copy_into(&mut dst), Err(Errno::EINVAL));
    assert_eq!(
        fdcopy_remapped_into(&mut dst, &src, &[0, 1]),
        Err(Errno::EINVAL)
    );
    assert_eq!(snapshot(&dst), before);
    assert_eq!(dst.limit(), 9);
    assert_eq!(Arc::strong_count(&a), refs);
}

#[test]
fn a_failed_remap_leaves_the_destination_empty_with_its_limit() {
    let (a, u) = (file(1), unpassable(2));
    let src = source(30, &a, &u, true);
    // (list, error): a bad descriptor late in the list (references taken before it are
    // released), a closed one, the unpassable one, a list longer than the table.
    let long: Vec<i32> = (0..40).collect();
    let cases: [(&[i32], Errno); 4] = [
        (
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, -1,
            ],
            Errno::EBADF,
        ),
        (&[1, 31], Errno::EBADF),
        (&[1, 30], Errno::EINVAL),
        (&long, Errno::E2BIG),
    ];
    for (list, errno) in cases {
        assert_eq!(fdcopy_remapped(&src, list).err(), Some(errno));
        for (name, mut dst) in destinations() {
            let limit = dst.limit();
            let refs = Arc::strong_count(&a);
            assert_eq!(
                fdcopy_remapped_into(&mut dst, &src, list),
                Err(errno),
                "{name}"
            );
            assert!(dst.is_empty(), "{list:?} into {name}");
            assert_eq!(dst.limit(), limit, "{list:?} into {name}");
            assert_eq!(Arc::strong_count(&a), refs, "{list:?} into {name}");
            // Still a working table.
            assert_eq!(dst.open(Arc::clone(&a), FdRights::ALL).unwrap(), fd(0));
        }
    }
}
