//! The fork copy: same numbers, close-on-exec flags and rights; empty and non-passable
//! slots stay empty; one new reference per copied entry; the copy is independent.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{Fd, FdRights};
use fdtable_common::*;

#[test]
fn fork_table() {
    // (name, limit, entries: (fd, passable, rights, cloexec))
    type Ent = (i32, bool, FdRights, bool);
    let cases: Vec<(&str, usize, Vec<Ent>)> = vec![
        ("empty", 16, vec![]),
        (
            "stdio",
            16,
            vec![
                (0, true, R_READ, false),
                (1, true, R_WRITE, false),
                (2, true, R_WRITE, true),
            ],
        ),
        (
            "holes",
            200,
            vec![
                (0, true, R_READ, true),
                (5, true, R_RW, false),
                (64, true, R_WRITE, true),
                (130, true, FdRights::NONE, false),
            ],
        ),
        (
            "unpassable in the middle",
            100,
            vec![
                (0, true, R_READ, false),
                (1, false, R_READ, true),
                (2, true, R_RW, true),
            ],
        ),
        (
            "unpassable on top",
            100,
            vec![
                (0, true, R_READ, false),
                (3, true, R_RW, false),
                (80, false, R_RW, true),
            ],
        ),
        (
            "unpassable at 0",
            100,
            vec![(0, false, R_READ, false), (1, true, R_RW, true)],
        ),
        (
            "only unpassable",
            100,
            vec![(0, false, R_READ, false), (7, false, R_RW, true)],
        ),
        (
            "full small table",
            3,
            vec![
                (0, true, R_READ, false),
                (1, true, R_READ, true),
                (2, true, R_READ, false),
            ],
        ),
    ];
    for (name, limit, ents) in cases {
        let files: Vec<_> = ents
            .iter()
            .enumerate()
            .map(|(i, e)| if e.1 { file(i) } else { unpassable(i) })
            .collect();
        let mut t = Table::with_limit(limit);
        for (i, &(n, _, r, c)) in ents.iter().enumerate() {
            put(&mut t, n, &files[i], r, c);
        }
        let before = snapshot(&t);
        let child = t.fork_copy().unwrap();
        assert_eq!(snapshot(&t), before, "{name}: parent changed");
        let want: Vec<Slot> = before
            .iter()
            .filter(|s| files[s.id].passable)
            .cloned()
            .collect();
        assert_eq!(snapshot(&child), want, "{name}: child");
        assert_eq!(child.limit(), limit, "{name}: limit");
        assert_eq!(
            child.lowest_free(Fd::STDIN),
            slow_lowest_free(&child, 0),
            "{name}"
        );
        assert_refcounts(&files, &[&t, &child]);
        drop(child);
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn fork_keeps_close_on_exec_entries_open() {
    let a = file(1);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, R_READ, true);
    put(&mut t, 1, &a, R_READ, false);
    let mut child = t.fork_copy().unwrap();
    assert_eq!(open_fds(&child), vec![0, 1]);
    assert_eq!(child.cloexec(fd(0)), Ok(true));
    // The child's exec sweep closes 0 there only.
    drop(child.close_on_exec().unwrap());
    assert_eq!(open_fds(&child), vec![1]);
    assert_eq!(open_fds(&t), vec![0, 1]);
    assert_eq!(t.cloexec(fd(0)), Ok(true));
    assert_refcounts(&[a], &[&t, &child]);
}

#[test]
fn child_and_parent_are_independent() {
    let a = file(1);
    let b = file(2);
    let mut t = Table::with_limit(8);
    put(&mut t, 0, &a, R_RW, false);
    put(&mut t, 2, &a, R_RW, false);
    let mut child = t.fork_copy().unwrap();
    // (table index 0 = parent, 1 = child) operations, then both snapshots checked.
    drop(child.close(fd(0)).unwrap());
    assert_eq!(child.open(Arc::clone(&b), R_READ).unwrap(), fd(0));
    assert_eq!(child.open(Arc::clone(&b), R_READ).unwrap(), fd(1));
    child.set_cloexec(fd(2), true).unwrap();
    child.narrow_rights(fd(2), R_READ).unwrap();
    assert!(Arc::ptr_eq(t.file(fd(0)).unwrap(), &a));
    assert_eq!(t.cloexec(fd(2)), Ok(false));
    assert_eq!(t.get(fd(2)).unwrap().rights(), R_RW);
    assert_eq!(t.get(fd(1)).err(), Some(Errno::EBADF));
    t.set_cloexec(fd(0), true).unwrap();
    assert_eq!(child.cloexec(fd(0)), Ok(false));
    assert_refcounts(&[a, b], &[&t, &child]);
}

#[test]
fn child_fills_the_holes_left_by_unpassable_files() {
    let a = file(1);
    let k = unpassable(2);
    let mut t = Table::with_limit(8);
    put(&mut t, 0, &a, R_READ, false);
    put(&mut t, 1, &k, R_READ, false);
    put(&mut t, 2, &a, R_READ, false);
    let mut child = t.fork_copy().unwrap();
    assert_eq!(child.get(fd(1)).err(), Some(Errno::EBADF));
    assert_eq!(child.lastfile(), Some(fd(2)));
    assert_eq!(child.open(Arc::clone(&a), R_READ).unwrap(), fd(1));
    assert_eq!(child.open(Arc::clone(&a), R_READ).unwrap(), fd(3));
    assert_eq!(Arc::strong_count(&k), 2);
}

#[test]
fn fork_of_a_fork_and_of_an_empty_table() {
    let a = file(1);
    let t = table_with(64, &a, &[0, 1, 63]);
    let c1 = t.fork_copy().unwrap();
    let c2 = c1.fork_copy().unwrap();
    assert!(c2 == t, "a fork of a fork equals the original");
    assert_eq!(Arc::strong_count(&a), 1 + 9);
    let e = Table::with_limit(5).fork_copy().unwrap();
    assert!(e.is_empty());
    assert_eq!(e.limit(), 5);
    assert_eq!(e.lowest_free(Fd::STDIN), Ok(fd(0)));
}
