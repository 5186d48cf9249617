//! The descriptor table (FreeBSD `struct filedesc`).

mod fd;
mod file;
mod rights;

pub use fd::Fd;
pub use file::{File, FileType};
pub use rights::{FdRights, Rights};
