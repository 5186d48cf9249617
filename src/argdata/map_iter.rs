//! Iteration over the key-value pairs of an encoded map.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_map_iterate`, `argdata_map_next`).

use super::reader::ArgdataRef;
use super::subfield;
use crate::Errno;

/// Iterator over a map's pairs; see [`ArgdataRef::map`].
///
/// Yields `Ok((key, value))` for every complete pair, then `Err(EINVAL)` once if a
/// malformed subfield or a key without a value stops the walk, then `None` forever.
/// [`MapIter::is_valid`] tells afterwards whether the map was well formed so far.
#[derive(Debug, Clone)]
pub struct MapIter<'a> {
    parent: ArgdataRef<'a>,
    rest: &'a [u8],
    invalid: bool,
}

impl<'a> MapIter<'a> {
    #[inline]
    pub(crate) fn new(parent: ArgdataRef<'a>, payload: &'a [u8]) -> Self {
        Self {
            parent,
            rest: payload,
            invalid: false,
        }
    }

    /// `false` once a malformed subfield or a dangling key has been met.
    #[inline]
    pub fn is_valid(&self) -> bool {
        !self.invalid
    }

    /// The bytes not yet consumed (empty when done; the malformed tail after an error).
    #[inline]
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for MapIter<'a> {
    type Item = Result<(ArgdataRef<'a>, ArgdataRef<'a>), Errno>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.invalid {
            return None;
        }
        let pair = subfield::split(self.rest)
            .and_then(|(key, rest)| subfield::split(rest).map(|(value, rest)| (key, value, rest)));
        match pair {
            Some((key, value, rest)) => {
                self.rest = rest;
                Some(Ok((self.parent.child(key), self.parent.child(value))))
            }
            None => {
                self.invalid = true;
                Some(Err(Errno::EINVAL))
            }
        }
    }
}

impl core::iter::FusedIterator for MapIter<'_> {}
