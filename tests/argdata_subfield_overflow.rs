//! Subfield length overflow on the machine word: a length that would wrap to a small
//! number on this target (`usize` is 32 bits on i686, 64 on x86_64) is invalid, never
//! silently truncated; lengths that fit but exceed the input are invalid too.

mod argdata_common;

use capexec::Errno;
use capexec::argdata::{ArgdataRef, Value};

/// Base-128 digits of `value` (most significant first), last digit marked.
fn prefix_u128(value: u128) -> Vec<u8> {
    let mut digits = vec![];
    let mut v = value;
    loop {
        digits.push((v & 0x7f) as u8);
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    digits.reverse();
    let last = digits.len() - 1;
    digits[last] |= 0x80;
    digits
}

fn first_element(prefix: &[u8], body: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut b = vec![0x07];
    b.extend_from_slice(prefix);
    b.extend_from_slice(body);
    let ad = ArgdataRef::new(&b);
    let r = ad
        .seq()
        .unwrap()
        .next()
        .unwrap()
        .map(|e| e.bytes().to_vec());
    // Whatever the outcome, re-serialising keeps every byte.
    assert_eq!(Value::encoded(ad).serialize_with_fds().unwrap().0, b);
    r
}

#[test]
fn lengths_that_wrap_the_word_are_invalid() {
    let bits = usize::BITS;
    let table: &[(u128, Result<Vec<u8>, Errno>)] = &[
        (1, Ok(vec![0x05])),
        // 2^BITS + 1 wraps to 1 if the overflow is ignored.
        ((1u128 << bits) + 1, Err(Errno::EINVAL)),
        // 2^32 + 1 wraps on 32-bit targets and is simply too long on 64-bit ones.
        ((1u128 << 32) + 1, Err(Errno::EINVAL)),
        ((1u128 << 64) + 1, Err(Errno::EINVAL)),
        (usize::MAX as u128, Err(Errno::EINVAL)),
        (u64::MAX as u128, Err(Errno::EINVAL)),
        (1u128 << 100, Err(Errno::EINVAL)),
    ];
    for (len, want) in table {
        assert_eq!(
            &first_element(&prefix_u128(*len), &[0x05]),
            want,
            "length {len:#x}"
        );
    }
}

#[test]
fn leading_zero_digits_are_invalid() {
    assert_eq!(first_element(&[0x00, 0x81], &[0x05]), Err(Errno::EINVAL));
    assert_eq!(
        first_element(&[0x00, 0x00, 0x81], &[0x05]),
        Err(Errno::EINVAL)
    );
    assert_eq!(first_element(&[0x80], &[]), Ok(vec![]));
    // A zero digit after a non-zero one is an ordinary digit.
    let body = vec![0x01; 128];
    assert_eq!(first_element(&[0x01, 0x80], &body), Ok(body));
}

#[test]
fn maximal_digit_count_for_this_word() {
    // The longest prefix that still fits usize, pointing past the end.
    let digits = (usize::BITS as usize).div_ceil(7);
    let prefix = prefix_u128(usize::MAX as u128);
    assert_eq!(prefix.len(), digits);
    assert_eq!(first_element(&prefix, &[0; 8]), Err(Errno::EINVAL));
}
