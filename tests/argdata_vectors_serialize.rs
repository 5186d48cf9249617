//! Every vector of `serialize_buffer.jsonl`: re-serialising encoded bytes with descriptor
//! extraction (length-preserving, linear dedup, unconvertible descriptors invalidated).

mod argdata_common;

use argdata_common::{to_hex, vectors};
use capexec::argdata::{ArgdataRef, Value};

#[test]
fn serialize_buffer_vectors() {
    for row in &vectors("serialize_buffer.jsonl") {
        let input = row.hex("in");
        let want = row.hex("out");
        let want_fds: Vec<i32> = row.ints("fds").into_iter().map(|v| v as i32).collect();
        let upper = row.int("n_fds_upper") as usize;
        let name = row.str("in");

        let v = Value::encoded(ArgdataRef::for_program(&input));
        assert_eq!(v.serialized_length(), Ok((input.len(), upper)), "{name}");

        let (bytes, fds) = v.serialize_with_fds().unwrap();
        assert_eq!(to_hex(&bytes), to_hex(&want), "{name}");
        assert_eq!(fds, want_fds, "{name}");

        // Caller-buffer form, with the list sized by the upper bound.
        let mut buf = vec![0u8; input.len()];
        let mut list = vec![-7i32; upper];
        let n = v.serialize(&mut buf, &mut list).unwrap();
        assert_eq!(buf, want, "{name}");
        assert_eq!(&list[..n], &want_fds[..], "{name}");

        // Literal mode copies encoded bytes verbatim.
        assert_eq!(v.to_bytes().unwrap(), input, "{name}");

        // Decoding to a tree first changes nothing.
        let tree = ArgdataRef::for_program(&input).to_value().unwrap();
        assert_eq!(
            tree.serialize_with_fds().unwrap(),
            (want.clone(), want_fds.clone()),
            "{name}"
        );

        // Serialising the output again is a fixed point with fds[i] == i.
        let again = Value::encoded(ArgdataRef::for_program(&want));
        let (bytes2, fds2) = again.serialize_with_fds().unwrap();
        assert_eq!(bytes2, want, "{name}");
        assert_eq!(fds2, (0..fds2.len() as i32).collect::<Vec<_>>(), "{name}");
        assert_eq!(fds2.len(), want_fds.len(), "{name}");
    }
}

#[test]
fn wrong_buffer_sizes_are_rejected() {
    let input = [0x03, 0, 0, 0, 5];
    let v = Value::encoded(ArgdataRef::for_program(&input));
    let mut short = [0u8; 4];
    assert_eq!(
        v.serialize(&mut short, &mut [0; 1]),
        Err(capexec::Errno::EINVAL)
    );
    let mut long = [0u8; 6];
    assert_eq!(
        v.serialize(&mut long, &mut [0; 1]),
        Err(capexec::Errno::EINVAL)
    );
    let mut exact = [0u8; 5];
    assert_eq!(
        v.serialize(&mut exact, &mut []),
        Err(capexec::Errno::EINVAL)
    );
    assert_eq!(v.serialize(&mut exact, &mut [0; 1]), Ok(1));
}
