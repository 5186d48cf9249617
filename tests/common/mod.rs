//! A small simulated kernel for the exec and ABI tests: a file type with the kinds the
//! tests need, a deterministic random source, and helpers to lay out a `proc_exec`
//! frame in simulated user memory.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use capexec::Errno;
use capexec::abi::{
    Cloudabi32, Cloudabi32Activator, Entropy, Layout32, Regs32, SyscallAction, syscall32,
};
use capexec::exec::{ImageFile, copyout};
use capexec::fdtable::{Fd, FdRights, FdTable, File, FileIo, FileType, Rights};
use capexec_sim::{SimProcess, minimal_cloudabi_elf};

/// What a test file is.
pub enum Kind {
    /// A regular file holding these bytes (an executable when they are an ELF image),
    /// read through `ImageFile::read_at` only.
    Regular(Vec<u8>),
    /// The same, held in memory as a RAM disk's file: `ImageFile::bytes` lends them.
    InMemory(Vec<u8>),
    /// A character device that records what is written and serves reads from `input`.
    Stream {
        out: Mutex<Vec<u8>>,
        input: Mutex<Vec<u8>>,
    },
    /// A directory.
    Directory,
    /// A stream socket.
    Socket,
    /// A file of some other type (symbolic link, block device, process, shared memory,
    /// unknown, ...): no I/O, no image.
    Other(FileType),
}

/// The test kernel's open file.
pub struct TFile {
    pub kind: Kind,
    pub passable: bool,
    pub name: &'static str,
}

impl TFile {
    pub fn regular(name: &'static str, bytes: Vec<u8>) -> Arc<TFile> {
        Arc::new(TFile {
            kind: Kind::Regular(bytes),
            passable: true,
            name,
        })
    }
    /// A regular file held in memory (`ImageFile::bytes`), as a RAM disk's.
    pub fn in_memory(name: &'static str, bytes: Vec<u8>) -> Arc<TFile> {
        Arc::new(TFile {
            kind: Kind::InMemory(bytes),
            passable: true,
            name,
        })
    }
    pub fn stream(name: &'static str) -> Arc<TFile> {
        Arc::new(TFile {
            kind: Kind::Stream {
                out: Mutex::new(Vec::new()),
                input: Mutex::new(Vec::new()),
            },
            passable: true,
            name,
        })
    }
    pub fn directory(name: &'static str) -> Arc<TFile> {
        Arc::new(TFile {
            kind: Kind::Directory,
            passable: true,
            name,
        })
    }
    pub fn socket(name: &'static str) -> Arc<TFile> {
        Arc::new(TFile {
            kind: Kind::Socket,
            passable: true,
            name,
        })
    }
    pub fn unpassable(name: &'static str) -> Arc<TFile> {
        Arc::new(TFile {
            kind: Kind::Stream {
                out: Mutex::new(Vec::new()),
                input: Mutex::new(Vec::new()),
            },
            passable: false,
            name,
        })
    }
    /// Everything written to a stream.
    pub fn output(&self) -> Vec<u8> {
        match &self.kind {
            Kind::Stream { out, .. } => out.lock().unwrap().clone(),
            _ => Vec::new(),
        }
    }
}

impl File for TFile {
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }
    fn file_type(&self) -> FileType {
        match self.kind {
            Kind::Regular(_) | Kind::InMemory(_) => FileType::RegularFile,
            Kind::Stream { .. } => FileType::CharacterDevice,
            Kind::Directory => FileType::Directory,
            Kind::Socket => FileType::SocketStream,
            Kind::Other(t) => t,
        }
    }
    fn is_passable(&self) -> bool {
        self.passable
    }
}

impl ImageFile for TFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.kind {
            Kind::Regular(b) | Kind::InMemory(b) => Ok(capexec_sim::read_slice_at(b, offset, buf)),
            _ => Err(Errno::EISDIR),
        }
    }
    fn bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::InMemory(b) => Some(b),
            _ => None,
        }
    }
}

impl FileIo for TFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.kind {
            Kind::Stream { input, .. } => {
                let mut i = input.lock().unwrap();
                let n = buf.len().min(i.len());
                buf[..n].copy_from_slice(&i[..n]);
                i.drain(..n);
                Ok(n)
            }
            _ => Err(Errno::EBADF),
        }
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        match &self.kind {
            Kind::Stream { out, .. } => {
                out.lock().unwrap().extend_from_slice(data);
                Ok(data.len())
            }
            _ => Err(Errno::EBADF),
        }
    }
}

/// A deterministic xorshift random source.
pub struct TestRng(pub u64);

impl Entropy for TestRng {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
        Ok(())
    }
}

pub type Proc = SimProcess<TFile>;

/// Rights of an executable descriptor.
pub fn exe_rights() -> FdRights {
    FdRights::new(
        Rights::FD_READ | Rights::PROC_EXEC | Rights::MEM_MAP_EXEC,
        Rights::empty(),
    )
}

/// Rights of a writable stream.
pub fn stream_rights() -> FdRights {
    FdRights::new(
        Rights::FD_WRITE | Rights::FD_READ | Rights::FD_STAT_PUT_FLAGS,
        Rights::empty(),
    )
}

pub fn fd(n: i32) -> Fd {
    Fd::from_raw(n).unwrap()
}

/// A tiny valid image: loaded at 0x0804_8000, its "code" is a few NOPs.
pub fn test_elf() -> Vec<u8> {
    minimal_cloudabi_elf(0x0804_8000, &[0x90; 16])
}

/// Where the tests put the caller's syscall frame, data and fd list.
pub const CALLER_STACK: u32 = 0x7000_0000;
pub const CALLER_DATA: u32 = 0x6000_0000;
pub const CALLER_FDS: u32 = 0x5000_0000;

/// A process whose table is `files` (descriptor i = files[i], None = hole), with the
/// caller's stack, data and fd-list pages mapped.
pub fn process_with(files: &[Option<(Arc<TFile>, FdRights)>]) -> Proc {
    let mut t = FdTable::new();
    for (i, f) in files.iter().enumerate() {
        if let Some((f, r)) = f {
            let got = t.alloc(fd(i as i32), f.clone(), *r, false).unwrap();
            assert_eq!(got, fd(i as i32));
        }
    }
    let mut p = SimProcess::new(t);
    p.mem.map(CALLER_STACK, 0x1000);
    p.mem.map(CALLER_DATA, 0x41000);
    p.mem.map(CALLER_FDS, 0x10000);
    p
}

/// Writes `data` and `fds` into the caller's memory and the five arguments of
/// `proc_exec(exe, data, len, fds, n)` on its stack; returns the trapped frame.
pub fn exec_frame(p: &mut Proc, exe: u32, data: &[u8], fds: &[u32]) -> Regs32 {
    copyout(&mut p.mem, CALLER_DATA, data).unwrap();
    let list: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
    copyout(&mut p.mem, CALLER_FDS, &list).unwrap();
    frame(
        p,
        38,
        &[
            exe,
            CALLER_DATA,
            data.len() as u32,
            CALLER_FDS,
            fds.len() as u32,
        ],
    )
}

/// Writes `args` at `esp + 4` and returns a frame for syscall `nr`.
pub fn frame(p: &mut Proc, nr: u32, args: &[u32]) -> Regs32 {
    let esp = CALLER_STACK + 0x100;
    let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
    copyout(&mut p.mem, esp + 4, &words).unwrap();
    Regs32 {
        eax: nr,
        esp,
        eip: 0x1234,
        ..Regs32::default()
    }
}

/// Runs one system call with the reference activator and a fixed random seed (the one
/// source of the exec's canary and process id and of `random_get`).
pub fn run(p: &mut Proc, regs: &mut Regs32) -> SyscallAction {
    let mut rng = TestRng(0x9e37_79b9_7f4a_7c15);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    syscall32(p, &mut act, regs)
}

/// The files of a table, in descriptor order, with their rights.
pub fn snapshot(p: &Proc) -> Vec<(i32, *const TFile, FdRights, bool)> {
    let t = p.table.lock();
    t.iter()
        .map(|(fd, e)| {
            (
                fd.raw(),
                Arc::as_ptr(e.file()),
                e.rights(),
                t.cloexec(fd).unwrap(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Additions for the exec and ABI suites.

/// A user memory that forwards to `inner` and records every access: the number of
/// `read_user` calls, and how many times each byte address was read or written.
pub struct CountingMem<M> {
    pub inner: M,
    pub read_calls: std::cell::Cell<usize>,
    pub reads: std::cell::RefCell<std::collections::BTreeMap<u32, usize>>,
    pub writes: std::collections::BTreeMap<u32, usize>,
}

impl<M> CountingMem<M> {
    pub fn new(inner: M) -> CountingMem<M> {
        CountingMem {
            inner,
            read_calls: std::cell::Cell::new(0),
            reads: std::cell::RefCell::new(std::collections::BTreeMap::new()),
            writes: std::collections::BTreeMap::new(),
        }
    }
    /// Total bytes read (a byte read twice counts twice).
    pub fn bytes_read(&self) -> usize {
        self.reads.borrow().values().sum()
    }
    /// How often the byte at `addr` was read.
    pub fn read_count(&self, addr: u32) -> usize {
        self.reads.borrow().get(&addr).copied().unwrap_or(0)
    }
    /// Forgets every access recorded so far.
    pub fn reset_counts(&mut self) {
        self.read_calls.set(0);
        self.reads.borrow_mut().clear();
        self.writes.clear();
    }
}

impl<M: capexec::exec::UserMemory<Abi = Cloudabi32>> capexec::exec::UserMemory for CountingMem<M> {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.read_calls.set(self.read_calls.get() + 1);
        let mut r = self.reads.borrow_mut();
        for i in 0..buf.len() {
            *r.entry(addr.wrapping_add(i as u32)).or_default() += 1;
        }
        self.inner.read_user(addr, buf)
    }
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        for i in 0..data.len() {
            *self.writes.entry(addr.wrapping_add(i as u32)).or_default() += 1;
        }
        self.inner.write_user(addr, data)
    }
    fn check_access(
        &self,
        addr: u32,
        len: usize,
        access: capexec::exec::UserAccess,
    ) -> Result<(), Errno> {
        self.inner.check_access(addr, len, access)
    }
}

/// The reference counts of `files`, in order.
pub fn strong_counts(files: &[Arc<TFile>]) -> Vec<usize> {
    files.iter().map(Arc::strong_count).collect()
}

/// A table whose descriptor i is `files[i]` (None = hole).
pub fn table_with(files: &[Option<(Arc<TFile>, FdRights)>]) -> FdTable<Arc<TFile>> {
    let mut t = FdTable::new();
    for (i, f) in files.iter().enumerate() {
        if let Some((f, r)) = f {
            let got = t.alloc(fd(i as i32), f.clone(), *r, false).unwrap();
            assert_eq!(got, fd(i as i32));
        }
    }
    t
}

/// The caller-side memory a test lays out (stack page, data region, fd-list region), read
/// back byte for byte, plus the number of mapped pages: equal before and after a failed
/// exec means the memory was not touched.
pub fn memory_image(p: &Proc) -> (usize, Vec<u8>) {
    use capexec::exec::UserMemory;
    let mut out = Vec::new();
    for (addr, len) in [
        (CALLER_STACK, 0x1000),
        (CALLER_DATA, 0x41000),
        (CALLER_FDS, 0x10000),
    ] {
        let mut b = vec![0u8; len];
        if p.mem.read_user(addr, &mut b).is_ok() {
            out.extend_from_slice(&b);
        }
    }
    (p.mem.mapped_pages(), out)
}

/// Every observable piece of a process a failed syscall must leave alone: the table
/// (numbers, files, rights, close-on-exec), the reference counts of `files`, and the
/// memory.
pub type ProcState = (
    Vec<(i32, *const TFile, FdRights, bool)>,
    Vec<usize>,
    (usize, Vec<u8>),
);

pub fn proc_state(p: &Proc, files: &[Arc<TFile>]) -> ProcState {
    (snapshot(p), strong_counts(files), memory_image(p))
}

/// A stream file with `input` waiting to be read.
pub fn stream_with_input(name: &'static str, input: &[u8]) -> Arc<TFile> {
    Arc::new(TFile {
        kind: Kind::Stream {
            out: Mutex::new(Vec::new()),
            input: Mutex::new(input.to_vec()),
        },
        passable: true,
        name,
    })
}

/// The bytes `TestRng(seed)` produces first.
pub fn rng_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    TestRng(seed).fill(&mut b).unwrap();
    b
}

/// A passable file of type `t` that does nothing else.
pub fn typed(name: &'static str, t: FileType) -> Arc<TFile> {
    Arc::new(TFile {
        kind: Kind::Other(t),
        passable: true,
        name,
    })
}
