//! Host files as capexec open files: what a launcher puts in the first
//! program's descriptor table.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::Path;
use std::sync::Mutex;

use capexec::Errno;
use capexec::exec::ImageFile;
use capexec::fdtable::{FdRights, File, FileIo, FileType, Rights};

/// The rights a launcher gives (decision 24).
pub mod rights {
    use super::{FdRights, Rights};

    const fn base(r: Rights) -> FdRights {
        FdRights::new(r, Rights::empty())
    }

    /// Standard input: `FD_READ | FD_STAT_PUT_FLAGS | POLL_FD_READWRITE`.
    pub const STDIN: FdRights = base(
        Rights::FD_READ
            .union(Rights::FD_STAT_PUT_FLAGS)
            .union(Rights::POLL_FD_READWRITE),
    );
    /// Standard output and error: `FD_WRITE | FD_STAT_PUT_FLAGS | POLL_FD_READWRITE`.
    pub const STDOUT: FdRights = base(
        Rights::FD_WRITE
            .union(Rights::FD_STAT_PUT_FLAGS)
            .union(Rights::POLL_FD_READWRITE),
    );
    /// A read-only regular file (`!file`): `FD_READ | FD_SEEK | FD_TELL |
    /// FILE_ADVISE | FILE_STAT_FGET | MEM_MAP | POLL_FD_READWRITE`.
    pub const FILE: FdRights = base(
        Rights::FD_READ
            .union(Rights::FD_SEEK)
            .union(Rights::FD_TELL)
            .union(Rights::FILE_ADVISE)
            .union(Rights::FILE_STAT_FGET)
            .union(Rights::MEM_MAP)
            .union(Rights::POLL_FD_READWRITE),
    );
    /// An executable (`!executable`): [`FILE`] plus `PROC_EXEC | MEM_MAP_EXEC`.
    pub const EXECUTABLE: FdRights = base(
        FILE.base
            .union(Rights::PROC_EXEC)
            .union(Rights::MEM_MAP_EXEC),
    );
}

/// The CloudABI errno for a host I/O error (Linux numbers; anything
/// without a close counterpart is `EIO`).
pub fn errno_from_io(e: &io::Error) -> Errno {
    match e.raw_os_error() {
        Some(libc::EBADF) => Errno::EBADF,
        Some(libc::EAGAIN) => Errno::EAGAIN,
        Some(libc::EPIPE) => Errno::EPIPE,
        Some(libc::ENOSPC) => Errno::ENOSPC,
        Some(libc::EFBIG) => Errno::EFBIG,
        Some(libc::EINVAL) => Errno::EINVAL,
        Some(libc::EISDIR) => Errno::EISDIR,
        Some(libc::ESPIPE) => Errno::ESPIPE,
        Some(libc::EINTR) => Errno::EINTR,
        Some(libc::EFAULT) => Errno::EFAULT,
        Some(libc::ENOMEM) => Errno::ENOMEM,
        Some(libc::EDQUOT) => Errno::EDQUOT,
        Some(libc::ECONNRESET) => Errno::ECONNRESET,
        Some(libc::ENOTCONN) => Errno::ENOTCONN,
        Some(libc::EPERM) => Errno::EPERM,
        Some(libc::EACCES) => Errno::EACCES,
        _ => Errno::EIO,
    }
}

enum Inner {
    /// A host descriptor (a terminal, pipe, socket or regular file).
    Host(fs::File),
    /// A file held in memory (an executable read once), with a read cursor.
    Bytes { bytes: Vec<u8>, pos: Mutex<usize> },
}

/// A host file as capexec's open file ([`File`], [`FileIo`], [`ImageFile`]).
///
/// Built from a host descriptor (the launcher's stdin, stdout, stderr, a
/// pipe end, a file opened read-only) or from bytes in memory (an
/// executable). Reads and writes go to the host descriptor and share its
/// file offset, as a descriptor passed to a child would; `read_at` is
/// `pread` and does not move it.
pub struct HostFile {
    inner: Inner,
    file_type: FileType,
}

impl fmt::Debug for HostFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HostFile");
        d.field("file_type", &self.file_type);
        match &self.inner {
            Inner::Host(file) => d.field("fd", file),
            Inner::Bytes { bytes, .. } => d.field("bytes", &bytes.len()),
        };
        d.finish()
    }
}

/// The CloudABI type of a host file. Pipes are stream sockets, as in
/// FreeBSD's CloudABI layer (`DTYPE_PIPE`).
fn host_type(meta: &fs::Metadata) -> FileType {
    let t = meta.file_type();
    if t.is_file() {
        FileType::RegularFile
    } else if t.is_dir() {
        FileType::Directory
    } else if t.is_char_device() {
        FileType::CharacterDevice
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_fifo() || t.is_socket() {
        FileType::SocketStream
    } else if t.is_symlink() {
        FileType::SymbolicLink
    } else {
        FileType::Unknown
    }
}

impl HostFile {
    /// Takes ownership of a host descriptor; its CloudABI type comes from
    /// `fstat`.
    pub fn from_fd(fd: OwnedFd) -> io::Result<HostFile> {
        let file = fs::File::from(fd);
        let file_type = host_type(&file.metadata()?);
        Ok(HostFile {
            inner: Inner::Host(file),
            file_type,
        })
    }

    /// A duplicate of a host descriptor the caller keeps (`dup`).
    pub fn dup(fd: BorrowedFd<'_>) -> io::Result<HostFile> {
        HostFile::from_fd(fd.try_clone_to_owned()?)
    }

    /// A duplicate of the host's standard input.
    pub fn stdin() -> io::Result<HostFile> {
        HostFile::dup(io::stdin().as_fd())
    }

    /// A duplicate of the host's standard output.
    pub fn stdout() -> io::Result<HostFile> {
        HostFile::dup(io::stdout().as_fd())
    }

    /// A duplicate of the host's standard error.
    pub fn stderr() -> io::Result<HostFile> {
        HostFile::dup(io::stderr().as_fd())
    }

    /// Opens `path` read-only (`!file`).
    pub fn open_read_only(path: &Path) -> io::Result<HostFile> {
        HostFile::from_fd(fs::File::open(path)?.into())
    }

    /// A regular file holding `bytes` in memory (an executable image).
    pub fn from_bytes(bytes: Vec<u8>) -> HostFile {
        HostFile {
            inner: Inner::Bytes {
                bytes,
                pos: Mutex::new(0),
            },
            file_type: FileType::RegularFile,
        }
    }

    /// Reads the executable at `path` into memory (`!executable` and the
    /// program a launcher starts), so the image cannot change under a
    /// running exec.
    pub fn open_executable(path: &Path) -> io::Result<HostFile> {
        Ok(HostFile::from_bytes(fs::read(path)?))
    }

    /// The host descriptor behind this file, if it has one.
    pub fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.inner {
            Inner::Host(f) => Some(f.as_fd()),
            Inner::Bytes { .. } => None,
        }
    }
}

/// Retries `op` while it fails with `EINTR`.
fn retry<T>(mut op: impl FnMut() -> io::Result<T>) -> Result<T, Errno> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r.map_err(|e| errno_from_io(&e)),
        }
    }
}

impl File for HostFile {
    fn file_type(&self) -> FileType {
        self.file_type
    }
}

impl FileIo for HostFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.inner {
            Inner::Host(f) => retry(|| (&*f).read(buf)),
            Inner::Bytes { bytes, pos } => {
                let mut pos = pos.lock().unwrap_or_else(|p| p.into_inner());
                let src = bytes.get(*pos..).unwrap_or(&[]);
                let n = src.len().min(buf.len());
                buf[..n].copy_from_slice(&src[..n]);
                *pos += n;
                Ok(n)
            }
        }
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        match &self.inner {
            Inner::Host(f) => retry(|| (&*f).write(data)),
            // Opened read-only, as `write(2)` on an O_RDONLY descriptor.
            Inner::Bytes { .. } => Err(Errno::EBADF),
        }
    }
}

impl ImageFile for HostFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.inner {
            Inner::Host(f) => retry(|| f.read_at(buf, offset)),
            Inner::Bytes { bytes, .. } => Ok(capexec_sim::read_slice_at(bytes, offset, buf)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_follow_decision_24() {
        assert_eq!(rights::STDIN.base.bits(), 0x1000_000a);
        assert_eq!(rights::STDOUT.base.bits(), 0x1000_0048);
        assert_eq!(rights::FILE.base.bits(), 0x1408_00a6);
        assert_eq!(rights::EXECUTABLE.base.bits(), 0x1_1c08_00a6);
        assert!(rights::EXECUTABLE.inheriting.is_empty());
    }

    #[test]
    fn bytes_read_sequentially_and_at_offsets() {
        let f = HostFile::from_bytes(b"abcdef".to_vec());
        assert_eq!(f.file_type(), FileType::RegularFile);
        let mut b = [0u8; 4];
        assert_eq!(FileIo::read(&f, &mut b), Ok(4));
        assert_eq!(FileIo::read(&f, &mut b), Ok(2));
        assert_eq!(&b[..2], b"ef");
        assert_eq!(FileIo::read(&f, &mut b), Ok(0));
        assert_eq!(f.read_at(1, &mut b), Ok(4));
        assert_eq!(&b, b"bcde");
        assert_eq!(f.write(b"x"), Err(Errno::EBADF));
    }

    #[test]
    fn host_files_get_their_types() {
        let dir = HostFile::from_fd(fs::File::open("/").unwrap().into()).unwrap();
        assert_eq!(dir.file_type(), FileType::Directory);
        let null = HostFile::open_read_only(Path::new("/dev/null")).unwrap();
        assert_eq!(null.file_type(), FileType::CharacterDevice);
        let (r, w) = nix::unistd::pipe().unwrap();
        let w = HostFile::from_fd(w).unwrap();
        let r = HostFile::from_fd(r).unwrap();
        assert_eq!(w.file_type(), FileType::SocketStream);
        assert_eq!(w.write(b"hi"), Ok(2));
        let mut b = [0u8; 2];
        assert_eq!(FileIo::read(&r, &mut b), Ok(2));
        assert_eq!(&b, b"hi");
    }
}
