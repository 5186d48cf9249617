//! `mem_sync`: flag combinations, unmapped pages, zero length.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::*;
use capexec_sim::SIM_USER_TOP;
use mem_common::*;

#[test]
fn flags_match_the_cloudabi_crate() {
    use cloudabi::msflags;
    assert_eq!(MS_ASYNC, msflags::ASYNC.bits());
    assert_eq!(MS_INVALIDATE, msflags::INVALIDATE.bits());
    assert_eq!(MS_SYNC, msflags::SYNC.bits());
}

/// Each row: (what, page offset from a 2-page mapping, len, flags, result).
#[test]
fn flags_and_ranges_are_checked() {
    type Row = (&'static str, i64, u32, u8, Result<(), Errno>);
    let rows: &[Row] = &[
        ("sync", 0, 2 * PAGE, MS_SYNC, Ok(())),
        ("async", 0, PAGE, MS_ASYNC, Ok(())),
        (
            "sync and invalidate",
            0,
            PAGE,
            MS_SYNC | MS_INVALIDATE,
            Ok(()),
        ),
        ("unknown bits ignored", 0, PAGE, MS_SYNC | 0xf0, Ok(())),
        ("no mode", 0, PAGE, 0, Err(Errno::EINVAL)),
        (
            "invalidate alone",
            0,
            PAGE,
            MS_INVALIDATE,
            Err(Errno::EINVAL),
        ),
        (
            "both modes",
            0,
            PAGE,
            MS_SYNC | MS_ASYNC,
            Err(Errno::EINVAL),
        ),
        (
            "async and invalidate",
            0,
            PAGE,
            MS_ASYNC | MS_INVALIDATE,
            Err(Errno::EINVAL),
        ),
        (
            "bad flags before the range",
            0x10_0000,
            PAGE,
            0,
            Err(Errno::EINVAL),
        ),
        ("runs into a hole", 1, 2 * PAGE, MS_SYNC, Err(Errno::ENOMEM)),
        (
            "starts in a hole",
            -1,
            2 * PAGE,
            MS_SYNC,
            Err(Errno::ENOMEM),
        ),
        ("zero length on a mapped page", 1, 0, MS_SYNC, Ok(())),
        ("zero length on a hole", 2, 0, MS_SYNC, Err(Errno::ENOMEM)),
    ];
    for &(what, page, len, flags, want) in rows {
        let mut p = MapProc::new(&[]);
        let a = p.fixed(0x1000_0000, 2 * PAGE, RW).unwrap();
        let addr = (i64::from(a) + page * i64::from(PAGE)) as u32;
        assert_eq!(mem_sync(&mut p, addr, len, flags), want, "{what}");
    }
    let mut p = MapProc::new(&[]);
    assert_eq!(
        mem_sync(&mut p, 0xffff_f000, 0x2000, MS_SYNC),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mem_sync(&mut p, SIM_USER_TOP, PAGE, MS_SYNC),
        Err(Errno::ENOMEM)
    );
}
