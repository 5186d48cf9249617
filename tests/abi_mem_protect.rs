//! `mem_protect`: W^X and unknown bits, page rounding, holes skipped, protections
//! enforced on the program's accesses, contents kept.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::{PROT_EXEC, PROT_READ, PROT_WRITE, mem_protect};
use capexec::exec::Protection;
use capexec_sim::SIM_USER_TOP;
use mem_common::*;

#[test]
fn bad_protections_are_enotsup_and_change_nothing() {
    for prot in [
        PROT_WRITE | PROT_EXEC,
        RW | PROT_EXEC,
        0x8,
        0x80 | PROT_READ,
    ] {
        let mut p = MapProc::new(&[]);
        let a = p.anon(PAGE, RW).unwrap();
        assert_eq!(
            mem_protect(&mut p, a, PAGE, prot),
            Err(Errno::ENOTSUP),
            "{prot:#x}"
        );
        assert_eq!(p.mem().protection(a), Some(rw()));
    }
}

#[test]
fn a_wrapping_range_is_einval() {
    let mut p = MapProc::new(&[]);
    assert_eq!(
        mem_protect(&mut p, 0xffff_f000, 0x2000, PROT_READ),
        Err(Errno::EINVAL)
    );
}

/// Each row: (start page, byte length, prot) applied to an 4-page RW mapping, and the
/// expected protections.
#[test]
fn protections_apply_to_the_pages_covering_the_range() {
    let none = Protection::empty();
    let r = Protection::READ;
    let rx = Protection::READ | Protection::EXEC;
    let rows: &[(u32, u32, u8, [Protection; 4])] = &[
        (0, 4 * PAGE, PROT_READ, [r, r, r, r]),
        (1, 1, 0, [rw(), none, rw(), rw()]),
        (1, PAGE + 1, PROT_READ | PROT_EXEC, [rw(), rx, rx, rw()]),
        (3, 0, 0, [rw(), rw(), rw(), rw()]),
    ];
    for &(page, len, prot, want) in rows {
        let mut p = MapProc::new(&[]);
        let a = p.anon(4 * PAGE, RW).unwrap();
        mem_protect(&mut p, a + page * PAGE + 5 * (len > 1) as u32, len, prot).unwrap();
        let got: Vec<Protection> = prots(p.mem(), a, 4 * PAGE)
            .into_iter()
            .map(Option::unwrap)
            .collect();
        assert_eq!(got, want, "page {page} len {len} prot {prot:#x}");
    }
}

#[test]
fn holes_and_the_kernels_half_are_skipped() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(PAGE, RW).unwrap();
    let b = p.fixed(a + 2 * PAGE, PAGE, RW).unwrap();
    assert_eq!(mem_protect(&mut p, a, 3 * PAGE, PROT_READ), Ok(()));
    assert_eq!(p.mem().protection(a), Some(Protection::READ));
    assert!(!p.mem().is_mapped(a + PAGE), "the hole stays a hole");
    assert_eq!(p.mem().protection(b), Some(Protection::READ));
    assert_eq!(
        mem_protect(&mut p, SIM_USER_TOP, 4 * PAGE, PROT_READ),
        Ok(())
    );
}

#[test]
fn protections_are_enforced_and_contents_survive_prot_none() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(PAGE, RW).unwrap();
    p.fill(a, PAGE, 0x42).unwrap();
    mem_protect(&mut p, a, PAGE, PROT_READ).unwrap();
    assert_eq!(p.fill(a, 1, 0), Err(Errno::EFAULT));
    assert_eq!(p.read(a, 4).unwrap(), [0x42; 4]);
    mem_protect(&mut p, a, PAGE, 0).unwrap();
    assert_eq!(p.read(a, 1), Err(Errno::EFAULT));
    mem_protect(&mut p, a, PAGE, RW).unwrap();
    assert_eq!(p.read(a, PAGE).unwrap(), vec![0x42; PAGE as usize]);
    p.fill(a, 1, 0).unwrap();
}
