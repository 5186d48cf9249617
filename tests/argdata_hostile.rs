//! Hostile inputs: million-deep nesting through every whole-tree walker, huge subfield
//! lengths, and a 256 KiB map of empty keys. Nothing may panic or overflow the stack.

mod argdata_common;

use argdata_common::{CountingSink, nested_seq_bytes, push_field};
use capexec::Errno;
use capexec::argdata::{ArgdataRef, MAX_YAML_DEPTH, Value, print_yaml};
use std::fmt::Write;

const DEEP: usize = 1_000_000;

fn deep_value(depth: usize, leaf: Value<'static>) -> Value<'static> {
    let mut v = leaf;
    for i in 1..depth {
        v = if i % 2 == 0 {
            Value::Seq(vec![v])
        } else {
            Value::Map(vec![(Value::Null, v)])
        };
    }
    v
}

#[test]
fn million_deep_encoded_through_printer_serialiser_and_decoder() {
    let bytes = nested_seq_bytes(DEEP);
    let ad = ArgdataRef::for_program(&bytes);

    // Printer: the depth limit stops it, having written the outer levels.
    let mut sink = CountingSink::default();
    assert_eq!(print_yaml(ad, &mut sink), Err(Errno::EOVERFLOW));
    assert!(sink.bytes > MAX_YAML_DEPTH as u64);

    // Serialiser over encoded bytes: length-preserving, no descriptors.
    let v = Value::encoded(ad);
    assert_eq!(v.serialized_length(), Ok((bytes.len(), 0)));
    let (out, fds) = v.serialize_with_fds().unwrap();
    assert_eq!(out, bytes);
    assert!(fds.is_empty());

    // Decoder, then every walker of owned trees.
    let tree = ad.to_value().unwrap();
    let copy = tree.clone();
    assert!(copy == tree);
    assert_eq!(tree.to_bytes().unwrap(), bytes);
    let mut dbg = CountingSink::default();
    write!(dbg, "{tree:?}").unwrap();
    // Debug prints 16 levels and elides the rest: short, whatever the depth.
    assert!(dbg.bytes < 200, "{} bytes", dbg.bytes);
    drop(copy);
    drop(tree);
}

#[test]
fn million_deep_owned_tree_with_a_descriptor_at_the_bottom() {
    let tree = deep_value(DEEP, Value::Fd(42));
    let (len, upper) = tree.serialized_length().unwrap();
    assert_eq!(upper, 1);
    let (bytes, fds) = tree.serialize_with_fds().unwrap();
    assert_eq!(bytes.len(), len);
    assert_eq!(fds, [42]);
    let list = fds.clone();
    let conv = move |raw: u32| list.get(raw as usize).copied().ok_or(Errno::EBADF);
    let back = ArgdataRef::with_fds(&bytes, &conv).to_value().unwrap();
    assert!(back == tree);
    let other = deep_value(DEEP, Value::Fd(43));
    assert!(other != tree);
    let cloned = tree.try_clone().unwrap();
    assert!(cloned == tree);
}

#[test]
fn printer_depth_limit_is_exact() {
    let ok = nested_seq_bytes(MAX_YAML_DEPTH);
    let mut sink = CountingSink::default();
    assert_eq!(print_yaml(ArgdataRef::new(&ok), &mut sink), Ok(()));
    let too_deep = nested_seq_bytes(MAX_YAML_DEPTH + 2);
    assert_eq!(
        print_yaml(ArgdataRef::new(&too_deep), &mut CountingSink::default()),
        Err(Errno::EOVERFLOW)
    );
    // Small depths print exactly.
    let mut s = String::new();
    print_yaml(ArgdataRef::new(&nested_seq_bytes(3)), &mut s).unwrap();
    assert_eq!(
        s,
        "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n!!seq [\n  !!seq [\n    !!seq [],\n  ],\n]\n"
    );
}

/// The prefix encoding `usize::MAX`, then a few bytes: never a valid subfield.
#[test]
fn subfield_length_of_usize_max() {
    let mut b = vec![0x07];
    let digits = (usize::BITS as usize).div_ceil(7);
    for k in (0..digits).rev() {
        let d = ((usize::MAX >> (7 * k)) & 0x7f) as u8;
        b.push(if k == 0 { d | 0x80 } else { d });
    }
    b.extend_from_slice(&[0x05, 0x01, 0x02]);
    let ad = ArgdataRef::for_program(&b);
    let mut it = ad.seq().unwrap();
    assert_eq!(it.next().map(|r| r.err()), Some(Some(Errno::EINVAL)));
    assert!(it.next().is_none());
    let mut s = String::new();
    print_yaml(ad, &mut s).unwrap();
    assert!(s.ends_with("!!null \"null\"\n"));
    assert_eq!(Value::encoded(ad).serialize_with_fds().unwrap().0, b);
    // One more digit overflows the machine word.
    let mut over = vec![0x07, 0x01];
    over.extend_from_slice(&b[1..]);
    assert!(
        ArgdataRef::new(&over)
            .seq()
            .unwrap()
            .next()
            .unwrap()
            .is_err()
    );
}

#[test]
fn map_of_256_kib_of_empty_keys() {
    let mut b = vec![0x06];
    b.resize(1 + 256 * 1024, 0x80);
    let ad = ArgdataRef::for_program(&b);
    let mut it = ad.map().unwrap();
    let n = it
        .by_ref()
        .filter(|r| matches!(r, Ok((k, v)) if k.is_null() && v.is_null()))
        .count();
    assert_eq!(n, 128 * 1024);
    assert!(it.is_valid());
    let mut sink = CountingSink::default();
    print_yaml(ad, &mut sink).unwrap();
    let tree = ad.to_value().unwrap();
    assert_eq!(tree.to_bytes().unwrap(), b);
    assert_eq!(Value::encoded(ad).serialize_with_fds().unwrap().0, b);
}

#[test]
fn random_garbage_never_panics() {
    // A deterministic xorshift stream of garbage, including deep-ish tag runs.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..3000 {
        let len = round % 200;
        let mut b = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let byte = x as u8;
            b.push(if round % 3 == 0 { byte % 10 } else { byte });
        }
        let ad = ArgdataRef::for_program(&b);
        let _ = print_yaml(ad, &mut CountingSink::default());
        let v = Value::encoded(ad);
        let (out, _) = v.serialize_with_fds().unwrap();
        assert_eq!(out.len(), b.len());
        let tree = ad.to_value().unwrap();
        let _ = tree.serialize_with_fds().unwrap();
        if let Ok(it) = ad.seq() {
            it.for_each(drop);
        }
        if let Ok(it) = ad.map() {
            it.for_each(drop);
        }
    }
}

#[test]
fn nested_encoded_inside_owned_tree_is_walked() {
    // An encoded map with an fd in a dangling odd key sits inside an owned seq.
    let mut inner = vec![0x06];
    push_field(&mut inner, &[0x03, 0, 0, 0, 9]);
    push_field(&mut inner, &[0x03, 0, 0, 0, 4]);
    push_field(&mut inner, &[0x03, 0, 0, 0, 9]);
    let tree = Value::Seq(vec![
        Value::Fd(4),
        Value::encoded(ArgdataRef::for_program(&inner)),
    ]);
    assert_eq!(tree.serialized_length().unwrap().1, 4);
    let (bytes, fds) = tree.serialize_with_fds().unwrap();
    assert_eq!(fds, [4, 9]);
    let mut want = vec![0x07];
    push_field(&mut want, &[0x03, 0, 0, 0, 0]);
    let mut inner_out = vec![0x06];
    push_field(&mut inner_out, &[0x03, 0, 0, 0, 1]);
    push_field(&mut inner_out, &[0x03, 0, 0, 0, 0]);
    push_field(&mut inner_out, &[0x03, 0, 0, 0, 1]);
    push_field(&mut want, &inner_out);
    assert_eq!(bytes, want);
}
