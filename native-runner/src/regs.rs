//! The i386 view of a stopped tracee's registers.

use capexec::abi::Regs32;
use nix::libc::user_regs_struct;

/// The eight general registers, `eip` and `eflags` of a 32-bit tracee, as
/// the CloudABI system call convention uses them.
///
/// At a trapped system call `eax` holds the system call number (the tracer
/// reads it from `orig_rax`, where Linux keeps it), the arguments are on the
/// user stack from `esp + 4`, and `eip` already points past `int $0x80`.
/// A handler writes its results here; [`I386Regs::return_ok`] and
/// [`I386Regs::return_errno`] apply the carry-flag convention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct I386Regs {
    /// Accumulator: the system call number on entry, the result or errno on return.
    pub eax: u32,
    /// General register `ebx`.
    pub ebx: u32,
    /// General register `ecx`.
    pub ecx: u32,
    /// General register `edx`: the second result word of two-result calls.
    pub edx: u32,
    /// General register `esi`.
    pub esi: u32,
    /// General register `edi`.
    pub edi: u32,
    /// Frame pointer `ebp`.
    pub ebp: u32,
    /// Stack pointer: the system call's arguments start at `esp + 4`.
    pub esp: u32,
    /// Instruction pointer, just after the trapping instruction.
    pub eip: u32,
    /// Flags; bit 0 is the carry flag that signals an error.
    pub eflags: u32,
}

impl I386Regs {
    /// The carry flag's bit in `eflags`.
    pub const CARRY: u32 = 1;

    /// Whether the carry flag is set.
    pub fn carry(&self) -> bool {
        self.eflags & Self::CARRY != 0
    }

    /// Sets or clears the carry flag.
    pub fn set_carry(&mut self, carry: bool) {
        if carry {
            self.eflags |= Self::CARRY;
        } else {
            self.eflags &= !Self::CARRY;
        }
    }

    /// Success: `eax` and `edx` receive the two result words, carry is cleared.
    pub fn return_ok(&mut self, eax: u32, edx: u32) {
        self.eax = eax;
        self.edx = edx;
        self.set_carry(false);
    }

    /// Failure: `eax` receives the CloudABI errno, carry is set.
    pub fn return_errno(&mut self, errno: u16) {
        self.eax = u32::from(errno);
        self.set_carry(true);
    }

    /// capexec's view of these registers, with the `%gs` base.
    pub fn to_regs32(&self, gs_base: u32) -> Regs32 {
        Regs32 {
            eax: self.eax,
            ebx: self.ebx,
            ecx: self.ecx,
            edx: self.edx,
            esi: self.esi,
            edi: self.edi,
            ebp: self.ebp,
            esp: self.esp,
            eip: self.eip,
            eflags: self.eflags,
            gs_base,
        }
    }

    /// These registers from capexec's view (the `%gs` base is set apart).
    pub fn from_regs32(r: &Regs32) -> Self {
        I386Regs {
            eax: r.eax,
            ebx: r.ebx,
            ecx: r.ecx,
            edx: r.edx,
            esi: r.esi,
            edi: r.edi,
            ebp: r.ebp,
            esp: r.esp,
            eip: r.eip,
            eflags: r.eflags,
        }
    }

    /// Reads the 32-bit registers out of the x86_64 register block. With
    /// `syscall_stop`, `eax` is taken from `orig_rax` (Linux has already
    /// put `-ENOSYS` in `rax` at a system call entry stop).
    pub(crate) fn from_user(regs: &user_regs_struct, syscall_stop: bool) -> Self {
        // Truncation is intended: a 32-bit tracee's registers are the low
        // halves of the 64-bit block.
        let low = |v: u64| v as u32;
        I386Regs {
            eax: low(if syscall_stop {
                regs.orig_rax
            } else {
                regs.rax
            }),
            ebx: low(regs.rbx),
            ecx: low(regs.rcx),
            edx: low(regs.rdx),
            esi: low(regs.rsi),
            edi: low(regs.rdi),
            ebp: low(regs.rbp),
            esp: low(regs.rsp),
            eip: low(regs.rip),
            eflags: low(regs.eflags),
        }
    }

    /// Writes these registers into an x86_64 register block, leaving the
    /// segment registers and bases alone. `orig_rax` becomes -1 so that
    /// Linux never treats the value in `eax` as a system call to restart.
    pub(crate) fn store(&self, regs: &mut user_regs_struct) {
        regs.rax = u64::from(self.eax);
        regs.rbx = u64::from(self.ebx);
        regs.rcx = u64::from(self.ecx);
        regs.rdx = u64::from(self.edx);
        regs.rsi = u64::from(self.esi);
        regs.rdi = u64::from(self.edi);
        regs.rbp = u64::from(self.ebp);
        regs.rsp = u64::from(self.esp);
        regs.rip = u64::from(self.eip);
        regs.eflags = u64::from(self.eflags);
        regs.orig_rax = u64::MAX;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carry_convention() {
        let mut r = I386Regs::default();
        r.return_errno(76);
        assert!(r.carry());
        assert_eq!(r.eax, 76);
        r.return_ok(5, 6);
        assert!(!r.carry());
        assert_eq!((r.eax, r.edx), (5, 6));
    }

    #[test]
    fn syscall_number_comes_from_orig_rax() {
        // SAFETY: user_regs_struct is plain integers; all-zero is valid.
        let mut raw: user_regs_struct = unsafe { std::mem::zeroed() };
        raw.orig_rax = 16;
        raw.rax = (-38i64) as u64;
        raw.rsp = 0xffff_d000;
        let r = I386Regs::from_user(&raw, true);
        assert_eq!(r.eax, 16);
        assert_eq!(r.esp, 0xffff_d000);
        assert_eq!(I386Regs::from_user(&raw, false).eax, (-38i32) as u32);
    }
}
