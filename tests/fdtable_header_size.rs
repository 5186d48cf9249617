//! The table header is what every table carries and what every move of a table copies
//! (a remapped or forked table returned through a `Result`, stored in a process, swapped
//! in at exec). It holds the first [`INLINE_SLOTS`] slots itself (FreeBSD's
//! `filedesc0`, Linux's `fd_array`), so that a small table allocates nothing; everything
//! else stays within 112 bytes. Past 128 bytes an x86_64 compiler moves a value with a
//! call to `memcpy` (BENCHMARKS.md, "third round"): the in-place forms
//! (`fdcopy_remapped_into`, `FdTable::fork_copy_into`) build a table where it stays.
//!
//! The header is whole cache lines, aligned to them (BENCHMARKS.md, "sixth round"): a
//! `memcpy` of it then copies whole 32- or 64-byte vectors that neither straddle a line
//! nor overlap each other, so a table moved twice in a row (out of a `Result`, into its
//! place) reads each vector back from the store that wrote it.

mod fdtable_common;

use std::mem::{align_of, size_of};
use std::sync::Arc;

use capexec::fdtable::INLINE_SLOTS;
use fdtable_common::{Table, TestFile};

/// A cache line on the machines the header is laid out for (x86_64, i686, aarch64).
const LINE: usize = 64;

#[test]
fn table_header_is_its_slots_and_112_bytes() {
    let header = size_of::<Table>();
    let slots = INLINE_SLOTS * size_of::<Option<Arc<TestFile>>>();
    // On x86_64: the header's slots (128) and the slot array's tag (8; a heap array is a
    // vector of 24 in the same place), a class array (a boxed slice, absent while the
    // rights are uniform, 16), a bitmap of 40 (one inline word pair, a boxed rest, a
    // word count), a rights pool of 32 (the first set inline, the others boxed) and
    // four 4-byte counters: 240, padded to 256.
    assert!(
        header <= (slots + 112).next_multiple_of(LINE),
        "FdTable header: {header} bytes, {slots} of them slots"
    );
}

#[test]
fn table_header_is_whole_cache_lines() {
    assert_eq!(align_of::<Table>(), LINE);
    assert_eq!(size_of::<Table>() % LINE, 0);
    // An `Option` of a table (as the exec's arguments and the benches hold one) costs no
    // more than the table: the slot array's tag has room for `None`.
    assert_eq!(size_of::<Option<Table>>(), size_of::<Table>());
    if cfg!(target_pointer_width = "64") {
        assert_eq!(size_of::<Table>(), 4 * LINE);
    }
}
