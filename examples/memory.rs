//! Memory use of the descriptor table (issue 7, group 9).
//!
//! Prints the bytes per descriptor slot and per table at N open descriptors, computed
//! from the capacity (the handle array, in the table header up to `INLINE_SLOTS`
//! slots and on the heap beyond, plus the bitmaps: one open bit and one
//! close-on-exec bit per slot, plus the `full` and `any` summaries, one bit per 64-slot
//! word each; for a table whose descriptors have two rights sets, plus the 2-byte class
//! array and the rights pool's heap) and checked against the heap bytes a counting
//! global allocator sees. Also checks that an empty table allocates nothing, and that
//! neither does a table of up to `INLINE_SLOTS` descriptors, its fork copy or its
//! remapped copy.
//!
//! Run: `cargo run --release --example memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::mem::size_of;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use capexec::fdtable::{FdRights, FdTable, File, FileType, INLINE_SLOTS, Rights, fdcopy_remapped};

/// Counts allocations and live heap bytes.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct MyFile {
    #[allow(dead_code)]
    id: u64,
}

impl File for MyFile {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

/// Allocations made by `f` (its result is kept alive until counted).
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCS.load(Ordering::Relaxed);
    let out = black_box(f());
    (ALLOCS.load(Ordering::Relaxed) - before, out)
}

/// Bitmap bytes for `capacity` slots: open + close-on-exec words (2 bits per slot,
/// rounded up to whole 64-bit words, at least one each) and, past one word, the `full`
/// and `any` summary words (one bit per level-0 word). The first open and close-on-exec
/// pair lives inline in the table (a bitmap of one word keeps no summary: it is read
/// off the word); the other pairs and every summary pair are on the heap.
fn bitmap_bytes(capacity: usize) -> (usize, usize) {
    let words = capacity.div_ceil(64).max(1);
    let heap = if words == 1 {
        0
    } else {
        (2 * (words - 1) + 2 * words.div_ceil(64)) * 8
    };
    (2 * 8 + heap, heap)
}

fn main() {
    let slot = size_of::<Option<Arc<MyFile>>>();
    let table = size_of::<FdTable<Arc<MyFile>>>();
    println!(
        "slot (Option<Arc<MyFile>>): {slot} bytes (the None niche is the Arc pointer); \
         rights: a 2-byte class per slot once a table has a second rights set"
    );
    println!(
        "table header (FdTable<Arc<MyFile>>, inline: the first {INLINE_SLOTS} slots or the \
         heap slot array's vector, the class array's pointer, the first bitmap word pair, \
         the rights pool's first set, four 4-byte counters; whole 64-byte cache lines): \
         {table} bytes"
    );
    println!();

    let mut failures = Vec::new();

    // An empty table makes no allocation, nor do copies of it.
    let (n, empty) = allocations(FdTable::<Arc<MyFile>>::new);
    println!("FdTable::new(): {n} allocations");
    if n != 0 {
        failures.push(format!("FdTable::new() made {n} allocations"));
    }
    let (n, _) = allocations(|| FdTable::<Arc<MyFile>>::with_limit(1 << 20));
    println!("FdTable::with_limit(1<<20): {n} allocations");
    if n != 0 {
        failures.push(format!("FdTable::with_limit made {n} allocations"));
    }
    let (n, _) = allocations(|| empty.fork_copy().expect("fork copy"));
    println!("fork_copy of an empty table: {n} allocations");
    let (n, _) = allocations(|| fdcopy_remapped(&empty, &[]).expect("remap"));
    println!("fdcopy_remapped(empty, []): {n} allocations");
    // Up to INLINE_SLOTS descriptors: the header's slots, no allocation.
    let small_files: Vec<Arc<MyFile>> = (0..INLINE_SLOTS as u64)
        .map(|id| Arc::new(MyFile { id }))
        .collect();
    let (n, small) = allocations(|| {
        let mut t = FdTable::<Arc<MyFile>>::new();
        for f in &small_files {
            t.open(f.clone(), FdRights::ALL).expect("open");
        }
        t
    });
    println!("{INLINE_SLOTS} descriptors opened: {n} allocations");
    let all: Vec<i32> = (0..INLINE_SLOTS as i32).collect();
    let (f, _) = allocations(|| small.fork_copy().expect("fork copy"));
    println!("fork_copy of it: {f} allocations");
    let (r, _) = allocations(|| fdcopy_remapped(&small, &all).expect("remap"));
    println!("fdcopy_remapped of all of it: {r} allocations");
    if n + f + r != 0 {
        failures.push(format!(
            "{INLINE_SLOTS} descriptors: {n} + {f} + {r} allocations (open, fork, remap)"
        ));
    }
    println!();

    println!(
        "{:>9} {:>6} {:>9} {:>12} {:>11} {:>13} {:>13} {:>10} {:>12}",
        "N open",
        "rights",
        "capacity",
        "slots B",
        "bitmap B",
        "table B",
        "heap (seen)",
        "B/slot",
        "B/open fd"
    );
    // Heap of the rights pool's first growth: its box (two vectors and a free-list
    // head: 56 bytes on a 64-bit target) and room for four sets of 24 bytes (the set
    // and its count).
    let pool_box = 2 * size_of::<Vec<u8>>() + size_of::<usize>();
    let pool_heap_2 = pool_box + 4 * 24;
    let narrow = FdRights::new(Rights::FD_READ, Rights::empty());
    for (mixed, n) in [0usize, 16, 20, 64, 1024, 1 << 20]
        .into_iter()
        .map(|n| (false, n))
        .chain([16usize, 20, 1024, 1 << 20].into_iter().map(|n| (true, n)))
    {
        let files: Vec<Arc<MyFile>> = (0..n as u64).map(|id| Arc::new(MyFile { id })).collect();
        let live_before = LIVE.load(Ordering::Relaxed);
        let mut t = FdTable::<Arc<MyFile>>::new();
        for (i, f) in files.iter().enumerate() {
            let r = if mixed && i % 2 == 1 {
                narrow
            } else {
                FdRights::ALL
            };
            t.open(f.clone(), r).expect("open");
        }
        let heap_seen = LIVE.load(Ordering::Relaxed) - live_before;
        let cap = t.capacity();
        // Handles, plus the class array and the pool's heap of a two-set table.
        let slots_bytes = slot * cap + if mixed { 2 * cap } else { 0 };
        let pool_heap = if mixed { pool_heap_2 } else { 0 };
        let (bitmap_total, bitmap_heap) = bitmap_bytes(cap);
        // Heap: the handles past the header's slots, the class array, the pool's heap
        // and the non-inline bitmap words.
        let handles_heap = if cap > INLINE_SLOTS { slot * cap } else { 0 };
        let classes_heap = if mixed { 2 * cap } else { 0 };
        let heap_computed = handles_heap + classes_heap + pool_heap + bitmap_heap;
        let total = table + heap_computed;
        let per_slot = if cap == 0 {
            "-".to_string()
        } else {
            format!("{:.3}", (slots_bytes + bitmap_total) as f64 / cap as f64)
        };
        let per_open = if n == 0 {
            "-".to_string()
        } else {
            format!("{:.3}", total as f64 / n as f64)
        };
        let label = if mixed { "2 sets" } else { "1 set" };
        println!(
            "{n:>9} {label:>6} {cap:>9} {slots_bytes:>12} {bitmap_total:>11} {total:>13} {heap_seen:>13} {per_slot:>10} {per_open:>12}"
        );
        if heap_seen != heap_computed {
            failures.push(format!(
                "N={n} ({label}): heap seen {heap_seen} B, computed {heap_computed} B"
            ));
        }
        drop(t);
    }
    println!();
    println!(
        "slots B = handles (+ 2-byte classes with 2 sets); B/slot = (slots + bitmaps) / \
         capacity; table B = header + heap (the first {INLINE_SLOTS} handles are in the \
         header; + 152 B of rights pool with 2 sets); B/open fd = table B / N. Bitmaps: 2 \
         bits/slot (open, close-on-exec) + 2 summary bits per 64 slots, in whole u64 words."
    );

    let goal = slot <= 8;
    println!(
        "goal: a slot no larger than the handle (8 bytes) plus bitmaps, 2 bytes more with \
         several rights sets: {} ({slot} bytes)",
        if goal { "met" } else { "MISSED" }
    );
    if !goal {
        failures.push(format!("slot is {slot} bytes"));
    }
    if failures.is_empty() {
        println!("all checks passed");
    } else {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        std::process::exit(1);
    }
}
