//! The copied-in descriptor list of an exec (`fds`: new descriptor `i` is the caller's
//! `fds[i]`), kept until the new table is installed.

use alloc::vec::Vec;

use arrayvec::ArrayVec;

use crate::Errno;

/// Descriptor lists up to this length are kept on the stack.
pub const SMALL_FD_LIST: usize = 64;

/// The copied-in descriptor list: in place (in the exec's arguments, on the kernel
/// stack) when short, one fallible allocation when long.
pub(crate) struct FdList {
    small: ArrayVec<i32, SMALL_FD_LIST>,
    large: Vec<i32>,
    /// The list is `large` (it was reserved for more than [`SMALL_FD_LIST`]).
    is_large: bool,
}

impl FdList {
    /// An empty list with no room. Writes no more than the lengths (the inline array
    /// is left uninitialised, not copied from a constant).
    #[inline(always)]
    pub(crate) fn new() -> FdList {
        FdList {
            small: ArrayVec::new(),
            large: Vec::new(),
            is_large: false,
        }
    }

    /// An empty list with room for exactly `n` descriptors (`ENOMEM` if a long list's
    /// allocation fails, leaving the list empty).
    #[inline]
    pub(crate) fn reserve(&mut self, n: usize) -> Result<(), Errno> {
        self.small.clear();
        self.large.clear();
        self.is_large = n > SMALL_FD_LIST;
        if self.is_large {
            self.large.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        }
        Ok(())
    }

    /// A list with room for exactly `n` descriptors.
    #[cfg(test)]
    pub(crate) fn with_capacity(n: usize) -> Result<FdList, Errno> {
        let mut list = FdList::new();
        list.reserve(n)?;
        Ok(list)
    }

    /// Appends `fd`. `reserve` made room for every descriptor, so this never
    /// allocates; a list longer than its reservation (a bug) fails with `ENOMEM`
    /// instead of dropping a descriptor or allocating.
    #[inline]
    pub(crate) fn push(&mut self, fd: i32) -> Result<(), Errno> {
        let pushed = if self.is_large {
            let room = self.large.len() < self.large.capacity();
            if room {
                self.large.push(fd);
            }
            room
        } else {
            self.small.try_push(fd).is_ok()
        };
        debug_assert!(pushed, "descriptor list longer than its reservation");
        if pushed { Ok(()) } else { Err(Errno::ENOMEM) }
    }

    /// The descriptors pushed so far.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[i32] {
        if self.is_large {
            &self.large
        } else {
            &self.small
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FdList, SMALL_FD_LIST};

    #[test]
    fn a_list_takes_exactly_its_reservation() {
        for n in [0, 1, SMALL_FD_LIST, SMALL_FD_LIST + 1, 1000] {
            let mut list = FdList::with_capacity(n).unwrap();
            for i in 0..n {
                list.push(i as i32).unwrap();
            }
            assert_eq!(list.as_slice().len(), n);
            assert!(
                list.as_slice()
                    .iter()
                    .enumerate()
                    .all(|(i, &f)| f == i as i32)
            );
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "descriptor list longer than its reservation")]
    fn pushing_past_the_reservation_is_caught() {
        let mut list = FdList::with_capacity(SMALL_FD_LIST).unwrap();
        for i in 0..=SMALL_FD_LIST {
            let _ = list.push(i as i32);
        }
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn pushing_past_the_reservation_fails_with_enomem() {
        let mut list = FdList::with_capacity(SMALL_FD_LIST).unwrap();
        for i in 0..SMALL_FD_LIST {
            list.push(i as i32).unwrap();
        }
        assert_eq!(list.push(0), Err(crate::Errno::ENOMEM));
        assert_eq!(list.as_slice().len(), SMALL_FD_LIST);
    }
}
