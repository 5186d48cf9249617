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
pub(crate) struct RightsPool {
    /// Class 0.
    first: Set,
    /// Classes `1..=heap.len()`.
    heap: Vec<Set>,
    /// Head of the free list of heap classes (class numbers), `NO_FREE` when empty.
    free: u16,
    /// Open-addressing index of the live heap classes (`class` stored, 0 = empty), a
    /// power of two at least twice the heap's capacity; empty while the heap's capacity
    /// is at most [`LINEAR`].
    index: Vec<u16>,
}

/// A larger heap array and index for a pool, allocated before a lock section.
pub(crate) struct PoolSpare {
    heap: Vec<Set>,
    index: Vec<u16>,
}

impl PoolSpare {
    /// Room for `classes` heap classes (and their index when more than [`LINEAR`]).
    /// `ENOMEM` on failure.
    pub(crate) fn try_new(classes: usize) -> Result<PoolSpare, Errno> {
        let mut heap = Vec::new();
        let mut index = Vec::new();
        if classes > 0 {
            heap.try_reserve_exact(classes).map_err(|_| Errno::ENOMEM)?;
            // Sized by the capacity actually obtained, so that the index stays at most
            // half full however many classes the array can hold.
            if heap.capacity() > LINEAR {
                let size = index_size(heap.capacity());
                index.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
                index.resize(size, 0);
            }
        }
        Ok(PoolSpare { heap, index })
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
        heap: Vec::new(),
        free: NO_FREE,
        index: Vec::new(),
    };

    /// The rights set of `class` (a class some descriptor uses).
    #[inline(always)]
    pub(crate) fn rights(&self, class: Class) -> FdRights {
        if class.0 == 0 {
            self.first.rights
        } else {
            self.heap
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
            self.free_heap_class(class.0);
        }
    }

    #[inline(always)]
    fn set_mut(&mut self, class: Class) -> Option<&mut Set> {
        if class.0 == 0 {
            Some(&mut self.first)
        } else {
            self.heap.get_mut(usize::from(class.0) - 1)
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
        if self.first.refs == 0 && self.heap.is_empty() {
            // The table's first set.
            self.first = Set::used(rights);
            return Ok(Class(0));
        }
        self.acquire_slow(rights)
    }

    fn acquire_slow(&mut self, rights: FdRights) -> Result<Class, Result<NeedRoom, Errno>> {
        if let Some(c) = self.find_heap(&rights) {
            self.retain(c);
            return Ok(c);
        }
        if self.first.refs == 0 {
            self.first = Set::used(rights);
            return Ok(Class(0));
        }
        let c = if self.free != NO_FREE {
            let c = self.free;
            let Some(s) = self.heap.get_mut(usize::from(c) - 1) else {
                return Err(Err(Errno::ENOMEM));
            };
            self.free = s.next;
            *s = Set::used(rights);
            c
        } else if self.heap.len() + 1 >= MAX_RIGHTS_SETS {
            return Err(Err(Errno::ENOMEM));
        } else if self.heap.len() < self.heap.capacity() {
            self.heap.push(Set::used(rights));
            self.heap.len() as u16
        } else {
            let want = (self.heap.capacity() * 2).clamp(4, MAX_RIGHTS_SETS - 1);
            return Err(Ok(NeedRoom(want)));
        };
        self.index_insert(c);
        Ok(Class(c))
    }

    /// The live heap class holding `rights`.
    fn find_heap(&self, rights: &FdRights) -> Option<Class> {
        if self.index.is_empty() {
            return self
                .heap
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
                .heap
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
        let Some(s) = self.heap.get(usize::from(c) - 1) else {
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
    fn free_heap_class(&mut self, c: u16) {
        if !self.index.is_empty() {
            if let Some(s) = self.heap.get(usize::from(c) - 1) {
                self.index_remove(c, hash(&s.rights));
            }
        }
        if let Some(s) = self.heap.get_mut(usize::from(c) - 1) {
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
                .heap
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

    /// How many heap classes there is room for.
    #[inline]
    pub(crate) fn heap_capacity(&self) -> usize {
        self.heap.capacity()
    }

    /// How many classes are allocated (live or on the free list), class 0 included: an
    /// upper bound of the distinct sets a copy of part of this table can need.
    #[inline]
    pub(crate) fn classes(&self) -> usize {
        1 + self.heap.len()
    }

    /// Moves the pool into `spare` when `spare` has more room, and hands back what is no
    /// longer used, to be dropped after any lock is released. Never allocates. Cost:
    /// the heap classes.
    pub(crate) fn adopt(&mut self, mut spare: PoolSpare) -> PoolSpare {
        if spare.heap.capacity() <= self.heap.capacity() {
            return spare;
        }
        spare.heap.clear();
        spare.heap.extend_from_slice(&self.heap);
        core::mem::swap(&mut self.heap, &mut spare.heap);
        core::mem::swap(&mut self.index, &mut spare.index);
        self.rebuild_index();
        spare
    }

    /// Refills the index from the live heap classes.
    fn rebuild_index(&mut self) {
        if self.index.is_empty() {
            return;
        }
        self.index.fill(0);
        for i in 0..self.heap.len() {
            if self.heap.get(i).is_some_and(|s| s.refs > 0) {
                self.index_insert(i as u16 + 1);
            }
        }
    }

    /// Copies this pool into `dst`, an empty pool with room for [`classes`](Self::classes)
    /// `- 1` heap classes (a fork copy's: the same class numbers, the same counts).
    /// Never allocates; `false` (nothing copied) when `dst` is too small.
    pub(crate) fn copy_into(&self, dst: &mut RightsPool) -> bool {
        if dst.heap.capacity() < self.heap.len() || !dst.heap.is_empty() {
            return false;
        }
        if self.heap.len() > LINEAR && dst.index.is_empty() {
            return false;
        }
        dst.first = self.first;
        dst.heap.extend_from_slice(&self.heap);
        dst.free = self.free;
        dst.rebuild_index();
        true
    }

    /// Installs room made by [`PoolSpare::try_new`] into an empty pool.
    pub(crate) fn with_spare(spare: PoolSpare) -> RightsPool {
        RightsPool {
            heap: spare.heap,
            index: spare.index,
            ..RightsPool::EMPTY
        }
    }

    /// The number of descriptors using each live class, for tests, after checking the
    /// pool's structure: every heap class is live or on the free list exactly once, no
    /// two live classes hold the same set, and the index (when kept) holds exactly the
    /// live heap classes, each found by its set.
    #[cfg(test)]
    pub(crate) fn live(&self) -> Vec<(FdRights, u32)> {
        let mut on_free = alloc::vec![false; self.heap.len()];
        let mut c = self.free;
        while c != NO_FREE {
            let i = usize::from(c) - 1;
            assert!(!on_free[i], "class {c} twice on the free list");
            assert_eq!(self.heap[i].refs, 0, "class {c} on the free list but used");
            on_free[i] = true;
            c = self.heap[i].next;
        }
        let live: Vec<usize> = (0..self.heap.len()).filter(|&i| !on_free[i]).collect();
        for &i in &live {
            assert!(
                self.heap[i].refs > 0,
                "class {} neither used nor free",
                i + 1
            );
            assert_eq!(
                self.find_heap(&self.heap[i].rights),
                Some(Class(i as u16 + 1)),
                "class {} not found by its set",
                i + 1
            );
        }
        if !self.index.is_empty() {
            assert_eq!(self.index.iter().filter(|&&x| x != 0).count(), live.len());
        }
        if self.first.refs > 0 {
            assert!(
                self.find_heap(&self.first.rights).is_none(),
                "set in class 0 twice"
            );
        }
        core::iter::once(self.first)
            .chain(self.heap.iter().copied())
            .filter(|s| s.refs > 0)
            .map(|s| (s.rights, s.refs))
            .collect()
    }
}
