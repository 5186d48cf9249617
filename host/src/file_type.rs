//! The CloudABI type of a host descriptor.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::FileTypeExt;

use capexec::fdtable::FileType;

/// The CloudABI type of the host file `file` (`fstat`, and for a socket
/// `getsockopt(SO_TYPE)`).
///
/// Regular file `REGULAR_FILE`, directory `DIRECTORY`, terminals and other
/// character devices `CHARACTER_DEVICE`, block device `BLOCK_DEVICE`, pipes,
/// FIFOs and stream sockets `SOCKET_STREAM` (as FreeBSD reports pipes),
/// datagram sockets `SOCKET_DGRAM`, anything else `UNKNOWN`.
///
/// # References
/// - POSIX `fstat`, `getsockopt` (`SO_TYPE`).
/// - FreeBSD `sys/compat/cloudabi/cloudabi_fd.c` (`cloudabi_convert_filetype`).
pub fn host_file_type(file: &std::fs::File) -> std::io::Result<FileType> {
    let meta = file.metadata()?;
    let t = meta.file_type();
    Ok(if t.is_file() {
        FileType::RegularFile
    } else if t.is_dir() {
        FileType::Directory
    } else if t.is_char_device() {
        FileType::CharacterDevice
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_fifo() {
        FileType::SocketStream
    } else if t.is_socket() {
        socket_type(file.as_fd())
    } else if t.is_symlink() {
        FileType::SymbolicLink
    } else {
        FileType::Unknown
    })
}

fn socket_type(fd: BorrowedFd<'_>) -> FileType {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is an open descriptor for the borrow; `ty` and `len` are
    // valid for writes of the sizes given.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&raw mut ty).cast(),
            &mut len,
        )
    };
    match (r, ty) {
        (0, libc::SOCK_STREAM) => FileType::SocketStream,
        (0, libc::SOCK_DGRAM) => FileType::SocketDgram,
        _ => FileType::Unknown,
    }
}
