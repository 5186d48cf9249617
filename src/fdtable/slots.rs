//! The slot arrays: each descriptor's file handle, and its rights class.
//!
//! Two parallel arrays: the handles (`Option<H>`, 8 bytes for an `Arc<F>` or any
//! pointer-sized handle) and the 2-byte rights classes
//! ([`Class`]) that name the descriptor's rights set in the
//! table's pool. A lookup of the file reads the handle array only, exactly as a bare
//! `Vec<Option<H>>` would.
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

/// The slots of a table: `len()` descriptors.
pub(crate) struct Slots<H> {
    files: Vec<Option<H>>,
    /// `None` while every descriptor has class 0; otherwise as long as `files` (a boxed
    /// slice: 16 bytes in the table header, not a vector's 24).
    classes: Option<Box<[Class]>>,
}

impl<H> Slots<H> {
    /// No slot (allocates nothing).
    pub(crate) const EMPTY: Slots<H> = Slots {
        files: Vec::new(),
        classes: None,
    };

    /// `n` free slots, with a class array when `with_classes`. `ENOMEM` on failure.
    pub(crate) fn try_new(n: usize, with_classes: bool) -> Result<Slots<H>, Errno> {
        let mut s = Slots::EMPTY;
        if n > 0 {
            s.files.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
            if with_classes {
                s.classes = Some(Self::try_class_array(n)?);
            }
            s.files.resize_with(n, || None);
        }
        Ok(s)
    }

    /// Number of slots.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.files.len()
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
        self.files.get(fd)?.as_ref()
    }

    /// The handles of slots `range`, if they exist.
    #[inline(always)]
    pub(crate) fn files(&self, range: core::ops::Range<usize>) -> Option<&[Option<H>]> {
        self.files.get(range)
    }

    /// The handles of slots `range`, to be written, if they exist.
    #[inline(always)]
    pub(crate) fn files_mut(&mut self, range: core::ops::Range<usize>) -> Option<&mut [Option<H>]> {
        self.files.get_mut(range)
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
        let old = self.files.get_mut(fd)?.replace(file);
        self.set_class(fd, class);
        old.map(|f| (f, old_class))
    }

    /// Empties slot `fd`, handing back its file and class.
    #[inline(always)]
    pub(crate) fn take(&mut self, fd: usize) -> Option<(H, Class)> {
        let class = self.class(fd);
        self.files.get_mut(fd)?.take().map(|f| (f, class))
    }

    /// Reserves room for `n` slots in empty slots, in place, for [`push_uniform`](Self::push_uniform),
    /// with a class array when `with_classes`.
    #[inline]
    pub(crate) fn reserve_dense(&mut self, n: usize, with_classes: bool) -> Result<(), Errno> {
        self.files.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        if with_classes {
            self.classes = Some(Self::try_class_array(n)?);
        }
        Ok(())
    }

    /// Appends a slot to an array being built densely, within the room reserved (so
    /// this cannot allocate). A uniform array takes class 0 only.
    #[cfg(test)]
    pub(crate) fn push(&mut self, file: H, class: Class) {
        debug_assert!(self.files.len() < self.files.capacity());
        debug_assert!(self.can_hold(class));
        self.files.push(Some(file));
        self.set_class(self.files.len() - 1, class);
    }

    /// Appends a slot of class 0 to a uniform array being built densely, within the
    /// room reserved.
    #[inline(always)]
    pub(crate) fn push_uniform(&mut self, file: H) {
        debug_assert!(self.files.len() < self.files.capacity());
        self.files.push(Some(file));
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
            Some(s) if self.uniform() && s.len() == self.files.len() && !s.is_empty() => {
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
