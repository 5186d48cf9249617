//! The table header is what every table carries and what every move of a table copies
//! (a remapped or forked table returned through a `Result`, stored in a process, swapped
//! in at exec). It is kept within 128 bytes: up to that size an x86_64 compiler copies a
//! value with inline moves; past it, with a call to `memcpy`, which cost a remap of 3
//! descriptors about 40% of its time (BENCHMARKS.md, "third round").

mod fdtable_common;

use std::mem::size_of;

use fdtable_common::Table;

#[test]
fn table_header_fits_in_128_bytes() {
    let header = size_of::<Table>();
    // On x86_64: a slot array (a vector, 24) and a class array (a boxed slice, absent
    // while the rights are uniform, 16), a bitmap of 40 (one inline word pair, a boxed
    // rest, a word count), a rights pool of 32 (the first set inline, the others boxed)
    // and four 4-byte counters.
    assert!(header <= 128, "FdTable header: {header} bytes");
}
