//! Host files wrapped as capexec file objects.

use std::io::{Read, Write};
use std::sync::Mutex;

use capexec::Errno;
use capexec::exec::ImageFile;
use capexec::fdtable::{FdRights, File, FileIo, FileType, Rights};

/// What a launcher descriptor refers to.
pub enum HostKind {
    /// The host's standard input.
    Stdin,
    /// The host's standard output.
    Stdout,
    /// The host's standard error.
    Stderr,
    /// A host file opened by the launcher (`!file`, or an inherited `!fd N`), its type,
    /// and whether it was opened for writing.
    File(Mutex<std::fs::File>, FileType, Access),
    /// An executable image held in memory.
    Image(Vec<u8>),
}

/// How a host file was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing.
    pub write: bool,
}

/// A host object in the simulated kernel.
pub struct HostFile {
    /// What it is.
    pub kind: HostKind,
    /// What `procstat` shows it as.
    pub name: String,
}

impl HostFile {
    /// The rights the launcher gives this kind of file (decision 24).
    pub fn launcher_rights(&self) -> FdRights {
        let read_file = Rights::FD_READ
            | Rights::FD_SEEK
            | Rights::FD_TELL
            | Rights::FILE_ADVISE
            | Rights::FILE_STAT_FGET
            | Rights::MEM_MAP
            | Rights::POLL_FD_READWRITE;
        let base = match &self.kind {
            HostKind::Stdin => {
                Rights::FD_READ | Rights::FD_STAT_PUT_FLAGS | Rights::POLL_FD_READWRITE
            }
            HostKind::Stdout | HostKind::Stderr => {
                Rights::FD_WRITE | Rights::FD_STAT_PUT_FLAGS | Rights::POLL_FD_READWRITE
            }
            HostKind::File(_, t, access) => {
                let mut r = Rights::POLL_FD_READWRITE;
                if access.read {
                    r |= if *t == FileType::RegularFile {
                        read_file
                    } else {
                        Rights::FD_READ
                    };
                }
                if access.write {
                    r |= Rights::FD_WRITE | Rights::FD_STAT_PUT_FLAGS;
                    if *t == FileType::RegularFile {
                        r |= Rights::FD_SEEK | Rights::FD_TELL | Rights::FILE_STAT_FGET;
                    }
                }
                r
            }
            HostKind::Image(_) => read_file | Rights::PROC_EXEC | Rights::MEM_MAP_EXEC,
        };
        FdRights::new(base, Rights::empty())
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    match e.raw_os_error() {
        Some(n) => capexec::abi::errno::from_linux(n),
        None => Errno::EIO,
    }
}

impl File for HostFile {
    fn file_type(&self) -> FileType {
        match &self.kind {
            HostKind::Stdin | HostKind::Stdout | HostKind::Stderr => FileType::CharacterDevice,
            HostKind::File(_, t, _) => *t,
            HostKind::Image(_) => FileType::RegularFile,
        }
    }
}

impl FileIo for HostFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.kind {
            HostKind::Stdin => std::io::stdin().read(buf).map_err(|e| io_errno(&e)),
            HostKind::File(f, ..) => f
                .lock()
                .map_err(|_| Errno::EIO)?
                .read(buf)
                .map_err(|e| io_errno(&e)),
            HostKind::Image(_) => Err(Errno::EBADF),
            HostKind::Stdout | HostKind::Stderr => Err(Errno::EBADF),
        }
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let r = match &self.kind {
            HostKind::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(data).and_then(|()| o.flush())
            }
            HostKind::Stderr => std::io::stderr().write_all(data),
            HostKind::File(f, ..) => f.lock().map_err(|_| Errno::EIO)?.write_all(data),
            HostKind::Stdin | HostKind::Image(_) => return Err(Errno::EBADF),
        };
        r.map(|()| data.len()).map_err(|e| io_errno(&e))
    }
}

impl ImageFile for HostFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.kind {
            HostKind::Image(bytes) => Ok(capexec_sim::read_slice_at(bytes, offset, buf)),
            HostKind::File(f, ..) => {
                use std::os::unix::fs::FileExt;
                f.lock()
                    .map_err(|_| Errno::EIO)?
                    .read_at(buf, offset)
                    .map_err(|e| io_errno(&e))
            }
            _ => Err(Errno::ENOEXEC),
        }
    }
}

/// The CloudABI file type of a host file.
pub fn host_file_type(meta: &std::fs::Metadata) -> FileType {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        FileType::RegularFile
    } else if t.is_dir() {
        FileType::Directory
    } else if t.is_char_device() || t.is_fifo() {
        FileType::CharacterDevice
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_socket() {
        FileType::SocketStream
    } else if t.is_symlink() {
        FileType::SymbolicLink
    } else {
        FileType::Unknown
    }
}
