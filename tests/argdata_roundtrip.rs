//! Property: random trees of all types (nested, with descriptors) serialise, parse back
//! equal, and the descriptor list is exactly the distinct descriptors in first-appearance
//! order (depth first, map key before value).

mod argdata_common;

use capexec::Errno;
use capexec::argdata::{ArgdataRef, Timestamp, Value};
use proptest::prelude::*;

fn leaf() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![
        Just(Value::Null),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Binary(b.into())),
        any::<bool>().prop_map(Value::Bool),
        (0i32..12).prop_map(Value::Fd),
        any::<u64>().prop_map(|bits| Value::Float(f64::from_bits(bits))),
        any::<i128>().prop_map(Value::Int),
        any::<i64>().prop_map(|i| Value::Int(i.into())),
        ".{0,20}".prop_map(Value::from),
        (any::<i64>(), 0u32..1_000_000_000)
            .prop_map(|(sec, nsec)| Value::Timestamp(Timestamp { sec, nsec })),
    ]
}

fn tree() -> impl Strategy<Value = Value<'static>> {
    leaf().prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Seq),
            proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
        ]
    })
}

/// Descriptors in serialization order (test-side recursion; trees here are shallow).
fn fds_in_order(v: &Value<'_>, out: &mut Vec<i32>) {
    match v {
        Value::Fd(n) => out.push(*n),
        Value::Seq(items) => items.iter().for_each(|i| fds_in_order(i, out)),
        Value::Map(pairs) => pairs.iter().for_each(|(k, x)| {
            fds_in_order(k, out);
            fds_in_order(x, out);
        }),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn serialise_parse_back(v in tree()) {
        let mut all = Vec::new();
        fds_in_order(&v, &mut all);
        let mut distinct = Vec::new();
        for fd in &all {
            if !distinct.contains(fd) {
                distinct.push(*fd);
            }
        }

        let (len, upper) = v.serialized_length().unwrap();
        prop_assert_eq!(upper, all.len());
        let (bytes, fds) = v.serialize_with_fds().unwrap();
        prop_assert_eq!(bytes.len(), len);
        prop_assert_eq!(&fds, &distinct);

        // Caller-buffer form agrees.
        let mut buf = vec![0u8; len];
        let mut list = vec![0i32; upper];
        let n = v.serialize(&mut buf, &mut list).unwrap();
        prop_assert_eq!(&buf, &bytes);
        prop_assert_eq!(&list[..n], &fds[..]);

        // Parse back through the list.
        let table = fds.clone();
        let conv = move |raw: u32| table.get(raw as usize).copied().ok_or(Errno::EBADF);
        let back = ArgdataRef::with_fds(&bytes, &conv).to_value().unwrap();
        prop_assert!(back == v, "{:?} != {:?}", back, v);

        // Literal mode with the identity conversion also round-trips.
        let lit = v.to_bytes().unwrap();
        prop_assert_eq!(lit.len(), len);
        let ident = |raw: u32| Ok(raw as i32);
        prop_assert!(ArgdataRef::with_fds(&lit, &ident).to_value().unwrap() == v);

        // Re-serialising the encoded output is a fixed point with fds[i] == i.
        let again = Value::encoded(ArgdataRef::for_program(&bytes)).serialize_with_fds().unwrap();
        prop_assert_eq!(&again.0, &bytes);
        prop_assert_eq!(again.1, (0..fds.len() as i32).collect::<Vec<_>>());

        // Clone and equality agree.
        prop_assert!(v.clone() == v);
        prop_assert!(v.try_clone().unwrap() == v);
    }
}
