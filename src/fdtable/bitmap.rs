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
//! The first level-0 word is stored inline, and a bitmap of that one word keeps no
//! summary (it is read off the word), so a table of up to 64 descriptors needs no heap
//! allocation for its bitmaps.
//!
//! # References
//! - Linux `fs/file.c` (`open_fds`, `full_fds_bits`, `find_next_fd`).
//! - FreeBSD `sys/kern/kern_descrip.c` (`fd_map`, `fd_first_free`, `fd_last_used`).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::Errno;
use crate::work::{Work, count};

const BITS: usize = u64::BITS as usize;

/// Index of the open-bit word in a level-0 pair, and of the close-on-exec word.
const OPEN: usize = 0;
const CLOEXEC: usize = 1;
/// Index of the `full` word in a summary pair, and of the `any` word.
const FULL: usize = 0;
const ANY: usize = 1;

/// The bit of `fd` within its word.
#[inline]
fn bit(fd: usize) -> u64 {
    1 << (fd % BITS)
}

/// The open-descriptor bitmap with its two summaries, plus the close-on-exec bits.
///
/// Layout: level 0 is a pair of words (open, close-on-exec) per 64 descriptors, so that
/// installing or removing a descriptor touches one pair; level 1 is a pair of summary
/// words (`full`, `any`) per 64 level-0 words. Level-0 pair 0 is inline; while it is
/// the only one, its summary is computed from it, not stored (a table of up to 64
/// descriptors needs no heap for its bitmaps). Beyond, the other pairs share one heap
/// array: level-0 pairs `1..words`, then summary pairs `0..summaries`. The whole bitmap
/// is 40 bytes plus that array: small, because it is part of every table header.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub(crate) struct FdBitmap {
    /// `[open, cloexec]` of descriptors 0..64.
    first: [u64; 2],
    /// Level-0 pairs `1..words`, then summary pairs `0..summaries`; `None` while
    /// `words <= 1`.
    rest: Option<Box<[[u64; 2]]>>,
    /// Number of level-0 words covered (0 before the first growth, then at least 1; at
    /// most 2^25 for [`MAX_LIMIT`](super::MAX_LIMIT) descriptors).
    words: u32,
}

impl FdBitmap {
    /// An empty bitmap (64 bits inline, nothing on the heap).
    pub(crate) const EMPTY: FdBitmap = FdBitmap {
        first: [0; 2],
        rest: None,
        words: 0,
    };

    /// Whether the bitmap has nothing on the heap (at most one word).
    #[inline(always)]
    pub(crate) fn is_header_only(&self) -> bool {
        self.rest.is_none()
    }

    /// Level-0 words covered (at least the inline one).
    #[inline]
    fn nwords(&self) -> usize {
        (self.words as usize).max(1)
    }

    /// The heap pairs (none while `words <= 1`).
    #[inline(always)]
    fn rest(&self) -> &[[u64; 2]] {
        self.rest.as_deref().unwrap_or(&[])
    }

    /// The level-0 pair of word `w` (zero beyond the bitmap).
    #[inline]
    fn lo(&self, w: usize) -> [u64; 2] {
        count(Work::BitmapWord);
        if w == 0 {
            self.first
        } else {
            self.rest()
                .get(w - 1)
                .filter(|_| w < self.nwords())
                .copied()
                .unwrap_or([0; 2])
        }
    }

    /// The level-0 pair of word `w`, which must be covered.
    #[inline]
    fn lo_mut(&mut self, w: usize) -> Option<&mut [u64; 2]> {
        count(Work::BitmapWord);
        if w == 0 {
            Some(&mut self.first)
        } else if w < self.nwords() {
            self.rest.as_deref_mut()?.get_mut(w - 1)
        } else {
            None
        }
    }

    /// The summary pair of summary word `s` (zero beyond the bitmap).
    #[inline]
    fn sum(&self, s: usize) -> [u64; 2] {
        count(Work::BitmapWord);
        let words = self.nwords();
        if words == 1 {
            // One level-0 word: its summary is read off it.
            let open = self.first[OPEN];
            if s == 0 {
                [u64::from(open == !0), u64::from(open != 0)]
            } else {
                [0; 2]
            }
        } else if s < words.div_ceil(BITS) {
            self.rest().get(words - 1 + s).copied().unwrap_or([0; 2])
        } else {
            [0; 2]
        }
    }

    /// The summary pair of summary word `s`, which must be covered; `None` while the
    /// bitmap has one level-0 word (no summary is stored).
    #[inline]
    fn sum_mut(&mut self, s: usize) -> Option<&mut [u64; 2]> {
        count(Work::BitmapWord);
        let words = self.nwords();
        // A bitmap of one word has no `rest`.
        if s < words.div_ceil(BITS) {
            self.rest.as_deref_mut()?.get_mut(words - 1 + s)
        } else {
            None
        }
    }

    /// Sets (`on`) or clears summary bit `which` of level-0 word `w` (nothing to do
    /// while the bitmap has one word: its summary is computed).
    #[inline]
    fn set_summary(&mut self, w: usize, which: usize, on: bool) {
        if self.nwords() == 1 {
            return;
        }
        let pair = self.sum_mut(w / BITS);
        debug_assert!(pair.is_some(), "summary of word {w} beyond the bitmap");
        if let Some(p) = pair {
            if on {
                p[which] |= bit(w);
            } else {
                p[which] &= !bit(w);
            }
        }
    }

    /// Bits covered by the bitmap.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.nwords() * BITS
    }

    /// Grows to cover at least `bits` descriptors; on `ENOMEM` nothing visible changes.
    #[inline]
    pub(crate) fn try_grow(&mut self, bits: usize) -> Result<(), Errno> {
        if bits <= BITS && self.words <= 1 {
            // The inline word covers it.
            self.words = 1;
            return Ok(());
        }
        self.try_grow_heap(bits)
    }

    fn try_grow_heap(&mut self, bits: usize) -> Result<(), Errno> {
        let words = bits.div_ceil(BITS).max(1);
        let old_words = self.nwords();
        if words <= old_words {
            self.words = old_words as u32;
            return Ok(());
        }
        let words_u32 = u32::try_from(words).map_err(|_| Errno::ENOMEM)?;
        let sums = words.div_ceil(BITS);
        let mut rest: Vec<[u64; 2]> = Vec::new();
        rest.try_reserve_exact(words - 1 + sums)
            .map_err(|_| Errno::ENOMEM)?;
        // Level-0 pairs kept, new ones zero; then the summary pairs kept (computed, when
        // there was one word), new ones zero.
        let old = self.rest();
        rest.extend_from_slice(old.get(..old_words - 1).unwrap_or(&[]));
        rest.resize(words - 1, [0; 2]);
        if old_words == 1 {
            rest.push(self.sum(0));
        } else {
            rest.extend_from_slice(old.get(old_words - 1..).unwrap_or(&[]));
        }
        rest.resize(words - 1 + sums, [0; 2]);
        // Exactly the length reserved: the allocation is kept.
        self.rest = Some(rest.into_boxed_slice());
        self.words = words_u32;
        Ok(())
    }

    /// Marks `fd` open (it must be below `capacity()`), with close-on-exec as given.
    #[inline(always)]
    pub(crate) fn set_open(&mut self, fd: usize, cloexec: bool) {
        let w = fd / BITS;
        let pair = self.lo_mut(w);
        debug_assert!(pair.is_some(), "bit {fd} set beyond the bitmap");
        let Some(p) = pair else { return };
        let was = p[OPEN];
        p[OPEN] |= bit(fd);
        if cloexec {
            p[CLOEXEC] |= bit(fd);
        } else {
            p[CLOEXEC] &= !bit(fd);
        }
        let now = p[OPEN];
        if was == 0 {
            self.set_summary(w, ANY, true);
        }
        if now == !0 {
            self.set_summary(w, FULL, true);
        }
    }

    /// Scratch mark for one lock section (a moving remap's check of its list): clears
    /// the open bit of `fd` *without* updating the summaries and says whether it was
    /// set. Every bit cleared so must be set again with
    /// [`unmark_open`](Self::unmark_open) before the bitmap is used for anything else.
    #[inline(always)]
    pub(crate) fn mark_open(&mut self, fd: usize) -> bool {
        match self.lo_mut(fd / BITS) {
            Some(p) if p[OPEN] & bit(fd) != 0 => {
                p[OPEN] &= !bit(fd);
                true
            }
            _ => false,
        }
    }

    /// Undoes [`mark_open`](Self::mark_open) for `fd`.
    #[inline(always)]
    pub(crate) fn unmark_open(&mut self, fd: usize) {
        if let Some(p) = self.lo_mut(fd / BITS) {
            p[OPEN] |= bit(fd);
        }
    }

    /// Marks `fd` closed and clears its close-on-exec bit.
    #[inline(always)]
    pub(crate) fn set_closed(&mut self, fd: usize) {
        let w = fd / BITS;
        let pair = self.lo_mut(w);
        debug_assert!(pair.is_some(), "bit {fd} cleared beyond the bitmap");
        let Some(p) = pair else { return };
        let was = p[OPEN];
        p[OPEN] &= !bit(fd);
        p[CLOEXEC] &= !bit(fd);
        let now = p[OPEN];
        if was == !0 {
            self.set_summary(w, FULL, false);
        }
        if now == 0 && was != 0 {
            self.set_summary(w, ANY, false);
        }
    }

    /// Sets level-0 word `w` of a fresh bitmap (all zero there) to `open` with
    /// close-on-exec bits `cloexec` (a subset of `open`), and its summary bits.
    #[inline]
    pub(crate) fn set_word(&mut self, w: usize, open: u64, cloexec: u64) {
        if open == 0 {
            return;
        }
        if let Some(p) = self.lo_mut(w) {
            *p = [open, cloexec & open];
        }
        self.set_summary(w, ANY, true);
        if open == !0 {
            self.set_summary(w, FULL, true);
        }
    }

    /// The open and close-on-exec bits of level-0 word `w`.
    #[inline]
    pub(crate) fn word(&self, w: usize) -> (u64, u64) {
        let p = self.lo(w);
        (p[OPEN], p[CLOEXEC])
    }

    /// The first level-0 word at or after `w` and below `end_words` holding an open
    /// descriptor.
    #[inline]
    pub(crate) fn next_used_word(&self, w: usize, end_words: usize) -> Option<usize> {
        self.next_summary_bit(ANY, w, end_words, false)
    }

    /// Marks descriptors `0..n` open, the others untouched (used for a fresh dense table).
    #[inline]
    pub(crate) fn set_dense(&mut self, n: usize) {
        let whole = n / BITS;
        for w in 0..whole {
            self.set_word(w, !0, 0);
        }
        let rem = n % BITS;
        if rem != 0 {
            self.set_word(whole, !(!0u64 << rem), 0);
        }
    }

    /// Close-on-exec flag of `fd`.
    #[inline]
    pub(crate) fn cloexec(&self, fd: usize) -> bool {
        self.lo(fd / BITS)[CLOEXEC] & bit(fd) != 0
    }

    /// Sets or clears the close-on-exec flag of `fd`.
    #[inline]
    pub(crate) fn set_cloexec(&mut self, fd: usize, on: bool) {
        let pair = self.lo_mut(fd / BITS);
        debug_assert!(pair.is_some(), "bit {fd} set beyond the bitmap");
        if let Some(p) = pair {
            if on {
                p[CLOEXEC] |= bit(fd);
            } else {
                p[CLOEXEC] &= !bit(fd);
            }
        }
    }

    /// The first level-0 word index at or after `from` and below `limit` whose summary
    /// bit `which` is set (`invert`: clear).
    #[inline]
    fn next_summary_bit(
        &self,
        which: usize,
        from: usize,
        limit: usize,
        invert: bool,
    ) -> Option<usize> {
        if from >= limit {
            return None;
        }
        let f = |x: u64| if invert { !x } else { x };
        let mut s = from / BITS;
        let mut word = f(self.sum(s)[which]) & (!0u64 << (from % BITS));
        let last = (limit - 1) / BITS;
        loop {
            if word != 0 {
                let w = s * BITS + word.trailing_zeros() as usize;
                return (w < limit).then_some(w);
            }
            s += 1;
            if s > last {
                return None;
            }
            word = f(self.sum(s)[which]);
        }
    }

    /// The last level-0 word index at or below `from` whose `any` summary bit is set.
    #[inline]
    fn prev_used_word(&self, from: usize) -> Option<usize> {
        let mut s = from / BITS;
        let shift = BITS - 1 - from % BITS;
        let mut word = (self.sum(s)[ANY] << shift) >> shift;
        loop {
            if word != 0 {
                return Some(s * BITS + (BITS - 1 - word.leading_zeros() as usize));
            }
            if s == 0 {
                return None;
            }
            s -= 1;
            word = self.sum(s)[ANY];
        }
    }

    /// The lowest free descriptor at or above `min` within the bitmap, if any.
    #[inline(always)]
    pub(crate) fn lowest_free_from(&self, min: usize) -> Option<usize> {
        let cap = self.capacity();
        if min >= cap {
            return None;
        }
        let w = min / BITS;
        let masked = self.lo(w)[OPEN] | !(!0u64 << (min % BITS));
        if masked != !0 {
            return Some(w * BITS + (!masked).trailing_zeros() as usize);
        }
        self.lowest_free_after_word(w)
    }

    /// The lowest free descriptor in a word after `w`, found through the summary.
    #[inline(never)]
    fn lowest_free_after_word(&self, w: usize) -> Option<usize> {
        let cap = self.capacity();
        let next = self.next_summary_bit(FULL, w + 1, cap / BITS, true)?;
        Some(next * BITS + (!self.lo(next)[OPEN]).trailing_zeros() as usize)
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
        let masked = self.lo(w)[OPEN] & (!0u64 << (from % BITS));
        let found = if masked != 0 {
            w * BITS + masked.trailing_zeros() as usize
        } else {
            let next = self.next_summary_bit(ANY, w + 1, end.div_ceil(BITS), false)?;
            next * BITS + self.lo(next)[OPEN].trailing_zeros() as usize
        };
        (found < end).then_some(found)
    }

    /// Copies the words of `src` below descriptor `end` that hold an open descriptor
    /// (open and close-on-exec bits), and the summaries, into this fresh (all-zero)
    /// bitmap, which must already cover them. Cost: the level-0 words holding an open
    /// descriptor plus two summary words per 4,096 descriptors below `end`; words with
    /// no open descriptor are not touched (they are zero in both bitmaps).
    pub(crate) fn copy_used_words(&mut self, src: &FdBitmap, end: usize) {
        let words = end.div_ceil(BITS).min(src.nwords());
        let mut w = 0;
        while let Some(next) = src.next_used_word(w, words) {
            let (open, cloexec) = src.word(next);
            self.set_word(next, open, cloexec);
            w = next + 1;
        }
    }

    /// The highest open descriptor at or below `from`, if any.
    #[inline]
    pub(crate) fn prev_open(&self, from: usize) -> Option<usize> {
        let from = from.min(self.capacity() - 1);
        let w = from / BITS;
        let shift = BITS - 1 - from % BITS;
        let masked = (self.lo(w)[OPEN] << shift) >> shift;
        if masked != 0 {
            return Some(w * BITS + (BITS - 1 - masked.leading_zeros() as usize));
        }
        if w == 0 {
            return None;
        }
        let prev = self.prev_used_word(w - 1)?;
        let word = self.lo(prev)[OPEN];
        Some(prev * BITS + (BITS - 1 - word.leading_zeros() as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::FdBitmap;

    #[test]
    fn covered_bits_set_and_clear() {
        let mut map = FdBitmap::EMPTY;
        map.try_grow(128).unwrap();
        map.set_open(127, true);
        assert!(map.cloexec(127));
        assert_eq!(map.next_open(0, map.capacity()), Some(127));
        map.set_closed(127);
        assert!(!map.cloexec(127));
        let mut map = FdBitmap::EMPTY;
        map.try_grow(4_097).unwrap();
        map.set_open(4_096, false);
        assert_eq!(map.next_open(0, map.capacity()), Some(4_096));
        map.set_closed(4_096);
        assert_eq!(map.next_open(0, map.capacity()), None);
    }

    #[test]
    fn growing_keeps_every_level() {
        let mut map = FdBitmap::EMPTY;
        map.try_grow(64 * 65).unwrap();
        for fd in 0..64 {
            map.set_open(fd, fd % 2 == 0);
        }
        map.set_open(64 * 64 + 5, true);
        let before = map.clone();
        map.try_grow(64 * 200).unwrap();
        assert_eq!(map.lowest_free_from(0), Some(64));
        assert_eq!(map.next_open(64, map.capacity()), Some(64 * 64 + 5));
        assert_eq!(map.prev_open(map.capacity() - 1), Some(64 * 64 + 5));
        assert!(map.cloexec(64 * 64 + 5) && map.cloexec(2) && !map.cloexec(3));
        assert_eq!(before.word(64), map.word(64));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "bit 64 set beyond the bitmap")]
    fn setting_an_uncovered_bit_is_caught() {
        let mut map = FdBitmap::EMPTY;
        map.set_open(64, false);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "bit 200 cleared beyond the bitmap")]
    fn clearing_an_uncovered_bit_is_caught() {
        let mut map = FdBitmap::EMPTY;
        map.try_grow(128).unwrap();
        map.set_closed(200);
    }
}
