//! "Small tables need no separate heap allocation for the bitmap": while a table of up
//! to 64 descriptors fills up, the only heap requests are the slot array's doublings
//! (its descriptors share one rights set, so there is no rights-class array and nothing
//! in the rights pool's heap either). Up to [`INLINE_SLOTS`] descriptors a table, its
//! fork copy and its remapped copy make no heap request at all: the slots are the
//! header's own. A remapped copy of descriptors that share one rights set needs no class
//! array even when the table they come from has several sets.
//! One test in this binary, so the counting allocator sees no other test's requests.

mod fdtable_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use capexec::fdtable::{Fd, FdRights, INLINE_SLOTS, Rights, fdcopy_remapped};
use fdtable_common::*;

static ARMED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static SIZES: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];

fn record(size: usize) {
    if ARMED.load(Ordering::SeqCst) {
        let i = COUNT.fetch_add(1, Ordering::SeqCst);
        if let Some(slot) = SIZES.get(i) {
            slot.store(size, Ordering::SeqCst);
        }
    }
}

struct Counting;

// SAFETY: forwards every call to `System` unchanged; it only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static HEAP: Counting = Counting;

/// Heap request sizes made while `f` runs.
fn requests(f: impl FnOnce()) -> Vec<usize> {
    COUNT.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    let n = COUNT.load(Ordering::SeqCst).min(SIZES.len());
    SIZES[..n]
        .iter()
        .map(|s| s.load(Ordering::SeqCst))
        .collect()
}

#[test]
fn small_tables_allocate_only_their_slots() {
    // A slot is the handle alone: one pointer (8 bytes on x86_64, 4 on i686).
    let slot = std::mem::size_of::<Option<Arc<TestFile>>>();
    assert_eq!(slot, std::mem::size_of::<usize>());
    // (limit, slot-array lengths expected while opening `limit` descriptors, and
    // whether anything else may be requested)
    let cases: [(usize, &[usize], bool); 4] = [
        (64, &[32, 64], false),
        (20, &[20], false),
        (65, &[32, 64, 65], true),
        (16, &[], false),
    ];
    for (limit, slots, bitmap_grows) in cases {
        let a = file(1);
        let mut t = Table::with_limit(limit);
        let files: Vec<_> = (0..limit).map(|_| Arc::clone(&a)).collect();
        let seen = requests(|| {
            for f in files {
                t.open(f, FdRights::ALL).expect("below the limit");
            }
        });
        let want: Vec<usize> = slots.iter().map(|n| n * slot).collect();
        if bitmap_grows {
            // Past 64 descriptors the bitmap needs heap words: the counter sees them.
            assert!(seen.len() > want.len(), "limit {limit}: {seen:?}");
            assert!(
                want.iter().all(|w| seen.contains(w)),
                "limit {limit}: {seen:?}"
            );
        } else {
            assert_eq!(seen, want, "limit {limit}: unexpected heap requests");
        }
        assert_eq!(t.len(), limit);
        // Forking a small table makes one request: its slot array (none within the
        // header's slots); a bigger one also needs bitmap words.
        let seen = requests(|| drop(t.fork_copy().expect("fork")));
        if limit <= INLINE_SLOTS {
            assert!(seen.is_empty(), "fork: {seen:?}");
        } else {
            assert_eq!(seen.first(), Some(&(limit * slot)), "fork: {seen:?}");
            assert_eq!(seen.len() > 1, bitmap_grows, "fork: {seen:?}");
        }
        // The remapped copy of every descriptor: the same.
        let all: Vec<i32> = (0..limit as i32).collect();
        let seen = requests(|| drop(fdcopy_remapped(&t, &all).expect("remap")));
        if limit <= INLINE_SLOTS {
            assert!(seen.is_empty(), "remap: {seen:?}");
        } else {
            assert_eq!(seen.first(), Some(&(limit * slot)), "remap: {seen:?}");
        }
    }

    // Two rights sets in the old table: descriptors 0..8 have every right, 8 and 9 only
    // `FD_READ`. A remap naming descriptors of one set allocates nothing (its copy has
    // one set: no class array, no pool of its own); naming both sets it allocates.
    let narrow = FdRights::new(Rights::FD_READ, Rights::empty());
    let mut t = Table::new();
    for i in 0..10 {
        let rights = if i < 8 { FdRights::ALL } else { narrow };
        t.open(file(i), rights).expect("open");
    }
    for (fds, one_set) in [
        (&[7, 3, 5][..], true),
        (&[8, 9, 8][..], true),
        (&[0, 8][..], false),
        (&[9, 2, 9][..], false),
    ] {
        let mut copy = None;
        let seen = requests(|| copy = Some(fdcopy_remapped(&t, fds).expect("remap")));
        assert_eq!(seen.is_empty(), one_set, "remap {fds:?}: {seen:?}");
        let copy = copy.expect("copied");
        for (i, &old) in fds.iter().enumerate() {
            assert_eq!(
                copy.rights(Fd::from_raw(i as i32).unwrap()),
                t.rights(Fd::from_raw(old).unwrap()),
                "remap {fds:?}: descriptor {i}"
            );
        }
    }
}
