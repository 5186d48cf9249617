//! Differential tests against the original Rust implementation, the `argdata` crate 0.1.2,
//! on random encodings. Where the spec says both libraries agree they must agree; each
//! documented difference (leading-zero subfield lengths, over-long integers, the crate's
//! rewrite of malformed fd nodes) is pinned by a named test showing capexec's behaviour,
//! which follows the C library.

mod argdata_common;

use argdata::{Argdata, ArgdataExt, ReadError};
use argdata_common::hex;
use capexec::Errno;
use capexec::argdata::{ArgdataRef, Type, Value};
use proptest::prelude::*;

/// The crate's view of a child or top-level value as raw bytes.
fn crate_bytes(a: &dyn Argdata<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    a.serialize(&mut out, None).unwrap();
    out
}

fn crate_type(t: argdata::Type) -> Type {
    match t {
        argdata::Type::Null => Type::Null,
        argdata::Type::Binary => Type::Binary,
        argdata::Type::Bool => Type::Bool,
        argdata::Type::Fd => Type::Fd,
        argdata::Type::Float => Type::Float,
        argdata::Type::Int => Type::Int,
        argdata::Type::Map => Type::Map,
        argdata::Type::Seq => Type::Seq,
        argdata::Type::Str => Type::Str,
        argdata::Type::Timestamp => Type::Timestamp,
    }
}

/// Compares every read both libraries define identically on one encoded value.
fn compare_scalars(b: &[u8]) -> Result<(), TestCaseError> {
    let ours = ArgdataRef::new(b);
    let theirs = argdata::encoded(b);

    match theirs.get_type() {
        Ok(t) => prop_assert_eq!(ours.kind(), Ok(crate_type(t))),
        Err(ReadError::InvalidTag(_)) => prop_assert_eq!(ours.kind(), Err(Errno::EINVAL)),
        Err(e) => prop_assert!(false, "unexpected {:?}", e),
    }
    prop_assert_eq!(ours.read_binary().ok(), theirs.read_binary().ok());
    prop_assert_eq!(ours.read_bool().ok(), theirs.read_bool().ok());
    prop_assert_eq!(
        ours.read_raw_fd().ok(),
        theirs
            .read_encoded_fd()
            .ok()
            .map(|f| f.raw_encoded_number())
    );
    prop_assert_eq!(
        ours.read_float().ok().map(f64::to_bits),
        theirs.read_float().ok().map(f64::to_bits)
    );
    prop_assert_eq!(ours.read_str().ok(), theirs.read_str().ok());
    prop_assert_eq!(
        ours.read_timestamp().ok().map(|t| (t.sec, t.nsec)),
        theirs.read_timestamp().ok().map(|t| (t.sec, t.nsec))
    );
    // Integers agree up to 8 payload bytes (the crate reads any length).
    if let Ok(p) = ours.read_int_bytes() {
        if p.len() <= 8 {
            prop_assert_eq!(ours.read_int::<i64>().ok(), theirs.read_int::<i64>().ok());
            prop_assert_eq!(ours.read_int::<u64>().ok(), theirs.read_int::<u64>().ok());
            prop_assert_eq!(ours.read_int::<i8>().ok(), theirs.read_int::<i8>().ok());
            prop_assert_eq!(ours.read_int::<u16>().ok(), theirs.read_int::<u16>().ok());
        }
    }
    Ok(())
}

/// Compares container iteration: the same entries, and both report the break, unless
/// capexec stopped at a leading-zero length (which the crate accepts).
fn compare_containers(b: &[u8]) -> Result<(), TestCaseError> {
    let ours = ArgdataRef::new(b);
    let theirs = argdata::encoded(b);
    if let Ok(mut it) = ours.seq() {
        let mine: Vec<Vec<u8>> = it
            .by_ref()
            .map_while(Result::ok)
            .map(|e| e.bytes().to_vec())
            .collect();
        let leading_zero = !it.is_valid() && it.remaining().first() == Some(&0);
        let mut crate_items = Vec::new();
        let mut crate_err = false;
        for r in theirs.read_seq().unwrap() {
            match r {
                Ok(e) => crate_items.push(crate_bytes(&*e)),
                Err(_) => {
                    crate_err = true;
                    break;
                }
            }
        }
        if leading_zero {
            prop_assert!(crate_items.starts_with(&mine));
        } else {
            prop_assert_eq!(&mine, &crate_items);
            prop_assert_eq!(!it.is_valid(), crate_err);
        }
    }
    if let Ok(mut it) = ours.map() {
        let mine: Vec<(Vec<u8>, Vec<u8>)> = it
            .by_ref()
            .map_while(Result::ok)
            .map(|(k, v)| (k.bytes().to_vec(), v.bytes().to_vec()))
            .collect();
        let rest = it.remaining();
        // A leading zero at the key or at the value of the pair that broke.
        let leading_zero = !it.is_valid() && pair_has_leading_zero(rest);
        let mut crate_items = Vec::new();
        let mut crate_err = false;
        for r in theirs.read_map().unwrap() {
            match r {
                Ok((k, v)) => crate_items.push((crate_bytes(&*k), crate_bytes(&*v))),
                Err(_) => {
                    crate_err = true;
                    break;
                }
            }
        }
        if leading_zero {
            prop_assert!(crate_items.starts_with(&mine));
        } else {
            prop_assert_eq!(&mine, &crate_items);
            prop_assert_eq!(!it.is_valid(), crate_err);
        }
    }
    Ok(())
}

/// Whether the key or the value subfield at the front of `rest` starts with a zero digit.
fn pair_has_leading_zero(rest: &[u8]) -> bool {
    if rest.first() == Some(&0) {
        return true;
    }
    let wrapped = [&[0x07u8][..], rest].concat();
    let key = ArgdataRef::new(&wrapped).seq().unwrap().next();
    match key {
        Some(Ok(k)) => {
            let used = argdata_common::prefix_len(k.bytes().len()) + k.bytes().len();
            rest.get(used) == Some(&0)
        }
        _ => false,
    }
}

/// Random encodings: plausible nodes (every tag, short payloads) nested in containers,
/// with occasional corruption of a subfield length.
fn encoding() -> impl Strategy<Value = Vec<u8>> {
    let leaf =
        (0u8..=10, proptest::collection::vec(any::<u8>(), 0..13)).prop_map(|(tag, mut p)| {
            if tag == 10 {
                return vec![];
            }
            p.insert(0, tag);
            p
        });
    leaf.prop_recursive(4, 48, 6, |inner| {
        (
            prop_oneof![Just(6u8), Just(7u8)],
            proptest::collection::vec(inner, 0..6),
            0u8..8,
        )
            .prop_map(|(tag, items, corrupt)| {
                let mut out = vec![tag];
                for (i, item) in items.iter().enumerate() {
                    if corrupt == 1 && i == items.len() / 2 {
                        out.push(0x00); // leading zero digit
                    }
                    argdata_common::push_field(&mut out, item);
                }
                if corrupt == 2 {
                    out.push(0x05); // a truncated length
                }
                if corrupt == 3 && out.len() > 2 {
                    out.truncate(out.len() - 1);
                }
                out
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn reads_agree_on_random_encodings(b in encoding()) {
        compare_scalars(&b)?;
        compare_containers(&b)?;
        // Every child too, one level down.
        if let Ok(it) = ArgdataRef::new(&b).seq() {
            for e in it.map_while(Result::ok) {
                compare_scalars(e.bytes())?;
                compare_containers(e.bytes())?;
            }
        }
    }

    #[test]
    fn reads_agree_on_random_bytes(b in proptest::collection::vec(any::<u8>(), 0..24)) {
        compare_scalars(&b)?;
        compare_containers(&b)?;
    }

    /// Re-serialising a well-formed fd node with extraction: both rewrite it to index 0
    /// and list the descriptor (or write the invalid marker when conversion fails).
    #[test]
    fn fd_serialisation_agrees(raw in any::<u32>()) {
        let b = [&[0x03u8][..], &raw.to_be_bytes()].concat();
        let conv = argdata::fd::ConvertFdFn(|r: u32| {
            if r <= i32::MAX as u32 { Ok(argdata::fd::Fd(r as i32)) } else { Err(argdata::fd::InvalidFd) }
        });
        let theirs = argdata::encoded_with_fds(&b, conv);
        let mut crate_out = Vec::new();
        let mut crate_fds: Vec<argdata::fd::Fd> = Vec::new();
        theirs.serialize(&mut crate_out, Some(&mut crate_fds)).unwrap();
        let (ours, fds) = Value::encoded(ArgdataRef::for_program(&b)).serialize_with_fds().unwrap();
        prop_assert_eq!(ours, crate_out);
        prop_assert_eq!(fds, crate_fds.iter().map(|f| f.0).collect::<Vec<_>>());
    }
}

/// Difference: the crate accepts a leading zero digit in a subfield length; the C library
/// (and capexec) reject the container there.
#[test]
fn difference_leading_zero_subfield_length() {
    let b = hex("0700810580");
    let enc = argdata::encoded(&b);
    let theirs: Vec<bool> = enc.read_seq().unwrap().map(|r| r.is_ok()).collect();
    assert_eq!(theirs, [true, true]);

    let mut ours = ArgdataRef::new(&b).seq().unwrap();
    assert_eq!(ours.next().map(|r| r.err()), Some(Some(Errno::EINVAL)));
    assert!(ours.next().is_none());
    assert!(!ours.is_valid());
}

/// A table row: hex input, expected signed and unsigned reads.
type Row = (&'static str, Result<i64, Errno>, Result<u64, Errno>);

/// Difference: the crate reads integers of any length; capexec follows the C library's
/// `intmax_t`/`uintmax_t` paths (`ERANGE` beyond 8 bytes signed, 9 with a leading `00`
/// unsigned).
#[test]
fn difference_over_long_integers() {
    let table: &[Row] = &[
        ("05000000000000000001", Err(Errno::ERANGE), Ok(1)),
        (
            "0500000000000000000001",
            Err(Errno::ERANGE),
            Err(Errno::ERANGE),
        ),
        (
            "05ffffffffffffffffffff",
            Err(Errno::ERANGE),
            Err(Errno::ERANGE),
        ),
    ];
    for (h, s, u) in table {
        let b = hex(h);
        assert_eq!(
            argdata::encoded(&b).read_int::<i64>().ok(),
            Some(if h.ends_with("01") { 1 } else { -1 }),
            "{h}"
        );
        let ad = ArgdataRef::new(&b);
        assert_eq!(ad.read_int::<i64>(), *s, "{h}");
        assert_eq!(ad.read_int::<u64>(), *u, "{h}");
    }
}

/// Difference: re-serialising a malformed fd node, the crate rewrites it to a 5-byte
/// node (changing the length); capexec copies it verbatim (length-preserving) and does not
/// count it.
#[test]
fn difference_malformed_fd_node_rewrite() {
    for h in ["03", "0301", "03000000", "030000000000"] {
        let b = hex(h);
        let mut crate_out = Vec::new();
        let mut crate_fds: Vec<argdata::fd::Fd> = Vec::new();
        argdata::encoded(&b)
            .serialize(&mut crate_out, Some(&mut crate_fds))
            .unwrap();
        assert_eq!(crate_out, hex("03ffffffff"), "{h}");

        let v = Value::encoded(ArgdataRef::for_program(&b));
        assert_eq!(v.serialized_length(), Ok((b.len(), 0)), "{h}");
        assert_eq!(v.serialize_with_fds().unwrap(), (b.clone(), vec![]), "{h}");
    }
}

/// Inside a container the crate's re-serialisation goes further astray; capexec still
/// copies every byte but well-formed fd nodes.
#[test]
fn difference_malformed_fd_node_in_a_seq() {
    let b = hex("0782030185030000000a");
    let mut crate_out = Vec::new();
    let mut crate_fds: Vec<argdata::fd::Fd> = Vec::new();
    argdata::encoded(&b)
        .serialize(&mut crate_out, Some(&mut crate_fds))
        .unwrap();
    // argdata 0.1.2 writes nothing at all for this seq.
    assert_ne!(crate_out, b);

    let conv = |raw: u32| Ok(raw as i32);
    let v = Value::encoded(ArgdataRef::with_fds(&b, &conv));
    assert_eq!(
        v.serialize_with_fds().unwrap(),
        (hex("07820301850300000000"), vec![10])
    );
}

/// Difference: the crate's explicit invalid descriptor serialises as `05 FF FF FF FF` (an
/// int tag); capexec writes an unconvertible descriptor as the fd node `03 FF FF FF FF`.
#[test]
fn difference_invalid_fd_value_encoding() {
    let mut crate_out = Vec::new();
    let mut crate_fds: Vec<argdata::fd::Fd> = Vec::new();
    argdata::invalid_fd()
        .serialize(&mut crate_out, Some(&mut crate_fds))
        .unwrap();
    assert_eq!(crate_out, hex("05ffffffff"));

    let (ours, fds) = Value::Fd(-1).serialize_with_fds().unwrap();
    assert_eq!(ours, hex("03ffffffff"));
    assert!(fds.is_empty());
}
