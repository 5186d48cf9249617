//! The timer: the 8253/8254 PIT at 100 Hz on IRQ 0, through the legacy PICs remapped
//! above the CPU exceptions.
//!
//! The kernel itself runs with interrupts off; programs run with `IF` set, so the tick
//! can only interrupt a program (a tick that comes while the kernel runs waits in the
//! PIC until the next return to ring 3). The run loop counts a program's ticks and takes
//! back a program that never traps.

use crate::cpu::outb;

/// The vector of IRQ 0 after the remap.
pub const TIMER_VECTOR: u32 = 32;
/// The vector a spurious IRQ 7 arrives on (no end-of-interrupt for it).
pub const SPURIOUS_VECTOR: u32 = 39;
/// Ticks per second.
pub const HZ: u32 = 100;

/// The PIT's input clock.
const PIT_HZ: u32 = 1_193_182;

/// Remaps the PICs to vectors 32..48, unmasks only IRQ 0 and starts the PIT.
pub fn init() {
    let divisor = (PIT_HZ / HZ) as u16;
    // SAFETY: the documented 8259 initialisation sequence (ICW1..ICW4 with the master at
    // vector 32, the slave at 40, cascaded on IRQ 2, 8086 mode), then the masks (OCW1),
    // then PIT channel 0 in mode 3 (square wave) with the divisor, low byte first. None
    // of these ports touches memory.
    unsafe {
        outb(0x20, 0x11);
        outb(0xA0, 0x11);
        outb(0x21, TIMER_VECTOR as u8);
        outb(0xA1, TIMER_VECTOR as u8 + 8);
        outb(0x21, 0x04);
        outb(0xA1, 0x02);
        outb(0x21, 0x01);
        outb(0xA1, 0x01);
        outb(0x21, 0xFE);
        outb(0xA1, 0xFF);
        outb(0x43, 0x36);
        outb(0x40, divisor as u8);
        outb(0x40, (divisor >> 8) as u8);
    }
}

/// Acknowledges the timer's interrupt at the master PIC.
pub fn end_of_interrupt() {
    // SAFETY: a non-specific EOI (OCW2) to the master PIC.
    unsafe { outb(0x20, 0x20) };
}
