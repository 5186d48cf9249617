//! Rights narrowing: base and inheriting each must be a subset of the current set,
//! checked independently; otherwise `ENOTCAPABLE` and nothing changes. Rights belong
//! to the descriptor, not to the file.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{FdRights, Rights};
use fdtable_common::*;

const R: Rights = Rights::FD_READ;
const W: Rights = Rights::FD_WRITE;
const S: Rights = Rights::FD_SEEK;
const X: Rights = Rights::PROC_EXEC;

fn pair(base: Rights, inh: Rights) -> FdRights {
    FdRights::new(base, inh)
}

/// (name, current, requested, ok?)
fn cases() -> Vec<(&'static str, FdRights, FdRights, bool)> {
    let rw = R | W;
    vec![
        ("same", pair(rw, S), pair(rw, S), true),
        ("drop a base right", pair(rw, S), pair(R, S), true),
        ("drop an inheriting right", pair(rw, rw), pair(rw, W), true),
        ("drop everything", pair(rw, rw), FdRights::NONE, true),
        ("all to anything", FdRights::ALL, pair(X, R | S), true),
        ("none to none", FdRights::NONE, FdRights::NONE, true),
        ("widen base", pair(R, S), pair(rw, S), false),
        ("widen inheriting", pair(R, S), pair(R, S | W), false),
        (
            "narrow base, widen inheriting",
            pair(rw, R),
            pair(R, rw),
            false,
        ),
        (
            "widen base, narrow inheriting",
            pair(R, rw),
            pair(rw, R),
            false,
        ),
        // The union of the two sets does not grow, but each set is checked alone.
        ("swap base and inheriting", pair(R, W), pair(W, R), false),
        ("disjoint base", pair(R, S), pair(W, S), false),
        ("from none", FdRights::NONE, pair(R, Rights::empty()), false),
        ("high bit", pair(rw, rw), pair(rw | X, rw), false),
        ("high inheriting bit", pair(rw, rw), pair(rw, rw | X), false),
        (
            "everything from almost everything",
            pair(Rights::all() - X, Rights::all()),
            FdRights::ALL,
            false,
        ),
    ]
}

#[test]
fn narrow_rights_table() {
    for (name, cur, new, ok) in cases() {
        let a = file(1);
        let mut t = Table::with_limit(16);
        put(&mut t, 0, &a, R_READ, true);
        put(&mut t, 3, &a, cur, true);
        let before = snapshot(&t);
        assert_eq!(
            cur.check_narrowing(&new).is_ok(),
            ok,
            "{name}: check_narrowing"
        );
        let got = t.narrow_rights(fd(3), new);
        if ok {
            assert_eq!(got, Ok(()), "{name}");
            assert_eq!(t.get(fd(3)).unwrap().rights(), new, "{name}");
            let mut want = before.clone();
            want[1].rights = new;
            assert_eq!(snapshot(&t), want, "{name}: other state changed");
        } else {
            assert_eq!(got, Err(Errno::ENOTCAPABLE), "{name}");
            assert_eq!(cur.check_narrowing(&new), Err(Errno::ENOTCAPABLE), "{name}");
            assert_eq!(
                snapshot(&t),
                before,
                "{name}: ENOTCAPABLE changed the table"
            );
        }
        assert_eq!(Arc::strong_count(&a), 3);
    }
}

#[test]
fn narrow_rights_on_a_closed_descriptor_is_ebadf() {
    let a = file(1);
    let mut t = table_with(100, &a, &[0, 70]);
    for n in [1, 69, 71, 99, 100, i32::MAX] {
        assert_eq!(
            t.narrow_rights(fd(n), FdRights::NONE),
            Err(Errno::EBADF),
            "{n}"
        );
    }
    assert!(t.iter().all(|(_, e)| e.rights() == FdRights::ALL));
}

#[test]
fn rights_are_per_descriptor() {
    let a = file(1);
    let mut t = Table::with_limit(16);
    put(&mut t, 0, &a, FdRights::ALL, false);
    assert_eq!(t.dup(fd(0)), Ok(fd(1)));
    t.narrow_rights(fd(0), R_READ).unwrap();
    assert_eq!(t.get(fd(0)).unwrap().rights(), R_READ);
    assert_eq!(t.get(fd(1)).unwrap().rights(), FdRights::ALL);
    // Narrowing twice: second step is relative to the first.
    assert_eq!(t.narrow_rights(fd(0), R_WRITE), Err(Errno::ENOTCAPABLE));
    t.narrow_rights(fd(0), FdRights::NONE).unwrap();
    assert_eq!(t.narrow_rights(fd(0), R_READ), Err(Errno::ENOTCAPABLE));
    assert_eq!(t.get(fd(0)).unwrap().rights(), FdRights::NONE);
    // A dup copies the narrowed rights.
    assert_eq!(t.dup(fd(0)), Ok(fd(2)));
    assert_eq!(t.get(fd(2)).unwrap().rights(), FdRights::NONE);
}

#[test]
fn rights_constants() {
    assert_eq!(FdRights::ALL.base, Rights::all());
    assert_eq!(FdRights::ALL.inheriting, Rights::all());
    assert!(FdRights::NONE.base.is_empty() && FdRights::NONE.inheriting.is_empty());
    assert_eq!(FdRights::default(), FdRights::NONE);
    assert_eq!(Rights::FD_READ.bits(), 0x2);
    assert_eq!(Rights::PROC_EXEC.bits(), 0x1_0000_0000);
    assert_eq!(Rights::SOCK_SHUTDOWN.bits(), 0x80_0000_0000);
}
