//! The `file_*` calls: `file_stat_fget` in the library, the others decoded and checked
//! by the library and handed to the kernel's hooks. Each row names the call, its
//! argument words, the rights its descriptors hold, and what must reach the hook (or
//! which error comes back without reaching it).

mod calls_common;

use calls_common::*;
use capexec::Errno;
use capexec::abi::cloudabi32::Syscall;
use capexec::fdtable::{FileStat, FileType, Rights};

/// Paths in the caller's memory.
const P1: u32 = DATA + 0x100;
const P2: u32 = DATA + 0x200;
const BUF: u32 = DATA + 0x1000;
const STAT: u32 = DATA + 0x2000;
const FDS: u32 = DATA + 0x3000;

fn setup(rights: Rights) -> KProc {
    let mut p = KProc::new(&[
        Some((KFile::plain(FileType::Directory), only(rights))),
        Some((KFile::plain(FileType::Directory), only(rights))),
    ]);
    p.put(P1, b"a/b");
    p.put(P2, b"c\0d"); // a NUL inside
    p.put(P2 + 0x10, b"link");
    p
}

fn stat_bytes(size: u64, atim: u64, mtim: u64) -> [u8; 56] {
    let mut st = FileStat::of_type(FileType::Unknown);
    st.size = size;
    st.atim = atim;
    st.mtim = mtim;
    st.encode()
}

struct Row {
    call: Syscall,
    args: Vec<u32>,
    rights: Rights,
    want: Result<(u32, u32), Errno>,
    log: &'static str,
}

fn row(
    call: Syscall,
    args: &[u32],
    rights: Rights,
    want: Result<(u32, u32), Errno>,
    log: &'static str,
) -> Row {
    Row {
        call,
        args: args.to_vec(),
        rights,
        want,
        log,
    }
}

#[test]
fn every_file_call_checks_then_reaches_its_hook() {
    use Syscall::*;
    let ok = Ok((0, 0));
    let nc = Err(Errno::ENOTCAPABLE);
    let inval = Err(Errno::EINVAL);
    let p2 = P2 + 0x10;
    let rows = [
        // file_advise(fd, offset, len, advice)
        row(
            file_advise,
            &[0, 1, 2, 3, 4, 5],
            Rights::FILE_ADVISE,
            ok,
            "file_advise Directory 0x200000001 0x400000003 ADVICE_SEQUENTIAL",
        ),
        row(file_advise, &[0, 1, 2, 3, 4, 5], Rights::FD_READ, nc, ""),
        row(
            file_advise,
            &[0, 1, 2, 3, 4, 7],
            Rights::FILE_ADVISE,
            inval,
            "",
        ),
        // file_allocate(fd, offset, len)
        row(
            file_allocate,
            &[1, 8, 0, 9, 0],
            Rights::FILE_ALLOCATE,
            ok,
            "file_allocate Directory 0x8 0x9",
        ),
        row(file_allocate, &[1, 8, 0, 9, 0], Rights::empty(), nc, ""),
        row(
            file_allocate,
            &[2, 8, 0, 9, 0],
            Rights::all(),
            Err(Errno::EBADF),
            "",
        ),
        // file_create(fd, path, len, type): directories only
        row(
            file_create,
            &[0, P1, 3, 32],
            Rights::FILE_CREATE_DIRECTORY,
            ok,
            "file_create Directory a/b Directory",
        ),
        row(file_create, &[0, P1, 3, 96], Rights::all(), inval, ""),
        row(
            file_create,
            &[0, P1, 3, 32],
            Rights::FILE_CREATE_FILE,
            nc,
            "",
        ),
        row(file_create, &[0, P2, 3, 32], Rights::all(), inval, ""),
        row(
            file_create,
            &[0, P1, 1024, 32],
            Rights::all(),
            Err(Errno::ENAMETOOLONG),
            "",
        ),
        row(
            file_create,
            &[0, HOLE, 3, 32],
            Rights::all(),
            Err(Errno::EFAULT),
            "",
        ),
        // file_link(lookup fd1 + flags, path1, fd2, path2)
        row(
            file_link,
            &[0, 1, P1, 3, 1, p2, 4],
            Rights::FILE_LINK_SOURCE | Rights::FILE_LINK_TARGET,
            ok,
            "file_link Directory true a/b Directory link",
        ),
        row(
            file_link,
            &[0, 0, P1, 3, 1, p2, 4],
            Rights::FILE_LINK_SOURCE,
            nc,
            "",
        ),
        row(
            file_link,
            &[0, 0, P1, 3, 1, p2, 4],
            Rights::FILE_LINK_TARGET,
            nc,
            "",
        ),
        // file_readdir(fd, buf, len, cookie): the result never exceeds the buffer
        row(
            file_readdir,
            &[0, BUF, 64, 7, 1],
            Rights::FILE_READDIR,
            Ok((64, 0)),
            "file_readdir Directory 0x60001000 64 0x100000007",
        ),
        row(
            file_readdir,
            &[0, HOLE, 64, 0, 0],
            Rights::FILE_READDIR,
            Err(Errno::EFAULT),
            "",
        ),
        row(
            file_readdir,
            &[0, BUF, 64, 0, 0],
            Rights::FILE_READLINK,
            nc,
            "",
        ),
        // file_readlink(fd, path, len, buf, len)
        row(
            file_readlink,
            &[0, P1, 3, BUF, 16],
            Rights::FILE_READLINK,
            Ok((6, 0)),
            "file_readlink Directory a/b 0x60001000 16",
        ),
        row(
            file_readlink,
            &[0, P1, 3, HOLE, 16],
            Rights::FILE_READLINK,
            Err(Errno::EFAULT),
            "",
        ),
        // file_rename(fd1, path1, fd2, path2)
        row(
            file_rename,
            &[0, P1, 3, 1, p2, 4],
            Rights::FILE_RENAME_SOURCE | Rights::FILE_RENAME_TARGET,
            ok,
            "file_rename Directory a/b Directory link",
        ),
        row(
            file_rename,
            &[0, P1, 3, 1, p2, 4],
            Rights::FILE_RENAME_SOURCE,
            nc,
            "",
        ),
        // file_stat_fput(fd, buf, flags): size alone, or times
        row(
            file_stat_fput,
            &[0, STAT, 0x10],
            Rights::FILE_STAT_FPUT_SIZE,
            ok,
            "file_stat_fput Directory 5 6 7 0x10",
        ),
        row(
            file_stat_fput,
            &[0, STAT, 0x10],
            Rights::FILE_STAT_FPUT_TIMES,
            nc,
            "",
        ),
        row(
            file_stat_fput,
            &[0, STAT, 0x5],
            Rights::FILE_STAT_FPUT_TIMES,
            ok,
            "file_stat_fput Directory 5 6 7 0x5",
        ),
        row(
            file_stat_fput,
            &[0, STAT, 0x5],
            Rights::FILE_STAT_FPUT_SIZE,
            nc,
            "",
        ),
        row(file_stat_fput, &[0, STAT, 0x11], Rights::all(), inval, ""),
        row(file_stat_fput, &[0, STAT, 0x3], Rights::all(), inval, ""),
        row(file_stat_fput, &[0, STAT, 0], Rights::all(), inval, ""),
        // file_stat_get(lookup, path, buf)
        row(
            file_stat_get,
            &[1, 0, P1, 3, STAT + 0x100],
            Rights::FILE_STAT_GET,
            ok,
            "file_stat_get Directory false a/b",
        ),
        row(
            file_stat_get,
            &[1, 0, P1, 3, STAT + 0x100],
            Rights::FILE_STAT_FGET,
            nc,
            "",
        ),
        row(
            file_stat_get,
            &[1, 0, P1, 3, HOLE],
            Rights::FILE_STAT_GET,
            Err(Errno::EFAULT),
            "",
        ),
        // file_stat_put(lookup, path, buf, flags): times only
        row(
            file_stat_put,
            &[0, 1, P1, 3, STAT, 0xa],
            Rights::FILE_STAT_PUT_TIMES,
            ok,
            "file_stat_put Directory true a/b 6 7 0xa",
        ),
        row(
            file_stat_put,
            &[0, 1, P1, 3, STAT, 0x10],
            Rights::all(),
            inval,
            "",
        ),
        row(
            file_stat_put,
            &[0, 1, P1, 3, STAT, 0xc],
            Rights::all(),
            inval,
            "",
        ),
        row(
            file_stat_put,
            &[0, 1, P1, 3, STAT, 0x2],
            Rights::FILE_STAT_FPUT_TIMES,
            nc,
            "",
        ),
        // file_symlink(path1, fd, path2)
        row(
            file_symlink,
            &[P1, 3, 1, p2, 4],
            Rights::FILE_SYMLINK,
            ok,
            "file_symlink a/b Directory link",
        ),
        row(
            file_symlink,
            &[P1, 3, 1, p2, 4],
            Rights::FILE_UNLINK,
            nc,
            "",
        ),
        // file_unlink(fd, path, flags)
        row(
            file_unlink,
            &[0, P1, 3, 1],
            Rights::FILE_UNLINK,
            ok,
            "file_unlink Directory a/b 0x1",
        ),
        row(file_unlink, &[0, P1, 3, 2], Rights::FILE_UNLINK, inval, ""),
        row(file_unlink, &[0, P1, 3, 0], Rights::FILE_SYMLINK, nc, ""),
    ];
    for (i, r) in rows.iter().enumerate() {
        let mut p = setup(r.rights);
        p.put(STAT, &stat_bytes(5, 6, 7));
        let before = p.rows();
        assert_eq!(
            result(&mut p, r.call, &r.args),
            r.want,
            "row {i} {}",
            r.call.name()
        );
        let log = p.take_log();
        if r.log.is_empty() {
            assert!(log.is_empty(), "row {i}: reached the hook: {log:?}");
        } else {
            assert_eq!(log, [r.log], "row {i}");
        }
        assert_eq!(p.rows(), before, "row {i}: the table changed");
    }
}

#[test]
fn file_stat_get_writes_the_kernels_filestat() {
    let mut p = setup(Rights::FILE_STAT_GET);
    assert_eq!(
        result(&mut p, Syscall::file_stat_get, &[0, 0, P1, 3, STAT]),
        Ok((0, 0))
    );
    let mut st = FileStat::of_type(FileType::SymbolicLink);
    st.size = 77;
    assert_eq!(p.get(STAT, 56), st.encode());
}

#[test]
fn kernel_calls_not_provided_are_enosys_without_reading_memory() {
    use Syscall::*;
    for call in [
        file_advise,
        file_allocate,
        file_create,
        file_link,
        file_open,
        file_readdir,
        file_readlink,
        file_rename,
        file_stat_fput,
        file_stat_get,
        file_stat_put,
        file_symlink,
        file_unlink,
    ] {
        let mut p = setup(Rights::all());
        p.provide = false;
        let mut regs = capexec::abi::Regs32 {
            eax: call.raw(),
            esp: HOLE,
            ..Default::default()
        };
        let act = capexec::abi::syscall32(&mut p, &mut Kernel(0), &mut regs);
        assert_eq!(act, capexec::abi::SyscallAction::Resume);
        assert!(regs.carry());
        assert_eq!(regs.eax, 52, "{}", call.name());
    }
}

#[test]
fn file_stat_fget_reports_the_files_stat_and_checks_its_right() {
    let f = KFile::regular(b"12345");
    // (file, rights, expected)
    let rows = [
        (f.clone(), Rights::FILE_STAT_FGET, Ok(f.stat_for_test())),
        (f.clone(), Rights::FD_READ, Err(Errno::ENOTCAPABLE)),
        // A file that keeps the default: its type and zeros.
        (
            KFile::plain(FileType::CharacterDevice),
            Rights::FILE_STAT_FGET,
            Ok(FileStat::of_type(FileType::CharacterDevice)),
        ),
    ];
    for (i, (file, rights, want)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[Some((file, only(rights)))]);
        p.put(STAT, &[0xaa; 56]);
        let got = result(&mut p, Syscall::file_stat_fget, &[0, STAT]);
        match want {
            Ok(st) => {
                assert_eq!(got, Ok((0, 0)), "row {i}");
                assert_eq!(p.get(STAT, 56), st.encode(), "row {i}");
            }
            Err(e) => {
                assert_eq!(got, Err(e), "row {i}");
                assert_eq!(p.get(STAT, 56), [0xaa; 56], "row {i}: written on failure");
            }
        }
    }
    let mut p = KProc::new(&[Some((f, all()))]);
    assert_eq!(
        result(&mut p, Syscall::file_stat_fget, &[0, HOLE]),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        result(&mut p, Syscall::file_stat_fget, &[1, STAT]),
        Err(Errno::EBADF)
    );
}

trait StatForTest {
    fn stat_for_test(&self) -> FileStat;
}

impl StatForTest for std::sync::Arc<KFile> {
    fn stat_for_test(&self) -> FileStat {
        use capexec::fdtable::File;
        self.stat().unwrap()
    }
}

#[test]
fn file_open_checks_flags_and_rights_and_installs_with_the_requested_rights() {
    let o_creat = 1u32;
    let o_trunc = 8u32;
    let dsync = 0x02u16;
    let rsync = 0x08u16;
    // (oflags, fs_flags, requested base, dir base, dir inheriting, expected)
    let rw = Rights::FD_READ | Rights::FD_WRITE;
    let rows = [
        (0, 0, rw, Rights::FILE_OPEN, rw, Ok(())),
        (0, 0, rw, Rights::FILE_STAT_GET, rw, Err(Errno::ENOTCAPABLE)),
        // Requested rights beyond the directory's inheriting ones.
        (
            0,
            0,
            rw | Rights::FD_SEEK,
            Rights::FILE_OPEN,
            rw,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            o_creat,
            0,
            rw,
            Rights::FILE_OPEN,
            rw,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            o_creat,
            0,
            rw,
            Rights::FILE_OPEN | Rights::FILE_CREATE_FILE,
            rw,
            Ok(()),
        ),
        (
            o_trunc,
            0,
            rw,
            Rights::FILE_OPEN,
            rw,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            o_trunc,
            0,
            rw,
            Rights::FILE_OPEN | Rights::FILE_STAT_FPUT_SIZE,
            rw,
            Ok(()),
        ),
        (0, dsync, rw, Rights::FILE_OPEN, rw, Err(Errno::ENOTCAPABLE)),
        (
            0,
            dsync,
            rw,
            Rights::FILE_OPEN | Rights::FD_DATASYNC,
            rw,
            Ok(()),
        ),
        (
            0,
            rsync,
            rw,
            Rights::FILE_OPEN | Rights::FD_DATASYNC,
            rw,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            0,
            rsync,
            rw,
            Rights::FILE_OPEN | Rights::FD_SYNC,
            rw,
            Ok(()),
        ),
        // Unknown flags.
        (
            0x10,
            0,
            rw,
            Rights::all(),
            Rights::all(),
            Err(Errno::EINVAL),
        ),
        (
            0,
            0x20,
            rw,
            Rights::all(),
            Rights::all(),
            Err(Errno::EINVAL),
        ),
    ];
    for (i, (oflags, fsflags, want_base, dir_base, dir_inh, want)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[Some((
            KFile::plain(FileType::Directory),
            capexec::fdtable::FdRights::new(dir_base, dir_inh),
        ))]);
        p.put(P1, b"file");
        p.put(FDS, &fdstat(fsflags, want_base, Rights::empty()));
        let got = result(&mut p, Syscall::file_open, &[0, 1, P1, 4, oflags, FDS]);
        let log = p.take_log();
        match want {
            Ok(()) => {
                assert_eq!(got, Ok((1, 0)), "row {i}");
                assert_eq!(
                    log,
                    [format!(
                        "file_open Directory true file {oflags:#x} {fsflags:#x} {:#x} 0x0",
                        want_base.bits()
                    )],
                    "row {i}"
                );
                // Installed with what was asked, narrowed to what the file supports.
                let r = created().rights;
                assert_eq!(
                    p.rows()[1].1,
                    capexec::fdtable::FdRights::new(want_base & r.base, Rights::empty()),
                    "row {i}"
                );
            }
            Err(e) => {
                assert_eq!(got, Err(e), "row {i}");
                assert!(log.is_empty(), "row {i}");
                assert_eq!(p.rows().len(), 1, "row {i}");
            }
        }
    }
}
