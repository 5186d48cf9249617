//! A process whose kernel hooks record what capexec hands them, and files with every
//! optional operation, for the per-group system call tests (`tests/abi_*_calls.rs`).
#![allow(dead_code)]

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use capexec::Errno;
use capexec::abi::cloudabi32::{Advice, ClockId, Scope, Syscall};
use capexec::abi::wire::{Event, FdStat, Iovec32, RecvOut32, Subscription, ThreadAttr32};
use capexec::abi::{
    Entropy, EntryState32, Forked, KernelCalls, NewFile, NewPair, Regs32, SyscallAction, syscall32,
};
use capexec::exec::{ImageActivator, ImageArgs, Process, copyin, copyout};
use capexec::fdtable::{
    DefaultRawMutex, Fd, FdRights, FdTable, File, FileIo, FileStat, FileType, Rights, SeekFrom,
    SharedFdTable,
};
use capexec_sim::SimAddressSpace;

pub const STACK: u32 = 0x7000_0000;
pub const DATA: u32 = 0x6000_0000;
pub const DATA_LEN: u32 = 0x10000;
/// Unmapped.
pub const HOLE: u32 = 0x5000_0000;

/// A file with every optional operation: an in-memory byte array with an offset.
pub struct KFile {
    pub kind: FileType,
    pub data: Mutex<Vec<u8>>,
    pub offset: Mutex<u64>,
    pub syncs: Mutex<Vec<bool>>,
    /// Whether it has byte I/O, an offset and storage (a regular file) or not (the
    /// defaults of `File` / `FileIo`).
    pub full: bool,
}

impl KFile {
    pub fn regular(data: &[u8]) -> Arc<KFile> {
        Arc::new(KFile {
            kind: FileType::RegularFile,
            data: Mutex::new(data.to_vec()),
            offset: Mutex::new(0),
            syncs: Mutex::new(Vec::new()),
            full: true,
        })
    }

    /// A file of `kind` that keeps every default of `File` and `FileIo`.
    pub fn plain(kind: FileType) -> Arc<KFile> {
        Arc::new(KFile {
            kind,
            data: Mutex::new(Vec::new()),
            offset: Mutex::new(0),
            syncs: Mutex::new(Vec::new()),
            full: false,
        })
    }
}

impl File for KFile {
    fn file_type(&self) -> FileType {
        self.kind
    }
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }
    fn stat(&self) -> Result<FileStat, Errno> {
        if !self.full {
            return Ok(FileStat::of_type(self.kind));
        }
        Ok(FileStat {
            dev: 0x0102_0304_0506_0708,
            ino: 0x1112_1314_1516_1718,
            filetype: self.kind,
            nlink: 3,
            size: self.data.lock().unwrap().len() as u64,
            atim: 1,
            mtim: 2,
            ctim: 0xffff_ffff_0000_0003,
        })
    }
    fn seek(&self, pos: SeekFrom) -> Result<u64, Errno> {
        if !self.full {
            return Err(Errno::ESPIPE);
        }
        let len = self.data.lock().unwrap().len() as i128;
        let mut off = self.offset.lock().unwrap();
        let new = match pos {
            SeekFrom::Start(o) => i128::from(o),
            SeekFrom::Current(d) => i128::from(*off) + i128::from(d),
            SeekFrom::End(d) => len + i128::from(d),
        };
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *off = u64::try_from(new).map_err(|_| Errno::EOVERFLOW)?;
        Ok(*off)
    }
    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        if !self.full {
            return Err(Errno::EINVAL);
        }
        self.syncs.lock().unwrap().push(data_only);
        Ok(())
    }
}

impl FileIo for KFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut off = self.offset.lock().unwrap();
        let n = self.pread(buf, *off)?;
        *off += n as u64;
        Ok(n)
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut off = self.offset.lock().unwrap();
        let n = self.pwrite(data, *off)?;
        *off += n as u64;
        Ok(n)
    }
    fn pread(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        if !self.full {
            return Err(Errno::ESPIPE);
        }
        let d = self.data.lock().unwrap();
        let start = (offset as usize).min(d.len());
        let n = buf.len().min(d.len() - start);
        buf[..n].copy_from_slice(&d[start..start + n]);
        Ok(n)
    }
    fn pwrite(&self, data: &[u8], offset: u64) -> Result<usize, Errno> {
        if !self.full {
            return Err(Errno::ESPIPE);
        }
        let mut d = self.data.lock().unwrap();
        let end = offset as usize + data.len();
        if d.len() < end {
            d.resize(end, 0);
        }
        d[offset as usize..end].copy_from_slice(data);
        Ok(data.len())
    }
}

/// What a hook was called with, in a printable form.
pub type Log = RefCell<Vec<String>>;

/// A process whose hooks record their typed arguments and answer with canned results.
pub struct KProc {
    pub table: SharedFdTable<Arc<KFile>>,
    pub mem: SimAddressSpace,
    /// Whether the kernel provides its calls.
    pub provide: bool,
    pub log: Log,
    pub last_thread: bool,
    /// What `poll` fills: (index of subscription, nbytes).
    pub poll_ready: Vec<usize>,
}

impl KProc {
    pub fn new(files: &[Option<(Arc<KFile>, FdRights)>]) -> KProc {
        let mut t = FdTable::new();
        for (i, f) in files.iter().enumerate() {
            if let Some((f, r)) = f {
                t.alloc(Fd::from_raw(i as i32).unwrap(), f.clone(), *r, false)
                    .unwrap();
            }
        }
        let mut mem = SimAddressSpace::new();
        mem.map(STACK, 0x1000);
        mem.map(DATA, DATA_LEN);
        KProc {
            table: SharedFdTable::new(t),
            mem,
            provide: true,
            log: RefCell::new(Vec::new()),
            last_thread: true,
            poll_ready: Vec::new(),
        }
    }

    fn rec(&self, s: String) {
        self.log.borrow_mut().push(s);
    }

    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.borrow_mut())
    }

    /// Descriptor numbers and rights of the table.
    pub fn rows(&self) -> Vec<(i32, FdRights)> {
        self.table
            .lock()
            .iter()
            .map(|(fd, e)| (fd.raw(), e.rights()))
            .collect()
    }

    pub fn put(&mut self, addr: u32, bytes: &[u8]) {
        copyout(&mut self.mem, addr, bytes).unwrap();
    }

    pub fn get(&self, addr: u32, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        copyin(&self.mem, addr, &mut v).unwrap();
        v
    }
}

fn path(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

fn name(f: &Arc<KFile>) -> String {
    format!("{:?}", f.kind)
}

/// Files the kernel's `fd_create*` / `file_open` hand back: a regular file with all
/// rights a regular file has in the test.
pub fn created() -> NewFile<Arc<KFile>> {
    NewFile {
        file: KFile::regular(b"new"),
        rights: FdRights::new(
            Rights::FD_READ | Rights::FD_WRITE | Rights::FD_SEEK | Rights::FILE_STAT_FGET,
            Rights::empty(),
        ),
    }
}

impl KernelCalls for KProc {
    fn provides(&self, _: Syscall) -> bool {
        self.provide
    }
    fn clock_res_get(&mut self, clock: ClockId) -> Result<u64, Errno> {
        self.rec(format!("clock_res_get {clock:?}"));
        Ok(0x1_0000_0002)
    }
    fn clock_time_get(&mut self, clock: ClockId, precision: u64) -> Result<u64, Errno> {
        self.rec(format!("clock_time_get {clock:?} {precision:#x}"));
        Ok(0xa0b0_c0d0_e0f0_0102)
    }
    fn condvar_signal(&mut self, condvar: u32, scope: Scope, n: u32) -> Result<(), Errno> {
        self.rec(format!("condvar_signal {condvar:#x} {scope:?} {n}"));
        Ok(())
    }
    fn lock_unlock(&mut self, lock: u32, scope: Scope) -> Result<(), Errno> {
        self.rec(format!("lock_unlock {lock:#x} {scope:?}"));
        Ok(())
    }
    fn fd_create1(&mut self, kind: FileType) -> Result<NewFile<Arc<KFile>>, Errno> {
        self.rec(format!("fd_create1 {kind:?}"));
        Ok(created())
    }
    fn fd_create2(&mut self, kind: FileType) -> Result<NewPair<Arc<KFile>>, Errno> {
        self.rec(format!("fd_create2 {kind:?}"));
        Ok((created(), created()))
    }
    fn file_advise(&mut self, f: &Arc<KFile>, off: u64, len: u64, a: Advice) -> Result<(), Errno> {
        self.rec(format!("file_advise {} {off:#x} {len:#x} {a:?}", name(f)));
        Ok(())
    }
    fn file_allocate(&mut self, f: &Arc<KFile>, off: u64, len: u64) -> Result<(), Errno> {
        self.rec(format!("file_allocate {} {off:#x} {len:#x}", name(f)));
        Ok(())
    }
    fn file_create(&mut self, d: &Arc<KFile>, p: &[u8], kind: FileType) -> Result<(), Errno> {
        self.rec(format!("file_create {} {} {kind:?}", name(d), path(p)));
        Ok(())
    }
    fn file_link(
        &mut self,
        d1: &Arc<KFile>,
        follow: bool,
        p1: &[u8],
        d2: &Arc<KFile>,
        p2: &[u8],
    ) -> Result<(), Errno> {
        self.rec(format!(
            "file_link {} {follow} {} {} {}",
            name(d1),
            path(p1),
            name(d2),
            path(p2)
        ));
        Ok(())
    }
    fn file_open(
        &mut self,
        d: &Arc<KFile>,
        follow: bool,
        p: &[u8],
        oflags: u16,
        fds: &FdStat,
    ) -> Result<NewFile<Arc<KFile>>, Errno> {
        self.rec(format!(
            "file_open {} {follow} {} {oflags:#x} {:#x} {:#x} {:#x}",
            name(d),
            path(p),
            fds.flags,
            fds.rights_base,
            fds.rights_inheriting
        ));
        Ok(created())
    }
    fn file_readdir(&mut self, d: &Arc<KFile>, buf: u32, len: u32, c: u64) -> Result<u32, Errno> {
        self.rec(format!("file_readdir {} {buf:#x} {len} {c:#x}", name(d)));
        Ok(len + 100)
    }
    fn file_readlink(
        &mut self,
        d: &Arc<KFile>,
        p: &[u8],
        buf: u32,
        len: u32,
    ) -> Result<u32, Errno> {
        self.rec(format!(
            "file_readlink {} {} {buf:#x} {len}",
            name(d),
            path(p)
        ));
        copyout(&mut self.mem, buf, &b"target"[..6.min(len as usize)])?;
        Ok(6.min(len))
    }
    fn file_rename(
        &mut self,
        d1: &Arc<KFile>,
        p1: &[u8],
        d2: &Arc<KFile>,
        p2: &[u8],
    ) -> Result<(), Errno> {
        self.rec(format!(
            "file_rename {} {} {} {}",
            name(d1),
            path(p1),
            name(d2),
            path(p2)
        ));
        Ok(())
    }
    fn file_stat_fput(&mut self, f: &Arc<KFile>, st: &FileStat, flags: u16) -> Result<(), Errno> {
        self.rec(format!(
            "file_stat_fput {} {} {} {} {flags:#x}",
            name(f),
            st.size,
            st.atim,
            st.mtim
        ));
        Ok(())
    }
    fn file_stat_get(&mut self, d: &Arc<KFile>, follow: bool, p: &[u8]) -> Result<FileStat, Errno> {
        self.rec(format!("file_stat_get {} {follow} {}", name(d), path(p)));
        let mut st = FileStat::of_type(FileType::SymbolicLink);
        st.size = 77;
        Ok(st)
    }
    fn file_stat_put(
        &mut self,
        d: &Arc<KFile>,
        follow: bool,
        p: &[u8],
        st: &FileStat,
        flags: u16,
    ) -> Result<(), Errno> {
        self.rec(format!(
            "file_stat_put {} {follow} {} {} {} {flags:#x}",
            name(d),
            path(p),
            st.atim,
            st.mtim
        ));
        Ok(())
    }
    fn file_symlink(&mut self, t: &[u8], d: &Arc<KFile>, p: &[u8]) -> Result<(), Errno> {
        self.rec(format!("file_symlink {} {} {}", path(t), name(d), path(p)));
        Ok(())
    }
    fn file_unlink(&mut self, d: &Arc<KFile>, p: &[u8], flags: u8) -> Result<(), Errno> {
        self.rec(format!("file_unlink {} {} {flags:#x}", name(d), path(p)));
        Ok(())
    }
    fn poll(&mut self, subs: &[Subscription], events: &mut [Event]) -> Result<usize, Errno> {
        self.rec(format!("poll {subs:?}"));
        let mut n = 0;
        for &i in &self.poll_ready {
            events[n] = Event::new(subs[i].userdata, subs[i].event_type());
            events[n].nbytes = 5;
            n += 1;
        }
        Ok(n)
    }
    fn proc_fork(&mut self) -> Result<Forked, Errno> {
        self.rec("proc_fork".into());
        Ok(Forked { fd: 9, tid: 0x4242 })
    }
    fn sock_recv(
        &mut self,
        s: &Arc<KFile>,
        data: &[Iovec32],
        fds: u32,
        fds_len: u32,
        flags: u16,
    ) -> Result<RecvOut32, Errno> {
        self.rec(format!(
            "sock_recv {} {data:?} {fds:#x} {fds_len} {flags:#x}",
            name(s)
        ));
        Ok(RecvOut32 {
            datalen: 3,
            fdslen: fds_len + 5,
            flags: 0x8,
        })
    }
    fn sock_send(
        &mut self,
        s: &Arc<KFile>,
        data: &[Iovec32],
        fds: &[u32],
        flags: u16,
    ) -> Result<u32, Errno> {
        self.rec(format!("sock_send {} {data:?} {fds:?} {flags:#x}", name(s)));
        Ok(u32::MAX)
    }
    fn sock_shutdown(&mut self, s: &Arc<KFile>, how: u8) -> Result<(), Errno> {
        self.rec(format!("sock_shutdown {} {how}", name(s)));
        Ok(())
    }
    fn thread_create(&mut self, attr: &ThreadAttr32) -> Result<u32, Errno> {
        self.rec(format!("thread_create {attr:?}"));
        Ok(0x77)
    }
    fn is_last_thread(&self) -> bool {
        self.last_thread
    }
    fn thread_exit(&mut self, lock: u32, scope: Scope) -> Result<(), Errno> {
        self.rec(format!("thread_exit {lock:#x} {scope:?}"));
        Ok(())
    }
}

impl Process for KProc {
    type File = KFile;
    type Handle = Arc<KFile>;
    type Memory = SimAddressSpace;
    type Lock = DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<KFile>> {
        &self.table
    }
    fn memory(&self) -> &SimAddressSpace {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.mem
    }
    fn install_fd_table(&mut self, new: FdTable<Arc<KFile>>) -> FdTable<Arc<KFile>> {
        capexec::fdtable::fdinstall_remapped(&self.table, new)
    }
}

/// No exec in these tests; randomness is a counter.
pub struct Kernel(pub u8);

impl Entropy for Kernel {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}

impl ImageActivator<KProc> for Kernel {
    type PreparedImage = ();
    type Entry = EntryState32;
    fn prepare(
        &mut self,
        _: &KProc,
        _: &Arc<KFile>,
        _: &ImageArgs<Arc<KFile>>,
    ) -> Result<(), Errno> {
        Err(Errno::ENOEXEC)
    }
    fn activate(
        &mut self,
        _: &mut KProc,
        _: (),
        _: &Arc<KFile>,
        _: &ImageArgs<Arc<KFile>>,
    ) -> Result<EntryState32, Errno> {
        Err(Errno::ENOEXEC)
    }
}

/// Runs call `nr` with `args` on the stack; returns the action and the registers.
pub fn call(p: &mut KProc, nr: Syscall, args: &[u32]) -> (SyscallAction, Regs32) {
    let esp = STACK + 0x100;
    let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
    copyout(&mut p.mem, esp + 4, &words).unwrap();
    let mut regs = Regs32 {
        eax: nr.raw(),
        esp,
        eip: 0x1234,
        ..Regs32::default()
    };
    let act = syscall32(p, &mut Kernel(0), &mut regs);
    (act, regs)
}

/// The call's result: `Ok((eax, edx))` or the errno.
pub fn result(p: &mut KProc, nr: Syscall, args: &[u32]) -> Result<(u32, u32), Errno> {
    let (act, regs) = call(p, nr, args);
    assert_eq!(act, SyscallAction::Resume, "{}", nr.name());
    if regs.carry() {
        Err(Errno::from_raw(regs.eax as u16).expect("an errno"))
    } else {
        Ok((regs.eax, regs.edx))
    }
}

/// All rights.
pub fn all() -> FdRights {
    FdRights::ALL
}

/// Only `base` rights, no inheriting.
pub fn only(base: Rights) -> FdRights {
    FdRights::new(base, Rights::empty())
}

/// `FdStat` bytes.
pub fn fdstat(flags: u16, base: Rights, inheriting: Rights) -> [u8; 24] {
    FdStat {
        filetype: 0,
        flags,
        rights_base: base.bits(),
        rights_inheriting: inheriting.bits(),
    }
    .encode()
}

/// Splits a 64-bit value into two argument words, low first.
pub fn lo_hi(v: u64) -> [u32; 2] {
    [v as u32, (v >> 32) as u32]
}
