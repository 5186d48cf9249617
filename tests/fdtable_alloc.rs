//! `alloc(min)` / `open` / `lowest_free`: lowest free descriptor at or above `min`,
//! `EMFILE` at the limit, growth by doubling, no shrinking, a correct hint, and the
//! million-descriptor fast path (functional check only).

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{CloseRange, DEFAULT_LIMIT, Fd, FdRights, INLINE_SLOTS};
use fdtable_common::*;

/// (name, limit, open descriptors, min, expected lowest free)
type Case = (&'static str, usize, Vec<i32>, i32, Result<i32, Errno>);

fn cases() -> Vec<Case> {
    let upto = |n: i32| (0..n).collect::<Vec<_>>();
    let upto_without = |n: i32, hole: i32| (0..n).filter(|&x| x != hole).collect::<Vec<_>>();
    vec![
        ("empty table", 16, vec![], 0, Ok(0)),
        ("empty table, min 5", 16, vec![], 5, Ok(5)),
        ("dense prefix", 16, upto(3), 0, Ok(3)),
        ("hole at 1", 16, vec![0, 2, 3], 0, Ok(1)),
        ("hole below min is skipped", 16, vec![0, 2, 3], 2, Ok(4)),
        ("min lands on a hole", 16, vec![0, 1, 5], 4, Ok(4)),
        ("min above every open fd", 200, upto(3), 100, Ok(100)),
        ("full first word", 200, upto(64), 0, Ok(64)),
        ("hole at bit 63", 200, upto_without(64, 63), 0, Ok(63)),
        ("hole at bit 64", 200, upto_without(130, 64), 0, Ok(64)),
        ("two full words, min inside", 200, upto(128), 10, Ok(128)),
        (
            "hole before min, next word",
            200,
            upto_without(128, 5),
            70,
            Ok(128),
        ),
        ("full to the limit", 3, upto(3), 0, Err(Errno::EMFILE)),
        ("free below min only", 3, vec![2], 2, Err(Errno::EMFILE)),
        ("min equal to limit", 3, vec![], 3, Err(Errno::EMFILE)),
        (
            "min far above limit",
            3,
            vec![],
            i32::MAX,
            Err(Errno::EMFILE),
        ),
        ("min just below limit", 3, vec![], 2, Ok(2)),
        ("limit zero", 0, vec![], 0, Err(Errno::EMFILE)),
        ("limit 70 full", 70, upto(70), 0, Err(Errno::EMFILE)),
        ("limit 70, last slot free", 70, upto(69), 0, Ok(69)),
        ("limit 70, hole at 64", 70, upto_without(70, 64), 0, Ok(64)),
        ("limit 64 full", 64, upto(64), 0, Err(Errno::EMFILE)),
        ("limit 65, one past a word", 65, upto(64), 0, Ok(64)),
    ]
}

#[test]
fn lowest_free_and_alloc_table() {
    for (name, limit, open, min, want) in cases() {
        let a = file(1);
        let b = file(2);
        let mut t = table_with(limit, &a, &open);
        let want = want.map(fd);
        assert_eq!(t.lowest_free(fd(min)), want, "{name}: lowest_free");
        assert_eq!(slow_lowest_free(&t, min as usize), want, "{name}: model");
        let before = snapshot(&t);
        let cap = t.capacity();
        match t.alloc(fd(min), Arc::clone(&b), R_READ, true) {
            Ok(got) => {
                assert_eq!(Ok(got), want, "{name}: alloc");
                let e = t.get(got).unwrap();
                assert!(Arc::ptr_eq(e.file(), &b), "{name}: file");
                assert_eq!(e.rights(), R_READ, "{name}: rights");
                assert_eq!(t.cloexec(got), Ok(true), "{name}: cloexec");
                assert_eq!(t.len(), open.len() + 1, "{name}: len");
                assert!(t.capacity() > got.index(), "{name}: slot exists");
            }
            Err(rej) => {
                assert_eq!(Err(rej.errno), want, "{name}: alloc errno");
                assert!(Arc::ptr_eq(&rej.file, &b), "{name}: file handed back");
                drop(rej);
                assert_eq!(
                    snapshot(&t),
                    before,
                    "{name}: failed alloc changed the table"
                );
                assert_eq!(t.capacity(), cap, "{name}: failed alloc grew the table");
            }
        }
        assert_refcounts(&[a, b], &[&t]);
    }
}

#[test]
fn open_uses_lowest_free_with_cloexec_clear() {
    let a = file(1);
    let mut t = table_with(16, &a, &[0, 1, 2, 4]);
    t.set_cloexec(fd(2), true).unwrap();
    assert_eq!(t.open(Arc::clone(&a), R_WRITE).unwrap(), fd(3));
    assert_eq!(t.cloexec(fd(3)), Ok(false));
    assert_eq!(t.get(fd(3)).unwrap().rights(), R_WRITE);
    assert_eq!(t.open(Arc::clone(&a), R_WRITE).unwrap(), fd(5));
    assert_eq!(t.lastfile(), Some(fd(5)));
}

#[test]
fn rejected_converts_into_its_errno() {
    let a = file(1);
    let mut t = Table::with_limit(0);
    let rej = t.open(Arc::clone(&a), FdRights::ALL).unwrap_err();
    assert!(Arc::ptr_eq(&rej.file, &a));
    assert_eq!(Errno::from(rej), Errno::EMFILE);
    assert_eq!(Arc::strong_count(&a), 1);
}

#[test]
fn empty_table_holds_its_header_slots() {
    // The header's slots, no allocation (`fdtable_small_alloc` counts the requests).
    let t = Table::new();
    assert_eq!(t.capacity(), INLINE_SLOTS);
    assert_eq!(t.limit(), DEFAULT_LIMIT);
    assert_eq!(t.len(), 0);
    assert_eq!(t.lastfile(), None);
    // Never more than the limit.
    assert_eq!(Table::with_limit(5).capacity(), 5);
    assert_eq!(Table::with_limit(0).capacity(), 0);
}

#[test]
fn grows_by_doubling_up_to_the_limit() {
    // (limit, capacities seen while opening 0..limit one at a time)
    // The header's 16 slots first, then heap arrays.
    let cases: [(usize, &[usize]); 5] = [
        (1000, &[16, 32, 64, 128, 256, 512, 1000]),
        (100, &[16, 32, 64, 100]),
        (64, &[16, 32, 64]),
        (20, &[16, 20]),
        (5, &[5]),
    ];
    for (limit, want) in cases {
        let a = file(1);
        let mut t = Table::with_limit(limit);
        let mut seen = Vec::new();
        for i in 0..limit {
            assert_eq!(t.open(Arc::clone(&a), FdRights::ALL).unwrap().index(), i);
            assert!(t.capacity() > i && t.capacity() <= limit);
            if seen.last() != Some(&t.capacity()) {
                seen.push(t.capacity());
            }
        }
        assert_eq!(seen, want, "limit {limit}");
        let rej = t.open(Arc::clone(&a), FdRights::ALL).unwrap_err();
        assert_eq!(rej.errno, Errno::EMFILE);
    }
}

#[test]
fn allocation_far_above_the_end_grows_enough() {
    let a = file(1);
    let mut t = Table::with_limit(1000);
    assert_eq!(
        t.alloc(fd(500), Arc::clone(&a), FdRights::ALL, false)
            .unwrap(),
        fd(500)
    );
    assert!(t.capacity() > 500 && t.capacity() <= 1000);
    assert_eq!(t.lastfile(), Some(fd(500)));
    assert_eq!(t.lowest_free(Fd::STDIN), Ok(fd(0)));
    assert_eq!(
        t.alloc(fd(999), Arc::clone(&a), FdRights::ALL, false)
            .unwrap(),
        fd(999)
    );
    assert_eq!(t.capacity(), 1000);
}

#[test]
fn never_shrinks() {
    let a = file(1);
    let mut t = table_with(1000, &a, &(0..300).collect::<Vec<_>>());
    let cap = t.capacity();
    assert!(cap >= 300);
    for i in (0..300).rev() {
        drop(t.close(fd(i)).unwrap());
        assert_eq!(t.capacity(), cap, "shrank after closing {i}");
    }
    assert!(t.is_empty());
    let mut t2 = table_with(1000, &a, &(0..300).collect::<Vec<_>>());
    drop(
        t2.close_range(Fd::STDIN, Fd::MAX, CloseRange::Close)
            .unwrap(),
    );
    assert_eq!(t2.capacity(), cap);
    drop(t2.close_on_exec().unwrap());
    assert_eq!(t2.capacity(), cap);
    assert_eq!(Arc::strong_count(&a), 1);
}

/// A tiny deterministic generator, so the hint test covers many patterns reproducibly.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn hint_is_a_lower_bound_after_any_sequence() {
    let a = file(1);
    for limit in [70usize, 130, 200] {
        let mut t = Table::with_limit(limit);
        let mut s = limit as u64;
        for step in 0..3000 {
            let n = (lcg(&mut s) % limit as u64) as i32;
            match lcg(&mut s) % 4 {
                0 | 1 => {
                    let want = slow_lowest_free(&t, 0);
                    match t.open(Arc::clone(&a), FdRights::ALL) {
                        Ok(got) => assert_eq!(Ok(got), want, "step {step}"),
                        Err(rej) => assert_eq!(Err(rej.errno), want, "step {step}"),
                    }
                }
                2 => {
                    let was_open = t.is_open(fd(n));
                    assert_eq!(t.close(fd(n)).is_ok(), was_open, "step {step}");
                }
                _ => {
                    let want = slow_lowest_free(&t, n as usize);
                    assert_eq!(t.lowest_free(fd(n)), want, "step {step} min {n}");
                }
            }
            assert_eq!(t.lowest_free(Fd::STDIN), slow_lowest_free(&t, 0));
        }
        drop(t);
        assert_eq!(Arc::strong_count(&a), 1);
    }
}

#[test]
fn closing_below_the_hint_lowers_it() {
    let a = file(1);
    let mut t = table_with(200, &a, &(0..150).collect::<Vec<_>>());
    for (close, want) in [(149, 149), (70, 70), (64, 64), (63, 63), (0, 0)] {
        drop(t.close(fd(close)).unwrap());
        assert_eq!(
            t.lowest_free(Fd::STDIN),
            Ok(fd(want)),
            "after close({close})"
        );
    }
    for want in [0, 63, 64, 70, 149, 150] {
        assert_eq!(t.open(Arc::clone(&a), FdRights::ALL).unwrap(), fd(want));
    }
}

#[test]
fn million_descriptors_close_3_then_alloc_gets_3() {
    let a = file(1);
    let mut t = Table::with_limit(DEFAULT_LIMIT);
    for i in 0..DEFAULT_LIMIT {
        assert_eq!(t.open(Arc::clone(&a), FdRights::ALL).unwrap().index(), i);
    }
    assert_eq!(t.lowest_free(Fd::STDIN), Err(Errno::EMFILE));
    drop(t.close(fd(3)).unwrap());
    assert_eq!(t.lowest_free(Fd::STDIN), Ok(fd(3)));
    assert_eq!(t.lowest_free(fd(4)), Err(Errno::EMFILE));
    assert_eq!(t.open(Arc::clone(&a), FdRights::ALL).unwrap(), fd(3));
    let top = DEFAULT_LIMIT as i32 - 1;
    drop(t.close(fd(top)).unwrap());
    assert_eq!(t.lastfile(), Some(fd(top - 1)));
    assert_eq!(t.open(Arc::clone(&a), FdRights::ALL).unwrap(), fd(top));
    assert_eq!(t.lastfile(), Some(fd(top)));
    assert_eq!(
        t.open(Arc::clone(&a), FdRights::ALL).unwrap_err().errno,
        Errno::EMFILE
    );
    assert_eq!(Arc::strong_count(&a), 1 + DEFAULT_LIMIT);
}
