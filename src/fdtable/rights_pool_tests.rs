//! The rights pool keeps exact counts: after any sequence of table operations, the sets
//! it holds are exactly the rights of the open descriptors, each counted once per
//! descriptor (so a set no descriptor uses is gone), and the limit of distinct sets is
//! enforced without changing anything.

extern crate std;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::test_file::{F, fd};
use super::{CloseRange, FdRights, FdTable, MAX_RIGHTS_SETS, Rights};
use crate::Errno;

/// The `i`-th distinct rights set: the bits of `i` spread over the defined rights.
fn set(i: usize) -> FdRights {
    let defined = Rights::all().bits();
    let mut base = 0u64;
    let mut k = i;
    let mut b = 0;
    while k != 0 {
        if defined & (1 << b) != 0 {
            base |= (k as u64 & 1) << b;
            k >>= 1;
        }
        b += 1;
    }
    FdRights::new(Rights::from_bits_truncate(base), Rights::FD_READ)
}

/// The pool's sets, sorted, against the open descriptors' rights counted.
fn check_counts(t: &FdTable<Arc<F>>) {
    let mut want: BTreeMap<(u64, u64), u32> = BTreeMap::new();
    for (_, e) in t.iter() {
        let r = e.rights();
        *want
            .entry((r.base.bits(), r.inheriting.bits()))
            .or_default() += 1;
    }
    let mut got: Vec<((u64, u64), u32)> = t
        .rights_sets()
        .into_iter()
        .map(|(r, n)| ((r.base.bits(), r.inheriting.bits()), n))
        .collect();
    got.sort();
    let want: Vec<_> = want.into_iter().collect();
    assert_eq!(got, want, "pool counts differ from the open descriptors");
}

#[derive(Debug, Clone)]
enum Op {
    Open(usize),
    Close(usize),
    Dup(usize),
    Dup2(usize, usize),
    Replace(usize, usize),
    Narrow(usize, usize),
    CloseRange(usize, usize),
    Fork,
    Remap(Vec<i32>),
}

fn op() -> impl Strategy<Value = Op> {
    // 24 sets (more than the linear-search size of 8, so the index is used too), 40 fds.
    let s = 0usize..24;
    let f = 0usize..40;
    prop_oneof![
        4 => s.clone().prop_map(Op::Open),
        2 => f.clone().prop_map(Op::Close),
        1 => f.clone().prop_map(Op::Dup),
        1 => (f.clone(), f.clone()).prop_map(|(a, b)| Op::Dup2(a, b)),
        1 => (f.clone(), f.clone()).prop_map(|(a, b)| Op::Replace(a, b)),
        2 => (f.clone(), s).prop_map(|(a, k)| Op::Narrow(a, k)),
        1 => (f.clone(), f.clone()).prop_map(|(a, b)| Op::CloseRange(a.min(b), a.max(b))),
        1 => Just(Op::Fork),
        1 => proptest::collection::vec(0i32..40, 0..12).prop_map(Op::Remap),
    ]
}

proptest! {
    // Under Miri: few cases, and no failure file (Miri isolates the file system).
    #![proptest_config(super::test_file::proptest_config(256))]

    #[test]
    fn pool_counts_are_exact_after_any_operations(ops in proptest::collection::vec(op(), 1..120)) {
        let file = Arc::new(F);
        let mut t: FdTable<Arc<F>> = FdTable::with_limit(64);
        for op in ops {
            match op {
                Op::Open(k) => drop(t.open(file.clone(), set(k))),
                Op::Close(a) => drop(t.close(fd(a))),
                Op::Dup(a) => drop(t.dup(fd(a))),
                Op::Dup2(a, b) => drop(t.dup2(fd(a), fd(b))),
                Op::Replace(a, b) => drop(t.replace(fd(a), fd(b))),
                Op::Narrow(a, k) => {
                    // Narrowing to the intersection is always allowed.
                    if let Ok(cur) = t.rights(fd(a)) {
                        let new = FdRights::new(cur.base & set(k).base, cur.inheriting);
                        t.narrow_rights(fd(a), new).unwrap();
                        prop_assert_eq!(t.rights(fd(a)), Ok(new));
                    }
                }
                Op::CloseRange(a, b) => drop(t.close_range(fd(a), fd(b), CloseRange::Close)),
                Op::Fork => {
                    let c = t.fork_copy().unwrap();
                    check_counts(&c);
                    prop_assert!(c == t);
                }
                Op::Remap(list) => {
                    if let Ok(c) = super::fdcopy_remapped(&t, &list) {
                        check_counts(&c);
                        for (i, &src) in list.iter().enumerate() {
                            prop_assert_eq!(c.rights(fd(i)), t.rights(fd(src as usize)));
                        }
                    }
                }
            }
            check_counts(&t);
        }
        drop(t);
        prop_assert_eq!(Arc::strong_count(&file), 1);
    }
}

#[test]
#[cfg_attr(miri, ignore = "65,535 descriptors are too slow under Miri")]
fn the_limit_of_distinct_sets_fails_with_enomem_and_changes_nothing() {
    let file = Arc::new(F);
    let mut t: FdTable<Arc<F>> = FdTable::new();
    for i in 0..MAX_RIGHTS_SETS {
        assert_eq!(t.open(file.clone(), set(i)).ok(), Some(fd(i)));
    }
    assert_eq!(t.rights_sets().len(), MAX_RIGHTS_SETS);
    // One more distinct set: refused, the file handed back, nothing changed.
    let rej = t.open(file.clone(), set(MAX_RIGHTS_SETS)).unwrap_err();
    assert_eq!(rej.errno, Errno::ENOMEM);
    drop(rej);
    assert_eq!(t.len(), MAX_RIGHTS_SETS);
    assert_eq!(Arc::strong_count(&file), MAX_RIGHTS_SETS + 1);
    // Narrowing to a new set is refused too; to an existing one it works.
    let narrower = FdRights::new(Rights::empty(), Rights::empty());
    assert_eq!(t.narrow_rights(fd(7), narrower), Err(Errno::ENOMEM));
    assert_eq!(t.rights(fd(7)), Ok(set(7)));
    // Reusing sets never fails: dup, fork copy, remapped copy.
    let d = t.dup(fd(5)).unwrap();
    assert_eq!(t.rights(d), Ok(set(5)));
    drop(t.close(d).unwrap());
    let fork = t.fork_copy().unwrap();
    assert!(fork == t);
    drop(fork);
    // Closing one frees its set: the new one now fits.
    drop(t.close(fd(3)).unwrap());
    assert_eq!(t.open(file.clone(), set(MAX_RIGHTS_SETS)).ok(), Some(fd(3)));
    check_counts(&t);
}

#[test]
fn narrowing_in_a_loop_does_not_grow_the_pool() {
    let file = Arc::new(F);
    let mut t: FdTable<Arc<F>> = FdTable::new();
    let d = t.open(file.clone(), FdRights::ALL).unwrap();
    t.open(file, FdRights::ALL).unwrap();
    // Each narrowing drops one right: a new set every time, the old one freed.
    let mut r = FdRights::ALL;
    for bit in 0..64 {
        let b = Rights::from_bits_truncate(1 << bit);
        if r.base.contains(b) && !b.is_empty() {
            r.base.remove(b);
            t.narrow_rights(d, r).unwrap();
            assert_eq!(t.rights_sets().len(), 2, "after dropping bit {bit}");
            assert!(
                t.rights_classes() <= 3,
                "after dropping bit {bit}: pool grew"
            );
        }
    }
    check_counts(&t);
}
