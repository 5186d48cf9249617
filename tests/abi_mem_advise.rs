//! `mem_advise`: the advice values FreeBSD accepts, range checks, contents untouched.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::*;
use capexec::exec::Advice;
use capexec_sim::SIM_USER_TOP;
use mem_common::*;

#[test]
fn advice_values_match_the_cloudabi_crate_and_freebsd() {
    use cloudabi::advice as A;
    let rows = [
        (A::DONTNEED, Ok(Advice::DontNeed)),
        (A::NOREUSE, Err(Errno::EINVAL)),
        (A::NORMAL, Ok(Advice::Normal)),
        (A::RANDOM, Ok(Advice::Random)),
        (A::SEQUENTIAL, Ok(Advice::Sequential)),
        (A::WILLNEED, Ok(Advice::WillNeed)),
    ];
    for (raw, want) in rows {
        assert_eq!(advice(raw as u8), want, "{raw:?}");
    }
    assert_eq!(advice(0), Err(Errno::EINVAL));
    assert_eq!(advice(7), Err(Errno::EINVAL));
    assert_eq!(ADVICE_NOREUSE, A::NOREUSE as u8);
}

/// Each row: (what, addr, len, advice, result).
#[test]
fn ranges_and_values_are_checked() {
    type Row = (&'static str, u32, u32, u8, Result<(), Errno>);
    let rows: &[Row] = &[
        (
            "normal over a mapping",
            0x1000_0000,
            PAGE,
            ADVICE_NORMAL,
            Ok(()),
        ),
        (
            "dontneed, unaligned",
            0x1000_0010,
            10,
            ADVICE_DONTNEED,
            Ok(()),
        ),
        (
            "willneed over a hole",
            0x2000_0000,
            PAGE,
            ADVICE_WILLNEED,
            Ok(()),
        ),
        ("zero length", 0x1000_0000, 0, ADVICE_RANDOM, Ok(())),
        (
            "noreuse",
            0x1000_0000,
            PAGE,
            ADVICE_NOREUSE,
            Err(Errno::EINVAL),
        ),
        (
            "unknown advice before the range",
            0,
            0,
            0xff,
            Err(Errno::EINVAL),
        ),
        (
            "below the user range",
            0,
            PAGE,
            ADVICE_NORMAL,
            Err(Errno::EINVAL),
        ),
        (
            "into the kernel's half",
            SIM_USER_TOP - 1,
            2,
            ADVICE_NORMAL,
            Err(Errno::EINVAL),
        ),
        (
            "wrapping",
            0xffff_ff00,
            0x200,
            ADVICE_NORMAL,
            Err(Errno::EINVAL),
        ),
    ];
    for &(what, addr, len, adv, want) in rows {
        let mut p = MapProc::new(&[]);
        let a = p.anon(PAGE, RW).unwrap();
        p.fill(a, PAGE, 0x11).unwrap();
        assert_eq!(mem_advise(&mut p, addr, len, adv), want, "{what}");
        // Advice never changes what the program reads (DONTNEED keeps contents, as on
        // FreeBSD).
        assert_eq!(
            p.read(a, PAGE).unwrap(),
            vec![0x11; PAGE as usize],
            "{what}"
        );
    }
}
