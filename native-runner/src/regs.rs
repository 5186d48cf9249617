//! A stopped 32-bit tracee's registers, as capexec's `Regs32`.

use capexec::abi::Regs32;
use nix::libc::user_regs_struct;

/// Reads a stopped 32-bit tracee's registers out of the x86_64 register block, as
/// capexec's [`Regs32`]. With `syscall_stop`, `eax` is taken from `orig_rax` (Linux has
/// already put `-ENOSYS` in `rax` at a system call entry stop), so it holds the system
/// call number; the arguments are on the user stack from `esp + 4`, and `eip` already
/// points past `int $0x80`.
pub(crate) fn regs_from_user(regs: &user_regs_struct, syscall_stop: bool) -> Regs32 {
    // Truncation is intended: a 32-bit tracee's registers are the low halves of the
    // 64-bit block.
    let low = |v: u64| v as u32;
    Regs32 {
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
        gs_base: low(regs.gs_base),
    }
}

/// Writes `r` into an x86_64 register block, leaving the segment registers and bases
/// alone (the `%gs` base is set through `PTRACE_SET_THREAD_AREA`). `orig_rax` becomes -1
/// so that Linux never treats the value in `eax` as a system call to restart.
pub(crate) fn store_regs(r: &Regs32, regs: &mut user_regs_struct) {
    regs.rax = u64::from(r.eax);
    regs.rbx = u64::from(r.ebx);
    regs.rcx = u64::from(r.ecx);
    regs.rdx = u64::from(r.edx);
    regs.rsi = u64::from(r.esi);
    regs.rdi = u64::from(r.edi);
    regs.rbp = u64::from(r.ebp);
    regs.rsp = u64::from(r.esp);
    regs.rip = u64::from(r.eip);
    regs.eflags = u64::from(r.eflags);
    regs.orig_rax = u64::MAX;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carry_convention() {
        let mut r = Regs32::default();
        r.return_errno(capexec::Errno::ENOTCAPABLE);
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
        let r = regs_from_user(&raw, true);
        assert_eq!(r.eax, 16);
        assert_eq!(r.esp, 0xffff_d000);
        assert_eq!(regs_from_user(&raw, false).eax, (-38i32) as u32);
    }
}
