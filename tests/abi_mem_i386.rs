//! The memory calls through the i386 entry: argument words from `esp + 4` (seven for
//! `mem_map`, the offset as two words, low first), the `u8` arguments taken from the low
//! byte of their words, the address in `eax`, errors with the carry set.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::{
    ADVICE_WILLNEED, MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, MS_SYNC, PROT_READ,
};
use capexec::abi::{Cloudabi32Activator, Layout32, Regs32, SyscallAction, syscall32};
use capexec::exec::{Process, Protection, copyout};
use capexec_sim::SIM_MAP_BASE;
use mem_common::common::TestRng;
use mem_common::*;

const MEM_ADVISE: u32 = 32;
const MEM_MAP: u32 = 33;
const MEM_PROTECT: u32 = 34;
const MEM_SYNC: u32 = 35;
const MEM_UNMAP: u32 = 36;
const STACK: u32 = 0x7000_0000;

/// Traps call `nr` with `args` at `esp + 4` and returns the registers afterwards.
fn call(p: &mut MapProc, nr: u32, args: &[u32]) -> Regs32 {
    let esp = STACK + 0x100;
    let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
    copyout(p.memory_mut(), esp + 4, &words).unwrap();
    let mut regs = Regs32 {
        eax: nr,
        esp,
        eip: 0x1234,
        ..Regs32::default()
    };
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    assert_eq!(syscall32(p, &mut act, &mut regs), SyscallAction::Resume);
    regs
}

fn ok(r: &Regs32) -> u32 {
    assert!(!r.carry(), "failed with errno {}", r.eax);
    r.eax
}

fn errno(r: &Regs32) -> Errno {
    assert!(r.carry(), "succeeded with {:#x}", r.eax);
    Errno::from_raw(r.eax as u16).unwrap()
}

fn process() -> MapProc {
    let mut p = MapProc::new(&[]);
    p.mem_mut().map(STACK, 0x1000);
    p
}

#[test]
fn mem_map_reads_seven_words_and_returns_the_address_in_eax() {
    let mut p = process();
    let anon = u32::from(MAP_ANON | MAP_PRIVATE);
    let r = call(
        &mut p,
        MEM_MAP,
        &[0, 2 * MIB, u32::from(RW), anon, MAP_ANON_FD, 0, 0],
    );
    assert_eq!(ok(&r), SIM_MAP_BASE);
    assert_eq!(p.mem().protection(SIM_MAP_BASE + 2 * MIB - 1), Some(rw()));
    // The high word of the offset is the seventh word: an anonymous mapping with a
    // non-zero offset is EINVAL.
    let r = call(
        &mut p,
        MEM_MAP,
        &[0, PAGE, u32::from(RW), anon, MAP_ANON_FD, 0, 1],
    );
    assert_eq!(errno(&r), Errno::EINVAL);
    // The descriptor word is compared whole.
    let r = call(
        &mut p,
        MEM_MAP,
        &[0, PAGE, u32::from(RW), anon, 0xffff, 0, 0],
    );
    assert_eq!(errno(&r), Errno::EINVAL);
}

#[test]
fn byte_arguments_use_the_low_byte_of_their_words() {
    let mut p = process();
    // Upper bytes as a caller's stack might hold them: ignored, as FreeBSD's argument
    // structures read a u8 field.
    let prot = 0xdead_be00 | u32::from(PROT_READ);
    let flags = 0x1234_5600 | u32::from(MAP_ANON | MAP_PRIVATE | MAP_FIXED);
    let at = 0x2000_0000;
    let r = call(&mut p, MEM_MAP, &[at, PAGE, prot, flags, MAP_ANON_FD, 0, 0]);
    assert_eq!(ok(&r), at);
    assert_eq!(p.mem().protection(at), Some(Protection::READ));
    let r = call(
        &mut p,
        MEM_PROTECT,
        &[at, PAGE, 0xffff_ff00 | u32::from(RW)],
    );
    ok(&r);
    assert_eq!(p.mem().protection(at), Some(rw()));
    let r = call(
        &mut p,
        MEM_ADVISE,
        &[at, PAGE, 0x100 | u32::from(ADVICE_WILLNEED)],
    );
    ok(&r);
    let r = call(&mut p, MEM_SYNC, &[at, PAGE, 0x300 | u32::from(MS_SYNC)]);
    ok(&r);
}

#[test]
fn every_memory_call_reports_errors_with_the_carry() {
    let mut p = process();
    let rows: &[(u32, &[u32], Errno)] = &[
        (MEM_MAP, &[0, 0, 6, 5, MAP_ANON_FD, 0, 0], Errno::EINVAL),
        (MEM_MAP, &[0, PAGE, 3, 5, MAP_ANON_FD, 0, 0], Errno::ENOTSUP),
        (MEM_UNMAP, &[0x1000_0000, 0], Errno::EINVAL),
        (MEM_PROTECT, &[0x1000_0000, PAGE, 0x3], Errno::ENOTSUP),
        (MEM_ADVISE, &[0x1000_0000, PAGE, 2], Errno::EINVAL),
        (
            MEM_SYNC,
            &[0x1000_0000, PAGE, u32::from(MS_SYNC)],
            Errno::ENOMEM,
        ),
    ];
    for &(nr, args, want) in rows {
        let r = call(&mut p, nr, args);
        assert_eq!(errno(&r), want, "call {nr} {args:x?}");
        assert_eq!(r.eip, 0x1234);
    }
    assert_eq!(p.mem().mapped_pages(), 1, "only the caller's stack");
}

#[test]
fn mem_unmap_through_the_entry() {
    let mut p = process();
    let anon = u32::from(MAP_ANON | MAP_PRIVATE);
    let a = ok(&call(
        &mut p,
        MEM_MAP,
        &[0, 4 * PAGE, u32::from(RW), anon, MAP_ANON_FD, 0, 0],
    ));
    ok(&call(&mut p, MEM_UNMAP, &[a + PAGE, 2 * PAGE]));
    let mapped: Vec<bool> = (0..4).map(|i| p.mem().is_mapped(a + i * PAGE)).collect();
    assert_eq!(mapped, [true, false, false, true]);
}

#[test]
fn a_bad_stack_is_efault_and_a_kernel_without_vm_is_enosys() {
    let mut p = process();
    let mut regs = Regs32 {
        eax: MEM_MAP,
        esp: 0x0100_0000,
        ..Regs32::default()
    };
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    let _ = syscall32(&mut p, &mut act, &mut regs);
    assert_eq!(errno(&regs), Errno::EFAULT);

    // Without a VM the calls are not there: ENOSYS before the stack is read.
    p.vm = false;
    for nr in [MEM_ADVISE, MEM_MAP, MEM_PROTECT, MEM_SYNC, MEM_UNMAP] {
        let r = call(&mut p, nr, &[0, PAGE, 0, 0, 0, 0, 0]);
        assert_eq!(errno(&r), Errno::ENOSYS, "call {nr}");
        let mut regs = Regs32 {
            eax: nr,
            esp: 0x0100_0000,
            ..Regs32::default()
        };
        let _ = syscall32(&mut p, &mut act, &mut regs);
        assert_eq!(errno(&regs), Errno::ENOSYS, "call {nr}, unmapped stack");
    }
}
