//! Leaving QEMU with a status: the `isa-debug-exit` device.
//!
//! QEMU is started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`; writing `v`
//! to port 0xf4 ends QEMU with exit status `2v + 1`. The host-side runner maps 1 (all
//! programs ended as expected) to success and anything else to failure.

use crate::cpu;

/// The port of QEMU's `isa-debug-exit` device.
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// The kernel's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every program ended as expected: QEMU exits with 1.
    Pass = 0,
    /// Something did not: QEMU exits with 3.
    Fail = 1,
}

/// Ends QEMU with `verdict` (halts when not running under QEMU).
pub fn exit(verdict: Verdict) -> ! {
    // SAFETY: the isa-debug-exit port; on a machine without it the write is ignored.
    unsafe { cpu::outb(DEBUG_EXIT_PORT, verdict as u8) };
    cpu::halt()
}
