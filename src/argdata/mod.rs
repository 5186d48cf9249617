//! The argdata codec: CloudABI's binary argument tree.
//!
//! Argdata replaces a command line with a tree of typed values (null, binary, bool, file
//! descriptor, float, int, map, seq, str, timestamp). A launcher builds a [`Value`] tree
//! naming its own descriptors, serialises it with descriptor extraction and hands the
//! bytes plus the descriptor list to `proc_exec`; the new program reads its argdata with an
//! [`ArgdataRef`] whose descriptors go through [`program_fd`].
//!
//! - Reading: [`ArgdataRef`] (zero-copy, `Copy`, never allocates), [`MapIter`],
//!   [`SeqIter`], [`ArgdataRef::to_value`].
//! - Writing: [`Value`] and [`Value::serialize_with_fds`] (or [`Value::serializer`] to size
//!   buffers once), [`Value::serialize_literal`].
//! - Printing: [`print_yaml`].
//!
//! ```
//! use capexec::argdata::{ArgdataRef, Value};
//!
//! let tree = Value::Seq(vec![Value::Fd(5), Value::from("x"), Value::Fd(5), Value::Fd(2)]);
//! let (bytes, fds) = tree.serialize_with_fds().unwrap();
//! assert_eq!(fds, [5, 2]); // new descriptor i is the launcher's fds[i]
//!
//! let program_view = ArgdataRef::for_program(&bytes);
//! let got: Vec<i32> = program_view
//!     .seq()
//!     .unwrap()
//!     .filter_map(|e| e.ok()?.read_fd().ok())
//!     .collect();
//! assert_eq!(got, [0, 0, 1]);
//! ```
//!
//! Nothing here recurses over input: every whole-tree walk uses an explicit stack that
//! grows fallibly (`ENOMEM`), except the YAML printer, which also stops at
//! [`MAX_YAML_DEPTH`].
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (the reference C library) and the NuxiNL
//!   `argdata` format description.

#[cfg(test)]
mod cost_tests;
mod decode;
mod encoded;
mod fdconv;
mod int;
mod map_iter;
mod reader;
mod seq_iter;
mod serialize;
mod subfield;
mod timestamp;
mod value;
mod yaml;

pub use fdconv::{FdConvert, PROGRAM_FD, program_fd};
pub use int::ArgdataInt;
pub use map_iter::MapIter;
pub use reader::{ArgdataRef, Type};
pub use seq_iter::SeqIter;
pub use serialize::Serializer;
pub use timestamp::{Timestamp, civil_from_days, days_from_civil, days_in_month};
pub use value::{Encoded, Value};
pub use yaml::{MAX_YAML_DEPTH, print_yaml};
