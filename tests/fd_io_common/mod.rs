//! Shared fixtures of the `fd_read` / `fd_write` suites: a file that records every I/O
//! call and plays a script of results, a user memory with holes and read-only pages, and
//! a process that drives `syscall32` with them.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::abi::{Entropy, EntryState32, Regs32, SyscallAction, syscall32};
use capexec::exec::{ImageActivator, ImageArgs, Process, UserAccess, UserMemory};
use capexec::fdtable::{
    Fd, FdRights, FdTable, File, FileIo, FileType, Rights, SharedFdTable, UserSink, UserSource,
};

pub const FD_READ_NR: u32 = 10;
pub const FD_WRITE_NR: u32 = 16;

pub const PAGE: u32 = 4096;
/// The argument words of a call (`esp`).
pub const STACK: u32 = 0x1000;
/// Room for iovec arrays: 4 pages, enough for `IOV_MAX` iovecs.
pub const IOVS: u32 = 0x2000;
/// 128 KiB of readable, writable buffer space.
pub const BUF: u32 = 0x1_0000;
pub const BUF_LEN: u32 = 0x2_0000;
/// An unmapped page, between mapped ones.
pub const HOLE: u32 = BUF + BUF_LEN;
/// A read-only page after the hole.
pub const RO: u32 = HOLE + PAGE;
/// One past the last simulated byte.
const END: u32 = RO + PAGE;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PageState {
    Unmapped,
    ReadOnly,
    ReadWrite,
}

/// Flat user memory `0..END` with per-page state; counts `read_user` calls touching the
/// iovec area.
pub struct HoleMem {
    bytes: Vec<u8>,
    pages: Vec<PageState>,
    pub iovec_reads: std::cell::Cell<usize>,
}

impl HoleMem {
    fn new() -> HoleMem {
        let mut pages = vec![PageState::Unmapped; (END / PAGE) as usize];
        let mut set = |from: u32, to: u32, s: PageState| {
            for p in from / PAGE..to / PAGE {
                pages[p as usize] = s;
            }
        };
        set(STACK, STACK + PAGE, PageState::ReadWrite);
        set(IOVS, IOVS + 4 * PAGE, PageState::ReadWrite);
        set(BUF, BUF + BUF_LEN, PageState::ReadWrite);
        set(RO, RO + PAGE, PageState::ReadOnly);
        HoleMem {
            bytes: vec![0; END as usize],
            pages,
            iovec_reads: std::cell::Cell::new(0),
        }
    }

    fn state(&self, addr: u64) -> PageState {
        self.pages
            .get((addr / u64::from(PAGE)) as usize)
            .copied()
            .unwrap_or(PageState::Unmapped)
    }

    /// Stores `data` at `addr`, whatever the page's state (test setup).
    pub fn poke(&mut self, addr: u32, data: &[u8]) {
        self.bytes[addr as usize..addr as usize + data.len()].copy_from_slice(data);
    }

    /// The `n` bytes at `addr` (test inspection).
    pub fn peek(&self, addr: u32, n: usize) -> Vec<u8> {
        self.bytes[addr as usize..addr as usize + n].to_vec()
    }
}

impl UserMemory for HoleMem {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        let (a, end) = (u64::from(addr), u64::from(addr) + buf.len() as u64);
        if a < u64::from(IOVS + 4 * PAGE) && end > u64::from(IOVS) {
            self.iovec_reads.set(self.iovec_reads.get() + 1);
        }
        if (a..end).any(|b| self.state(b) == PageState::Unmapped) {
            return Err(Errno::EFAULT);
        }
        buf.copy_from_slice(&self.bytes[a as usize..end as usize]);
        Ok(())
    }

    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        // Like a real copyout: the bytes before the first bad one land.
        for (i, &b) in data.iter().enumerate() {
            let a = u64::from(addr) + i as u64;
            if self.state(a) != PageState::ReadWrite {
                return Err(Errno::EFAULT);
            }
            self.bytes[a as usize] = b;
        }
        Ok(())
    }

    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        let a = u64::from(addr);
        let ok = (a..a + len as u64).step_by(1).all(|b| match access {
            UserAccess::Read => self.state(b) != PageState::Unmapped,
            UserAccess::Write => self.state(b) == PageState::ReadWrite,
        });
        if ok { Ok(()) } else { Err(Errno::EFAULT) }
    }
}

/// One call a [`RecFile`] saw.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Call {
    /// `read` with a buffer of this many bytes.
    Read(usize),
    /// `write` with these bytes.
    Write(Vec<u8>),
}

/// What the next `read` / `write` does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    /// Serve normally (read from the input; accept every byte written).
    All,
    /// Move at most this many bytes.
    Short(usize),
    /// Fail without moving a byte.
    Fail(Errno),
}

/// A file that records every I/O call and follows a script of [`Step`]s (then `All`).
#[derive(Default)]
pub struct RecFile {
    pub input: Mutex<VecDeque<u8>>,
    pub output: Mutex<Vec<u8>>,
    pub calls: Mutex<Vec<Call>>,
    pub script: Mutex<VecDeque<Step>>,
}

impl RecFile {
    pub fn with_input(input: &[u8]) -> Arc<RecFile> {
        Arc::new(RecFile {
            input: Mutex::new(input.iter().copied().collect()),
            ..RecFile::default()
        })
    }

    pub fn scripted(steps: &[Step]) -> Arc<RecFile> {
        Arc::new(RecFile {
            script: Mutex::new(steps.iter().copied().collect()),
            ..RecFile::default()
        })
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn input_left(&self) -> usize {
        self.input.lock().unwrap().len()
    }

    pub fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    fn step(&self) -> Step {
        self.script.lock().unwrap().pop_front().unwrap_or(Step::All)
    }
}

impl File for RecFile {
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }
}

impl FileIo for RecFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.calls.lock().unwrap().push(Call::Read(buf.len()));
        let limit = match self.step() {
            Step::All => buf.len(),
            Step::Short(n) => n.min(buf.len()),
            Step::Fail(e) => return Err(e),
        };
        let mut input = self.input.lock().unwrap();
        let n = limit.min(input.len());
        for (d, s) in buf.iter_mut().zip(input.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }

    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.calls.lock().unwrap().push(Call::Write(data.to_vec()));
        let n = match self.step() {
            Step::All => data.len(),
            Step::Short(n) => n.min(data.len()),
            Step::Fail(e) => return Err(e),
        };
        self.output.lock().unwrap().extend_from_slice(&data[..n]);
        Ok(n)
    }
}

/// A file that overrides the user-buffer methods the way a kernel pipe would: it copies
/// between its own buffer and user memory in 100-byte steps and consumes only what was
/// delivered.
#[derive(Default)]
pub struct PipeFile {
    pub buffer: Mutex<VecDeque<u8>>,
}

impl File for PipeFile {
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }
    fn file_type(&self) -> FileType {
        FileType::SocketStream
    }
}

impl FileIo for PipeFile {
    fn read(&self, _: &mut [u8]) -> Result<usize, Errno> {
        unreachable!("the system calls use read_user")
    }
    fn write(&self, _: &[u8]) -> Result<usize, Errno> {
        unreachable!("the system calls use write_user")
    }
    fn read_user(&self, dst: &mut dyn UserSink) -> Result<usize, Errno> {
        let mut buffer = self.buffer.lock().unwrap();
        let mut moved = 0;
        while dst.remaining() > 0 && !buffer.is_empty() {
            let chunk: Vec<u8> = buffer.iter().take(100).copied().collect();
            match dst.put(&chunk) {
                Ok(n) => {
                    buffer.drain(..n);
                    moved += n;
                }
                Err(e) if moved == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(moved)
    }
    fn write_user(&self, src: &mut dyn UserSource) -> Result<usize, Errno> {
        let mut buffer = self.buffer.lock().unwrap();
        let mut moved = 0;
        let mut chunk = [0u8; 100];
        while src.remaining() > 0 {
            match src.take(&mut chunk) {
                Ok(n) => {
                    buffer.extend(&chunk[..n]);
                    moved += n;
                }
                Err(e) if moved == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(moved)
    }
}

/// A process with descriptor 0 = `file` (read and write rights) and a [`HoleMem`].
pub struct IoProc<F: ?Sized> {
    pub table: SharedFdTable<Arc<F>>,
    pub mem: HoleMem,
}

impl<F: File + ?Sized> IoProc<F> {
    pub fn new(file: Arc<F>) -> IoProc<F> {
        let mut t = FdTable::new();
        let rights = FdRights::new(Rights::FD_READ | Rights::FD_WRITE, Rights::empty());
        let fd0 = Fd::from_raw(0).unwrap();
        assert_eq!(t.alloc(fd0, file, rights, false).unwrap(), fd0);
        IoProc {
            table: SharedFdTable::new(t),
            mem: HoleMem::new(),
        }
    }

    /// Stores the iovec array `list` at [`IOVS`].
    pub fn iovecs(&mut self, list: &[(u32, u32)]) {
        let raw: Vec<u8> = list
            .iter()
            .flat_map(|&(b, l)| b.to_le_bytes().into_iter().chain(l.to_le_bytes()))
            .collect();
        self.mem.poke(IOVS, &raw);
    }
}

impl<F: File + ?Sized> capexec::abi::KernelCalls for IoProc<F> {}

impl<F: File + ?Sized> Process for IoProc<F> {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = F;
    type Handle = Arc<F>;
    type Memory = HoleMem;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<F>> {
        &self.table
    }
    fn memory(&self) -> &HoleMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut HoleMem {
        &mut self.mem
    }
}

struct NoExec;

impl<P: Process + ?Sized> ImageActivator<P> for NoExec {
    type PreparedImage = ();
    type Entry = EntryState32;
    fn prepare(&mut self, _: &P, _: &P::Handle, _: &ImageArgs<P::Handle>) -> Result<(), Errno> {
        panic!("exec reached")
    }
    fn activate(
        &mut self,
        _: &mut P,
        _: (),
        _: &P::Handle,
        _: &ImageArgs<P::Handle>,
    ) -> Result<EntryState32, Errno> {
        panic!("exec reached")
    }
}

impl Entropy for NoExec {
    fn fill(&mut self, _: &mut [u8]) -> Result<(), Errno> {
        panic!("randomness asked for")
    }
}

/// Calls system call `nr` with `args` (stored at `STACK + 4`): the result word or the
/// errno.
pub fn call<F: File + FileIo + ?Sized>(
    p: &mut IoProc<F>,
    nr: u32,
    args: &[u32],
) -> Result<u32, Errno> {
    let mut regs = stage(p, nr, args);
    dispatch(p, &mut regs)
}

/// Stores `args` at `STACK + 4`; returns the trapped frame of system call `nr`.
pub fn stage<F: File + ?Sized>(p: &mut IoProc<F>, nr: u32, args: &[u32]) -> Regs32 {
    let raw: Vec<u8> = args.iter().flat_map(|a| a.to_le_bytes()).collect();
    p.mem.poke(STACK + 4, &raw);
    Regs32 {
        eax: nr,
        esp: STACK,
        ..Regs32::default()
    }
}

/// Serves the trapped frame `regs`: the result word or the errno (no allocation here).
pub fn dispatch<F: File + FileIo + ?Sized>(
    p: &mut IoProc<F>,
    regs: &mut Regs32,
) -> Result<u32, Errno> {
    let action = syscall32(p, &mut NoExec, regs);
    assert_eq!(action, SyscallAction::Resume);
    if regs.carry() {
        Err(Errno::from_raw(regs.eax as u16).expect("an errno"))
    } else {
        Ok(regs.eax)
    }
}

/// `fd_write(0, IOVS, n)`.
pub fn fd_write<F: File + FileIo + ?Sized>(p: &mut IoProc<F>, n: u32) -> Result<u32, Errno> {
    call(p, FD_WRITE_NR, &[0, IOVS, n])
}

/// `fd_read(0, IOVS, n)`.
pub fn fd_read<F: File + FileIo + ?Sized>(p: &mut IoProc<F>, n: u32) -> Result<u32, Errno> {
    call(p, FD_READ_NR, &[0, IOVS, n])
}

/// `n` bytes of a recognisable pattern starting at `seed`.
pub fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| seed.wrapping_add((i % 251) as u8)).collect()
}
