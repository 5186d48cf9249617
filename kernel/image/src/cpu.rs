//! The few privileged instructions the kernel needs, each behind a small function.

use core::arch::asm;

/// Writes a byte to an I/O port.
///
/// # Safety
/// The port must be one whose write has no effect on memory safety (a serial port,
/// QEMU's exit device, the PIC's mask register).
#[inline]
pub unsafe fn outb(port: u16, value: u8) {
    // SAFETY: the caller vouches for the port; `out` touches no memory.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a byte from an I/O port.
///
/// # Safety
/// As for [`outb`]: reading the port must have no effect on memory safety.
#[inline]
pub unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: the caller vouches for the port; `in` touches no memory.
    unsafe {
        asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

/// Switches to the address space whose page directory is at physical `pd`.
///
/// # Safety
/// `pd` must be a page directory that maps the kernel's half exactly as the boot page
/// directory does (every process's does), so the running code stays mapped.
#[inline]
pub unsafe fn load_cr3(pd: u32) {
    // SAFETY: the caller guarantees the kernel stays mapped in the new address space.
    unsafe { asm!("mov cr3, {}", in(reg) pd, options(nostack, preserves_flags)) }
}

/// The physical address of the current page directory.
#[inline]
pub fn cr3() -> u32 {
    let v: u32;
    // SAFETY: reading CR3 has no side effect.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// The faulting address of the last page fault.
#[inline]
pub fn cr2() -> u32 {
    let v: u32;
    // SAFETY: reading CR2 has no side effect.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// The time-stamp counter (cycles since reset).
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Stops the CPU for good (after QEMU was asked to exit, or on real hardware).
pub fn halt() -> ! {
    loop {
        // SAFETY: interrupts are off: `hlt` waits forever and touches no memory.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) }
    }
}
