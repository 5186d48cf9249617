//! The descriptors a launcher inherited, and duplicates of them.

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::file::HostFile;

/// The host descriptors that were open when the launcher started.
///
/// Recorded before the launcher opens anything, so a descriptor number the
/// launcher later uses for its own files (say 3, when the parent left 3
/// closed) is never mistaken for one the parent passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupFds(BTreeSet<RawFd>);

/// Whether `fd` is an open descriptor of this process.
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor flags of `fd`; a closed
    // `fd` gives EBADF.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// The highest descriptor probed one by one where `/proc/self/fd` cannot
/// be listed.
const PROBE_LIMIT: RawFd = 4096;

impl StartupFds {
    /// Records the open descriptors. Call it first thing in `main`, before
    /// anything opens a file.
    ///
    /// Lists `/proc/self/fd`, leaving out the descriptor the listing itself
    /// uses (the lowest one free beforehand); where that is impossible,
    /// probes descriptors `0..4096` with `fcntl(F_GETFD)`.
    ///
    /// # References
    /// - Linux `proc(5)` (`/proc/self/fd`); POSIX `fcntl` (`F_GETFD`).
    pub fn record() -> StartupFds {
        let lowest_free = (0..).find(|&fd| !is_open(fd)).unwrap_or(RawFd::MAX);
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let fds: BTreeSet<RawFd> = dir
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd != lowest_free)
                .collect();
            return StartupFds(fds);
        }
        StartupFds((0..PROBE_LIMIT).filter(|&fd| is_open(fd)).collect())
    }

    /// A set holding exactly `fds` (for tests and embedders that know).
    pub fn from_fds(fds: impl IntoIterator<Item = RawFd>) -> StartupFds {
        StartupFds(fds.into_iter().collect())
    }

    /// Whether `fd` was open at startup.
    pub fn contains(&self, fd: RawFd) -> bool {
        self.0.contains(&fd)
    }

    /// The descriptors open at startup, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = RawFd> + '_ {
        self.0.iter().copied()
    }

    /// A duplicate (`fcntl(F_DUPFD_CLOEXEC)`) of inherited descriptor `fd`:
    /// the same open file, sharing its offset and status flags with the
    /// parent, and working for every kind of file (a socket too, which
    /// reopening through `/proc/self/fd` cannot do). A descriptor that was
    /// not open at startup is `EBADF`.
    ///
    /// # References
    /// - POSIX `fcntl` (`F_DUPFD_CLOEXEC`).
    pub fn dup(&self, fd: RawFd) -> io::Result<OwnedFd> {
        if !self.contains(fd) {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor and touches no
        // memory; the result, when not negative, is owned by no one else.
        let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if new < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `new` is a fresh descriptor this process owns.
        Ok(unsafe { OwnedFd::from_raw_fd(new) })
    }

    /// Inherited descriptor `fd` as a [`HostFile`] (a duplicate, see
    /// [`dup`](Self::dup)) named after what it refers to, with the rights of
    /// its type and open mode.
    pub fn host_file(&self, fd: RawFd) -> io::Result<HostFile> {
        let owned = self.dup(fd)?;
        let name = std::fs::read_link(format!("/proc/self/fd/{}", owned.as_raw_fd()))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| format!("fd {fd}"));
        Ok(HostFile::from_fd(owned)?.with_name(name))
    }

    /// A borrowed view of inherited descriptor `fd`, if it was open at
    /// startup.
    pub fn borrow(&self, fd: RawFd) -> Option<BorrowedFd<'_>> {
        // SAFETY: the launcher never closes a descriptor it inherited, so
        // one open at startup stays open for the life of the process.
        self.contains(fd)
            .then(|| unsafe { BorrowedFd::borrow_raw(fd) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};

    #[test]
    fn a_descriptor_not_open_at_startup_is_refused() {
        let s = StartupFds::from_fds([]);
        let f = std::fs::File::open("/dev/null").unwrap();
        let e = s.dup(f.as_raw_fd()).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn a_duplicate_shares_the_offset() {
        let path = std::env::temp_dir().join(format!("capexec-host-dup-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let mut f = std::fs::File::open(&path).unwrap();
        let s = StartupFds::from_fds([f.as_raw_fd()]);
        let d = s.host_file(f.as_raw_fd()).unwrap();
        let _ = std::fs::remove_file(&path);
        let mut b = [0u8; 4];
        assert_eq!(capexec::fdtable::FileIo::read(&d, &mut b), Ok(4));
        assert_eq!(f.stream_position().unwrap(), 4);
        f.seek(SeekFrom::Start(8)).unwrap();
        assert_eq!(capexec::fdtable::FileIo::read(&d, &mut b), Ok(2));
        assert_eq!(&b[..2], b"89");
        assert!(
            d.name()
                .ends_with(&path.file_name().unwrap().to_string_lossy().to_string())
        );
    }

    #[test]
    fn record_sees_open_descriptors() {
        let f = std::fs::File::open("/dev/null").unwrap();
        let s = StartupFds::record();
        assert!(s.contains(f.as_raw_fd()));
        assert!(s.contains(0) && s.contains(1) && s.contains(2));
    }
}
