//! Integers: range-checked decoding into any Rust integer type, and minimal encoding.
//!
//! A signed read follows the C library's `intmax_t` path: a payload longer than 8 bytes is
//! `ERANGE`. An unsigned read follows its `uintmax_t` path: 9 bytes are accepted only when
//! the first is `00`, and a negative value is `ERANGE`. The value is then range-checked
//! against the requested type (`ERANGE`). The 128-bit types follow the same rules (so their
//! range is that of `i64` and `u64` respectively). Non-minimal encodings are accepted.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_get_int_s.c`, `argdata_get_int_u.c`,
//!   `argdata_create_int_s.c`, `argdata_create_int_u.c`).

use crate::Errno;

mod sealed {
    pub trait Sealed {}
}

/// A Rust integer type an argdata int can be read into (`i8` ..= `i128`, `isize`,
/// `u8` ..= `u128`, `usize`).
pub trait ArgdataInt: Sized + sealed::Sealed {
    /// Decodes an int payload (the bytes after the `05` tag) into `Self`.
    fn from_payload(payload: &[u8]) -> Result<Self, Errno>;
}

/// Decodes a payload through the signed (`intmax_t`) path.
#[inline]
pub(crate) fn decode_signed(payload: &[u8]) -> Result<i64, Errno> {
    if payload.len() > 8 {
        return Err(Errno::ERANGE);
    }
    let mut v: i64 = match payload.first() {
        Some(&b) if b & 0x80 != 0 => -1,
        _ => 0,
    };
    for &b in payload {
        v = (v << 8) | i64::from(b);
    }
    Ok(v)
}

/// Decodes a payload through the unsigned (`uintmax_t`) path.
#[inline]
pub(crate) fn decode_unsigned(payload: &[u8]) -> Result<u64, Errno> {
    let digits = match payload {
        [] => return Ok(0),
        [0, rest @ ..] if rest.len() == 8 => rest,
        _ if payload.len() > 8 => return Err(Errno::ERANGE),
        [first, ..] if first & 0x80 != 0 => return Err(Errno::ERANGE),
        _ => payload,
    };
    let mut v: u64 = 0;
    for &b in digits {
        v = (v << 8) | u64::from(b);
    }
    Ok(v)
}

/// Decodes a payload of up to 16 bytes into an `i128` (used to build owned trees).
pub(crate) fn decode_wide(payload: &[u8]) -> Option<i128> {
    if payload.len() > 16 {
        return None;
    }
    let mut v: i128 = match payload.first() {
        Some(&b) if b & 0x80 != 0 => -1,
        _ => 0,
    };
    for &b in payload {
        v = (v << 8) | i128::from(b);
    }
    Some(v)
}

/// The minimal two's complement big-endian encoding of `v`: a 16-byte buffer and the
/// index where the encoding starts (0 is encoded as no bytes).
#[inline]
pub(crate) fn encode_minimal(v: i128) -> ([u8; 16], usize) {
    let bytes = v.to_be_bytes();
    let magnitude_bits = if v < 0 {
        128 - (!v).leading_zeros()
    } else {
        128 - v.leading_zeros()
    };
    let n = if v == 0 {
        0
    } else {
        (magnitude_bits as usize + 1).div_ceil(8)
    };
    (bytes, 16 - n)
}

macro_rules! signed_ints {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl ArgdataInt for $t {
            #[inline]
            fn from_payload(payload: &[u8]) -> Result<Self, Errno> {
                <$t>::try_from(decode_signed(payload)?).map_err(|_| Errno::ERANGE)
            }
        }
    )*};
}

macro_rules! unsigned_ints {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl ArgdataInt for $t {
            #[inline]
            fn from_payload(payload: &[u8]) -> Result<Self, Errno> {
                <$t>::try_from(decode_unsigned(payload)?).map_err(|_| Errno::ERANGE)
            }
        }
    )*};
}

signed_ints!(i8, i16, i32, i64, i128, isize);
unsigned_ints!(u8, u16, u32, u64, u128, usize);

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: i128) -> alloc::vec::Vec<u8> {
        let (b, s) = encode_minimal(v);
        b[s..].to_vec()
    }

    #[test]
    fn minimal() {
        assert_eq!(enc(0), [0u8; 0]);
        assert_eq!(enc(1), [1]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0, 0x80]);
        assert_eq!(enc(-1), [0xff]);
        assert_eq!(enc(-128), [0x80]);
        assert_eq!(enc(-129), [0xff, 0x7f]);
        assert_eq!(enc(i128::MIN).len(), 16);
        assert_eq!(enc(i128::MAX).len(), 16);
        assert_eq!(enc(u64::MAX.into()).len(), 9);
    }

    #[test]
    fn reads() {
        assert_eq!(i32::from_payload(&[]), Ok(0));
        assert_eq!(u8::from_payload(&[0xff]), Err(Errno::ERANGE));
        assert_eq!(i8::from_payload(&[0x00, 0x80]), Err(Errno::ERANGE));
        assert_eq!(u8::from_payload(&[0x00, 0x80]), Ok(128));
        assert_eq!(
            u64::from_payload(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(u64::MAX)
        );
        assert_eq!(
            u64::from_payload(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(Errno::ERANGE)
        );
        assert_eq!(
            i128::from_payload(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(Errno::ERANGE)
        );
        assert_eq!(i64::from_payload(&[0xff, 0xff]), Ok(-1));
    }
}
