//! What the table needs to know about the kernel's own file type.

/// The CloudABI file type (`cloudabi_filetype_t`) of an open file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FileType {
    /// Type unknown or not representable.
    Unknown = 0,
    /// A block device.
    BlockDevice = 16,
    /// A character device (a terminal, a pipe end exposed as a stream).
    CharacterDevice = 17,
    /// A directory.
    Directory = 32,
    /// A process descriptor.
    Process = 80,
    /// A regular file.
    RegularFile = 96,
    /// A shared memory object.
    SharedMemory = 112,
    /// A datagram socket.
    SocketDgram = 128,
    /// A stream socket.
    SocketStream = 130,
    /// A symbolic link.
    SymbolicLink = 144,
}

impl FileType {
    /// The CloudABI number of this type.
    #[inline]
    pub const fn raw(self) -> u8 {
        self as u8
    }

    /// The type with CloudABI number `raw`, `None` for numbers with no type.
    pub const fn from_raw(raw: u8) -> Option<FileType> {
        Some(match raw {
            0 => FileType::Unknown,
            16 => FileType::BlockDevice,
            17 => FileType::CharacterDevice,
            32 => FileType::Directory,
            80 => FileType::Process,
            96 => FileType::RegularFile,
            112 => FileType::SharedMemory,
            128 => FileType::SocketDgram,
            130 => FileType::SocketStream,
            144 => FileType::SymbolicLink,
            _ => return None,
        })
    }
}

/// The kernel's open-file object, as the descriptor table sees it.
///
/// The table holds files as `Arc<F>`: cloning the `Arc` is taking a reference
/// (FreeBSD `fhold`), dropping it is releasing one (`fdrop`). The table never creates an
/// `Arc`; the kernel does, when it opens a file. `F` may be unsized (`dyn File`).
pub trait File {
    /// The CloudABI file type, reported by `fd_stat_get` and checked by `proc_exec`.
    fn file_type(&self) -> FileType;

    /// Whether the file may be copied into another process's table by fork or by a
    /// remapped exec (FreeBSD `DFLAG_PASSABLE`). Defaults to `true`; kqueue-like
    /// objects and half-constructed files return `false`.
    fn is_passable(&self) -> bool {
        true
    }
}

/// Byte I/O on an open file, for the `fd_read` / `fd_write` system calls of the i386
/// shim. A kernel whose files do no I/O through capexec need not implement it.
pub trait FileIo: File {
    /// Reads into `buf`; returns the number of bytes read (0 at end of file).
    fn read(&self, buf: &mut [u8]) -> Result<usize, crate::Errno>;

    /// Writes `data`; returns the number of bytes written (may be short).
    fn write(&self, data: &[u8]) -> Result<usize, crate::Errno>;
}
