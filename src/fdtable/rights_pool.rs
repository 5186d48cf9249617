//! The rights sets of one table, interned: a descriptor slot holds a 2-byte class
//! number, the pool holds each distinct [`FdRights`] once, with the number of descriptors
//! using it.
//!
//! Rights sets are few per process (a handful of file types, each with its rights), so a
//! slot is the file handle plus two bytes instead of the handle plus sixteen. The pool
//! keeps the sets exact: a set no descriptor uses any more is freed at once (reference
//! counts, a free list), so narrowing rights in a loop cannot grow it.
//!
//! Layout: class 0 is inline (a table whose descriptors share one rights set, the common
//! case, allocates nothing for the pool); classes `1..` live in one heap array. Up to
//! [`LINEAR`] heap classes are searched linearly; beyond, an open-addressing index
//! (linear probing, deletion by backward shift, at most half full) finds a set in
//! O(1). Neither the array nor the index ever grows while a set is added: growth is a
//! separate step ([`PoolSpare`], allocated outside any lock and adopted under it), so a
//! shared table never calls the allocator under its lock.
//!
//! # References
//! - FreeBSD `struct filedescent` keeps `fde_rights` inline in every slot; this is the
//!   interned alternative.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::FdRights;
use crate::Errno;

/// The number of a rights set in its table's pool.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Class(pub(crate) u16);

/// The most distinct rights sets one table can use at the same time. An operation that
/// would need one more (opening with, or narrowing to, a set no descriptor of the table
/// has) fails with `ENOMEM` and changes nothing; `dup`, `dup2`, `replace`, the fork copy
/// and the remapped copy reuse sets and never fail for this reason.
pub const MAX_RIGHTS_SETS: usize = u16::MAX as usize;

/// Heap classes searched linearly before an index is kept.
const LINEAR: usize = 8;

/// End of the free list.
const NO_FREE: u16 = u16::MAX;

/// One rights set and the number of descriptors using it (0: free, `next` links the
/// free list).
#[derive(Clone, Copy, Debug)]
struct Set {
    rights: FdRights,
    refs: u32,
    next: u16,
}

impl Set {
    /// `rights`, used by one descriptor.
    #[inline(always)]
    fn used(rights: FdRights) -> Set {
        Set {
            rights,
            refs: 1,
            next: NO_FREE,
        }
    }

    const FREE: Set = Set {
        rights: FdRights::NONE,
        refs: 0,
        next: NO_FREE,
    };
}

/// What a new set needs when the pool is full: room for this many heap classes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct NeedRoom(pub(crate) usize);

/// A table's rights sets. See the module documentation.
///
/// 32 bytes: class 0 inline, the heap classes behind one pointer (none until a table's
/// descriptors use a second set), so that a table header stays small enough to be moved
/// cheaply.
pub(crate) struct RightsPool {
    /// Class 0.
    first: Set,
    /// Classes `1..`, their free list and index; `None` while there are none.
    more: Option<Box<[Heap; 1]>>,
}

/// The heap classes of a pool.
struct Heap {
    /// Classes `1..=sets.len()`.
    sets: Vec<Set>,
    /// Head of the free list of heap classes (class numbers), `NO_FREE` when empty.
    free: u16,
    /// Open-addressing index of the live heap classes (`class` stored, 0 = empty), a
    /// power of two at least twice the array's capacity; empty while the array's
    /// capacity is at most [`LINEAR`].
    index: Vec<u16>,
}

/// A pool without heap classes.
const NO_HEAP: &Heap = &Heap::EMPTY;

/// A larger heap array and index for a pool, allocated before a lock section.
pub(crate) struct PoolSpare {
    more: Option<Box<[Heap; 1]>>,
}

impl PoolSpare {
    /// Room for `classes` heap classes (and their index when more than [`LINEAR`]).
    /// `ENOMEM` on failure.
    pub(crate) fn try_new(classes: usize) -> Result<PoolSpare, Errno> {
        if classes == 0 {
            return Ok(PoolSpare { more: None });
        }
        let mut sets = Vec::new();
        let mut index = Vec::new();
        sets.try_reserve_exact(classes).map_err(|_| Errno::ENOMEM)?;
        // Sized by the capacity actually obtained, so that the index stays at most
        // half full however many classes the array can hold.
        if sets.capacity() > LINEAR {
            let size = index_size(sets.capacity());
            index.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
            index.resize(size, 0);
        }
        let heap = Heap {
            sets,
            free: NO_FREE,
            index,
        };
        // A `Box` made without aborting on failure: a one-element vector, its exact
        // allocation kept.
        let mut one = Vec::new();
        one.try_reserve_exact(1).map_err(|_| Errno::ENOMEM)?;
        one.push(heap);
        let more: Box<[Heap; 1]> = one
            .into_boxed_slice()
            .try_into()
            .map_err(|_| Errno::ENOMEM)?;
        Ok(PoolSpare { more: Some(more) })
    }
}

/// The index size for `classes` heap classes: a power of two at least twice as large.
fn index_size(classes: usize) -> usize {
    (classes * 2).next_power_of_two()
}

/// The index's hash of a rights set.
#[inline]
fn hash(r: &FdRights) -> usize {
    let h = r
        .base
        .bits()
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
        ^ r.inheriting.bits().wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (h ^ (h >> 32)) as usize
}

impl RightsPool {
    /// An empty pool (allocates nothing).
    pub(crate) const EMPTY: RightsPool = RightsPool {
        first: Set::FREE,
        more: None,
    };

    /// The heap classes (an empty set of them when there are none).
    #[inline(always)]
    fn heap(&self) -> &Heap {
        match &self.more {
            Some(m) => &m[0],
            None => NO_HEAP,
        }
    }

    /// The heap classes, if the pool has room for any.
    #[inline(always)]
    fn heap_mut(&mut self) -> Option<&mut Heap> {
        self.more.as_mut().map(|m| &mut m[0])
    }

    /// Whether the pool has nothing on the heap (class 0 only).
    #[inline(always)]
    pub(crate) fn is_header_only(&self) -> bool {
        self.more.is_none()
    }

    /// Makes `rights`, used by `n` descriptors, the only set of this empty pool (class
    /// 0): a table being built whose descriptors share one set.
    #[inline(always)]
    pub(crate) fn set_uniform(&mut self, rights: FdRights, n: u32) {
        debug_assert!(self.first.refs == 0 && self.heap().sets.is_empty());
        self.first = Set {
            refs: n,
            ..Set::used(rights)
        };
    }

    /// The rights set of `class` (a class some descriptor uses).
    #[inline(always)]
    pub(crate) fn rights(&self, class: Class) -> FdRights {
        if class.0 == 0 {
            self.first.rights
        } else {
            self.heap()
                .sets
                .get(usize::from(class.0) - 1)
                .map_or(FdRights::NONE, |s| s.rights)
        }
    }

    /// One more descriptor uses `class`.
    #[inline(always)]
    pub(crate) fn retain(&mut self, class: Class) {
        if let Some(s) = self.set_mut(class) {
            s.refs += 1;
        }
    }

    /// `n` more descriptors use `class`.
    #[inline(always)]
    pub(crate) fn retain_n(&mut self, class: Class, n: u32) {
        if n == 0 {
            return;
        }
        if let Some(s) = self.set_mut(class) {
            s.refs += n;
        }
    }

    /// One descriptor less uses `class`; the set is freed when none does.
    #[inline(always)]
    pub(crate) fn release(&mut self, class: Class) {
        let Some(s) = self.set_mut(class) else {
            return;
        };
        debug_assert!(s.refs > 0, "release of a free rights class");
        s.refs -= 1;
        if s.refs == 0 && class.0 != 0 {
            if let Some(h) = self.heap_mut() {
                h.free_class(class.0);
            }
        }
    }

    #[inline(always)]
    fn set_mut(&mut self, class: Class) -> Option<&mut Set> {
        if class.0 == 0 {
            Some(&mut self.first)
        } else {
            self.heap_mut()?.sets.get_mut(usize::from(class.0) - 1)
        }
    }

    /// The class of `rights`, with one more descriptor using it: an existing class with
    /// those rights, or a new one. When a new one is needed and there is no room,
    /// nothing changes and the room to make is returned (`Err(Ok(..))`), or `ENOMEM`
    /// when the table already uses [`MAX_RIGHTS_SETS`] sets (`Err(Err(..))`).
    #[inline(always)]
    pub(crate) fn acquire(&mut self, rights: FdRights) -> Result<Class, Result<NeedRoom, Errno>> {
        if self.first.refs > 0 && self.first.rights == rights {
            self.first.refs += 1;
            return Ok(Class(0));
        }
        if self.first.refs == 0 && self.heap().sets.is_empty() {
            // The table's first set.
            self.first = Set::used(rights);
            return Ok(Class(0));
        }
        self.acquire_slow(rights)
    }

    fn acquire_slow(&mut self, rights: FdRights) -> Result<Class, Result<NeedRoom, Errno>> {
        if let Some(c) = self.heap().find(&rights) {
            self.retain(c);
            return Ok(c);
        }
        if self.first.refs == 0 {
            self.first = Set::used(rights);
            return Ok(Class(0));
        }
        let Some(h) = self.heap_mut() else {
            return Err(Ok(NeedRoom(4)));
        };
        let c = if h.free != NO_FREE {
            let c = h.free;
            let Some(s) = h.sets.get_mut(usize::from(c) - 1) else {
                return Err(Err(Errno::ENOMEM));
            };
            h.free = s.next;
            *s = Set::used(rights);
            c
        } else if h.sets.len() + 1 >= MAX_RIGHTS_SETS {
            return Err(Err(Errno::ENOMEM));
        } else if h.sets.len() < h.sets.capacity() {
            h.sets.push(Set::used(rights));
            h.sets.len() as u16
        } else {
            let want = (h.sets.capacity() * 2).clamp(4, MAX_RIGHTS_SETS - 1);
            return Err(Ok(NeedRoom(want)));
        };
        h.index_insert(c);
        Ok(Class(c))
    }

    /// How many heap classes there is room for.
    #[inline]
    pub(crate) fn heap_capacity(&self) -> usize {
        self.heap().sets.capacity()
    }

    /// How many classes are allocated (live or on the free list), class 0 included: an
    /// upper bound of the distinct sets a copy of part of this table can need.
    #[inline]
    pub(crate) fn classes(&self) -> usize {
        1 + self.heap().sets.len()
    }

    /// Moves the pool into `spare` when `spare` has more room, and hands back what is no
    /// longer used, to be dropped after any lock is released. Never allocates. Cost:
    /// the heap classes.
    pub(crate) fn adopt(&mut self, mut spare: PoolSpare) -> PoolSpare {
        let Some(to) = spare.more.as_mut().map(|m| &mut m[0]) else {
            return spare;
        };
        let from = self.heap();
        if to.sets.capacity() <= from.sets.capacity() {
            return spare;
        }
        to.sets.clear();
        to.sets.extend_from_slice(&from.sets);
        to.free = from.free;
        to.rebuild_index();
        core::mem::swap(&mut self.more, &mut spare.more);
        spare
    }

    /// Copies this pool into `dst`, an empty pool with room for [`classes`](Self::classes)
    /// `- 1` heap classes (a fork copy's: the same class numbers, the same counts).
    /// Never allocates; `false` (nothing copied) when `dst` is too small.
    pub(crate) fn copy_into(&self, dst: &mut RightsPool) -> bool {
        let from = self.heap();
        if from.sets.is_empty() {
            if dst.heap().sets.is_empty() {
                dst.first = self.first;
                return true;
            }
            return false;
        }
        let Some(to) = dst.heap_mut() else {
            return false;
        };
        if to.sets.capacity() < from.sets.len() || !to.sets.is_empty() {
            return false;
        }
        if from.sets.len() > LINEAR && to.index.is_empty() {
            return false;
        }
        to.sets.extend_from_slice(&from.sets);
        to.free = from.free;
        to.rebuild_index();
        dst.first = self.first;
        true
    }

    /// Installs room made by [`PoolSpare::try_new`] into an empty pool.
    pub(crate) fn with_spare(spare: PoolSpare) -> RightsPool {
        RightsPool {
            first: Set::FREE,
            more: spare.more,
        }
    }

    /// The number of descriptors using each live class, for tests, after checking the
    /// pool's structure: every heap class is live or on the free list exactly once, no
    /// two live classes hold the same set, and the index (when kept) holds exactly the
    /// live heap classes, each found by its set.
    #[cfg(test)]
    pub(crate) fn live(&self) -> Vec<(FdRights, u32)> {
        let h = self.heap();
        let mut on_free = alloc::vec![false; h.sets.len()];
        let mut c = h.free;
        while c != NO_FREE {
            let i = usize::from(c) - 1;
            assert!(!on_free[i], "class {c} twice on the free list");
            assert_eq!(h.sets[i].refs, 0, "class {c} on the free list but used");
            on_free[i] = true;
            c = h.sets[i].next;
        }
        let live: Vec<usize> = (0..h.sets.len()).filter(|&i| !on_free[i]).collect();
        for &i in &live {
            assert!(h.sets[i].refs > 0, "class {} neither used nor free", i + 1);
            assert_eq!(
                h.find(&h.sets[i].rights),
                Some(Class(i as u16 + 1)),
                "class {} not found by its set",
                i + 1
            );
        }
        if !h.index.is_empty() {
            assert_eq!(h.index.iter().filter(|&&x| x != 0).count(), live.len());
        }
        if self.first.refs > 0 {
            assert!(h.find(&self.first.rights).is_none(), "set in class 0 twice");
        }
        core::iter::once(self.first)
            .chain(h.sets.iter().copied())
            .filter(|s| s.refs > 0)
            .map(|s| (s.rights, s.refs))
            .collect()
    }
}

impl Heap {
    /// No heap class.
    const EMPTY: Heap = Heap {
        sets: Vec::new(),
        free: NO_FREE,
        index: Vec::new(),
    };

    /// The live heap class holding `rights`.
    fn find(&self, rights: &FdRights) -> Option<Class> {
        if self.index.is_empty() {
            return self
                .sets
                .iter()
                .position(|s| s.refs > 0 && s.rights == *rights)
                .map(|i| Class(i as u16 + 1));
        }
        let mask = self.index.len() - 1;
        let mut i = hash(rights) & mask;
        loop {
            let c = *self.index.get(i)?;
            if c == 0 {
                return None;
            }
            if self
                .sets
                .get(usize::from(c) - 1)
                .is_some_and(|s| s.rights == *rights)
            {
                return Some(Class(c));
            }
            i = (i + 1) & mask;
        }
    }

    /// Enters live heap class `c` into the index (which has room: it is at most half
    /// full by construction).
    fn index_insert(&mut self, c: u16) {
        if self.index.is_empty() {
            return;
        }
        let Some(s) = self.sets.get(usize::from(c) - 1) else {
            return;
        };
        let mask = self.index.len() - 1;
        let mut i = hash(&s.rights) & mask;
        while let Some(slot) = self.index.get_mut(i) {
            if *slot == 0 {
                *slot = c;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Frees heap class `c`: out of the index (backward-shift deletion), onto the free
    /// list.
    fn free_class(&mut self, c: u16) {
        if !self.index.is_empty() {
            if let Some(s) = self.sets.get(usize::from(c) - 1) {
                self.index_remove(c, hash(&s.rights));
            }
        }
        if let Some(s) = self.sets.get_mut(usize::from(c) - 1) {
            *s = Set {
                next: self.free,
                ..Set::FREE
            };
            self.free = c;
        }
    }

    fn index_remove(&mut self, c: u16, h: usize) {
        let mask = self.index.len() - 1;
        let mut i = h & mask;
        // Find the entry.
        loop {
            match self.index.get(i) {
                Some(&x) if x == c => break,
                Some(&0) | None => return,
                Some(_) => i = (i + 1) & mask,
            }
        }
        // Backward shift: move later entries of the run into the hole when their home is
        // not between the hole and them.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let x = match self.index.get(j) {
                Some(&0) | None => break,
                Some(&x) => x,
            };
            let home = self
                .sets
                .get(usize::from(x) - 1)
                .map_or(j, |s| hash(&s.rights) & mask);
            // Distance from home to j, and from hole to j (cyclically).
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                if let Some(slot) = self.index.get_mut(hole) {
                    *slot = x;
                }
                hole = j;
            }
            j = (j + 1) & mask;
        }
        if let Some(slot) = self.index.get_mut(hole) {
            *slot = 0;
        }
    }

    /// Refills the index from the live heap classes.
    fn rebuild_index(&mut self) {
        if self.index.is_empty() {
            return;
        }
        self.index.fill(0);
        for i in 0..self.sets.len() {
            if self.sets.get(i).is_some_and(|s| s.refs > 0) {
                self.index_insert(i as u16 + 1);
            }
        }
    }
}
