//! A kernel-supplied lock for the shared-table tests, and a global allocator that
//! records every allocation or deallocation made while that lock is held.
//!
//! `RecordingRawMutex` is a spin lock implementing `lock_api::RawMutex` that counts, per
//! thread, how many such locks the thread holds. `RecordingAlloc` wraps the system
//! allocator and counts calls made by a thread that holds one. A test binary that wants
//! the allocation check installs it:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: lock_common::RecordingAlloc = lock_common::RecordingAlloc;
//! ```
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use capexec::lock_api::{GuardNoSend, RawMutex};

thread_local! {
    /// How many recording locks this thread holds.
    static HELD: Cell<usize> = const { Cell::new(0) };
    /// Allocator calls this thread made while holding one.
    static UNDER_LOCK: Cell<usize> = const { Cell::new(0) };
    /// Acquisitions of a recording lock by this thread.
    static ACQUIRED_HERE: Cell<usize> = const { Cell::new(0) };
}

/// Allocator calls made under a recording lock, by every thread since the start.
pub static UNDER_LOCK_TOTAL: AtomicUsize = AtomicUsize::new(0);
/// Acquisitions of any recording lock, by every thread since the start.
pub static ACQUISITIONS: AtomicUsize = AtomicUsize::new(0);

/// A spin lock that records, per thread, that it is held.
pub struct RecordingRawMutex {
    locked: AtomicBool,
}

// SAFETY: `lock` and `try_lock` succeed only by swapping `locked` from false to true
// with Acquire ordering, so at most one holder exists; `unlock` (called only by the
// holder, as the trait requires) stores false with Release ordering. The guard is not
// `Send`, so the thread-local bookkeeping is undone on the thread that did it.
unsafe impl RawMutex for RecordingRawMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RecordingRawMutex = RecordingRawMutex {
        locked: AtomicBool::new(false),
    };
    type GuardMarker = GuardNoSend;

    fn lock(&self) {
        while !self.try_lock() {
            spin_loop();
        }
    }

    fn try_lock(&self) -> bool {
        let ok = self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if ok {
            HELD.with(|h| h.set(h.get() + 1));
            ACQUIRED_HERE.with(|h| h.set(h.get() + 1));
            ACQUISITIONS.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    unsafe fn unlock(&self) {
        HELD.with(|h| h.set(h.get() - 1));
        self.locked.store(false, Ordering::Release);
    }

    fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Relaxed)
    }
}

/// Whether this thread holds a recording lock now.
pub fn held() -> bool {
    HELD.with(Cell::get) > 0
}

/// Acquisitions of a recording lock by this thread so far.
pub fn acquired_here() -> usize {
    ACQUIRED_HERE.with(Cell::get)
}

/// Allocator calls this thread made under a recording lock so far.
pub fn under_lock_here() -> usize {
    UNDER_LOCK.with(Cell::get)
}

/// The system allocator, counting calls made while the calling thread holds a
/// recording lock.
pub struct RecordingAlloc;

impl RecordingAlloc {
    #[inline]
    fn note(&self) {
        // `try_with`: the thread-locals may be gone while a thread is torn down; they are
        // `const`-initialised without destructors, so touching them never allocates.
        let held = HELD.try_with(Cell::get).unwrap_or(0);
        if held > 0 {
            let _ = UNDER_LOCK.try_with(|c| c.set(c.get() + 1));
            UNDER_LOCK_TOTAL.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method forwards to `System` with the same arguments; `note` only
// touches thread-locals without destructors and an atomic, and never allocates.
unsafe impl GlobalAlloc for RecordingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note();
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.note();
        // SAFETY: `ptr` came from `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note();
        // SAFETY: as for `dealloc`; `new_size` is the caller's, checked by the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
