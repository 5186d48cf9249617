//! What `fstat` reports about an open file.

use super::file::FileType;

/// The attributes of a file (CloudABI `cloudabi_filestat_t`, POSIX `struct stat`): what
/// `file_stat_fget` and `file_stat_get` report, and what `file_stat_fput` /
/// `file_stat_put` read.
///
/// # References
/// - POSIX `<sys/stat.h>`; NuxiNL/cloudabi `cloudabi.txt` (`filestat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// `st_dev`: the device holding the file.
    pub dev: u64,
    /// `st_ino`: the file's serial number on that device.
    pub ino: u64,
    /// `st_filetype`.
    pub filetype: FileType,
    /// `st_nlink`: number of hard links.
    pub nlink: u32,
    /// `st_size`: size in bytes.
    pub size: u64,
    /// `st_atim`: last access, nanoseconds since the epoch.
    pub atim: u64,
    /// `st_mtim`: last data modification.
    pub mtim: u64,
    /// `st_ctim`: last status change.
    pub ctim: u64,
}

impl FileStat {
    /// A stat that knows only the file's type (every other field zero).
    pub const fn of_type(filetype: FileType) -> FileStat {
        FileStat {
            dev: 0,
            ino: 0,
            filetype,
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        }
    }
}
