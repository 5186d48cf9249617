//! The descriptor calls the library serves beyond read/write: `fd_seek`, `fd_pread`,
//! `fd_pwrite`, `fd_sync`, `fd_datasync`, and `fd_create1` / `fd_create2` through the
//! kernel's hooks. Each table row is one call with its rights and its expected outcome.

mod calls_common;

use calls_common::*;
use capexec::Errno;
use capexec::abi::cloudabi32::Syscall;
use capexec::fdtable::{FdRights, FileType, Rights};

const SEEK_CUR: u32 = 1;
const SEEK_END: u32 = 2;
const SEEK_SET: u32 = 3;

fn seek(p: &mut KProc, fd: u32, off: i64, whence: u32) -> Result<u64, Errno> {
    let [lo, hi] = lo_hi(off as u64);
    result(p, Syscall::fd_seek, &[fd, lo, hi, whence])
        .map(|(a, d)| u64::from(a) | u64::from(d) << 32)
}

#[test]
fn fd_seek_rights_whence_and_results() {
    // (rights, offset, whence, expected)
    let rows: [(Rights, i64, u32, Result<u64, Errno>); 12] = [
        (Rights::FD_SEEK, 5, SEEK_SET, Ok(5)),
        (Rights::FD_SEEK, -2, SEEK_END, Ok(8)),
        (Rights::FD_SEEK, 0, SEEK_CUR, Ok(0)),
        // Reading the offset needs FD_TELL or FD_SEEK.
        (Rights::FD_TELL, 0, SEEK_CUR, Ok(0)),
        (Rights::FD_TELL, 1, SEEK_CUR, Err(Errno::ENOTCAPABLE)),
        (Rights::FD_TELL, 0, SEEK_SET, Err(Errno::ENOTCAPABLE)),
        (Rights::FD_READ, 0, SEEK_CUR, Err(Errno::ENOTCAPABLE)),
        // An unknown whence is EINVAL before the rights.
        (Rights::empty(), 0, 0, Err(Errno::EINVAL)),
        (Rights::FD_SEEK, 0, 4, Err(Errno::EINVAL)),
        (Rights::FD_SEEK, 0, 0x100 + SEEK_SET, Ok(0)), // only the low byte is the whence
        // A negative absolute offset.
        (Rights::FD_SEEK, -1, SEEK_SET, Err(Errno::EINVAL)),
        // Past 4 GiB: the result uses edx.
        (Rights::FD_SEEK, 0x1_0000_0003, SEEK_SET, Ok(0x1_0000_0003)),
    ];
    for (i, (rights, off, whence, want)) in rows.into_iter().enumerate() {
        let f = KFile::regular(b"0123456789");
        let mut p = KProc::new(&[Some((f.clone(), only(rights)))]);
        assert_eq!(seek(&mut p, 0, off, whence), want, "row {i}");
        if want.is_err() {
            assert_eq!(*f.offset.lock().unwrap(), 0, "row {i}: a failed seek moved");
        }
    }
}

#[test]
fn fd_seek_on_a_file_without_an_offset_is_espipe_and_on_no_file_ebadf() {
    let mut p = KProc::new(&[Some((KFile::plain(FileType::SocketStream), all()))]);
    assert_eq!(seek(&mut p, 0, 0, SEEK_CUR), Err(Errno::ESPIPE));
    assert_eq!(seek(&mut p, 1, 0, SEEK_CUR), Err(Errno::EBADF));
    assert_eq!(seek(&mut p, u32::MAX, 0, SEEK_CUR), Err(Errno::EBADF));
}

#[test]
fn fd_pread_and_fd_pwrite_use_their_offset_and_leave_the_file_offset() {
    let f = KFile::regular(b"abcdefghij");
    let mut p = KProc::new(&[Some((f.clone(), all()))]);
    // Two iovecs of 3 and 2 bytes at DATA + 0x100 and DATA + 0x200.
    let iov: Vec<u8> = [DATA + 0x100, 3, DATA + 0x200, 2]
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
    p.put(DATA, &iov);
    let [lo, hi] = lo_hi(4);
    assert_eq!(
        result(&mut p, Syscall::fd_pread, &[0, DATA, 2, lo, hi]),
        Ok((5, 0))
    );
    assert_eq!(p.get(DATA + 0x100, 3), b"efg");
    assert_eq!(p.get(DATA + 0x200, 2), b"hi");
    assert_eq!(*f.offset.lock().unwrap(), 0);
    // pwrite of the same buffers at 8: the file grows.
    let [lo, hi] = lo_hi(8);
    assert_eq!(
        result(&mut p, Syscall::fd_pwrite, &[0, DATA, 2, lo, hi]),
        Ok((5, 0))
    );
    assert_eq!(&*f.data.lock().unwrap(), b"abcdefghefghi");
    assert_eq!(*f.offset.lock().unwrap(), 0);
}

#[test]
fn positioned_io_rights_and_defaults() {
    // (call, rights, file is seekable, expected)
    let rows = [
        (
            Syscall::fd_pread,
            Rights::FD_READ | Rights::FD_SEEK,
            true,
            Ok((0, 0)),
        ),
        (
            Syscall::fd_pread,
            Rights::FD_READ,
            true,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            Syscall::fd_pread,
            Rights::FD_SEEK,
            true,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            Syscall::fd_pwrite,
            Rights::FD_WRITE | Rights::FD_SEEK,
            true,
            Ok((0, 0)),
        ),
        (
            Syscall::fd_pwrite,
            Rights::FD_WRITE,
            true,
            Err(Errno::ENOTCAPABLE),
        ),
        // A file that cannot seek keeps the default: ESPIPE.
        (Syscall::fd_pread, Rights::all(), false, Err(Errno::ESPIPE)),
        (Syscall::fd_pwrite, Rights::all(), false, Err(Errno::ESPIPE)),
    ];
    for (i, (nr, rights, seekable, want)) in rows.into_iter().enumerate() {
        let f = if seekable {
            KFile::regular(b"")
        } else {
            KFile::plain(FileType::CharacterDevice)
        };
        let mut p = KProc::new(&[Some((f, only(rights)))]);
        let iov: Vec<u8> = [DATA + 0x100, 4u32]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        p.put(DATA, &iov);
        // Reading at the end gives 0; writing 4 bytes gives 4.
        let want = want.map(|_| {
            if nr == Syscall::fd_pwrite {
                (4, 0)
            } else {
                (0, 0)
            }
        });
        assert_eq!(result(&mut p, nr, &[0, DATA, 1, 7, 0]), want, "row {i}");
    }
}

#[test]
fn fd_sync_and_fd_datasync() {
    // (call, rights, seekable regular file, expected, data_only recorded)
    let rows = [
        (
            Syscall::fd_sync,
            Rights::FD_SYNC,
            true,
            Ok((0, 0)),
            Some(false),
        ),
        (
            Syscall::fd_datasync,
            Rights::FD_DATASYNC,
            true,
            Ok((0, 0)),
            Some(true),
        ),
        (
            Syscall::fd_sync,
            Rights::FD_DATASYNC,
            true,
            Err(Errno::ENOTCAPABLE),
            None,
        ),
        (
            Syscall::fd_datasync,
            Rights::FD_SYNC,
            true,
            Err(Errno::ENOTCAPABLE),
            None,
        ),
        // Not a file with storage: the default, EINVAL.
        (
            Syscall::fd_sync,
            Rights::all(),
            false,
            Err(Errno::EINVAL),
            None,
        ),
    ];
    for (i, (nr, rights, full, want, rec)) in rows.into_iter().enumerate() {
        let f = if full {
            KFile::regular(b"x")
        } else {
            KFile::plain(FileType::SocketStream)
        };
        let mut p = KProc::new(&[Some((f.clone(), only(rights)))]);
        assert_eq!(result(&mut p, nr, &[0]), want, "row {i}");
        assert_eq!(f.syncs.lock().unwrap().first().copied(), rec, "row {i}");
        assert_eq!(result(&mut p, nr, &[3]), Err(Errno::EBADF));
    }
}

#[test]
fn fd_create_installs_the_kernels_files_at_the_lowest_free_descriptors() {
    let mut p = KProc::new(&[Some((KFile::regular(b""), all())), None]);
    assert_eq!(
        result(
            &mut p,
            Syscall::fd_create1,
            &[FileType::SharedMemory.raw().into()]
        ),
        Ok((1, 0))
    );
    assert_eq!(
        result(
            &mut p,
            Syscall::fd_create2,
            &[FileType::SocketStream.raw().into()]
        ),
        Ok((2, 3))
    );
    assert_eq!(
        p.take_log(),
        ["fd_create1 SharedMemory", "fd_create2 SocketStream"]
    );
    // The kernel's own rights for the new files.
    let r = created().rights;
    assert_eq!(p.rows()[1..], [(1, r), (2, r), (3, r)]);
    // An unknown type is EINVAL before the kernel is asked.
    assert_eq!(
        result(&mut p, Syscall::fd_create1, &[1]),
        Err(Errno::EINVAL)
    );
    assert!(p.take_log().is_empty());
}

#[test]
fn fd_create2_installs_both_or_neither() {
    let mut p = KProc::new(&[Some((KFile::regular(b""), all()))]);
    p.table.set_limit(2);
    assert_eq!(
        result(
            &mut p,
            Syscall::fd_create2,
            &[FileType::SocketDgram.raw().into()]
        ),
        Err(Errno::EMFILE)
    );
    assert_eq!(p.rows(), [(0, FdRights::ALL)]);
}
