//! The zero-copy reader: [`ArgdataRef`], a borrowed view of one encoded value.
//!
//! Reading never allocates and never recurses: a typed read looks at one value's bytes, and
//! the map and seq iterators walk one container level.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_from_buffer`, `argdata_get_*`,
//!   `argdata_map_iterate`, `argdata_seq_iterate`).

use core::ffi::CStr;
use core::fmt;

use super::fdconv::{FdConvert, PROGRAM_FD};
use super::int::ArgdataInt;
use super::map_iter::MapIter;
use super::seq_iter::SeqIter;
use super::timestamp::Timestamp;
use crate::Errno;

/// Tag byte of a binary value.
pub(crate) const TAG_BINARY: u8 = 0x01;
/// Tag byte of a bool.
pub(crate) const TAG_BOOL: u8 = 0x02;
/// Tag byte of a descriptor.
pub(crate) const TAG_FD: u8 = 0x03;
/// Tag byte of a float.
pub(crate) const TAG_FLOAT: u8 = 0x04;
/// Tag byte of an int.
pub(crate) const TAG_INT: u8 = 0x05;
/// Tag byte of a map.
pub(crate) const TAG_MAP: u8 = 0x06;
/// Tag byte of a seq.
pub(crate) const TAG_SEQ: u8 = 0x07;
/// Tag byte of a str.
pub(crate) const TAG_STR: u8 = 0x08;
/// Tag byte of a timestamp.
pub(crate) const TAG_TIMESTAMP: u8 = 0x09;

/// The type of an argdata value, as told by its tag byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// The empty value.
    Null,
    /// Tag `01`: arbitrary bytes.
    Binary,
    /// Tag `02`: a boolean.
    Bool,
    /// Tag `03`: a file descriptor.
    Fd,
    /// Tag `04`: an IEEE-754 binary64 float.
    Float,
    /// Tag `05`: a two's complement integer.
    Int,
    /// Tag `06`: a map (ordered key-value pairs).
    Map,
    /// Tag `07`: a sequence.
    Seq,
    /// Tag `08`: a UTF-8 string.
    Str,
    /// Tag `09`: a timestamp.
    Timestamp,
}

/// A borrowed, encoded argdata value: its bytes plus the descriptor conversion the reader
/// supplied.
///
/// `ArgdataRef` is `Copy` and never allocates. Children handed out by [`ArgdataRef::map`]
/// and [`ArgdataRef::seq`] inherit the parent's conversion.
///
/// # References
/// - NuxiNL cloudlibc `src/libc/argdata` (`argdata_t` created by `argdata_from_buffer`).
#[derive(Clone, Copy)]
pub struct ArgdataRef<'a> {
    bytes: &'a [u8],
    convert: Option<&'a dyn FdConvert>,
}

impl fmt::Debug for ArgdataRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgdataRef")
            .field("bytes", &self.bytes)
            .field("fd_access", &self.convert.is_some())
            .finish()
    }
}

impl<'a> ArgdataRef<'a> {
    /// Views `bytes` as one value, with no descriptor access (every fd read gives `EBADF`).
    #[inline]
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            convert: None,
        }
    }

    /// Views `bytes` as one value whose descriptors are converted by `convert`.
    #[inline]
    pub const fn with_fds(bytes: &'a [u8], convert: &'a dyn FdConvert) -> Self {
        Self {
            bytes,
            convert: Some(convert),
        }
    }

    /// Views `bytes` as a started program's own argdata: descriptors go through
    /// [`super::program_fd`].
    #[inline]
    pub fn for_program(bytes: &'a [u8]) -> Self {
        Self::with_fds(bytes, &PROGRAM_FD)
    }

    /// Views other bytes with this value's descriptor conversion.
    #[inline]
    pub(crate) const fn child(&self, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            convert: self.convert,
        }
    }

    /// The encoded bytes of this value (tag and payload; empty for null).
    #[inline]
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The descriptor conversion this value reads with, if any.
    #[inline]
    pub fn fd_convert(&self) -> Option<&'a dyn FdConvert> {
        self.convert
    }

    /// The type of the value; an undefined tag (`00`, `0A`..`FF`) gives `EINVAL`.
    #[inline]
    pub fn kind(&self) -> Result<Type, Errno> {
        Ok(match self.bytes.first() {
            None => Type::Null,
            Some(&TAG_BINARY) => Type::Binary,
            Some(&TAG_BOOL) => Type::Bool,
            Some(&TAG_FD) => Type::Fd,
            Some(&TAG_FLOAT) => Type::Float,
            Some(&TAG_INT) => Type::Int,
            Some(&TAG_MAP) => Type::Map,
            Some(&TAG_SEQ) => Type::Seq,
            Some(&TAG_STR) => Type::Str,
            Some(&TAG_TIMESTAMP) => Type::Timestamp,
            Some(_) => return Err(Errno::EINVAL),
        })
    }

    /// Whether the value is null (empty).
    #[inline]
    pub fn is_null(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The payload after `tag`, or `EINVAL` for another tag or an empty value.
    #[inline]
    fn payload(&self, tag: u8) -> Result<&'a [u8], Errno> {
        match self.bytes.split_first() {
            Some((&t, rest)) if t == tag => Ok(rest),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Reads a binary value (any bytes).
    #[inline]
    pub fn read_binary(&self) -> Result<&'a [u8], Errno> {
        self.payload(TAG_BINARY)
    }

    /// Reads a bool: empty payload is `false`, exactly `01` is `true`, else `EINVAL`.
    #[inline]
    pub fn read_bool(&self) -> Result<bool, Errno> {
        match self.payload(TAG_BOOL)? {
            [] => Ok(false),
            [1] => Ok(true),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Reads the stored 32-bit number of a descriptor, without conversion.
    ///
    /// A payload that is not exactly 4 bytes gives `EINVAL`.
    #[inline]
    pub fn read_raw_fd(&self) -> Result<u32, Errno> {
        match *self.payload(TAG_FD)? {
            [a, b, c, d] => Ok(u32::from_be_bytes([a, b, c, d])),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Reads a descriptor through this value's conversion.
    ///
    /// `EINVAL` for a malformed node; `EBADF` when there is no conversion; otherwise what the
    /// conversion returns.
    #[inline]
    pub fn read_fd(&self) -> Result<i32, Errno> {
        let raw = self.read_raw_fd()?;
        match self.convert {
            Some(c) => c.convert(raw),
            None => Err(Errno::EBADF),
        }
    }

    /// Reads a float; a payload that is not exactly 8 bytes gives `EINVAL`. NaN payloads are
    /// kept bit for bit.
    #[inline]
    pub fn read_float(&self) -> Result<f64, Errno> {
        let p: [u8; 8] = self
            .payload(TAG_FLOAT)?
            .try_into()
            .map_err(|_| Errno::EINVAL)?;
        Ok(f64::from_bits(u64::from_be_bytes(p)))
    }

    /// Reads an int into any Rust integer type, range-checked (`ERANGE`).
    ///
    /// See the rules in [`ArgdataInt`].
    #[inline]
    pub fn read_int<T: ArgdataInt>(&self) -> Result<T, Errno> {
        T::from_payload(self.payload(TAG_INT)?)
    }

    /// The payload of an int (two's complement big-endian, possibly non-minimal).
    #[inline]
    pub fn read_int_bytes(&self) -> Result<&'a [u8], Errno> {
        self.payload(TAG_INT)
    }

    /// Reads a str, without its terminating NUL. Interior NULs are allowed.
    ///
    /// A missing final `00` gives `EINVAL`; invalid UTF-8 gives `EILSEQ`.
    #[inline]
    pub fn read_str(&self) -> Result<&'a str, Errno> {
        match self.payload(TAG_STR)?.split_last() {
            Some((0, text)) => core::str::from_utf8(text).map_err(|_| Errno::EILSEQ),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Reads a str as a C string, including its terminating NUL: as [`Self::read_str`],
    /// and an interior NUL gives `EILSEQ`. `to_str` on the result cannot fail.
    #[inline]
    pub fn read_cstr(&self) -> Result<&'a CStr, Errno> {
        let s = self.read_str()?;
        if s.as_bytes().contains(&0) {
            return Err(Errno::EILSEQ);
        }
        // The payload is the text plus its final NUL; read_str checked both.
        let with_nul = self.bytes.get(1..s.len() + 2).ok_or(Errno::EINVAL)?;
        CStr::from_bytes_with_nul(with_nul).map_err(|_| Errno::EILSEQ)
    }

    /// Reads a timestamp; more than 12 payload bytes or seconds overflowing `i64` give
    /// `ERANGE`. Nanoseconds are floored into `[0, 10^9)`.
    #[inline]
    pub fn read_timestamp(&self) -> Result<Timestamp, Errno> {
        Timestamp::from_payload(self.payload(TAG_TIMESTAMP)?)
    }

    /// Iterates a map's key-value pairs (`EINVAL` if the value is not a map).
    ///
    /// The iterator yields every complete pair, then `Some(Err(EINVAL))` once if the map is
    /// malformed (a bad subfield, or an odd key with no value), then `None`.
    #[inline]
    pub fn map(&self) -> Result<MapIter<'a>, Errno> {
        Ok(MapIter::new(*self, self.payload(TAG_MAP)?))
    }

    /// Iterates a seq's elements (`EINVAL` if the value is not a seq).
    ///
    /// The iterator yields every complete element, then `Some(Err(EINVAL))` once if the seq
    /// is malformed, then `None`.
    #[inline]
    pub fn seq(&self) -> Result<SeqIter<'a>, Errno> {
        Ok(SeqIter::new(*self, self.payload(TAG_SEQ)?))
    }
}
