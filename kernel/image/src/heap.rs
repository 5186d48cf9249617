//! The kernel heap: `linked_list_allocator` over a region of the kernel's `.bss`.
//!
//! capexec allocates fallibly (`try_reserve`), so an exhausted heap is an `ENOMEM` for
//! the program that asked, never a kernel abort on a system call path.

use linked_list_allocator::LockedHeap;

/// Bytes of kernel heap.
pub const HEAP_SIZE: usize = 8 << 20;

#[repr(C, align(4096))]
struct HeapSpace([u8; HEAP_SIZE]);

/// The heap's memory, handed to the allocator once by [`init`].
static mut HEAP_SPACE: HeapSpace = HeapSpace([0; HEAP_SIZE]);

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Gives the allocator its memory. Called once, first thing in `kmain`.
pub fn init() {
    // SAFETY: called once, before any allocation; `HEAP_SPACE` is used by nothing else,
    // so the allocator owns these bytes from now on.
    unsafe {
        let start = (&raw mut HEAP_SPACE).cast::<u8>();
        ALLOCATOR.lock().init(start, HEAP_SIZE);
    }
}

/// Heap bytes in use (to check that a program's run leaked nothing).
pub fn used() -> usize {
    ALLOCATOR.lock().used()
}
