//! The physical-frame allocator: one bit per 4 KiB frame of the RAM the kernel maps,
//! filled from the multiboot memory map.

use spin::Mutex;

use crate::boot::{MAPPED_PHYSICAL, phys_to_virt};
use crate::multiboot::RamRange;

/// The size of a frame (and of an i386 page).
pub const FRAME_SIZE: u32 = 4096;

const FRAMES: usize = (MAPPED_PHYSICAL / FRAME_SIZE) as usize;

/// A physical frame owned by whoever holds this value. Not `Clone`: it goes back to the
/// allocator exactly once, through [`free`].
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub struct Frame(u32);

impl Frame {
    /// Takes back ownership of the frame at `phys`, as recorded in a page table entry.
    ///
    /// # Safety
    /// `phys` must come from a [`Frame`] given up with [`Frame::into_phys`], and be
    /// claimed back only once.
    pub unsafe fn from_phys(phys: u32) -> Frame {
        Frame(phys)
    }

    /// Gives up the frame to a page table entry (see [`Frame::from_phys`]).
    pub fn into_phys(self) -> u32 {
        self.0
    }
}

/// One bit per frame below [`MAPPED_PHYSICAL`]: set means free.
struct FrameAllocator {
    free: [u32; FRAMES / 32],
    free_count: usize,
    /// Where the next search starts.
    next: usize,
}

static ALLOCATOR: Mutex<FrameAllocator> = Mutex::new(FrameAllocator {
    free: [0; FRAMES / 32],
    free_count: 0,
    next: 0,
});

/// Marks the frames of `ranges` free, except those below `reserved_end` (the BIOS area,
/// the kernel image and the boot loader's data in the first MiBs).
pub fn init(ranges: impl Iterator<Item = RamRange>, reserved_end: u32) {
    let mut a = ALLOCATOR.lock();
    for r in ranges {
        let start = r
            .start
            .max(u64::from(reserved_end))
            .next_multiple_of(u64::from(FRAME_SIZE));
        let end =
            r.end.min(u64::from(MAPPED_PHYSICAL)) / u64::from(FRAME_SIZE) * u64::from(FRAME_SIZE);
        let mut f = start;
        while f < end {
            let i = (f / u64::from(FRAME_SIZE)) as usize;
            if a.free[i / 32] & (1 << (i % 32)) == 0 {
                a.free[i / 32] |= 1 << (i % 32);
                a.free_count += 1;
            }
            f += u64::from(FRAME_SIZE);
        }
    }
}

/// A zero-filled frame, or `None` when memory is exhausted.
pub fn alloc() -> Option<Frame> {
    let phys = {
        let mut a = ALLOCATOR.lock();
        let start = a.next;
        let mut found = None;
        for k in 0..FRAMES / 32 {
            let w = (start + k) % (FRAMES / 32);
            if a.free[w] != 0 {
                let bit = a.free[w].trailing_zeros() as usize;
                a.free[w] &= !(1 << bit);
                a.free_count -= 1;
                a.next = w;
                found = Some((w * 32 + bit) as u32 * FRAME_SIZE);
                break;
            }
        }
        found?
    };
    // SAFETY: the frame was free, so nothing else refers to it; it lies below
    // MAPPED_PHYSICAL, in the kernel's map of physical memory.
    unsafe { core::ptr::write_bytes(phys_to_virt(phys), 0, FRAME_SIZE as usize) };
    Some(Frame(phys))
}

/// Returns a frame to the allocator.
pub fn free(frame: Frame) {
    let i = (frame.0 / FRAME_SIZE) as usize;
    let mut a = ALLOCATOR.lock();
    assert!(
        a.free[i / 32] & (1 << (i % 32)) == 0,
        "frame {:#x} freed twice",
        frame.0
    );
    a.free[i / 32] |= 1 << (i % 32);
    a.free_count += 1;
}

/// Frames free right now.
pub fn free_count() -> usize {
    ALLOCATOR.lock().free_count
}
