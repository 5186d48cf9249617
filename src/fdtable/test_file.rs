//! What the table's unit tests share: the smallest file type and a descriptor number.

use super::{Fd, File, FileType};

/// A file with nothing in it: the table only ever touches its handle.
pub(super) struct F;

impl File for F {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

/// Descriptor `n` (which must fit an `i32`).
pub(super) fn fd(n: usize) -> Fd {
    Fd::from_index(n).unwrap()
}
