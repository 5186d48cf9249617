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

/// The property tests' settings: `cases` cases, or 4 under Miri without failure
/// persistence (Miri's isolation has no current directory to keep the file in).
pub(super) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    proptest::test_runner::Config {
        cases: if cfg!(miri) { 4 } else { cases },
        failure_persistence: if cfg!(miri) {
            None
        } else {
            default.failure_persistence.clone()
        },
        ..default
    }
}
