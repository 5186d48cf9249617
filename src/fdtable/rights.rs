//! CloudABI rights (`cloudabi_rights_t`) and the per-descriptor rights pair.

use crate::Errno;

bitflags::bitflags! {
    /// A set of CloudABI rights (`cloudabi_rights_t`, a `u64` bit set).
    ///
    /// Rights belong to a descriptor, not to the open file behind it, and can only be
    /// narrowed.
    ///
    /// # References
    /// - CloudABI `cloudabi_rights_t` (cloudabi.txt).
    /// - FreeBSD capsicum `cap_rights_limit(2)`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct Rights: u64 {
        /// `CLOUDABI_RIGHT_FD_DATASYNC`.
        const FD_DATASYNC = 0x1;
        /// `CLOUDABI_RIGHT_FD_READ`.
        const FD_READ = 0x2;
        /// `CLOUDABI_RIGHT_FD_SEEK`.
        const FD_SEEK = 0x4;
        /// `CLOUDABI_RIGHT_FD_STAT_PUT_FLAGS`.
        const FD_STAT_PUT_FLAGS = 0x8;
        /// `CLOUDABI_RIGHT_FD_SYNC`.
        const FD_SYNC = 0x10;
        /// `CLOUDABI_RIGHT_FD_TELL`.
        const FD_TELL = 0x20;
        /// `CLOUDABI_RIGHT_FD_WRITE`.
        const FD_WRITE = 0x40;
        /// `CLOUDABI_RIGHT_FILE_ADVISE`.
        const FILE_ADVISE = 0x80;
        /// `CLOUDABI_RIGHT_FILE_ALLOCATE`.
        const FILE_ALLOCATE = 0x100;
        /// `CLOUDABI_RIGHT_FILE_CREATE_DIRECTORY`.
        const FILE_CREATE_DIRECTORY = 0x200;
        /// `CLOUDABI_RIGHT_FILE_CREATE_FILE`.
        const FILE_CREATE_FILE = 0x400;
        /// `CLOUDABI_RIGHT_FILE_LINK_SOURCE`.
        const FILE_LINK_SOURCE = 0x1000;
        /// `CLOUDABI_RIGHT_FILE_LINK_TARGET`.
        const FILE_LINK_TARGET = 0x2000;
        /// `CLOUDABI_RIGHT_FILE_OPEN`.
        const FILE_OPEN = 0x4000;
        /// `CLOUDABI_RIGHT_FILE_READDIR`.
        const FILE_READDIR = 0x8000;
        /// `CLOUDABI_RIGHT_FILE_READLINK`.
        const FILE_READLINK = 0x10000;
        /// `CLOUDABI_RIGHT_FILE_RENAME_SOURCE`.
        const FILE_RENAME_SOURCE = 0x20000;
        /// `CLOUDABI_RIGHT_FILE_RENAME_TARGET`.
        const FILE_RENAME_TARGET = 0x40000;
        /// `CLOUDABI_RIGHT_FILE_STAT_FGET`.
        const FILE_STAT_FGET = 0x80000;
        /// `CLOUDABI_RIGHT_FILE_STAT_FPUT_SIZE`.
        const FILE_STAT_FPUT_SIZE = 0x100000;
        /// `CLOUDABI_RIGHT_FILE_STAT_FPUT_TIMES`.
        const FILE_STAT_FPUT_TIMES = 0x200000;
        /// `CLOUDABI_RIGHT_FILE_STAT_GET`.
        const FILE_STAT_GET = 0x400000;
        /// `CLOUDABI_RIGHT_FILE_STAT_PUT_TIMES`.
        const FILE_STAT_PUT_TIMES = 0x800000;
        /// `CLOUDABI_RIGHT_FILE_SYMLINK`.
        const FILE_SYMLINK = 0x1000000;
        /// `CLOUDABI_RIGHT_FILE_UNLINK`.
        const FILE_UNLINK = 0x2000000;
        /// `CLOUDABI_RIGHT_MEM_MAP`.
        const MEM_MAP = 0x4000000;
        /// `CLOUDABI_RIGHT_MEM_MAP_EXEC`.
        const MEM_MAP_EXEC = 0x8000000;
        /// `CLOUDABI_RIGHT_POLL_FD_READWRITE`.
        const POLL_FD_READWRITE = 0x10000000;
        /// `CLOUDABI_RIGHT_POLL_PROC_TERMINATE`.
        const POLL_PROC_TERMINATE = 0x40000000;
        /// `CLOUDABI_RIGHT_PROC_EXEC`.
        const PROC_EXEC = 0x100000000;
        /// `CLOUDABI_RIGHT_SOCK_SHUTDOWN`.
        const SOCK_SHUTDOWN = 0x8000000000;
    }
}

/// The rights of one descriptor: what it may do (`base`) and what descriptors
/// derived from it through the file system may get (`inheriting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FdRights {
    /// Rights that apply to the descriptor itself.
    pub base: Rights,
    /// Rights that descriptors opened through this one may receive.
    pub inheriting: Rights,
}

impl FdRights {
    /// Every right, base and inheriting: what a freshly opened descriptor has when the
    /// kernel does not restrict it.
    pub const ALL: FdRights = FdRights {
        base: Rights::all(),
        inheriting: Rights::all(),
    };

    /// No rights at all.
    pub const NONE: FdRights = FdRights {
        base: Rights::empty(),
        inheriting: Rights::empty(),
    };

    /// A pair from its two sets.
    #[inline]
    pub const fn new(base: Rights, inheriting: Rights) -> FdRights {
        FdRights { base, inheriting }
    }

    /// Checks that `new` only narrows `self`: each of `new.base` and `new.inheriting`
    /// must be a subset of the corresponding current set, checked independently.
    /// Widening either gives `ENOTCAPABLE`.
    #[inline]
    pub fn check_narrowing(&self, new: &FdRights) -> Result<(), Errno> {
        if self.base.contains(new.base) && self.inheriting.contains(new.inheriting) {
            Ok(())
        } else {
            Err(Errno::ENOTCAPABLE)
        }
    }
}
