//! Iteration over the elements of an encoded seq.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_seq_iterate`, `argdata_seq_next`).

use super::reader::ArgdataRef;
use super::subfield;
use crate::Errno;

/// Iterator over a seq's elements; see [`ArgdataRef::seq`].
///
/// Yields `Ok(element)` for every complete subfield, then `Err(EINVAL)` once if a malformed
/// subfield stops the walk, then `None` forever. [`SeqIter::is_valid`] tells afterwards
/// whether the seq was well formed so far.
#[derive(Debug, Clone)]
pub struct SeqIter<'a> {
    parent: ArgdataRef<'a>,
    rest: &'a [u8],
    invalid: bool,
}

impl<'a> SeqIter<'a> {
    #[inline]
    pub(crate) fn new(parent: ArgdataRef<'a>, payload: &'a [u8]) -> Self {
        Self {
            parent,
            rest: payload,
            invalid: false,
        }
    }

    /// `false` once a malformed subfield has been met.
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

impl<'a> Iterator for SeqIter<'a> {
    type Item = Result<ArgdataRef<'a>, Errno>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.invalid {
            return None;
        }
        match subfield::split(self.rest) {
            Some((field, rest)) => {
                self.rest = rest;
                Some(Ok(self.parent.child(field)))
            }
            None => {
                self.invalid = true;
                Some(Err(Errno::EINVAL))
            }
        }
    }
}

impl core::iter::FusedIterator for SeqIter<'_> {}
