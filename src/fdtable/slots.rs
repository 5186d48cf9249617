//! The slot arrays: each descriptor's file handle, and its rights class.
//!
//! Two parallel arrays: the handles (`Option<H>`, 8 bytes for an `Arc<F>` or any
//! pointer-sized handle) and the 2-byte rights classes
//! ([`Class`]) that name the descriptor's rights set in the
//! table's pool. A lookup of the file reads the handle array only, as a bare
//! `Vec<Option<H>>` would, after choosing between its two places:
//!
//! - the first [`INLINE_SLOTS`] handles are in the table header itself (FreeBSD's
//!   `struct filedesc0` holds `NDFILE` = 20, Linux's `struct files_struct` its
//!   `fd_array`), so a table of up to 16 descriptors, and its fork or remapped copy,
//!   allocates nothing;
//! - past them the table moves every handle into one heap array, which grows by doubling
//!   (the header's slots then stay unused: 128 bytes for 8-byte handles).
//!
//! The class array is *uniform* (absent) while every descriptor of the table uses class
//! 0, which is the case for a table whose descriptors share one rights set: such a table
//! allocates only its handle array. The array is made (all zeros, as long as the handle
//! array) when a second set comes into use, and from then on grows with the handles.
//!
//! The close-on-exec and open bits are in the table's bitmap, not here.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::rights_pool::Class;
use crate::Errno;

/// Slots held in the table header itself, before any allocation (FreeBSD's `NDFILE`
/// slots of `struct filedesc0`, Linux's `fd_array` of `struct files_struct`).
pub const INLINE_SLOTS: usize = 16;

/// The handle array: in the header up to [`INLINE_SLOTS`], on the heap beyond.
enum Files<H> {
    Inline([Option<H>; INLINE_SLOTS]),
    Heap(Vec<Option<H>>),
}

/// The slots of a table: `len()` descriptors.
pub(crate) struct Slots<H> {
    files: Files<H>,
    /// `None` while every descriptor has class 0; otherwise as long as `files` (a boxed
    /// slice: 16 bytes in the table header, not a vector's 24).
    classes: Option<Box<[Class]>>,
}

impl<H> Slots<H> {
    /// The header's [`INLINE_SLOTS`] free slots, no class array (allocates nothing).
    pub(crate) const EMPTY: Slots<H> = Slots {
        files: Files::Inline([const { None }; INLINE_SLOTS]),
        classes: None,
    };

    /// At least `n` free slots (the inline ones up to [`INLINE_SLOTS`], exactly `n`
    /// beyond), with a class array when `with_classes`. `ENOMEM` on failure.
    #[inline]
    pub(crate) fn try_new(n: usize, with_classes: bool) -> Result<Slots<H>, Errno> {
        let mut s = Slots::EMPTY;
        s.make_free(n, with_classes)?;
        Ok(s)
    }

    /// All slots.
    #[inline(always)]
    fn all(&self) -> &[Option<H>] {
        match &self.files {
            Files::Inline(a) => a,
            Files::Heap(v) => v,
        }
    }

    /// All slots, to be written.
    #[inline(always)]
    fn all_mut(&mut self) -> &mut [Option<H>] {
        match &mut self.files {
            Files::Inline(a) => a,
            Files::Heap(v) => v,
        }
    }

    /// Whether these slots are the header's own (inline, no class array): nothing on
    /// the heap.
    #[inline(always)]
    pub(crate) fn is_header_only(&self) -> bool {
        matches!(self.files, Files::Inline(_)) && self.classes.is_none()
    }

    /// Number of slots.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        match &self.files {
            Files::Inline(_) => INLINE_SLOTS,
            Files::Heap(v) => v.len(),
        }
    }

    /// Whether every descriptor has class 0 (no class array).
    #[inline(always)]
    pub(crate) fn uniform(&self) -> bool {
        self.classes.is_none()
    }

    /// Whether a descriptor of class `class` can be stored without a class array being
    /// made first.
    #[inline(always)]
    pub(crate) fn can_hold(&self, class: Class) -> bool {
        class.0 == 0 || self.classes.is_some()
    }

    /// The file in slot `fd`, if the slot exists and is occupied.
    #[inline(always)]
    pub(crate) fn file(&self, fd: usize) -> Option<&H> {
        self.all().get(fd)?.as_ref()
    }

    /// The handles of slots `range`, if they exist.
    #[inline(always)]
    pub(crate) fn files(&self, range: core::ops::Range<usize>) -> Option<&[Option<H>]> {
        self.all().get(range)
    }

    /// The handles of slots `range`, to be written, if they exist.
    #[inline(always)]
    pub(crate) fn files_mut(&mut self, range: core::ops::Range<usize>) -> Option<&mut [Option<H>]> {
        self.all_mut().get_mut(range)
    }

    /// The rights class of slot `fd` (class 0 when uniform).
    #[inline(always)]
    pub(crate) fn class(&self, fd: usize) -> Class {
        self.classes
            .as_ref()
            .and_then(|c| c.get(fd))
            .copied()
            .unwrap_or_default()
    }

    /// The file and rights class in slot `fd`, if occupied.
    #[inline(always)]
    pub(crate) fn entry(&self, fd: usize) -> Option<(&H, Class)> {
        Some((self.file(fd)?, self.class(fd)))
    }

    /// Sets the rights class of slot `fd` (see [`can_hold`](Self::can_hold)).
    #[inline(always)]
    pub(crate) fn set_class(&mut self, fd: usize, class: Class) {
        debug_assert!(self.can_hold(class));
        if let Some(c) = self.classes.as_mut().and_then(|c| c.get_mut(fd)) {
            *c = class;
        }
    }

    /// Puts `file` with `class` into slot `fd` (which exists; see
    /// [`can_hold`](Self::can_hold)), handing back what it held.
    #[inline(always)]
    pub(crate) fn put(&mut self, fd: usize, file: H, class: Class) -> Option<(H, Class)> {
        let old_class = self.class(fd);
        let old = self.all_mut().get_mut(fd)?.replace(file);
        self.set_class(fd, class);
        old.map(|f| (f, old_class))
    }

    /// Empties slot `fd`, handing back its file and class.
    #[inline(always)]
    pub(crate) fn take(&mut self, fd: usize) -> Option<(H, Class)> {
        let class = self.class(fd);
        self.all_mut().get_mut(fd)?.take().map(|f| (f, class))
    }

    /// Makes these slots, header-only and free (see
    /// [`is_header_only`](Self::is_header_only)), at least `n` long, every slot free: the
    /// header's up to [`INLINE_SLOTS`], a heap array of exactly `n` beyond; with a class
    /// array as long when `with_classes`. `ENOMEM` on failure.
    #[inline(always)]
    pub(crate) fn make_free(&mut self, n: usize, with_classes: bool) -> Result<(), Errno> {
        debug_assert!(self.is_header_only() && self.all().iter().all(Option::is_none));
        if n > INLINE_SLOTS {
            self.files = Files::Heap(Self::try_heap_array(n)?);
        }
        self.make_classes(n, with_classes)
    }

    /// The class array of slots being made for `n` descriptors, when `with_classes`.
    #[inline(always)]
    fn make_classes(&mut self, n: usize, with_classes: bool) -> Result<(), Errno> {
        if with_classes {
            self.classes = Some(Self::try_class_array(n.max(INLINE_SLOTS))?);
        }
        Ok(())
    }

    /// A heap slot array of exactly `n` free slots. `ENOMEM` on failure.
    #[inline(never)]
    fn try_heap_array(n: usize) -> Result<Vec<Option<H>>, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        v.resize_with(n, || None);
        Ok(v)
    }

    /// Fills slots `0..from.len()`, free, with `file(from[i])` in turn (class 0) up to
    /// the first error, which it hands back: the slots filled so far keep their files, to
    /// be released with the slots. `ENOMEM` (nothing filled) if there are fewer slots.
    #[inline(always)]
    pub(crate) fn fill_dense<T: Copy>(
        &mut self,
        from: &[T],
        mut file: impl FnMut(T) -> Result<H, Errno>,
    ) -> Result<(), Errno> {
        let dst = self.files_mut(0..from.len()).ok_or(Errno::ENOMEM)?;
        for (slot, &x) in dst.iter_mut().zip(from) {
            debug_assert!(slot.is_none());
            *slot = Some(file(x)?);
        }
        Ok(())
    }

    /// Puts `file` into slot `fd`, free, of slots being filled densely (a uniform array
    /// takes class 0 only).
    #[cfg(test)]
    pub(crate) fn push(&mut self, fd: usize, file: H, class: Class) {
        debug_assert!(self.can_hold(class));
        debug_assert!(self.file(fd).is_none());
        self.put(fd, file, class);
    }

    /// Fills the class array of an array being built densely (made by
    /// `reserve_dense`), from slot 0 on.
    #[inline(always)]
    pub(crate) fn extend_classes(&mut self, classes: impl Iterator<Item = Class>) {
        debug_assert!(self.classes.is_some());
        if let Some(dst) = self.classes.as_mut() {
            for (d, c) in dst.iter_mut().zip(classes) {
                *d = c;
            }
        }
    }

    /// Moves the occupied slot `fd` of `src` into `self` (same number, which exists).
    #[inline(always)]
    pub(crate) fn move_from(&mut self, src: &mut Slots<H>, fd: usize) {
        if let Some((f, c)) = src.take(fd) {
            self.put(fd, f, c);
        }
    }

    /// Whether `self`, a larger array made to replace `cur`, can hold `cur`'s classes.
    #[inline]
    pub(crate) fn can_replace(&self, cur: &Slots<H>) -> bool {
        cur.uniform() || !self.uniform()
    }

    /// Makes the class array of a uniform array from `spare` (all zeros, made for this
    /// array's length: a table's slot array never shrinks, so a shorter one was made
    /// before the table grew): nothing to copy, every class was 0. Hands back `spare`
    /// when not used.
    #[inline]
    pub(crate) fn adopt_classes(&mut self, spare: Option<Box<[Class]>>) -> Option<Box<[Class]>> {
        match spare {
            Some(s) if self.uniform() && s.len() == self.len() && !s.is_empty() => {
                self.classes.replace(s)
            }
            other => other,
        }
    }

    /// A class array (all zeros) for `n` slots. `ENOMEM` on failure.
    pub(crate) fn try_class_array(n: usize) -> Result<Box<[Class]>, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        v.resize(n, Class(0));
        // Exactly `n` reserved, so this keeps the allocation.
        Ok(v.into_boxed_slice())
    }

    /// The classes of slots `lo..hi` into `dst` (a fork copy; both arrays exist and are
    /// long enough, else nothing happens).
    #[inline]
    pub(crate) fn copy_classes_to(&self, dst: &mut Slots<H>, lo: usize, hi: usize) {
        let src = self.classes.as_ref().and_then(|c| c.get(lo..hi));
        let d = dst.classes.as_mut().and_then(|c| c.get_mut(lo..hi));
        if let (Some(src), Some(d)) = (src, d) {
            d.copy_from_slice(src);
        }
    }
}
