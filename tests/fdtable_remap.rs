//! The remapped primitives: `fdcopy_remapped` (E2BIG, then per index EBADF / EBADF /
//! EINVAL; dense result; duplicates; close-on-exec cleared; one reference per entry,
//! after success and after every failure), `fdinstall_remapped` and
//! `fdescfree_remapped`.

mod fdtable_common;

use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{
    Fd, FdRights, SharedFdTable, fdcopy_remapped, fdescfree_remapped, fdinstall_remapped,
};
use fdtable_common::*;

/// The old table: limit 64, lastfile 9.
///   0: file 0 (R_READ, cloexec)   1: file 1 (R_WRITE)   2: hole
///   3: unpassable 4 (R_RW)        4: file 2 (R_RW, cloexec)   5: hole
///   6: file 0 (R_RW)              7: unpassable 5 (R_READ)    8: hole
///   9: file 3 (NONE, cloexec)
fn fixture() -> (Table, Vec<Arc<TestFile>>) {
    let files = vec![
        file(0),
        file(1),
        file(2),
        file(3),
        unpassable(4),
        unpassable(5),
    ];
    let t = build(&files);
    (t, files)
}

fn build(files: &[Arc<TestFile>]) -> Table {
    let mut t = Table::with_limit(64);
    put(&mut t, 0, &files[0], R_READ, true);
    put(&mut t, 1, &files[1], R_WRITE, false);
    put(&mut t, 3, &files[4], R_RW, false);
    put(&mut t, 4, &files[2], R_RW, true);
    put(&mut t, 6, &files[0], R_RW, false);
    put(&mut t, 7, &files[5], R_READ, false);
    put(&mut t, 9, &files[3], FdRights::NONE, true);
    t
}

fn remap_cases() -> Vec<(&'static str, Vec<i32>, Result<(), Errno>)> {
    let ok = Ok(());
    vec![
        ("empty list", vec![], ok),
        ("one", vec![0], ok),
        ("reordered", vec![9, 0, 4], ok),
        ("duplicates", vec![6, 6, 6], ok),
        ("full length", vec![0, 1, 4, 6, 9, 0, 1, 4, 6, 9], ok),
        ("identity of passables", vec![0, 1], ok),
        ("one too long", vec![0; 11], Err(Errno::E2BIG)),
        ("too long with bad fds", vec![-1; 11], Err(Errno::E2BIG)),
        ("too long with unpassable", vec![3; 12], Err(Errno::E2BIG)),
        ("negative", vec![-1], Err(Errno::EBADF)),
        ("most negative", vec![i32::MIN], Err(Errno::EBADF)),
        ("above lastfile", vec![10], Err(Errno::EBADF)),
        ("above lastfile, below limit", vec![63], Err(Errno::EBADF)),
        ("at limit", vec![64], Err(Errno::EBADF)),
        ("int max", vec![i32::MAX], Err(Errno::EBADF)),
        ("hole", vec![2], Err(Errno::EBADF)),
        ("hole 8", vec![8], Err(Errno::EBADF)),
        ("unpassable", vec![3], Err(Errno::EINVAL)),
        ("unpassable 7", vec![7], Err(Errno::EINVAL)),
        (
            "valid, negative, unpassable",
            vec![0, -1, 3],
            Err(Errno::EBADF),
        ),
        (
            "valid, unpassable, negative",
            vec![0, 3, -1],
            Err(Errno::EINVAL),
        ),
        ("unpassable then hole", vec![3, 2], Err(Errno::EINVAL)),
        ("hole then unpassable", vec![2, 3], Err(Errno::EBADF)),
        ("unpassable then above", vec![7, 100], Err(Errno::EINVAL)),
        ("above then unpassable", vec![100, 7], Err(Errno::EBADF)),
        (
            "valid prefix then hole",
            vec![0, 1, 4, 2],
            Err(Errno::EBADF),
        ),
        (
            "valid prefix then unpassable",
            vec![0, 1, 4, 6, 9, 3],
            Err(Errno::EINVAL),
        ),
        ("valid prefix then above", vec![9, 9, 10], Err(Errno::EBADF)),
        (
            "valid prefix then negative",
            vec![1, 0, -5],
            Err(Errno::EBADF),
        ),
    ]
}

#[test]
fn fdcopy_remapped_table() {
    for (name, list, want) in remap_cases() {
        let (t, files) = fixture();
        let before = snapshot(&t);
        let got = fdcopy_remapped(&t, &list);
        assert_eq!(got.as_ref().map(|_| ()).map_err(|e| *e), want, "{name}");
        assert_eq!(snapshot(&t), before, "{name}: the old table changed");
        if let Ok(new) = got {
            let want_slots: Vec<Slot> = list
                .iter()
                .enumerate()
                .map(|(i, &src)| {
                    let s = before.iter().find(|s| s.fd == src).unwrap();
                    Slot {
                        fd: i as i32,
                        cloexec: false,
                        ..s.clone()
                    }
                })
                .collect();
            assert_eq!(snapshot(&new), want_slots, "{name}: dense copy");
            assert_eq!(new.len(), list.len());
            assert_eq!(
                new.lastfile(),
                list.len().checked_sub(1).and_then(Fd::from_index)
            );
            assert_eq!(
                new.lowest_free(Fd::STDIN),
                Ok(Fd::from_index(list.len()).unwrap())
            );
            assert_eq!(new.limit(), t.limit());
            assert_refcounts(&files, &[&t, &new]);
            fdescfree_remapped(new);
        }
        assert_refcounts(&files, &[&t]);
    }
}

#[test]
fn empty_old_table_accepts_only_an_empty_list() {
    let t = Table::with_limit(64);
    let new = fdcopy_remapped(&t, &[]).unwrap();
    assert!(new.is_empty());
    assert_eq!(new.lastfile(), None);
    for list in [&[0][..], &[-1], &[i32::MAX], &[0, 0]] {
        assert_eq!(
            fdcopy_remapped(&t, list).err(),
            Some(Errno::E2BIG),
            "{list:?}"
        );
    }
    // A table that had descriptors and lost them all is empty again.
    let a = file(1);
    let mut t = table_with(64, &a, &[0, 1]);
    drop(
        t.close_range(Fd::STDIN, Fd::MAX, capexec::fdtable::CloseRange::Close)
            .unwrap(),
    );
    assert_eq!(fdcopy_remapped(&t, &[0]).err(), Some(Errno::E2BIG));
}

#[test]
fn one_reference_per_entry_not_per_previous_slot() {
    // FreeBSD 12 took the reference of new slot i on the file of slot i - 1; with
    // distinct files at every source the counts would be off by one per file.
    let files: Vec<_> = (0..4).map(file).collect();
    let mut t = Table::with_limit(16);
    for (i, f) in files.iter().enumerate() {
        put(&mut t, i as i32, f, R_READ, false);
    }
    // Room for a 7-entry list: lastfile 9.
    let pad = file(9);
    put(&mut t, 9, &pad, R_READ, false);
    let new = fdcopy_remapped(&t, &[1, 0, 2, 0, 3, 3, 3]).unwrap();
    let counts: Vec<usize> = files.iter().map(Arc::strong_count).collect();
    // own handle + old table + entries in the new table
    assert_eq!(counts, vec![1 + 1 + 2, 1 + 1 + 1, 1 + 1 + 1, 1 + 1 + 3]);
    let ids: Vec<usize> = snapshot(&new).iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![1, 0, 2, 0, 3, 3, 3]);
    drop(t);
    let counts: Vec<usize> = files.iter().map(Arc::strong_count).collect();
    assert_eq!(
        counts,
        vec![3, 2, 2, 4],
        "the new table must own its references"
    );
    fdescfree_remapped(new);
    assert!(files.iter().all(|f| Arc::strong_count(f) == 1));
}

#[test]
fn remapped_table_is_usable() {
    let (t, files) = fixture();
    let mut new = fdcopy_remapped(&t, &[4, 1, 9]).unwrap();
    let g = file(77);
    assert_eq!(new.open(Arc::clone(&g), R_READ).unwrap(), fd(3));
    drop(new.close(fd(0)).unwrap());
    assert_eq!(new.open(Arc::clone(&g), R_READ).unwrap(), fd(0));
    assert_eq!(new.dup2(fd(0), fd(40)).map(|(n, _)| n), Ok(fd(40)));
    assert_eq!(new.lastfile(), Some(fd(40)));
    assert_eq!(new.dup2(fd(0), fd(64)).err(), Some(Errno::EBADF));
    assert_refcounts(&files, &[&t, &new]);
    drop(new);
    assert_eq!(Arc::strong_count(&g), 1);
}

#[test]
fn new_table_size_follows_the_list_not_the_old_table() {
    let a = file(1);
    let top = (1 << 20) - 1;
    let t = table_with(1 << 20, &a, &[0, top]);
    assert!(t.capacity() > top as usize);
    let new = fdcopy_remapped(&t, &[top, 0, top]).unwrap();
    assert_eq!(open_fds(&new), vec![0, 1, 2]);
    assert!(new.capacity() < 1024, "capacity {}", new.capacity());
    // A long list of a sparse table is fine as long as it fits lastfile + 1.
    let list = vec![0; (1 << 20) - 1];
    let big = fdcopy_remapped(&t, &list).unwrap();
    assert_eq!(big.len(), list.len());
    assert_eq!(Arc::strong_count(&a), 1 + 2 + 3 + list.len());
    drop(big);
    assert_eq!(
        fdcopy_remapped(&t, &vec![0; 1 << 20]).map(|n| n.len()),
        Ok(1 << 20)
    );
    assert_eq!(
        fdcopy_remapped(&t, &vec![0; (1 << 20) + 1]).err(),
        Some(Errno::E2BIG)
    );
}

#[test]
fn failed_remap_leaves_old_table_bit_for_bit_equal() {
    let files = vec![
        file(0),
        file(1),
        file(2),
        file(3),
        unpassable(4),
        unpassable(5),
    ];
    let mut t = build(&files);
    let twin = build(&files);
    // The comparison has teeth: each kind of difference is seen.
    assert!(t == twin);
    {
        let mut d = build(&files);
        d.set_cloexec(fd(1), true).unwrap();
        assert!(d != twin, "cloexec difference not seen");
        let mut d = build(&files);
        d.narrow_rights(fd(1), FdRights::NONE).unwrap();
        assert!(d != twin, "rights difference not seen");
        let mut d = build(&files);
        drop(d.replace(fd(0), fd(1)).unwrap());
        d.set_cloexec(fd(1), false).unwrap();
        assert!(d != twin, "file identity difference not seen");
        let mut d = build(&files);
        drop(d.close(fd(9)).unwrap());
        assert!(d != twin, "missing descriptor not seen");
    }
    let debug = format!("{twin:?}");
    let counts: Vec<usize> = files.iter().map(Arc::strong_count).collect();
    let frees: Vec<_> = (0..70).map(|m| t.lowest_free(fd(m))).collect();
    let cap = t.capacity();
    let mut failures = 0;
    for (name, list, want) in remap_cases() {
        if want.is_ok() {
            continue;
        }
        failures += 1;
        assert_eq!(fdcopy_remapped(&t, &list).err(), want.err(), "{name}");
        assert!(t == twin, "{name}: old table differs");
        assert_eq!(format!("{t:?}"), debug, "{name}: Debug differs");
        assert_eq!(snapshot(&t), snapshot(&twin), "{name}");
        assert_eq!(t.capacity(), cap, "{name}");
        let now: Vec<usize> = files.iter().map(Arc::strong_count).collect();
        assert_eq!(now, counts, "{name}: reference counts moved");
        let now: Vec<_> = (0..70).map(|m| t.lowest_free(fd(m))).collect();
        assert_eq!(now, frees, "{name}: free map moved");
    }
    assert!(failures >= 20);
    // The table still works normally afterwards.
    assert_eq!(t.dup(fd(0)), Ok(fd(2)));
    assert!(t != twin);
}

#[test]
fn fdinstall_remapped_swaps_and_hands_back_the_old_table() {
    let (shared, log, make) = watched(64);
    let keep = make(0, true); // survives: also in the new table
    let gone = make(1, true); // only in the old table
    let kq = make(2, false); // unpassable, only in the old table
    {
        let mut t = shared.lock();
        for (f, cloexec) in [(&keep, true), (&gone, false), (&kq, false), (&gone, true)] {
            t.alloc(Fd::STDIN, Arc::clone(f), R_RW, cloexec).unwrap();
        }
    }
    let before = snapshot(&*shared.lock());
    let new = shared.fdcopy_remapped(&[0, 0]).unwrap();
    assert!(!shared.is_locked());
    let old = fdinstall_remapped(&shared, new);
    assert!(!shared.is_locked(), "install left the lock held");
    assert_eq!(
        snapshot(&old),
        before,
        "the old table is handed back intact"
    );
    let installed = snapshot(&*shared.lock());
    assert_eq!(
        installed
            .iter()
            .map(|s| (s.fd, s.id, s.cloexec))
            .collect::<Vec<_>>(),
        vec![(0, 0, false), (1, 0, false)]
    );
    drop((gone, kq));
    assert_eq!(log.total(), 0, "the old table still holds both files");
    drop(old);
    assert_eq!(log.total(), 2, "dropping the old table releases its files");
    assert_eq!(log.under_lock(), 0, "a destructor ran under the table lock");
    assert_eq!(Arc::strong_count(&keep), 1 + 2);
}

#[test]
fn shared_fdcopy_remapped_failure_releases_the_lock() {
    let (shared, log, make) = watched(64);
    let a = make(0, true);
    let k = make(1, false);
    shared.lock().open(Arc::clone(&a), R_READ).unwrap();
    shared.lock().open(Arc::clone(&k), R_READ).unwrap();
    for (list, want) in [
        (&[0, 1][..], Errno::EINVAL),
        (&[-1], Errno::EBADF),
        (&[0, 0, 0], Errno::E2BIG),
    ] {
        assert_eq!(shared.fdcopy_remapped(list).err(), Some(want), "{list:?}");
        assert!(!shared.is_locked());
        assert_refcounts(std::slice::from_ref(&a), &[&*shared.lock()]);
    }
    assert_eq!(Arc::strong_count(&a), 2);
    assert_eq!(Arc::strong_count(&k), 2);
    assert_eq!(log.total(), 0);
}

#[test]
fn other_holders_of_the_old_table_keep_it_intact() {
    // Another process sharing the table keeps seeing it: the exec'ing process copies
    // under the lock and installs the copy in a table of its own.
    let (shared, log, make) = watched(64);
    let a = make(0, true);
    let b = make(1, true);
    shared.lock().open(Arc::clone(&a), R_READ).unwrap();
    shared.lock().open(Arc::clone(&b), R_WRITE).unwrap();
    let before = snapshot(&*shared.lock());
    let other = Arc::clone(&shared);
    let new = shared.fdcopy_remapped(&[1]).unwrap();
    let mine: SharedFdTable<_> = SharedFdTable::new(new);
    assert_eq!(snapshot(&*other.lock()), before);
    assert_eq!(open_fds(&*mine.lock()), vec![0]);
    drop(mine);
    assert_eq!(log.total(), 0);
    assert_eq!(Arc::strong_count(&b), 2);
}

#[test]
fn fdescfree_remapped_releases_every_reference() {
    let (t, files) = fixture();
    let counts: Vec<usize> = files.iter().map(Arc::strong_count).collect();
    for list in [vec![0, 1, 4, 6, 9], vec![9; 10], vec![]] {
        let new = fdcopy_remapped(&t, &list).unwrap();
        assert_refcounts(&files, &[&t, &new]);
        fdescfree_remapped(new);
        let now: Vec<usize> = files.iter().map(Arc::strong_count).collect();
        assert_eq!(now, counts, "{list:?}");
    }
    // The last reference goes away with it.
    let (shared, log, make) = watched(8);
    let only = make(0, true);
    shared.lock().open(Arc::clone(&only), R_READ).unwrap();
    shared.lock().open(Arc::clone(&only), R_WRITE).unwrap();
    let new = shared.fdcopy_remapped(&[1, 1]).unwrap();
    drop(
        shared
            .lock()
            .close_range(Fd::STDIN, Fd::MAX, capexec::fdtable::CloseRange::Close)
            .unwrap(),
    );
    drop(only);
    assert_eq!(log.total(), 0);
    fdescfree_remapped(new);
    assert_eq!(log.total(), 1);
    assert_eq!(log.under_lock(), 0);
}
