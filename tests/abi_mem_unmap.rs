//! `mem_unmap`: validation, partial unmaps from either end and from the middle, holes.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::mem_unmap;
use capexec_sim::SIM_USER_TOP;
use mem_common::*;

/// Each row: (what, addr, len, errno). The mapping stays whole afterwards.
#[test]
fn invalid_ranges_are_einval_and_change_nothing() {
    type Row = (&'static str, u32, u32);
    let rows: &[Row] = &[
        ("zero length", 0x1000_0000, 0),
        ("zero length, unaligned", 0x1000_0001, 0),
        ("wraps past 4 GiB", 0xffff_f000, 0x2000),
        ("rounds past 4 GiB", 0x1000_0000, u32::MAX),
        ("below the user range", 0, PAGE),
        ("into the kernel's half", SIM_USER_TOP - PAGE, 2 * PAGE),
    ];
    for &(what, addr, len) in rows {
        let mut p = MapProc::new(&[]);
        let a = p.anon(4 * PAGE, RW).unwrap();
        assert_eq!(mem_unmap(&mut p, addr, len), Err(Errno::EINVAL), "{what}");
        assert_eq!(prots(p.mem(), a, 4 * PAGE), vec![Some(rw()); 4], "{what}");
    }
}

#[test]
fn partial_unmaps_keep_the_rest_with_its_contents() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(8 * PAGE, RW).unwrap();
    for i in 0..8 {
        p.fill(a + i * PAGE, PAGE, i as u8 + 1).unwrap();
    }
    // Front, back, middle; an unaligned start and length cover whole pages.
    mem_unmap(&mut p, a, PAGE).unwrap();
    mem_unmap(&mut p, a + 7 * PAGE, PAGE).unwrap();
    mem_unmap(&mut p, a + 3 * PAGE + 100, PAGE).unwrap();
    let mapped: Vec<bool> = (0..8).map(|i| p.mem().is_mapped(a + i * PAGE)).collect();
    assert_eq!(mapped, [false, true, true, false, false, true, true, false]);
    for i in [1, 2, 5, 6] {
        assert_eq!(
            p.read(a + i * PAGE, PAGE).unwrap(),
            vec![i as u8 + 1; PAGE as usize]
        );
    }
    assert_eq!(p.read(a + 3 * PAGE, 1), Err(Errno::EFAULT));
}

#[test]
fn holes_are_fine_and_freed_space_is_reused() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(2 * PAGE, RW).unwrap();
    assert_eq!(mem_unmap(&mut p, a, 16 * PAGE), Ok(()));
    assert_eq!(
        mem_unmap(&mut p, a, 16 * PAGE),
        Ok(()),
        "nothing mapped: still fine"
    );
    assert_eq!(p.mem().mapped_pages(), 0);
    assert_eq!(p.anon(PAGE, RW), Ok(a));
}
