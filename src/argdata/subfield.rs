//! Subfield lengths: the base-128 varint that frames every element of a map or seq.
//!
//! Digits are most significant first; each byte but the last has bit 7 clear and the last
//! has bit 7 set. A leading zero digit (first byte `00`) is rejected, as is a length that
//! does not fit a `usize` or that runs past the bytes available.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (subfield parsing in `argdata_impl.h`).

/// Splits one subfield off the front of `buf`.
///
/// Returns the subfield's bytes and everything after it, or `None` when the length is
/// malformed (truncated, leading zero digit, overflow of `usize`) or longer than what
/// remains. `buf` must be non-empty for a subfield to be read; an empty `buf` gives `None`.
#[inline]
pub(crate) fn split(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let first = *buf.first()?;
    if first == 0 {
        return None;
    }
    let mut len: usize = 0;
    let mut i = 0;
    loop {
        let byte = *buf.get(i)?;
        i += 1;
        if len > usize::MAX >> 7 {
            return None;
        }
        len = (len << 7) | usize::from(byte & 0x7f);
        if byte & 0x80 != 0 {
            break;
        }
    }
    let rest = buf.get(i..)?;
    if len > rest.len() {
        return None;
    }
    Some(rest.split_at(len))
}

/// Number of bytes the length prefix of a `len`-byte subfield takes.
#[inline]
pub(crate) const fn prefix_len(len: usize) -> usize {
    let bits = usize::BITS - (len | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Total bytes a `len`-byte value takes as a subfield (prefix plus value), or `None` on
/// overflow of `usize`.
#[inline]
pub(crate) fn framed_len(len: usize) -> Option<usize> {
    len.checked_add(prefix_len(len))
}

/// Writes the length prefix of a `len`-byte subfield into the front of `out`.
///
/// Returns the number of bytes written, or `None` when `out` is too short.
#[inline]
pub(crate) fn write_prefix(len: usize, out: &mut [u8]) -> Option<usize> {
    let n = prefix_len(len);
    let dst = out.get_mut(..n)?;
    for (k, byte) in dst.iter_mut().enumerate() {
        let shift = 7 * (n - 1 - k);
        // `shift` < usize::BITS because n <= ceil(BITS / 7).
        let digit = ((len >> shift) & 0x7f) as u8;
        *byte = if k + 1 == n { digit | 0x80 } else { digit };
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len(0), 1);
        assert_eq!(prefix_len(127), 1);
        assert_eq!(prefix_len(128), 2);
        assert_eq!(prefix_len(0x3fff), 2);
        assert_eq!(prefix_len(0x4000), 3);
        assert_eq!(prefix_len(usize::MAX), (usize::BITS as usize).div_ceil(7));
    }

    #[test]
    fn write_then_split() {
        for len in [0usize, 1, 6, 127, 128, 0x3fff, 0x4000, 300_000] {
            let mut buf = alloc::vec![0u8; prefix_len(len) + len];
            let n = write_prefix(len, &mut buf).unwrap();
            assert_eq!(n, prefix_len(len));
            let (field, rest) = split(&buf).unwrap();
            assert_eq!(field.len(), len);
            assert!(rest.is_empty());
        }
        let mut b = [0u8; 3];
        assert_eq!(write_prefix(0x4000, &mut b), Some(3));
        assert_eq!(b, [0x01, 0x00, 0x80]);
        assert_eq!(write_prefix(0x4000, &mut b[..2]), None);
    }

    #[test]
    fn malformed() {
        assert_eq!(split(&[]), None);
        assert_eq!(split(&[0x00, 0x80]), None);
        assert_eq!(split(&[0x01]), None);
        assert_eq!(split(&[0x82, 0x05]), None);
        assert_eq!(split(&[0x80]), Some((&[][..], &[][..])));
    }
}
