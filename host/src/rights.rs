//! The rights a launcher gives the descriptors it passes.
//!
//! They follow what FreeBSD reports for a descriptor of that type and open
//! mode; inheriting rights are empty for everything that is not a directory.
//! The standard streams have no `FD_SEEK`, so a C library reading them
//! treats them as pipes; a regular file opened read-only may be executed
//! and mapped executable, as on FreeBSD.

use capexec::fdtable::{FdRights, FileType, Rights};

use crate::file::Access;

const fn base(r: Rights) -> FdRights {
    FdRights::new(r, Rights::empty())
}

/// What every stream the launcher passes may do besides reading or
/// writing: `FD_STAT_PUT_FLAGS | FILE_STAT_FGET | POLL_FD_READWRITE`.
const STREAM: Rights = Rights::FD_STAT_PUT_FLAGS
    .union(Rights::FILE_STAT_FGET)
    .union(Rights::POLL_FD_READWRITE);

/// Standard input: `FD_READ | FD_STAT_PUT_FLAGS | FILE_STAT_FGET |
/// POLL_FD_READWRITE`.
pub const STDIN: FdRights = base(Rights::FD_READ.union(STREAM));

/// Standard output and standard error: `FD_WRITE | FD_STAT_PUT_FLAGS |
/// FILE_STAT_FGET | POLL_FD_READWRITE`.
pub const STDOUT: FdRights = base(Rights::FD_WRITE.union(STREAM));

/// A regular file opened read-only (`!file`): `FD_READ | FD_SEEK | FD_TELL
/// | FILE_ADVISE | FILE_STAT_FGET | MEM_MAP | MEM_MAP_EXEC |
/// POLL_FD_READWRITE | PROC_EXEC`.
pub const FILE: FdRights = base(
    Rights::FD_READ
        .union(Rights::FD_SEEK)
        .union(Rights::FD_TELL)
        .union(Rights::FILE_ADVISE)
        .union(Rights::FILE_STAT_FGET)
        .union(Rights::MEM_MAP)
        .union(Rights::MEM_MAP_EXEC)
        .union(Rights::POLL_FD_READWRITE)
        .union(Rights::PROC_EXEC),
);

/// An executable (`!executable`, the program started): the same as
/// [`FILE`].
pub const EXECUTABLE: FdRights = FILE;

/// The rights of any other host descriptor, from its type and open mode.
///
/// A regular file opened for reading gets [`FILE`]; opened for writing it
/// adds `FD_WRITE | FD_DATASYNC | FD_SYNC | FD_STAT_PUT_FLAGS |
/// FILE_ALLOCATE | FILE_STAT_FPUT_SIZE` (and `FD_SEEK | FD_TELL |
/// FILE_STAT_FGET | POLL_FD_READWRITE` when write-only). Anything else (a
/// pipe, socket, terminal or device) gets `FD_READ` and/or `FD_WRITE` as
/// opened, plus `FD_STAT_PUT_FLAGS | FILE_STAT_FGET | POLL_FD_READWRITE`,
/// like the standard streams (a pipe and a stream socket share one type,
/// so they share these rights too).
pub fn for_descriptor(file_type: FileType, access: Access) -> FdRights {
    let mut r = Rights::empty();
    if file_type == FileType::RegularFile {
        if access.read {
            r |= FILE.base;
        }
        if access.write {
            r |= Rights::FD_WRITE
                | Rights::FD_DATASYNC
                | Rights::FD_SYNC
                | Rights::FD_STAT_PUT_FLAGS
                | Rights::FD_SEEK
                | Rights::FD_TELL
                | Rights::FILE_ALLOCATE
                | Rights::FILE_STAT_FGET
                | Rights::FILE_STAT_FPUT_SIZE
                | Rights::POLL_FD_READWRITE;
        }
        return base(r);
    }
    if access.read {
        r |= Rights::FD_READ;
    }
    if access.write {
        r |= Rights::FD_WRITE;
    }
    base(r | STREAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_rights() {
        assert_eq!(STDIN.base.bits(), 0x1008_000a);
        assert_eq!(STDOUT.base.bits(), 0x1008_0048);
        assert_eq!(FILE.base.bits(), 0x1_1c08_00a6);
        assert_eq!(EXECUTABLE, FILE);
        for r in [STDIN, STDOUT, FILE] {
            assert!(r.inheriting.is_empty());
        }
    }

    #[test]
    fn other_descriptors_by_type_and_mode() {
        let ro = Access {
            read: true,
            write: false,
        };
        let wo = Access {
            read: false,
            write: true,
        };
        assert_eq!(for_descriptor(FileType::RegularFile, ro), FILE);
        assert_eq!(for_descriptor(FileType::CharacterDevice, ro), STDIN);
        assert_eq!(for_descriptor(FileType::CharacterDevice, wo), STDOUT);
        let w = for_descriptor(FileType::RegularFile, wo).base;
        assert!(w.contains(Rights::FD_WRITE | Rights::FD_SEEK));
        assert!(!w.contains(Rights::FD_READ) && !w.contains(Rights::PROC_EXEC));
        let s = for_descriptor(
            FileType::SocketStream,
            Access {
                read: true,
                write: true,
            },
        )
        .base;
        assert_eq!(s, Rights::FD_READ | Rights::FD_WRITE | STREAM);
    }
}
