//! The two-level descriptor bitmap.
//!
//! Level 0 has one bit per descriptor (set = open). Level 1 has two summaries with one
//! bit per level-0 word: `full` (the word is all ones) and `any` (the word is non-zero).
//! The lowest free descriptor at or above `min` is found by looking at one level-0 word
//! and then scanning `full` for the first word that is not full: 4,096 descriptors per
//! summary word, so 256 summary words for a million descriptors, instead of a million
//! slots. Walking open descriptors uses `any` the same way, so a sweep over a sparse
//! table costs the number of open descriptors plus one word per 4,096 slots.
//!
//! The first word of every level is stored inline, so a table of up to 64
//! descriptors (and summaries of up to 4,096) needs no heap allocation for its bitmaps.
//!
//! # References
//! - Linux `fs/file.c` (`open_fds`, `full_fds_bits`, `find_next_fd`).
//! - FreeBSD `sys/kern/kern_descrip.c` (`fd_map`, `fd_first_free`, `fd_last_used`).

use alloc::vec::Vec;

use crate::Errno;
use crate::work::{Work, count};

const BITS: usize = u64::BITS as usize;

/// A growable array of words whose first word lives inline.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub(crate) struct Words {
    first: u64,
    rest: Vec<u64>,
}

impl Words {
    const EMPTY: Words = Words {
        first: 0,
        rest: Vec::new(),
    };

    #[inline]
    pub(crate) fn get(&self, i: usize) -> u64 {
        count(Work::BitmapWord);
        if i == 0 {
            self.first
        } else {
            self.rest.get(i - 1).copied().unwrap_or(0)
        }
    }

    /// The word at `i`; `i` must be below `len()`.
    #[inline]
    fn word_mut(&mut self, i: usize) -> Option<&mut u64> {
        count(Work::BitmapWord);
        if i == 0 {
            Some(&mut self.first)
        } else {
            self.rest.get_mut(i - 1)
        }
    }

    /// Grows to at least `words` words (new words zero), fallibly.
    fn try_grow(&mut self, words: usize) -> Result<(), Errno> {
        let want = words.saturating_sub(1);
        if want > self.rest.len() {
            self.rest
                .try_reserve_exact(want - self.rest.len())
                .map_err(|_| Errno::ENOMEM)?;
            self.rest.resize(want, 0);
        }
        Ok(())
    }

    /// Reserves room for `words` words without changing the contents.
    fn try_reserve(&mut self, words: usize) -> Result<(), Errno> {
        let want = words.saturating_sub(1);
        if want > self.rest.len() {
            self.rest
                .try_reserve_exact(want - self.rest.len())
                .map_err(|_| Errno::ENOMEM)?;
        }
        Ok(())
    }

    /// Sets `bit`, which must be covered (the table grows the bitmap first).
    #[inline]
    fn set_bit(&mut self, bit: usize) {
        let word = self.word_mut(bit / BITS);
        debug_assert!(word.is_some(), "bit {bit} set beyond the bitmap");
        if let Some(w) = word {
            *w |= 1 << (bit % BITS);
        }
    }

    /// Clears `bit`, which must be covered (the table grows the bitmap first).
    #[inline]
    fn clear_bit(&mut self, bit: usize) {
        let word = self.word_mut(bit / BITS);
        debug_assert!(word.is_some(), "bit {bit} cleared beyond the bitmap");
        if let Some(w) = word {
            *w &= !(1 << (bit % BITS));
        }
    }

    #[inline]
    pub(crate) fn test_bit(&self, bit: usize) -> bool {
        self.get(bit / BITS) & (1 << (bit % BITS)) != 0
    }

    /// First word index at or after `from` (below `limit`) whose word, transformed by
    /// `f`, has a set bit; the bit index within the whole array.
    #[inline]
    fn next_set(&self, from: usize, limit_bits: usize, f: impl Fn(u64) -> u64) -> Option<usize> {
        let mut w = from / BITS;
        if from >= limit_bits {
            return None;
        }
        let mut word = f(self.get(w)) & (!0u64 << (from % BITS));
        let last_word = (limit_bits - 1) / BITS;
        loop {
            if word != 0 {
                let bit = w * BITS + word.trailing_zeros() as usize;
                return if bit < limit_bits { Some(bit) } else { None };
            }
            w += 1;
            if w > last_word {
                return None;
            }
            word = f(self.get(w));
        }
    }

    /// Last set bit at or below `from`.
    #[inline]
    fn prev_set(&self, from: usize) -> Option<usize> {
        let mut w = from / BITS;
        let shift = BITS - 1 - from % BITS;
        let mut word = (self.get(w) << shift) >> shift;
        loop {
            if word != 0 {
                return Some(w * BITS + (BITS - 1 - word.leading_zeros() as usize));
            }
            if w == 0 {
                return None;
            }
            w -= 1;
            word = self.get(w);
        }
    }
}

/// The open-descriptor bitmap with its two summaries, plus the close-on-exec bits.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub(crate) struct FdBitmap {
    open: Words,
    full: Words,
    any: Words,
    cloexec: Words,
    /// Number of descriptor bits covered (a multiple of 64, at least 64).
    words: usize,
}

impl FdBitmap {
    /// An empty bitmap (64 bits inline, nothing on the heap).
    pub(crate) const EMPTY: FdBitmap = FdBitmap {
        open: Words::EMPTY,
        full: Words::EMPTY,
        any: Words::EMPTY,
        cloexec: Words::EMPTY,
        words: 0,
    };

    /// Bits covered by the bitmap.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.words.max(1) * BITS
    }

    /// Grows to cover at least `bits` descriptors; on `ENOMEM` nothing visible changes.
    pub(crate) fn try_grow(&mut self, bits: usize) -> Result<(), Errno> {
        let words = bits.div_ceil(BITS).max(1);
        if words <= self.words.max(1) {
            self.words = self.words.max(1);
            return Ok(());
        }
        let summary = words.div_ceil(BITS);
        // Reserve everything first so that a failure leaves the contents unchanged.
        self.open.try_reserve(words)?;
        self.cloexec.try_reserve(words)?;
        self.full.try_reserve(summary)?;
        self.any.try_reserve(summary)?;
        self.open.try_grow(words)?;
        self.cloexec.try_grow(words)?;
        self.full.try_grow(summary)?;
        self.any.try_grow(summary)?;
        self.words = words;
        Ok(())
    }

    /// Marks `fd` open (it must be below `capacity()`).
    #[inline]
    pub(crate) fn set_open(&mut self, fd: usize) {
        let w = fd / BITS;
        self.open.set_bit(fd);
        let word = self.open.get(w);
        self.any.set_bit(w);
        if word == !0 {
            self.full.set_bit(w);
        }
    }

    /// Marks `fd` closed and clears its close-on-exec bit.
    #[inline]
    pub(crate) fn set_closed(&mut self, fd: usize) {
        let w = fd / BITS;
        self.open.clear_bit(fd);
        self.cloexec.clear_bit(fd);
        self.full.clear_bit(w);
        if self.open.get(w) == 0 {
            self.any.clear_bit(w);
        }
    }

    /// Marks descriptors `0..n` open, the others untouched (used for a fresh dense table).
    #[inline]
    pub(crate) fn set_dense(&mut self, n: usize) {
        let whole = n / BITS;
        for w in 0..whole {
            if let Some(word) = self.open.word_mut(w) {
                *word = !0;
            }
            self.full.set_bit(w);
            self.any.set_bit(w);
        }
        let rem = n % BITS;
        if rem != 0 {
            if let Some(word) = self.open.word_mut(whole) {
                *word = !(!0u64 << rem);
            }
            self.any.set_bit(whole);
        }
    }

    /// Close-on-exec flag of `fd`.
    #[inline]
    pub(crate) fn cloexec(&self, fd: usize) -> bool {
        self.cloexec.test_bit(fd)
    }

    /// Sets or clears the close-on-exec flag of `fd`.
    #[inline]
    pub(crate) fn set_cloexec(&mut self, fd: usize, on: bool) {
        if on {
            self.cloexec.set_bit(fd)
        } else {
            self.cloexec.clear_bit(fd)
        }
    }

    /// The lowest free descriptor at or above `min` within the bitmap, if any.
    #[inline]
    pub(crate) fn lowest_free_from(&self, min: usize) -> Option<usize> {
        let cap = self.capacity();
        if min >= cap {
            return None;
        }
        let w = min / BITS;
        let masked = self.open.get(w) | !(!0u64 << (min % BITS));
        if masked != !0 {
            return Some(w * BITS + (!masked).trailing_zeros() as usize);
        }
        // Find the first word after `w` that is not full, through the summary.
        let words = cap / BITS;
        let next = self.full.next_set(w + 1, words, |s| !s)?;
        Some(next * BITS + (!self.open.get(next)).trailing_zeros() as usize)
    }

    /// The lowest open descriptor at or above `from` and below `end`, if any. The
    /// summary scan stops at `end`, so a walk costs the open descriptors plus one summary
    /// word per 4,096 slots *below the highest open descriptor*, whatever the capacity.
    #[inline]
    pub(crate) fn next_open(&self, from: usize, end: usize) -> Option<usize> {
        let end = end.min(self.capacity());
        if from >= end {
            return None;
        }
        let w = from / BITS;
        let masked = self.open.get(w) & (!0u64 << (from % BITS));
        let found = if masked != 0 {
            w * BITS + masked.trailing_zeros() as usize
        } else {
            let next = self.any.next_set(w + 1, end.div_ceil(BITS), |s| s)?;
            next * BITS + self.open.get(next).trailing_zeros() as usize
        };
        (found < end).then_some(found)
    }

    /// Copies the words of `src` below descriptor `end` that hold an open descriptor
    /// (open and close-on-exec bits), and the summaries, into this fresh (all-zero)
    /// bitmap, which must already cover them. Cost: the level-0 words holding an open
    /// descriptor plus two summary words per 4,096 descriptors below `end`; words with
    /// no open descriptor are not touched (they are zero in both bitmaps).
    pub(crate) fn copy_used_words(&mut self, src: &FdBitmap, end: usize) {
        let words = end.div_ceil(BITS).min(src.words.max(1));
        if words == 0 {
            return;
        }
        let mut w = 0;
        while let Some(next) = src.any.next_set(w, words, |s| s) {
            if let Some(dst) = self.open.word_mut(next) {
                *dst = src.open.get(next);
            }
            if let Some(dst) = self.cloexec.word_mut(next) {
                *dst = src.cloexec.get(next);
            }
            w = next + 1;
        }
        for i in 0..words.div_ceil(BITS) {
            let valid = if (i + 1) * BITS <= words {
                !0
            } else {
                !(!0u64 << (words % BITS))
            };
            if let Some(dst) = self.full.word_mut(i) {
                *dst = src.full.get(i) & valid;
            }
            if let Some(dst) = self.any.word_mut(i) {
                *dst = src.any.get(i) & valid;
            }
        }
    }

    /// The highest open descriptor at or below `from`, if any.
    #[inline]
    pub(crate) fn prev_open(&self, from: usize) -> Option<usize> {
        let from = from.min(self.capacity() - 1);
        let w = from / BITS;
        let shift = BITS - 1 - from % BITS;
        let masked = (self.open.get(w) << shift) >> shift;
        if masked != 0 {
            return Some(w * BITS + (BITS - 1 - masked.leading_zeros() as usize));
        }
        if w == 0 {
            return None;
        }
        let prev = self.any.prev_set(w - 1)?;
        let word = self.open.get(prev);
        Some(prev * BITS + (BITS - 1 - word.leading_zeros() as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::{FdBitmap, Words};

    #[test]
    fn covered_bits_set_and_clear() {
        let mut w = Words::EMPTY;
        w.try_grow(2).unwrap();
        w.set_bit(127);
        assert!(w.test_bit(127));
        w.clear_bit(127);
        assert!(!w.test_bit(127));
        let mut map = FdBitmap::EMPTY;
        map.try_grow(4_097).unwrap();
        map.set_open(4_096);
        assert_eq!(map.next_open(0, map.capacity()), Some(4_096));
        map.set_closed(4_096);
        assert_eq!(map.next_open(0, map.capacity()), None);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "bit 64 set beyond the bitmap")]
    fn setting_an_uncovered_bit_is_caught() {
        let mut w = Words::EMPTY;
        w.set_bit(64);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "bit 200 cleared beyond the bitmap")]
    fn clearing_an_uncovered_bit_is_caught() {
        let mut w = Words::EMPTY;
        w.try_grow(2).unwrap();
        w.clear_bit(200);
    }
}
