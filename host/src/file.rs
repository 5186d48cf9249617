//! A host file as capexec's open file.

use std::fmt;
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

use capexec::Errno;
use capexec::exec::ImageFile;
use capexec::fdtable::{FdRights, File, FileIo, FileStat, FileType, SeekFrom};

use crate::errno::errno_from_io;
use crate::file_type::host_file_type;
use crate::rights;

/// The largest executable a launcher reads into memory: 64 MiB.
pub const MAX_EXECUTABLE_SIZE: u64 = 64 << 20;

/// How a host descriptor was opened (`fcntl(F_GETFL)`'s access mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Opened for reading.
    pub read: bool,
    /// Opened for writing.
    pub write: bool,
}

impl Access {
    /// Read-only.
    pub const READ: Access = Access {
        read: true,
        write: false,
    };
    /// Write-only.
    pub const WRITE: Access = Access {
        read: false,
        write: true,
    };

    /// The access mode of the open host descriptor `fd`.
    pub fn of(fd: BorrowedFd<'_>) -> io::Result<Access> {
        // SAFETY: F_GETFL reads the flags of `fd`, open for the borrow.
        let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(match flags & libc::O_ACCMODE {
            libc::O_RDONLY => Access::READ,
            libc::O_WRONLY => Access::WRITE,
            _ => Access {
                read: true,
                write: true,
            },
        })
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
/// Built from a host descriptor (a duplicate of the launcher's stdin,
/// stdout, stderr or of an inherited descriptor, a file opened read-only)
/// or from bytes in memory (an executable). Reads and writes are one
/// unbuffered `read(2)` or `write(2)` on the host descriptor, so they share
/// its file offset and status flags with every other holder of the open
/// file, as a descriptor passed to a child would, and never take more input
/// than asked for; `read_at` is `pread` and does not move the offset.
///
/// Each file carries its CloudABI type, the rights a launcher gives it
/// ([`rights`](crate::rights)) and a name for reports.
pub struct HostFile {
    inner: Inner,
    file_type: FileType,
    rights: FdRights,
    name: String,
}

impl fmt::Debug for HostFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HostFile");
        d.field("name", &self.name);
        d.field("file_type", &self.file_type);
        match &self.inner {
            Inner::Host(file) => d.field("fd", file),
            Inner::Bytes { bytes, .. } => d.field("bytes", &bytes.len()),
        };
        d.finish()
    }
}

/// Puts `fd` back in blocking mode.
fn clear_nonblock(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL/F_SETFL on `raw`, open for the borrow.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(raw, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl HostFile {
    /// Takes ownership of a host descriptor; its CloudABI type comes from
    /// `fstat`, its rights from the type and the mode it was opened with
    /// ([`rights::for_descriptor`]).
    pub fn from_fd(fd: OwnedFd) -> io::Result<HostFile> {
        let access = Access::of(fd.as_fd())?;
        let file = fs::File::from(fd);
        let file_type = host_file_type(&file)?;
        Ok(HostFile {
            inner: Inner::Host(file),
            file_type,
            rights: rights::for_descriptor(file_type, access),
            name: String::new(),
        })
    }

    /// A duplicate of a host descriptor the caller keeps
    /// (`fcntl(F_DUPFD_CLOEXEC)`): it shares the open file, its offset and
    /// its status flags.
    pub fn dup(fd: BorrowedFd<'_>) -> io::Result<HostFile> {
        HostFile::from_fd(fd.try_clone_to_owned()?)
    }

    fn standard(fd: BorrowedFd<'_>, r: FdRights, name: &str) -> io::Result<HostFile> {
        let mut f = HostFile::dup(fd)?;
        f.rights = r;
        f.name = name.to_string();
        Ok(f)
    }

    /// A duplicate of the host's standard input, with [`rights::STDIN`].
    pub fn stdin() -> io::Result<HostFile> {
        HostFile::standard(io::stdin().as_fd(), rights::STDIN, "stdin")
    }

    /// A duplicate of the host's standard output, with [`rights::STDOUT`].
    pub fn stdout() -> io::Result<HostFile> {
        HostFile::standard(io::stdout().as_fd(), rights::STDOUT, "stdout")
    }

    /// A duplicate of the host's standard error, with [`rights::STDOUT`].
    pub fn stderr() -> io::Result<HostFile> {
        HostFile::standard(io::stderr().as_fd(), rights::STDOUT, "stderr")
    }

    /// Opens `path` read-only (`!file`).
    ///
    /// The open itself never blocks (`O_NONBLOCK`, cleared afterwards), and
    /// a FIFO is refused with `InvalidInput`: opening one waits for a writer
    /// and reading one without a writer is an immediate end of file, neither
    /// of which a user naming a file expects (an open pipe is passed with
    /// `!fd N` instead). A regular file gets [`rights::FILE`]; a device or
    /// directory the rights of its type.
    ///
    /// # References
    /// - POSIX `open` (`O_NONBLOCK` on a FIFO), `fcntl` (`F_SETFL`).
    pub fn open_read_only(path: &Path) -> io::Result<HostFile> {
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)?;
        let file_type = host_file_type(&file)?;
        {
            use std::os::unix::fs::FileTypeExt;
            if file.metadata()?.file_type().is_fifo() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "is a FIFO (pass an open pipe with !fd N instead)",
                ));
            }
        }
        clear_nonblock(file.as_fd())?;
        let rights = match file_type {
            FileType::RegularFile => rights::FILE,
            t => rights::for_descriptor(t, Access::READ),
        };
        Ok(HostFile {
            inner: Inner::Host(file),
            file_type,
            rights,
            name: path.display().to_string(),
        })
    }

    /// A regular file holding `bytes` in memory (an executable image), with
    /// [`rights::EXECUTABLE`].
    pub fn from_bytes(bytes: Vec<u8>) -> HostFile {
        HostFile {
            inner: Inner::Bytes {
                bytes,
                pos: Mutex::new(0),
            },
            file_type: FileType::RegularFile,
            rights: rights::EXECUTABLE,
            name: String::new(),
        }
    }

    /// Reads the executable at `path` into memory (`!executable` and the
    /// program a launcher starts), so the image cannot change under a
    /// running exec. A file larger than [`MAX_EXECUTABLE_SIZE`] is refused
    /// (`FileTooLarge`) after reading one byte past the limit, so a
    /// `/dev/zero` is not read forever.
    pub fn open_executable(path: &Path) -> io::Result<HostFile> {
        let f = fs::File::open(path)?;
        let bytes = crate::read_bounded(f, MAX_EXECUTABLE_SIZE)?;
        Ok(HostFile::from_bytes(bytes).with_name(path.display().to_string()))
    }

    /// The same file, named `name` in reports.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> HostFile {
        self.name = name.into();
        self
    }

    /// The same file, with `rights` instead of those of its type.
    #[must_use]
    pub fn with_rights(mut self, rights: FdRights) -> HostFile {
        self.rights = rights;
        self
    }

    /// The name reports show (a path, `stdin`, or what the launcher chose).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rights a launcher gives this file.
    pub fn rights(&self) -> FdRights {
        self.rights
    }

    /// The host descriptor behind this file, if it has one.
    pub fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.inner {
            Inner::Host(f) => Some(f.as_fd()),
            Inner::Bytes { .. } => None,
        }
    }
}

/// Reads everything from `r`, refusing more than `limit` bytes with
/// `FileTooLarge` as soon as byte `limit + 1` arrives (at most `limit + 1`
/// bytes are read and held).
pub fn read_bounded(r: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(out)
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

/// Seconds and nanoseconds since the epoch as CloudABI's nanoseconds (a time
/// before the epoch is 0, one past 2554 the largest value).
fn timestamp(secs: i64, nanos: i64) -> u64 {
    let ns = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    u64::try_from(ns.max(0)).unwrap_or(u64::MAX)
}

impl File for HostFile {
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }

    fn file_type(&self) -> FileType {
        self.file_type
    }

    /// The host's `fstat` of the descriptor (device, inode, links, size, times),
    /// with the CloudABI type the file was given; an image in memory reports its
    /// size and one link.
    fn stat(&self) -> Result<FileStat, Errno> {
        match &self.inner {
            Inner::Host(f) => {
                let m = retry(|| f.metadata())?;
                Ok(FileStat {
                    dev: m.dev(),
                    ino: m.ino(),
                    filetype: self.file_type,
                    nlink: u32::try_from(m.nlink()).unwrap_or(u32::MAX),
                    size: m.size(),
                    atim: timestamp(m.atime(), m.atime_nsec()),
                    mtim: timestamp(m.mtime(), m.mtime_nsec()),
                    ctim: timestamp(m.ctime(), m.ctime_nsec()),
                })
            }
            Inner::Bytes { bytes, .. } => Ok(FileStat {
                nlink: 1,
                size: bytes.len() as u64,
                ..FileStat::of_type(self.file_type)
            }),
        }
    }

    /// The host's `lseek` (`ESPIPE` on a pipe or socket, as the host says); an
    /// image in memory moves its own cursor (`EINVAL` before the start).
    fn seek(&self, pos: SeekFrom) -> Result<u64, Errno> {
        match &self.inner {
            Inner::Host(f) => {
                let pos = match pos {
                    SeekFrom::Start(n) => io::SeekFrom::Start(n),
                    SeekFrom::End(d) => io::SeekFrom::End(d),
                    SeekFrom::Current(d) => io::SeekFrom::Current(d),
                };
                retry(|| (&*f).seek(pos))
            }
            Inner::Bytes { bytes, pos: cursor } => {
                let mut cursor = cursor.lock().unwrap_or_else(|p| p.into_inner());
                let (base, delta) = match pos {
                    SeekFrom::Start(n) => (0, i128::from(n)),
                    SeekFrom::End(d) => (bytes.len() as i128, i128::from(d)),
                    SeekFrom::Current(d) => (*cursor as i128, i128::from(d)),
                };
                let new = base + delta;
                if new < 0 {
                    return Err(Errno::EINVAL);
                }
                let new = u64::try_from(new).map_err(|_| Errno::EOVERFLOW)?;
                *cursor = usize::try_from(new).unwrap_or(usize::MAX);
                Ok(new)
            }
        }
    }

    /// The host's `fsync` or `fdatasync` (`EINVAL` on a pipe or socket); nothing
    /// to write for an image in memory.
    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        match &self.inner {
            Inner::Host(f) if data_only => retry(|| f.sync_data()),
            Inner::Host(f) => retry(|| f.sync_all()),
            Inner::Bytes { .. } => Ok(()),
        }
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

    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        self.read_at(offset, buf)
    }

    fn pwrite(&self, data: &[u8], offset: u64) -> Result<usize, Errno> {
        match &self.inner {
            Inner::Host(f) => retry(|| f.write_at(data, offset)),
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
    use std::os::fd::FromRawFd;

    fn pair(kind: libc::c_int) -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors socketpair writes.
        let r = unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) };
        assert_eq!(r, 0, "socketpair: {}", io::Error::last_os_error());
        // SAFETY: both descriptors were just created and are owned by no one else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just created and are owned by no one else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    #[test]
    fn bytes_read_sequentially_and_at_offsets() {
        let f = HostFile::from_bytes(b"abcdef".to_vec());
        assert_eq!(f.file_type(), FileType::RegularFile);
        assert_eq!(f.rights(), rights::EXECUTABLE);
        let mut b = [0u8; 4];
        assert_eq!(FileIo::read(&f, &mut b), Ok(4));
        assert_eq!(FileIo::read(&f, &mut b), Ok(2));
        assert_eq!(&b[..2], b"ef");
        assert_eq!(FileIo::read(&f, &mut b), Ok(0));
        assert_eq!(f.read_at(1, &mut b), Ok(4));
        assert_eq!(&b, b"bcde");
        assert_eq!(f.write(b"x"), Err(Errno::EBADF));
    }

    /// The types of every kind of host descriptor, one table for both
    /// launchers: a pipe is a stream socket, like a stream socketpair.
    #[test]
    fn host_files_get_their_types() {
        let (r, w) = pipe();
        let (s1, _s2) = pair(libc::SOCK_STREAM);
        let (d1, _d2) = pair(libc::SOCK_DGRAM);
        let cases: Vec<(HostFile, FileType)> = vec![
            (
                HostFile::from_fd(fs::File::open("/").unwrap().into()).unwrap(),
                FileType::Directory,
            ),
            (
                HostFile::open_read_only(Path::new("/dev/null")).unwrap(),
                FileType::CharacterDevice,
            ),
            (
                HostFile::open_read_only(Path::new("/proc/self/exe")).unwrap(),
                FileType::RegularFile,
            ),
            (HostFile::from_fd(r).unwrap(), FileType::SocketStream),
            (HostFile::from_fd(w).unwrap(), FileType::SocketStream),
            (HostFile::from_fd(s1).unwrap(), FileType::SocketStream),
            (HostFile::from_fd(d1).unwrap(), FileType::SocketDgram),
        ];
        for (f, want) in &cases {
            assert_eq!(f.file_type(), *want, "{f:?}");
        }
        assert_eq!(cases[2].0.rights(), rights::FILE);
        assert_eq!(cases[3].0.rights(), rights::STDIN);
        assert_eq!(cases[4].0.rights(), rights::STDOUT);
    }

    /// `fstat`, `lseek`, `pread`/`pwrite` and `fsync` reach the host descriptor;
    /// where the host has no offset (a pipe) they fail as the host says.
    #[test]
    fn stat_seek_positioned_io_and_sync() {
        let path = std::env::temp_dir().join(format!("capexec-host-seek-{}", std::process::id()));
        fs::write(&path, b"0123456789").unwrap();
        let f = HostFile::open_read_only(&path).unwrap();
        let rw = HostFile::from_fd(
            fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap()
                .into(),
        )
        .unwrap();
        let _ = fs::remove_file(&path);
        let st = f.stat().unwrap();
        assert_eq!(st.filetype, FileType::RegularFile);
        assert_eq!(st.size, 10);
        assert_eq!(st.nlink, 0, "the file was unlinked");
        assert!(st.ino != 0 && st.mtim > 1_500_000_000 * 1_000_000_000);
        assert_eq!(f.seek(SeekFrom::Start(4)), Ok(4));
        let mut b = [0u8; 3];
        assert_eq!(FileIo::read(&f, &mut b), Ok(3));
        assert_eq!(&b, b"456");
        assert_eq!(f.seek(SeekFrom::Current(-5)), Ok(2));
        assert_eq!(f.seek(SeekFrom::End(-1)), Ok(9));
        assert_eq!(f.seek(SeekFrom::Current(-10)), Err(Errno::EINVAL));
        assert_eq!(f.pread(&mut b, 1), Ok(3));
        assert_eq!(&b, b"123");
        assert_eq!(
            f.seek(SeekFrom::Current(0)),
            Ok(9),
            "pread keeps the offset"
        );
        assert_eq!(f.pwrite(b"x", 0), Err(Errno::EBADF), "opened read-only");
        assert_eq!(rw.pwrite(b"ab", 8), Ok(2));
        assert_eq!(f.pread(&mut b, 7), Ok(3));
        assert_eq!(&b, b"7ab");
        assert_eq!(rw.sync(false), Ok(()));
        assert_eq!(rw.sync(true), Ok(()));

        let (r, w) = pipe();
        let (r, w) = (HostFile::from_fd(r).unwrap(), HostFile::from_fd(w).unwrap());
        assert_eq!(r.stat().unwrap().filetype, FileType::SocketStream);
        assert_eq!(r.seek(SeekFrom::Current(0)), Err(Errno::ESPIPE));
        assert_eq!(r.pread(&mut b, 0), Err(Errno::ESPIPE));
        assert_eq!(w.pwrite(b"x", 0), Err(Errno::ESPIPE));
        assert_eq!(w.sync(false), Err(Errno::EINVAL));

        let img = HostFile::from_bytes(b"abcdef".to_vec());
        let st = img.stat().unwrap();
        assert_eq!(
            (st.filetype, st.size, st.nlink),
            (FileType::RegularFile, 6, 1)
        );
        assert_eq!(img.seek(SeekFrom::End(-2)), Ok(4));
        assert_eq!(FileIo::read(&img, &mut b), Ok(2));
        assert_eq!(&b[..2], b"ef");
        assert_eq!(img.seek(SeekFrom::Current(-7)), Err(Errno::EINVAL));
        assert_eq!(img.seek(SeekFrom::Start(1)), Ok(1));
        assert_eq!(FileIo::read(&img, &mut b), Ok(3));
        assert_eq!(&b, b"bcd");
        assert_eq!(img.pread(&mut b, 3), Ok(3));
        assert_eq!(&b, b"def");
        assert_eq!(img.pwrite(b"x", 0), Err(Errno::EBADF));
    }

    #[test]
    fn reads_take_no_more_than_asked() {
        let (r, w) = pipe();
        let r = HostFile::from_fd(r).unwrap();
        let w = HostFile::from_fd(w).unwrap();
        assert_eq!(w.write(b"abcdef123"), Ok(9));
        let mut b = [0u8; 6];
        assert_eq!(FileIo::read(&r, &mut b), Ok(6));
        assert_eq!(&b, b"abcdef");
        let mut rest = [0u8; 16];
        assert_eq!(FileIo::read(&r, &mut rest), Ok(3));
        assert_eq!(&rest[..3], b"123");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("capexec-host-fifo-{}", std::process::id()));
        let _ = fs::remove_file(&dir);
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = HostFile::open_read_only(&dir).unwrap_err();
        let _ = fs::remove_file(&dir);
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("FIFO"), "{e}");
    }

    #[test]
    fn reads_are_bounded() {
        assert_eq!(read_bounded(&b"abc"[..], 3).unwrap(), b"abc");
        let e = read_bounded(io::repeat(0), 1000).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        let e = HostFile::open_executable(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
    }
}
