//! The work a shared table does while its lock is held, counted (bitmap words and
//! slots, see `crate::work`): the fork copy's section visits the open descriptors only,
//! growth moves the open descriptors only, whatever the table's size.

extern crate std;

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::table::Storage;
use super::test_file::F;
use super::{Fd, FdRights, FdTable};
use crate::work::counters::measure;

const SLOTS: usize = 65_536;

/// A table of `SLOTS` slots whose highest descriptor is open, with `k` open in all,
/// spread evenly.
fn sparse(k: usize, file: &Arc<F>) -> FdTable<Arc<F>> {
    let mut t = FdTable::new();
    let step = SLOTS / k;
    for i in 0..k {
        let n = Fd::from_index(SLOTS - 1 - i * step).unwrap();
        assert_eq!(t.alloc(n, file.clone(), FdRights::ALL, false).ok(), Some(n));
    }
    assert_eq!(t.capacity(), SLOTS);
    t
}

#[test]
#[cfg_attr(miri, ignore = "a 65,536-slot table is too slow under Miri")]
fn fork_copy_lock_section_visits_only_open_descriptors() {
    let file = Arc::new(F);
    let mut figures = Vec::new();
    for k in [1usize, 16, 1024, 65_536] {
        let t = sparse(k, &file);
        // What SharedFdTable::fork_copy does under the lock: fill pre-allocated storage.
        let mut new = FdTable::try_for(t.fork_need(), SLOTS).unwrap();
        let (r, [words, slots, _]) = measure(|| t.fork_fill(&mut new));
        assert!(r.unwrap());
        assert_eq!(new.len(), k);
        std::eprintln!(
            "fork copy under the lock, {SLOTS} slots, {k} open: {slots} slots, {words} bitmap words"
        );
        figures.push((k, slots, words));
        assert_eq!(slots, k as u64);
        // Per open descriptor: its open and close-on-exec bits read, the new table's
        // bits and summaries written; plus the summary walk (16 words for 65,536 slots).
        assert!(
            words <= 10 * k as u64 + 2 * (SLOTS / 4096) as u64 + 4,
            "{k}: {words}"
        );
    }
    drop(figures);
}

#[test]
#[cfg_attr(miri, ignore = "a 65,536-slot table is too slow under Miri")]
fn growth_lock_section_moves_only_open_descriptors() {
    let file = Arc::new(F);
    for k in [1usize, 16, 1024] {
        let mut t = sparse(k, &file);
        let want = t.growth_for(SLOTS).unwrap();
        assert_eq!(want, 2 * SLOTS);
        let storage = Storage::try_slots(want).unwrap();
        let (old, [words, slots, _]) = measure(|| t.adopt(storage));
        drop(old);
        assert_eq!(t.capacity(), 2 * SLOTS);
        assert_eq!(t.len(), k);
        std::eprintln!(
            "growth {SLOTS} -> {} slots under the lock, {k} open: {slots} slots moved, \
             {words} bitmap words",
            2 * SLOTS
        );
        assert_eq!(slots, k as u64);
        // Each bitmap word holding an open descriptor (open and close-on-exec), plus,
        // per 4,096 slots of the old size, the two summaries copied (read and write) and
        // the two walks over the `any` summary.
        assert!(
            words <= 6 * k as u64 + 6 * (SLOTS / 4096) as u64 + 8,
            "{k}: {words}"
        );
    }
}
