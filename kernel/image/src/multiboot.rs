//! The multiboot (v1) information the boot loader leaves in memory: only the memory map
//! is used.

use crate::boot::phys_to_virt;

/// The value the boot loader leaves in `eax`.
pub const BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;

/// Flag bit of the information structure: `mmap_length` / `mmap_addr` are valid.
const INFO_MEMORY_MAP: u32 = 1 << 6;

/// Memory map entry type: RAM the kernel may use.
const MEMORY_AVAILABLE: u32 = 1;

/// A range of usable RAM: `[start, end)` physical.
#[derive(Debug, Clone, Copy)]
pub struct RamRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// Reads a little-endian `u32` at physical address `phys`.
fn read_u32(phys: u32) -> u32 {
    // SAFETY: the boot loader's structures lie in low physical memory, which the kernel
    // maps at 3 GiB; an unaligned read is used as the loader aligns nothing for us.
    unsafe { phys_to_virt(phys).cast::<u32>().read_unaligned() }
}

fn read_u64(phys: u32) -> u64 {
    u64::from(read_u32(phys)) | (u64::from(read_u32(phys + 4)) << 32)
}

/// Calls `f` on every usable RAM range of the memory map at physical `info` (nothing if
/// the boot loader gave no map).
pub fn for_each_ram_range(info: u32, mut f: impl FnMut(RamRange)) {
    if read_u32(info) & INFO_MEMORY_MAP == 0 {
        return;
    }
    let length = read_u32(info + 44);
    let base = read_u32(info + 48);
    let mut at = base;
    while at < base.saturating_add(length) {
        // Each entry: size (of the rest), base u64, length u64, type u32.
        let size = read_u32(at);
        let start = read_u64(at + 4);
        let len = read_u64(at + 12);
        if read_u32(at + 20) == MEMORY_AVAILABLE {
            f(RamRange {
                start,
                end: start.saturating_add(len),
            });
        }
        at = at.saturating_add(size).saturating_add(4);
    }
}
