//! The table's cost claims, checked by counting work (bitmap words and slot lookups, see
//! `crate::work`), never by timing.

extern crate std;

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::test_file::{F, fd};
use super::{Fd, FdRights, FdTable, fdcopy_remapped};
use crate::work::counters::measure;

/// A table with descriptors `0..n` open (built in place, so building it is cheap).
fn dense(n: usize, limit: usize, file: &Arc<F>) -> FdTable<Arc<F>> {
    let mut t = FdTable::with_limit(limit);
    t.reserve_dense(n, 1).unwrap();
    for _ in 0..n {
        assert!(t.push_dense(file.clone(), FdRights::ALL).is_ok());
    }
    t.finish_dense();
    t
}

/// Bitmap words visited by `lowest_free(0)`, with its result.
fn search(t: &FdTable<Arc<F>>) -> (Result<Fd, crate::Errno>, u64) {
    let (r, [words, _, _]) = measure(|| t.lowest_free(Fd::STDIN));
    (r, words)
}

const MILLION: usize = 1 << 20;
/// Summary words of a 1<<20 table: one per 4,096 descriptors.
const SUMMARY_WORDS: u64 = (MILLION / 4096) as u64;

#[test]
#[cfg_attr(miri, ignore = "a million-slot table is too slow under Miri")]
fn lowest_free_after_close_3_in_a_full_million_slot_table_reads_one_word() {
    let file = Arc::new(F);
    let mut t = dense(MILLION, MILLION, &file);
    assert_eq!(search(&t), (Err(crate::Errno::EMFILE), search(&t).1));
    // Full: one level-0 word, then the summary up to the end, then nothing.
    let (_, full_words) = search(&t);
    assert!(
        full_words <= SUMMARY_WORDS + 2,
        "full table: {full_words} words"
    );

    drop(t.close(fd(3)).unwrap());
    let (r, words) = search(&t);
    assert_eq!(r, Ok(fd(3)));
    assert_eq!(words, 1, "after close(3) the search reads word 0 only");

    // A hole far up, below the hint: level-0 word 0, the summary words up to the hole's,
    // and the hole's own word. A linear scan would read 15,626 words.
    let far = 1_000_000;
    drop(t.close(fd(far)).unwrap());
    t.open(file.clone(), FdRights::ALL).ok().unwrap();
    let (r, words) = search(&t);
    assert_eq!(r, Ok(fd(far)));
    let want = 1 + (far / 4096) as u64 + 1 + 1;
    assert_eq!(words, want, "words read to find {far}");
    assert!(words <= SUMMARY_WORDS + 2);
}

/// Work (bitmap words + slot lookups) of `fdcopy_remapped(old, fds)`.
fn remap_work(old: &FdTable<Arc<F>>, fds: &[i32]) -> (FdTable<Arc<F>>, u64) {
    let (new, [words, slots, _]) = measure(|| fdcopy_remapped(old, fds));
    (new.unwrap(), words + slots)
}

#[test]
#[cfg_attr(miri, ignore = "a million-slot table is too slow under Miri")]
fn fdcopy_remapped_work_does_not_depend_on_the_old_table() {
    let file = Arc::new(F);
    let small = dense(1024, MILLION, &file);
    let big = dense(MILLION, MILLION, &file);
    for n in [0usize, 1, 16, 64, 1024] {
        // n descriptors picked from the bottom 1,024, repeats allowed.
        let fds: Vec<i32> = (0..n).map(|i| ((i * 37) % 1024) as i32).collect();
        let (_, small_work) = remap_work(&small, &fds);
        let refs = Arc::strong_count(&file);
        let (new, big_work) = remap_work(&big, &fds);
        assert_eq!(
            Arc::strong_count(&file),
            refs + n,
            "one reference per entry"
        );
        assert_eq!(new.len(), n);
        assert_eq!(
            new.capacity(),
            n.max(super::INLINE_SLOTS),
            "slots for {n} entries: the header's, or exactly n"
        );
        assert_eq!(
            big_work, small_work,
            "n = {n}: work from a 2^20 table differs from a 1,024 one"
        );
        // One slot lookup per entry and a few bitmap words per 64 entries.
        let bound = (n + 3 * n.div_ceil(64) + 4) as u64;
        assert!(big_work <= bound, "n = {n}: {big_work} > {bound}");
        drop(new);
    }
    // The same holds for entries taken from the top of the big table.
    let top: Vec<i32> = (0..16).map(|i| (MILLION - 1 - i) as i32).collect();
    let bottom: Vec<i32> = (0..16).collect();
    assert_eq!(remap_work(&big, &top).1, remap_work(&big, &bottom).1);
}

/// Work (bitmap words + slot lookups) of the close-on-exec sweep over 16 open
/// descriptors (13 of them close-on-exec) in a table grown to `slots` slots.
fn sweep_work(slots: usize, file: &Arc<F>) -> u64 {
    let mut t = FdTable::with_limit(MILLION);
    for i in 0..16 {
        let d = t.open(file.clone(), FdRights::ALL).ok().unwrap();
        if i >= 3 {
            t.set_cloexec(d, true).unwrap();
        }
    }
    // Grow the slot array with a descriptor at the top, then close it again.
    let (_, old) = t.dup2(fd(0), fd(slots - 1)).unwrap();
    assert!(old.is_none());
    drop(t.close(fd(slots - 1)).unwrap());
    assert_eq!(t.capacity(), slots);
    let (closed, [words, lookups, _]) = measure(|| t.close_on_exec_with(drop));
    assert_eq!(closed, 13);
    words + lookups
}

#[test]
#[cfg_attr(miri, ignore = "a million-slot table is too slow under Miri")]
fn close_on_exec_sweep_work_does_not_depend_on_the_capacity() {
    let file = Arc::new(F);
    assert_eq!(sweep_work(1 << 12, &file), sweep_work(MILLION, &file));
}
