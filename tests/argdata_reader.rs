//! The zero-copy reader: typed reads, their errors, and container iteration (table-driven).

mod argdata_common;

use argdata_common::hex;
use capexec::Errno;
use capexec::argdata::{ArgdataRef, Timestamp, Type, program_fd};

const EINVAL: Errno = Errno::EINVAL;

/// One row of a table: hex input and the expected outcomes of two reads.
type Row<A, B> = (&'static str, Result<A, Errno>, Result<B, Errno>);

#[test]
fn kinds() {
    let table: &[(&str, Result<Type, Errno>)] = &[
        ("", Ok(Type::Null)),
        ("01", Ok(Type::Binary)),
        ("02", Ok(Type::Bool)),
        ("03", Ok(Type::Fd)),
        ("04", Ok(Type::Float)),
        ("05", Ok(Type::Int)),
        ("06", Ok(Type::Map)),
        ("07", Ok(Type::Seq)),
        ("08", Ok(Type::Str)),
        ("09", Ok(Type::Timestamp)),
        ("00", Err(EINVAL)),
        ("0a", Err(EINVAL)),
        ("ff01", Err(EINVAL)),
    ];
    for (h, want) in table {
        let b = hex(h);
        assert_eq!(ArgdataRef::new(&b).kind(), *want, "{h}");
    }
}

#[test]
fn undefined_tags_fail_every_read() {
    for tag in [0x00u8, 0x0a, 0x42, 0xff] {
        for len in 0..14 {
            let mut b = vec![tag];
            b.resize(len + 1, 0);
            let ad = ArgdataRef::for_program(&b);
            assert_eq!(ad.read_binary(), Err(EINVAL));
            assert_eq!(ad.read_bool(), Err(EINVAL));
            assert_eq!(ad.read_fd(), Err(EINVAL));
            assert_eq!(ad.read_float(), Err(EINVAL));
            assert_eq!(ad.read_int::<u8>(), Err(EINVAL));
            assert_eq!(ad.read_str(), Err(EINVAL));
            assert_eq!(ad.read_timestamp(), Err(EINVAL));
            assert!(ad.map().is_err() && ad.seq().is_err());
        }
    }
}

#[test]
fn bools() {
    let table: &[(&str, Result<bool, Errno>)] = &[
        ("02", Ok(false)),
        ("0201", Ok(true)),
        ("0200", Err(EINVAL)),
        ("0202", Err(EINVAL)),
        ("020101", Err(EINVAL)),
        ("", Err(EINVAL)),
        ("01", Err(EINVAL)),
    ];
    for (h, want) in table {
        let b = hex(h);
        assert_eq!(ArgdataRef::new(&b).read_bool(), *want, "{h}");
    }
}

#[test]
fn fds() {
    let no_conv: &[(&str, Result<i32, Errno>)] = &[
        ("0300000000", Err(Errno::EBADF)),
        ("03", Err(EINVAL)),
        ("03000000", Err(EINVAL)),
        ("030000000000", Err(EINVAL)),
    ];
    for (h, want) in no_conv {
        let b = hex(h);
        assert_eq!(ArgdataRef::new(&b).read_fd(), *want, "{h}");
    }
    let program: &[(&str, Result<i32, Errno>)] = &[
        ("0300000000", Ok(0)),
        ("0300000013", Ok(19)),
        ("037fffffff", Ok(i32::MAX)),
        ("0380000000", Err(Errno::EBADF)),
        ("03ffffffff", Err(Errno::EBADF)),
        ("03cafebabe", Err(Errno::EBADF)),
    ];
    for (h, want) in program {
        let b = hex(h);
        assert_eq!(ArgdataRef::for_program(&b).read_fd(), *want, "{h}");
    }
    assert_eq!(program_fd(7), Ok(7));
    assert_eq!(program_fd(u32::MAX), Err(Errno::EBADF));
    // A caller-supplied conversion.
    let plus = |raw: u32| Ok(raw as i32 + 100);
    let b = hex("0300000005");
    assert_eq!(ArgdataRef::with_fds(&b, &plus).read_fd(), Ok(105));
    assert_eq!(ArgdataRef::with_fds(&b, &plus).read_raw_fd(), Ok(5));
}

#[test]
fn children_inherit_the_conversion() {
    // seq [fd 3, map {fd 4: fd 5}]
    let b = hex("078503000000038d0685030000000485030000000580");
    let double = |raw: u32| Ok(raw as i32 * 2);
    let ad = ArgdataRef::with_fds(&b, &double);
    let mut it = ad.seq().unwrap();
    assert_eq!(it.next().unwrap().unwrap().read_fd(), Ok(6));
    let map = it.next().unwrap().unwrap();
    let (k, v) = map.map().unwrap().next().unwrap().unwrap();
    assert_eq!((k.read_fd(), v.read_fd()), (Ok(8), Ok(10)));
    assert!(it.next().unwrap().unwrap().is_null());
    assert!(it.next().is_none());
    // Without a conversion, children deny access too.
    let first = ArgdataRef::new(&b).seq().unwrap().next().unwrap().unwrap();
    assert_eq!(first.read_fd(), Err(Errno::EBADF));
}

#[test]
fn floats() {
    let table: &[(&str, Result<u64, Errno>)] = &[
        ("043ff8000000000000", Ok(0x3ff8_0000_0000_0000)),
        ("04fff8000000000001", Ok(0xfff8_0000_0000_0001)),
        ("04", Err(EINVAL)),
        ("043ff80000000000", Err(EINVAL)),
        ("043ff800000000000000", Err(EINVAL)),
    ];
    for (h, want) in table {
        let b = hex(h);
        assert_eq!(
            ArgdataRef::new(&b).read_float().map(f64::to_bits),
            *want,
            "{h}"
        );
    }
}

#[test]
fn ints() {
    let table: &[Row<i64, u64>] = &[
        ("05", Ok(0), Ok(0)),
        ("0500", Ok(0), Ok(0)),
        ("05ffff", Ok(-1), Err(Errno::ERANGE)),
        ("050080", Ok(128), Ok(128)),
        ("05000000000000000001", Err(Errno::ERANGE), Ok(1)),
        (
            "05010000000000000000",
            Err(Errno::ERANGE),
            Err(Errno::ERANGE),
        ),
        (
            "0500000000000000000001",
            Err(Errno::ERANGE),
            Err(Errno::ERANGE),
        ),
        ("0580", Ok(-128), Err(Errno::ERANGE)),
        ("04", Err(EINVAL), Err(EINVAL)),
        ("", Err(EINVAL), Err(EINVAL)),
    ];
    for (h, s, u) in table {
        let b = hex(h);
        let ad = ArgdataRef::new(&b);
        assert_eq!(ad.read_int::<i64>(), *s, "{h} signed");
        assert_eq!(ad.read_int::<u64>(), *u, "{h} unsigned");
    }
    let b = hex("050100");
    assert_eq!(ArgdataRef::new(&b).read_int::<u8>(), Err(Errno::ERANGE));
    assert_eq!(ArgdataRef::new(&b).read_int::<i16>(), Ok(256));
}

#[test]
fn strs() {
    let table: &[Row<&str, &str>] = &[
        ("0800", Ok(""), Ok("")),
        ("0848656c6c6f00", Ok("Hello"), Ok("Hello")),
        ("084100420000", Ok("A\0B\0"), Err(Errno::EILSEQ)),
        ("08", Err(EINVAL), Err(EINVAL)),
        ("084142", Err(EINVAL), Err(EINVAL)),
        ("08ff00", Err(Errno::EILSEQ), Err(Errno::EILSEQ)),
        ("08c0af00", Err(Errno::EILSEQ), Err(Errno::EILSEQ)),
        ("08eda08000", Err(Errno::EILSEQ), Err(Errno::EILSEQ)),
        ("08f490808000", Err(Errno::EILSEQ), Err(Errno::EILSEQ)),
        ("08e29800", Err(Errno::EILSEQ), Err(Errno::EILSEQ)),
        ("08e2988300", Ok("\u{2603}"), Ok("\u{2603}")),
    ];
    for (h, plain, c) in table {
        let b = hex(h);
        let ad = ArgdataRef::new(&b);
        assert_eq!(ad.read_str(), *plain, "{h}");
        assert_eq!(ad.read_cstr().map(|s| s.to_str().unwrap()), *c, "{h}");
    }
}

#[test]
fn timestamps() {
    let ts = |sec, nsec| Ok(Timestamp { sec, nsec });
    let table: &[(&str, Result<Timestamp, Errno>)] = &[
        ("09", ts(0, 0)),
        ("0901", ts(0, 1)),
        ("09ff", ts(-1, 999_999_999)),
        ("09c4653600", ts(-1, 0)),
        ("0913f0bceb1a263c69", ts(1_436_855_999, 73_238_121)),
        ("09112233445566778899aa", ts(80_911_113_678_783, 24_503_210)),
        (
            "0980000000000000000001",
            ts(-604_462_909_807_315, 412_646_913),
        ),
        ("097fffffffffffffffffffffff", Err(Errno::ERANGE)),
        ("0900000000000000000000000000", Err(Errno::ERANGE)),
        ("08", Err(EINVAL)),
    ];
    for (h, want) in table {
        let b = hex(h);
        assert_eq!(ArgdataRef::new(&b).read_timestamp(), *want, "{h}");
    }
    // The largest representable second.
    let max = Timestamp {
        sec: i64::MAX,
        nsec: 999_999_999,
    };
    let bytes = capexec::argdata::Value::Timestamp(max).to_bytes().unwrap();
    assert_eq!(ArgdataRef::new(&bytes).read_timestamp(), Ok(max));
}

/// Iteration yields every complete entry, then one `Err(EINVAL)`, then stops.
#[test]
fn seq_iteration_stops_at_first_malformed_subfield() {
    let table: &[(&str, usize, bool)] = &[
        ("07", 0, true),
        ("0780", 1, true),
        ("078105820501008105", 2, false),
        ("0781058205018305", 2, false),
        ("07810582050101010101", 2, false),
        ("0700810581", 0, false),
        ("07810500", 1, false),
    ];
    for (h, n, valid) in table {
        let b = hex(h);
        let mut it = ArgdataRef::new(&b).seq().unwrap();
        let items: Vec<_> = it.by_ref().collect();
        let oks = items.iter().take_while(|r| r.is_ok()).count();
        assert_eq!(oks, *n, "{h}");
        assert_eq!(it.is_valid(), *valid, "{h}");
        assert_eq!(items.len(), n + usize::from(!valid), "{h}");
        if !valid {
            assert_eq!(items.last().unwrap().as_ref().err(), Some(&EINVAL));
        }
        assert!(it.next().is_none());
    }
}

#[test]
fn map_iteration_stops_at_first_malformed_pair() {
    let table: &[(&str, usize, bool)] = &[
        ("06", 0, true),
        ("068080", 1, true),
        ("0680", 0, false),
        ("06808080", 1, false),
        ("0681058205018105", 1, false),
        ("06810582050182050281058105", 2, false),
    ];
    for (h, n, valid) in table {
        let b = hex(h);
        let mut it = ArgdataRef::new(&b).map().unwrap();
        let oks = it.by_ref().take_while(|r| r.is_ok()).count();
        assert_eq!(oks, *n, "{h}");
        assert_eq!(it.is_valid(), *valid, "{h}");
        assert!(it.next().is_none());
    }
}

#[test]
fn wrong_container_kind() {
    let b = hex("07");
    assert_eq!(ArgdataRef::new(&b).map().err(), Some(EINVAL));
    let b = hex("06");
    assert_eq!(ArgdataRef::new(&b).seq().err(), Some(EINVAL));
    assert_eq!(ArgdataRef::new(&[]).seq().err(), Some(EINVAL));
}
