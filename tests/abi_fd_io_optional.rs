//! `FileIo` is optional: a kernel whose file type has no byte I/O (`File::io` is `None`)
//! still gets every other system call; `fd_read` and `fd_write` on such a file fail with
//! `ENOTSUP` (FreeBSD's `EOPNOTSUPP` for a file without read and write operations), after
//! the descriptor (`EBADF`) and rights (`ENOTCAPABLE`) checks, and change nothing.

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Entropy, Layout32, Regs32, SyscallAction, syscall32};
use capexec::exec::{ImageFile, copyin, copyout};
use capexec::fdtable::{Fd, FdRights, FdTable, File, FileType, Rights};
use capexec_sim::SimProcess;

/// A file with no I/O (a kernel object like a process descriptor).
struct NoIo;

impl File for NoIo {
    fn file_type(&self) -> FileType {
        FileType::Process
    }
}

/// The reference activator needs images to be readable; this one never is.
impl ImageFile for NoIo {
    fn read_at(&self, _: u64, _: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::ENOEXEC)
    }
}

struct Zeros;

impl Entropy for Zeros {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        buf.fill(0);
        Ok(())
    }
}

const STACK: u32 = 0x7000_0000;
const BUF: u32 = 0x6000_0000;
const IOVS: u32 = 0x5000_0000;

fn process() -> (SimProcess<NoIo>, Arc<NoIo>) {
    let f = Arc::new(NoIo);
    let mut t = FdTable::new();
    let all = FdRights::new(Rights::FD_READ | Rights::FD_WRITE, Rights::empty());
    let none = FdRights::new(Rights::empty(), Rights::empty());
    t.alloc(Fd::from_raw(0).unwrap(), f.clone(), all, false)
        .unwrap();
    t.alloc(Fd::from_raw(1).unwrap(), f.clone(), none, false)
        .unwrap();
    let mut p = SimProcess::new(t);
    p.mem.map(STACK, 0x1000);
    p.mem.map(BUF, 0x1000);
    p.mem.map(IOVS, 0x1000);
    copyout(&mut p.mem, BUF, b"hello").unwrap();
    (p, f)
}

fn call(p: &mut SimProcess<NoIo>, nr: u32, args: &[u32]) -> Result<u32, Errno> {
    let esp = STACK + 0x100;
    let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
    copyout(&mut p.mem, esp + 4, &words).unwrap();
    let mut regs = Regs32 {
        eax: nr,
        esp,
        ..Regs32::default()
    };
    let mut rng = Zeros;
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    assert_eq!(syscall32(p, &mut act, &mut regs), SyscallAction::Resume);
    if regs.carry() {
        Err(Errno::from_raw(regs.eax as u16).unwrap())
    } else {
        Ok(regs.eax)
    }
}

const FD_READ: u32 = 10;
const FD_WRITE: u32 = 16;

#[test]
fn read_and_write_without_io_are_enotsup_after_the_descriptor_checks() {
    // (syscall, fd, iovec buffer, expected)
    let cases: &[(u32, u32, u32, Errno)] = &[
        (FD_READ, 0, BUF, Errno::ENOTSUP),
        (FD_WRITE, 0, BUF, Errno::ENOTSUP),
        // Zero-length and unmapped buffers: the file has no operation either way.
        (FD_READ, 0, 0x1000, Errno::ENOTSUP),
        (FD_WRITE, 0, 0x1000, Errno::ENOTSUP),
        (FD_READ, 1, BUF, Errno::ENOTCAPABLE),
        (FD_WRITE, 1, BUF, Errno::ENOTCAPABLE),
        (FD_READ, 2, BUF, Errno::EBADF),
        (FD_WRITE, 2, BUF, Errno::EBADF),
    ];
    for &(nr, fd, buf, want) in cases {
        let (mut p, f) = process();
        let mut iov = [0u8; 8];
        iov[..4].copy_from_slice(&buf.to_le_bytes());
        iov[4..].copy_from_slice(&5u32.to_le_bytes());
        copyout(&mut p.mem, IOVS, &iov).unwrap();
        assert_eq!(
            call(&mut p, nr, &[fd, IOVS, 1]),
            Err(want),
            "nr {nr} fd {fd}"
        );
        let mut b = [0u8; 5];
        copyin(&p.mem, BUF, &mut b).unwrap();
        assert_eq!(&b, b"hello", "the buffer is untouched");
        assert_eq!(p.table.lock().len(), 2);
        assert_eq!(Arc::strong_count(&f), 3, "no reference kept or lost");
    }
}

#[test]
fn other_calls_work_without_io() {
    let (mut p, f) = process();
    // fd_dup, fd_close, fd_stat_get serve a file without I/O.
    assert_eq!(call(&mut p, 7, &[0]), Ok(2));
    assert_eq!(Arc::strong_count(&f), 4);
    assert_eq!(call(&mut p, 3, &[2]), Ok(0));
    assert_eq!(call(&mut p, 13, &[0, BUF]), Ok(0));
    let mut st = [0u8; 1];
    copyin(&p.mem, BUF, &mut st).unwrap();
    assert_eq!(st[0], FileType::Process.raw());
    assert_eq!(Arc::strong_count(&f), 3);
}
