//! The moving remap (an exec whose process is its table's only user) builds exactly the
//! table [`fdcopy_remapped`] builds, with the same errors, while leaving the old table
//! as it was until it is installed, and it passes each listed file without a reference
//! count operation: after the install and the old table's drop, every file is held once
//! per use in the list (and once by the test), as with the copying remap. If the table
//! changed in between (its generation moved), the install changes nothing.

extern crate std;

use alloc::sync::Arc;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::test_file::fd;
use super::{FdRights, FdTable, File, FileType, Rights, SharedFdTable, fdcopy_remapped};

/// A file that may refuse to be passed (FreeBSD `DFLAG_PASSABLE` clear).
struct P {
    passable: bool,
}

impl File for P {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }

    fn is_passable(&self) -> bool {
        self.passable
    }
}

/// Three rights sets.
fn rights(k: u8) -> FdRights {
    match k % 3 {
        0 => FdRights::ALL,
        1 => FdRights::new(Rights::FD_READ, Rights::empty()),
        _ => FdRights::new(Rights::FD_WRITE, Rights::FD_READ),
    }
}

/// Every entry of `t`: number, file (by address), rights, close-on-exec.
fn snapshot(t: &FdTable<Arc<P>>) -> Vec<(i32, usize, FdRights, bool)> {
    t.iter()
        .map(|(n, e)| {
            let ptr = Arc::as_ptr(e.file()) as usize;
            (n.raw(), ptr, e.rights(), t.cloexec(n).unwrap())
        })
        .collect()
}

/// What a test table holds: descriptor `slot`, passable or not, with rights set
/// `rights`, close-on-exec or not.
#[derive(Debug, Clone)]
struct Open {
    slot: u8,
    passable: bool,
    rights: u8,
    cloexec: bool,
}

fn open_strategy() -> impl Strategy<Value = Open> {
    (
        0u8..40,
        prop::bool::weighted(0.99),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(slot, passable, rights, cloexec)| Open {
            slot,
            passable,
            rights,
            cloexec,
        })
}

/// The table (each file also kept in the returned list) and its files.
fn build(opens: &[Open], base: usize) -> (FdTable<Arc<P>>, Vec<Arc<P>>) {
    let mut t = FdTable::new();
    let mut files = Vec::new();
    for o in opens {
        let f = Arc::new(P {
            passable: o.passable,
        });
        if t.alloc(
            fd(base + usize::from(o.slot)),
            f.clone(),
            rights(o.rights),
            o.cloexec,
        )
        .is_ok()
        {
            files.push(f);
        }
    }
    (t, files)
}

/// How many times `fds` names each file of `files` (through `table`'s numbering).
fn uses(table: &[(i32, usize, FdRights, bool)], files: &[Arc<P>], fds: &[i32]) -> Vec<usize> {
    files
        .iter()
        .map(|f| {
            let ptr = Arc::as_ptr(f) as usize;
            fds.iter()
                .filter(|&&raw| table.iter().any(|e| e.0 == raw && e.1 == ptr))
                .count()
        })
        .collect()
}

fn counts(files: &[Arc<P>]) -> Vec<usize> {
    files.iter().map(Arc::strong_count).collect()
}

proptest! {
    #![proptest_config(super::test_file::proptest_config(512))]

    #[test]
    fn moving_equals_copying(
        opens in prop::collection::vec(open_strategy(), 0..24),
        picks in prop::collection::vec((prop::bool::weighted(0.05), any::<u8>()), 0..24),
        change in 0u8..8,
        // Past 1,024 descriptors, repeats are found through the old table's own bits.
        base in prop::sample::select(&[0usize, 1010][..]),
    ) {
        let (t, files) = build(&opens, base);
        let before = snapshot(&t);
        // The list: mostly open descriptors (repeats included), sometimes any number
        // (closed, or past the end), no longer than the table (else `E2BIG`, mostly).
        let open: Vec<i32> = before.iter().map(|e| e.0).collect();
        let room = open.last().map_or(0, |&l| l as usize + 1) + usize::from(picks.len() % 7 == 0);
        let fds: Vec<i32> = picks
            .iter()
            .take(room)
            .map(|&(raw, p)| match open.len() {
                0 => (base + usize::from(p % 44)) as i32,
                n if !raw => open[usize::from(p) % n],
                _ => (base + usize::from(p % 44)) as i32,
            })
            .collect();
        let expected = fdcopy_remapped(&t, &fds).map(|n| snapshot(&n));
        let shared: SharedFdTable<Arc<P>> = SharedFdTable::new(t);
        let ones: Vec<usize> = files.iter().map(|_| 2).collect();
        prop_assert_eq!(counts(&files), ones.clone());

        let mut new = FdTable::new();
        let pending = shared.fdcopy_remapped_pending_into(&mut new, &fds);
        // The old table is as it was, whatever happened.
        prop_assert_eq!(snapshot(&shared.lock()), before.clone());
        let generation = match (pending, &expected) {
            (Err(e), Err(want)) => {
                prop_assert_eq!(e, *want);
                drop(new);
                prop_assert_eq!(counts(&files), ones);
                return Ok(());
            }
            (Ok(g), Ok(_)) => g,
            (got, want) => {
                prop_assert!(false, "pending {:?}, copy {:?}", got.map(|_| ()), want);
                return Ok(());
            }
        };
        let Ok(want) = expected else { unreachable!() };
        // Only the later uses of a descriptor hold a reference yet.
        let n_uses = uses(&before, &files, &fds);
        let pending_counts: Vec<usize> =
            n_uses.iter().map(|&u| 2 + u.saturating_sub(1)).collect();
        prop_assert_eq!(counts(&files), pending_counts);

        if (1..=3).contains(&change) {
            // Any mutable borrow of the table counts as a change: nothing is moved.
            match change {
                1 => {
                    let _ = &mut *shared.lock();
                }
                2 => {
                    let _ = shared.lock().set_cloexec(fd(0), true);
                }
                _ => {
                    let _ = shared.get_file(fd(0));
                    let _ = &mut *shared.lock();
                }
            }
            let now = snapshot(&shared.lock());
            prop_assert!(!shared.fdinstall_remapped_moving(&mut new, &fds, generation));
            prop_assert_eq!(snapshot(&shared.lock()), now);
            drop(new);
            prop_assert_eq!(counts(&files), ones);
            return Ok(());
        }

        // A read-only section does not count as a change.
        let _ = shared.get_file(fd(0));
        prop_assert!(shared.fdinstall_remapped_moving(&mut new, &fds, generation));
        prop_assert_eq!(snapshot(&shared.lock()), want);
        // `new` holds the old table: dropping it releases what the list did not name.
        drop(new);
        let after: Vec<usize> = n_uses.iter().map(|&u| 1 + u).collect();
        prop_assert_eq!(counts(&files), after);
        drop(shared);
        prop_assert_eq!(counts(&files), files.iter().map(|_| 1).collect::<Vec<_>>());
    }
}

/// The success path, spelled out: three rights sets, a descriptor named three times, two
/// not named at all, close-on-exec flags dropped.
#[test]
fn moves_each_file_once_and_shares_repeats() {
    let files: Vec<Arc<P>> = (0..5).map(|_| Arc::new(P { passable: true })).collect();
    let mut t = FdTable::new();
    for (i, f) in files.iter().enumerate() {
        t.alloc(fd(i), f.clone(), rights(i as u8), i % 2 == 0)
            .ok()
            .unwrap();
    }
    let shared: SharedFdTable<Arc<P>> = SharedFdTable::new(t);
    let fds = [2, 0, 2, 1, 2];
    let mut new = FdTable::new();
    let generation = shared.fdcopy_remapped_pending_into(&mut new, &fds).unwrap();
    // Pending: only the two later uses of descriptor 2 hold references.
    assert_eq!(counts(&files), [2, 2, 4, 2, 2]);
    assert!(shared.fdinstall_remapped_moving(&mut new, &fds, generation));
    assert_eq!(counts(&files), [2, 2, 4, 2, 2]);
    drop(new);
    // Files 3 and 4 were not named: the old table's drop released them.
    assert_eq!(counts(&files), [2, 2, 4, 1, 1]);
    let got = snapshot(&shared.lock());
    let want: Vec<(i32, usize, FdRights, bool)> = fds
        .iter()
        .enumerate()
        .map(|(i, &old)| {
            let f = &files[old as usize];
            (i as i32, Arc::as_ptr(f) as usize, rights(old as u8), false)
        })
        .collect();
    assert_eq!(got, want);
}
