//! What the table needs to know about the kernel's own file type.

use super::stat::FileStat;
use super::uio::{UserSink, UserSource};

/// Where an `fd_seek` offset counts from (as `std::io::SeekFrom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeekFrom {
    /// From the start of the file (`SEEK_SET`).
    Start(u64),
    /// From the end of the file (`SEEK_END`).
    End(i64),
    /// From the current offset (`SEEK_CUR`).
    Current(i64),
}

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
/// The table holds files through the kernel's [`FileHandle`](super::FileHandle) (for
/// example `Arc<F>`): cloning the handle is taking a reference (FreeBSD `fhold`),
/// dropping it is releasing one (`fdrop`). The table never creates a file or a handle;
/// the kernel does, when it opens a file. `F` may be unsized (`dyn File`).
///
/// # Example
///
/// A kernel's console device: a character device with byte I/O.
///
/// ```
/// use capexec::Errno;
/// use capexec::fdtable::{File, FileIo, FileType};
///
/// struct Console;
///
/// impl File for Console {
///     fn file_type(&self) -> FileType {
///         FileType::CharacterDevice
///     }
///     // `fd_read` / `fd_write` reach the console through this.
///     fn io(&self) -> Option<&dyn FileIo> {
///         Some(self)
///     }
/// }
///
/// impl FileIo for Console {
///     fn read(&self, _buf: &mut [u8]) -> Result<usize, Errno> {
///         Ok(0) // end of input
///     }
///     fn write(&self, data: &[u8]) -> Result<usize, Errno> {
///         // ... hand `data` to the UART ...
///         Ok(data.len())
///     }
/// }
///
/// assert_eq!(Console.file_type(), FileType::CharacterDevice);
/// assert_eq!(Console.io().map(|io| io.write(b"hi")), Some(Ok(2)));
/// ```
pub trait File {
    /// The CloudABI file type, reported by `fd_stat_get` and checked by `proc_exec`.
    fn file_type(&self) -> FileType;

    /// Whether the file may be copied into another process's table by fork or by a
    /// remapped exec (FreeBSD `DFLAG_PASSABLE`). Defaults to `true`; kqueue-like
    /// objects and half-constructed files return `false`.
    fn is_passable(&self) -> bool {
        true
    }

    /// The file's byte I/O for the `fd_read` / `fd_write` system calls, if it has any.
    /// The default, `None`, is a file without read and write operations: those calls
    /// fail with `ENOTSUP` (FreeBSD's `EOPNOTSUPP` for a file whose `fileops` lack them),
    /// after the descriptor and rights checks. A file type that implements [`FileIo`]
    /// returns `Some(self)`.
    fn io(&self) -> Option<&dyn FileIo> {
        None
    }

    /// The file's attributes, for `file_stat_fget` (`fstat`). The default reports the
    /// [`file_type`](Self::file_type) and zero for every other field (no device, inode,
    /// links, size or times), which is enough for a C library to tell a terminal or a
    /// pipe from a regular file. A file system's files override it.
    ///
    /// # References
    /// - POSIX `fstat`; FreeBSD `fo_stat` (`struct fileops`).
    fn stat(&self) -> Result<FileStat, crate::Errno> {
        Ok(FileStat::of_type(self.file_type()))
    }

    /// Moves the file offset, for `fd_seek` (`lseek`); returns the new offset. The
    /// default is `ESPIPE`, what FreeBSD returns for a file that has no offset (pipes,
    /// sockets, terminals).
    ///
    /// # References
    /// - POSIX `lseek`; FreeBSD `fo_seek` (`invfo_seek`).
    fn seek(&self, pos: SeekFrom) -> Result<u64, crate::Errno> {
        let _ = pos;
        Err(crate::Errno::ESPIPE)
    }

    /// Writes the file's data (and, unless `data_only`, its metadata) to stable storage,
    /// for `fd_sync` / `fd_datasync`. The default is `EINVAL`, what FreeBSD's `fsync`
    /// returns for a descriptor that is not a vnode.
    ///
    /// # References
    /// - POSIX `fsync`, `fdatasync`; FreeBSD `kern_fsync`.
    fn sync(&self, data_only: bool) -> Result<(), crate::Errno> {
        let _ = data_only;
        Err(crate::Errno::EINVAL)
    }
}

/// Byte I/O on an open file, for the `fd_read` / `fd_write` system calls of the i386
/// shim, reached through [`File::io`]. A kernel whose files do no I/O through capexec
/// need not implement it.
///
/// The system calls call [`read_user`](Self::read_user) and
/// [`write_user`](Self::write_user) once per iovec, with the user buffer itself
/// ([`UserSink`], [`UserSource`]), after checking that every iovec of the call lies in
/// accessible user memory. A kernel file that keeps its own buffer (a pipe, a terminal)
/// overrides them to copy straight between that buffer and user memory, taking out of its
/// buffer only what [`UserSink::put`] delivered; a simple file implements only
/// [`read`](Self::read) and [`write`](Self::write), and the provided methods go through
/// one transfer buffer per call, allocated fallibly.
///
/// Counts: `Ok(n)` is the number of bytes moved; an error means no byte moved. A file
/// that moved some bytes before failing returns `Ok` with the short count (the error
/// shows again on the next call).
///
/// # References
/// - FreeBSD `fo_read` / `fo_write` (`struct fileops`), `dofileread` / `dofilewrite`;
///   POSIX `read`, `write`.
///
/// # Example
///
/// See [`File`]: a console that implements both and returns `Some(self)` from
/// [`File::io`]. A file that reads from a kernel buffer implements only `read` and
/// `write`:
///
/// ```
/// use capexec::Errno;
/// use capexec::fdtable::{File, FileIo, FileType};
///
/// /// `/dev/zero`.
/// struct Zero;
///
/// impl File for Zero {
///     fn file_type(&self) -> FileType {
///         FileType::CharacterDevice
///     }
///     fn io(&self) -> Option<&dyn FileIo> {
///         Some(self)
///     }
/// }
///
/// impl FileIo for Zero {
///     fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
///         buf.fill(0);
///         Ok(buf.len())
///     }
///     fn write(&self, data: &[u8]) -> Result<usize, Errno> {
///         Ok(data.len())
///     }
/// }
///
/// let mut b = [1u8; 3];
/// assert_eq!(Zero.read(&mut b), Ok(3));
/// assert_eq!(b, [0; 3]);
/// ```
pub trait FileIo: File {
    /// Reads into `buf`; returns the number of bytes read (0 at end of file).
    fn read(&self, buf: &mut [u8]) -> Result<usize, crate::Errno>;

    /// Writes `data`; returns the number of bytes written (may be short).
    fn write(&self, data: &[u8]) -> Result<usize, crate::Errno>;

    /// Reads at most `dst.remaining()` bytes into the user buffer `dst`; returns how many
    /// were delivered (0 at end of file).
    ///
    /// The provided method takes a transfer buffer of `dst.remaining()` bytes (on the
    /// stack up to 256 bytes, else allocated fallibly: `ENOMEM` before anything is
    /// read), makes one [`read`](Self::read) call and copies the result out. The caller checked that `dst` is writable beforehand;
    /// should the copy fault anyway (another thread unmapped the buffer in between), the
    /// bytes read are lost and the result is `EFAULT`. A file that can keep undelivered
    /// input overrides this method.
    fn read_user(&self, dst: &mut dyn UserSink) -> Result<usize, crate::Errno> {
        let mut buf = TransferBuffer::new(dst.remaining())?;
        let buf = buf.as_mut();
        let n = self.read(buf)?.min(buf.len());
        dst.put(&buf[..n])
    }

    /// Writes the user buffer `src` (all of it, or a short count); returns how many
    /// bytes were written.
    ///
    /// The provided method takes a transfer buffer of `src.remaining()` bytes (on the
    /// stack up to 256 bytes, else allocated fallibly: `ENOMEM` before anything is
    /// written), copies the user bytes in and
    /// makes exactly one [`write`](Self::write) call with all of them, so a write of up
    /// to `PIPE_BUF` bytes stays one atomic write.
    fn write_user(&self, src: &mut dyn UserSource) -> Result<usize, crate::Errno> {
        let mut buf = TransferBuffer::new(src.remaining())?;
        let buf = buf.as_mut();
        let n = src.take(buf)?;
        let buf = buf.get(..n).unwrap_or(&[]);
        Ok(self.write(buf)?.min(n))
    }

    /// Reads into `buf` at `offset` without moving the file offset, for `fd_pread`. The
    /// default is `ESPIPE`, what FreeBSD returns for a file that cannot seek.
    ///
    /// # References
    /// - POSIX `pread`; FreeBSD `kern_preadv` (`DFLAG_SEEKABLE`).
    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<usize, crate::Errno> {
        let _ = (buf, offset);
        Err(crate::Errno::ESPIPE)
    }

    /// Writes `data` at `offset` without moving the file offset, for `fd_pwrite`. The
    /// default is `ESPIPE`.
    ///
    /// # References
    /// - POSIX `pwrite`; FreeBSD `kern_pwritev`.
    fn pwrite(&self, data: &[u8], offset: u64) -> Result<usize, crate::Errno> {
        let _ = (data, offset);
        Err(crate::Errno::ESPIPE)
    }

    /// [`pread`](Self::pread) into the user buffer `dst`, through one transfer buffer
    /// as [`read_user`](Self::read_user) does.
    fn pread_user(&self, dst: &mut dyn UserSink, offset: u64) -> Result<usize, crate::Errno> {
        let mut buf = TransferBuffer::new(dst.remaining())?;
        let buf = buf.as_mut();
        let n = self.pread(buf, offset)?.min(buf.len());
        dst.put(&buf[..n])
    }

    /// [`pwrite`](Self::pwrite) of the user buffer `src`, through one transfer buffer
    /// as [`write_user`](Self::write_user) does.
    fn pwrite_user(&self, src: &mut dyn UserSource, offset: u64) -> Result<usize, crate::Errno> {
        let mut buf = TransferBuffer::new(src.remaining())?;
        let buf = buf.as_mut();
        let n = src.take(buf)?;
        let buf = buf.get(..n).unwrap_or(&[]);
        Ok(self.pwrite(buf, offset)?.min(n))
    }
}

/// Transfers of up to this many bytes go through a buffer on the stack.
const SMALL_TRANSFER: usize = 256;

/// The kernel buffer of one provided `read_user` / `write_user`: on the stack for a
/// small transfer, one fallible heap allocation for a larger one.
struct TransferBuffer {
    small: [u8; SMALL_TRANSFER],
    large: alloc::vec::Vec<u8>,
    len: usize,
}

impl TransferBuffer {
    fn new(len: usize) -> Result<TransferBuffer, crate::Errno> {
        let mut large = alloc::vec::Vec::new();
        if len > SMALL_TRANSFER {
            large
                .try_reserve_exact(len)
                .map_err(|_| crate::Errno::ENOMEM)?;
            large.resize(len, 0);
        }
        Ok(TransferBuffer {
            small: [0; SMALL_TRANSFER],
            large,
            len,
        })
    }

    fn as_mut(&mut self) -> &mut [u8] {
        if self.len > SMALL_TRANSFER {
            &mut self.large
        } else {
            &mut self.small[..self.len]
        }
    }
}
