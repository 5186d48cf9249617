//! The i386 system call entry: dispatch (decision 13), argument fetching at the edges of
//! the user stack, hostile `proc_exec` arguments, the descriptor system calls and the
//! return convention.

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::cloudabi32::{ARG_MAX, Syscall};
use capexec::abi::{
    Cloudabi32Activator, EFLAGS_CF, Entropy, EntryState32, Layout32, Regs32, SyscallAction,
    syscall32,
};
use capexec::exec::{AddressSpace, ImageArgs, Process, Protection, copyin, copyout};
use capexec::fdtable::{FdRights, Rights, SharedFdTable};
use capexec_sim::SimAddressSpace;
use common::*;

/// The calls the library serves itself (without a kernel hook), with their argument
/// words.
const IMPLEMENTED: [(u32, usize); 19] = [
    (3, 1),  // fd_close
    (6, 1),  // fd_datasync
    (7, 1),  // fd_dup
    (8, 5),  // fd_pread
    (9, 5),  // fd_pwrite
    (10, 3), // fd_read
    (11, 2), // fd_replace
    (12, 4), // fd_seek
    (13, 2), // fd_stat_get
    (14, 3), // fd_stat_put
    (15, 1), // fd_sync
    (16, 3), // fd_write
    (25, 2), // file_stat_fget
    (38, 5), // proc_exec
    (39, 1), // proc_exit
    (41, 1), // proc_raise
    (42, 2), // random_get
    (47, 2), // thread_exit
    (48, 0), // thread_yield
];

// ---- a process whose every memory access is counted ---------------------------------

impl AddressSpace for CountingMem<SimAddressSpace> {
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.inner.map_region(addr, len, prot)
    }
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.inner.protect_region(addr, len, prot)
    }
}

struct CProc {
    table: SharedFdTable<Arc<TFile>>,
    mem: CountingMem<SimAddressSpace>,
}

impl capexec::abi::KernelCalls for CProc {}

impl Process for CProc {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = CountingMem<SimAddressSpace>;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<TFile>> {
        &self.table
    }
    fn memory(&self) -> &Self::Memory {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut Self::Memory {
        &mut self.mem
    }
}

/// An activator for calls that must never reach an exec; its randomness (for
/// `random_get`) is a `TestRng`.
struct NoExec(TestRng);

impl Entropy for NoExec {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        self.0.fill(buf)
    }
}

impl<P: Process + ?Sized> capexec::exec::ImageActivator<P> for NoExec {
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

/// 0 stdout (stream), 1 the executable. Only `pages` are mapped.
fn cproc(files: &[Arc<TFile>; 2], pages: &[u32]) -> CProc {
    let mut sim = SimAddressSpace::new();
    for &p in pages {
        sim.map(p, 1);
    }
    CProc {
        table: SharedFdTable::new(table_with(&[
            Some((files[0].clone(), stream_rights())),
            Some((files[1].clone(), exe_rights())),
        ])),
        mem: CountingMem::new(sim),
    }
}

fn two_files() -> [Arc<TFile>; 2] {
    [TFile::stream("out"), TFile::regular("exe", test_elf())]
}

fn rows(p: &CProc) -> Vec<(i32, *const TFile, FdRights, bool)> {
    let t = p.table.lock();
    t.iter()
        .map(|(f, e)| {
            (
                f.raw(),
                Arc::as_ptr(e.file()),
                e.rights(),
                t.cloexec(f).unwrap(),
            )
        })
        .collect()
}

fn noise_regs(nr: u32, esp: u32) -> Regs32 {
    Regs32 {
        eax: nr,
        ebx: 0x1111_1111,
        ecx: 0x2222_2222,
        edx: 0x3333_3333,
        esi: 0x4444_4444,
        edi: 0x5555_5555,
        ebp: 0x6666_6666,
        esp,
        eip: 0x0804_9000,
        eflags: 0x202,
        gs_base: 0x7777_0000,
    }
}

/// A failed call changes exactly `eax` (the errno) and sets the carry.
fn assert_failed_with(before: &Regs32, after: &Regs32, e: Errno) {
    let mut want = *before;
    want.eax = u32::from(e.raw());
    want.eflags |= EFLAGS_CF;
    assert_eq!(*after, want);
}

// ---- dispatch ----------------------------------------------------------------------

#[test]
fn numbers_from_49_up_are_enosys_without_touching_memory() {
    let files = two_files();
    let mut p = cproc(&files, &[CALLER_STACK]);
    let mut nrs: Vec<u32> = (49..=400).collect();
    nrs.extend([
        0x7fff_ffff,
        0x8000_0000,
        0xffff_fffc,
        u32::MAX,
        49 + 256,
        38 + 256,
    ]);
    for nr in nrs {
        for esp in [CALLER_STACK + 0x100, 0, 0xffff_ffff] {
            let mut regs = noise_regs(nr, esp);
            let before = regs;
            let act = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
            assert_eq!(act, SyscallAction::Resume);
            assert_failed_with(&before, &regs, Errno::ENOSYS);
            assert_eq!(regs.eax, 52);
        }
    }
    assert_eq!(p.mem.read_calls.get(), 0);
    assert!(p.mem.writes.is_empty());
}

#[test]
fn unimplemented_valid_numbers_are_enosys_before_any_read() {
    let files = two_files();
    let mut p = cproc(&files, &[CALLER_STACK]);
    let before_rows = rows(&p);
    let unimplemented: Vec<u32> = (0..49)
        .filter(|n| !IMPLEMENTED.iter().any(|(m, _)| m == n))
        .collect();
    assert_eq!(unimplemented.len(), 30);
    for nr in unimplemented {
        assert!(Syscall::from_raw(nr).is_some());
        // esp at unmapped memory, and at the wrapping top: ENOSYS, never EFAULT.
        for esp in [0u32, 0x1000, 0xffff_fffc, 0xffff_ffff, CALLER_STACK] {
            let mut regs = noise_regs(nr, esp);
            let before = regs;
            let act = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
            assert_eq!(act, SyscallAction::Resume, "nr {nr}");
            assert_failed_with(&before, &regs, Errno::ENOSYS);
        }
    }
    assert_eq!(
        p.mem.read_calls.get(),
        0,
        "memory read for an unimplemented call"
    );
    assert!(p.mem.writes.is_empty());
    assert_eq!(rows(&p), before_rows);
}

#[test]
fn implemented_calls_read_exactly_their_argument_words() {
    // The words end exactly at the end of the mapped stack page: the call gets past
    // argument fetching (no EFAULT). One word lower and the last word is unmapped.
    let end = CALLER_STACK + 0x1000;
    for (nr, words) in IMPLEMENTED {
        let files = two_files();
        let mut p = cproc(&files, &[CALLER_STACK]);
        // Zero words: fd 0, null pointers, zero lengths.
        let esp = end - 4 - 4 * words as u32;
        let mut regs = noise_regs(nr, esp);
        p.mem.reset_counts();
        let _ = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
        // Each argument byte read once, nothing below them.
        for a in esp + 4..end {
            assert_eq!(p.mem.read_count(a), 1, "nr {nr}: byte {a:#x}");
        }
        assert_eq!(p.mem.read_count(esp + 3), 0);
        let _ = words;
    }
}

#[test]
fn arguments_straddling_the_end_of_the_mapped_stack_are_efault_and_change_nothing() {
    let end = CALLER_STACK + 0x1000;
    // A call without arguments (thread_yield) reads nothing, so it cannot fault here.
    for (nr, words) in IMPLEMENTED.into_iter().filter(|c| c.1 > 0) {
        for short in [1u32, 2, 3, 4, 8] {
            let files = two_files();
            let mut p = cproc(&files, &[CALLER_STACK]);
            let before_rows = rows(&p);
            let counts = strong_counts(&files);
            let esp = end - 4 - 4 * words as u32 + short;
            let mut regs = noise_regs(nr, esp);
            let before = regs;
            let act = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
            assert_eq!(act, SyscallAction::Resume, "nr {nr} short {short}");
            assert_failed_with(&before, &regs, Errno::EFAULT);
            assert_eq!(rows(&p), before_rows);
            assert_eq!(strong_counts(&files), counts);
            assert!(p.mem.writes.is_empty());
        }
    }
}

#[test]
fn esp_near_4gib_is_efault() {
    // A call without arguments (thread_yield) reads nothing, so it cannot fault here.
    for (nr, _) in IMPLEMENTED.into_iter().filter(|c| c.1 > 0) {
        for esp in [
            0xffff_fffcu32,
            0xffff_ffff,
            0xffff_fff8,
            0xffff_fff0,
            0xffff_ffec,
        ] {
            let files = two_files();
            // Even with the last page mapped: the words would wrap past 4 GiB.
            let mut p = cproc(&files, &[0xffff_f000, 0]);
            let needed = 4 + 4 * IMPLEMENTED.iter().find(|x| x.0 == nr).unwrap().1 as u64;
            if u64::from(esp) + needed <= 1 << 32 {
                continue; // fits below 4 GiB: not this test's case
            }
            let mut regs = noise_regs(nr, esp);
            let before = regs;
            let act = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
            assert_eq!(act, SyscallAction::Resume, "nr {nr} esp {esp:#x}");
            assert_failed_with(&before, &regs, Errno::EFAULT);
            assert_eq!(p.mem.bytes_read(), 0, "a wrapping fetch must not read");
        }
    }
}

// ---- hostile proc_exec arguments ------------------------------------------------------

const HOSTILE: [u32; 6] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffc, 0xffff_ffff];

/// The memory of the hostile-argument process: page 0 and the last page are mapped (so
/// some hostile pointers are readable); bytes 0..8 hold the fd words seen at 0 and 1,
/// the last word of memory holds 1.
fn hostile_proc(files: &[Arc<TFile>; 2]) -> CProc {
    let mut p = cproc(files, &[CALLER_STACK, 0, 0xffff_f000]);
    copyout(&mut p.mem.inner, 0, &[0, 0, 0, 0, 0x80, 0, 0, 0]).unwrap();
    copyout(&mut p.mem.inner, 0xffff_fffc, &1u32.to_le_bytes()).unwrap();
    p
}

/// What the spec says `proc_exec` returns for these arguments in `hostile_proc`
/// (`None`: it succeeds).
fn hostile_model(fd: u32, data: u32, data_len: u32, fds: u32, fds_len: u32) -> Option<Errno> {
    let readable = |a: u32, len: u32| {
        len == 0
            || (u64::from(a) + u64::from(len) <= 1 << 32
                && (a as u64..u64::from(a) + u64::from(len))
                    .all(|b| !(0x1000..0xffff_f000).contains(&b)))
    };
    if data_len >= ARG_MAX {
        return Some(Errno::E2BIG);
    }
    if fds_len > 2 {
        return Some(Errno::E2BIG);
    }
    if !readable(data, data_len) {
        return Some(Errno::EFAULT);
    }
    if !readable(fds, fds_len * 4) {
        return Some(Errno::EFAULT);
    }
    // Remap: the words at 0, 1 and 0xffff_fffc are 0, 0x8000_0000 and 1.
    for i in 0..fds_len {
        let v = match fds + 4 * i {
            0 => 0,
            1 => 0x8000_0000u32,
            0xffff_fffc => 1,
            a => unreachable!("{a:#x}"),
        };
        if v > 1 {
            return Some(Errno::EBADF);
        }
    }
    match fd {
        0 => Some(Errno::ENOTCAPABLE),
        1 => None,
        _ => Some(Errno::EBADF),
    }
}

#[test]
fn hostile_proc_exec_arguments_cross_product() {
    let stack = CALLER_STACK + 0x100;
    let layout = Layout32 {
        stack_size: 0x1_0000,
        ..Layout32::default()
    };
    let mut successes = 0;
    for fd in HOSTILE {
        for data in HOSTILE {
            for data_len in HOSTILE {
                for fds in HOSTILE {
                    for fds_len in HOSTILE {
                        let files = two_files();
                        let mut p = hostile_proc(&files);
                        let words: Vec<u8> = [fd, data, data_len, fds, fds_len]
                            .iter()
                            .flat_map(|w| w.to_le_bytes())
                            .collect();
                        copyout(&mut p.mem.inner, stack + 4, &words).unwrap();
                        let before_rows = rows(&p);
                        let counts = strong_counts(&files);
                        let pages = p.mem.inner.mapped_pages();
                        let mut regs = noise_regs(38, stack);
                        let before = regs;
                        let mut rng = TestRng(5);
                        let mut act = Cloudabi32Activator::new(layout, &mut rng);
                        let got = syscall32(&mut p, &mut act, &mut regs);
                        let args = [fd, data, data_len, fds, fds_len];
                        match hostile_model(fd, data, data_len, fds, fds_len) {
                            Some(e) => {
                                assert_eq!(got, SyscallAction::Resume, "{args:#x?}");
                                assert_failed_with(&before, &regs, e);
                                assert_eq!(rows(&p), before_rows, "{args:#x?}");
                                assert_eq!(strong_counts(&files), counts);
                                assert!(p.mem.writes.is_empty(), "{args:#x?}");
                                assert_eq!(p.mem.inner.mapped_pages(), pages);
                            }
                            None => {
                                assert!(
                                    matches!(got, SyscallAction::Exec(_)),
                                    "{args:#x?}: {got:?}"
                                );
                                assert_eq!(p.table.lock().len(), fds_len as usize);
                                successes += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(successes > 10, "the model must also cover successes");
}

#[test]
fn fds_len_whose_byte_count_overflows_32_bits_is_e2big() {
    for fds_len in [
        0x4000_0000u32,
        0x4000_0001,
        0x4000_0002,
        0x8000_0000,
        0xc000_0000,
    ] {
        for fds in [0u32, 0x1000, CALLER_FDS] {
            let files = two_files();
            let mut p = hostile_proc(&files);
            let stack = CALLER_STACK + 0x100;
            let words: Vec<u8> = [1, 0, 0, fds, fds_len]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            copyout(&mut p.mem.inner, stack + 4, &words).unwrap();
            p.mem.reset_counts();
            let mut regs = noise_regs(38, stack);
            let before = regs;
            let act = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
            assert_eq!(act, SyscallAction::Resume);
            assert_failed_with(&before, &regs, Errno::E2BIG);
            // Only the five argument words were read.
            assert_eq!(p.mem.bytes_read(), 20);
        }
    }
}

#[test]
fn data_wrapping_past_4gib_is_efault() {
    for (data, data_len) in [
        (0xffff_ff00u32, 0x200u32),
        (0xffff_ffff, 2),
        (0xffff_f000, 0x1001),
        (0xfffc_0000, ARG_MAX - 1),
    ] {
        let files = two_files();
        let mut p = hostile_proc(&files);
        let stack = CALLER_STACK + 0x100;
        let words: Vec<u8> = [1, data, data_len, 0, 0]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        copyout(&mut p.mem.inner, stack + 4, &words).unwrap();
        p.mem.reset_counts();
        let mut regs = noise_regs(38, stack);
        let before = regs;
        let act = syscall32(&mut p, &mut NoExec(TestRng(1)), &mut regs);
        assert_eq!(act, SyscallAction::Resume);
        assert_failed_with(&before, &regs, Errno::EFAULT);
        assert!(p.mem.writes.is_empty());
    }
}

// ---- the descriptor system calls --------------------------------------------------------

/// 0 stdin (input "hello, world!"), 1 stdout, 2 a read-only stream, 3 a write-only
/// stream, 4 a directory, 5 closed, 6 the executable.
struct Desc {
    files: Vec<Arc<TFile>>,
    p: Proc,
}

fn read_only() -> FdRights {
    FdRights::new(Rights::FD_READ, Rights::empty())
}
fn write_only() -> FdRights {
    FdRights::new(Rights::FD_WRITE, Rights::empty())
}

fn desc() -> Desc {
    let files = vec![
        stream_with_input("stdin", b"hello, world!"),
        TFile::stream("stdout"),
        stream_with_input("ro", b"r"),
        TFile::stream("wo"),
        TFile::directory("dir"),
        TFile::stream("closed"),
        TFile::regular("exe", test_elf()),
    ];
    let rights = [
        stream_rights(),
        stream_rights(),
        read_only(),
        write_only(),
        FdRights::new(Rights::FILE_OPEN, Rights::FD_READ | Rights::FD_WRITE),
        stream_rights(),
        exe_rights(),
    ];
    let spec: Vec<_> = files
        .iter()
        .zip(rights)
        .enumerate()
        .map(|(i, (f, r))| (i != 5).then(|| (f.clone(), r)))
        .collect();
    Desc {
        p: process_with(&spec),
        files,
    }
}

impl Desc {
    /// Runs syscall `nr`; returns the action and registers, with `eflags` starting with
    /// the carry set (so success must clear it).
    /// The frame of syscall `nr`, with `eflags` starting with the carry set (so success
    /// must clear it) and a marker in `edx`.
    fn regs(&mut self, nr: u32, args: &[u32]) -> Regs32 {
        let mut regs = frame(&mut self.p, nr, args);
        regs.eflags = EFLAGS_CF | 0x200;
        regs.edx = 0xdead_beef;
        regs
    }

    fn call(&mut self, nr: u32, args: &[u32]) -> (SyscallAction, Regs32) {
        let mut regs = self.regs(nr, args);
        let act = run(&mut self.p, &mut regs);
        (act, regs)
    }

    fn ok(&mut self, nr: u32, args: &[u32]) -> (u32, u32) {
        let (act, regs) = self.call(nr, args);
        assert_eq!(act, SyscallAction::Resume);
        assert!(
            !regs.carry(),
            "nr {nr} {args:x?} failed: errno {}",
            regs.eax
        );
        assert_eq!(regs.eflags, 0x200, "other flags kept");
        (regs.eax, regs.edx)
    }

    fn err(&mut self, nr: u32, args: &[u32], e: Errno) {
        let mut regs = self.regs(nr, args);
        let before = proc_state(&self.p, &self.files);
        let before_regs = regs;
        let act = run(&mut self.p, &mut regs);
        assert_eq!(act, SyscallAction::Resume);
        assert!(regs.carry(), "nr {nr} {args:x?} succeeded");
        assert_eq!(regs.eax, u32::from(e.raw()), "nr {nr} {args:x?}");
        assert_failed_with(&before_regs, &regs, e);
        assert!(
            proc_state(&self.p, &self.files) == before,
            "nr {nr} {args:x?}"
        );
    }

    fn put(&mut self, addr: u32, bytes: &[u8]) {
        copyout(&mut self.p.mem, addr, bytes).unwrap();
    }

    fn get(&self, addr: u32, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        copyin(&self.p.mem, addr, &mut b).unwrap();
        b
    }
}

const BUF: u32 = CALLER_DATA;
const IOV: u32 = CALLER_FDS;

fn iovecs(list: &[(u32, u32)]) -> Vec<u8> {
    list.iter()
        .flat_map(|(b, l)| b.to_le_bytes().into_iter().chain(l.to_le_bytes()))
        .collect()
}

#[test]
fn fd_close() {
    let mut d = desc();
    assert_eq!(d.ok(3, &[1]), (0, 0));
    assert!(!d.p.table.lock().is_open(fd(1)));
    assert_eq!(Arc::strong_count(&d.files[1]), 1);
    for bad in [1, 5, 7, 1000, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
        d.err(3, &[bad], Errno::EBADF);
    }
}

#[test]
fn fd_dup() {
    let mut d = desc();
    d.p.table.lock().set_cloexec(fd(2), true).unwrap();
    assert_eq!(d.ok(7, &[2]), (5, 0), "lowest free");
    assert_eq!(d.ok(7, &[0]), (7, 0));
    let t = d.p.table.lock();
    assert!(Arc::ptr_eq(t.file(fd(5)).unwrap(), &d.files[2]));
    assert_eq!(t.get(fd(5)).unwrap().rights(), read_only());
    assert!(!t.cloexec(fd(5)).unwrap());
    drop(t);
    for bad in [8, 0x8000_0000, u32::MAX] {
        d.err(7, &[bad], Errno::EBADF);
    }
}

#[test]
fn fd_replace() {
    let mut d = desc();
    assert_eq!(d.ok(11, &[2, 1]), (0, 0));
    let t = d.p.table.lock();
    assert!(Arc::ptr_eq(t.file(fd(1)).unwrap(), &d.files[2]));
    assert_eq!(t.get(fd(1)).unwrap().rights(), read_only());
    drop(t);
    assert_eq!(Arc::strong_count(&d.files[1]), 1, "old stdout released");
    assert_eq!(d.ok(11, &[3, 3]), (0, 0));
    for (from, to) in [(5, 1), (1, 5), (1, 100), (0x8000_0000, 1), (1, u32::MAX)] {
        d.err(11, &[from, to], Errno::EBADF);
    }
}

#[test]
fn fd_stat_get() {
    let mut d = desc();
    let cases = [
        (0u32, 17u8, stream_rights()),
        (4, 32, d.p.table.lock().get(fd(4)).unwrap().rights()),
        (6, 96, exe_rights()),
    ];
    for (n, ty, r) in cases {
        d.put(BUF, &[0xaa; 40]);
        assert_eq!(d.ok(13, &[n, BUF + 8]), (0, 0));
        let got = d.get(BUF, 40);
        assert_eq!(&got[..8], &[0xaa; 8], "nothing written before");
        assert_eq!(&got[32..], &[0xaa; 8], "nothing written after 24 bytes");
        let st = &got[8..32];
        assert_eq!(st[0], ty);
        assert_eq!(&st[2..4], &[0, 0], "flags");
        assert_eq!(st[8..16], r.base.bits().to_le_bytes());
        assert_eq!(st[16..24], r.inheriting.bits().to_le_bytes());
    }
    d.err(13, &[5, BUF], Errno::EBADF);
    d.err(13, &[0x8000_0000, BUF], Errno::EBADF);
    for bad in [0, 0x1000, 0xffff_fff0, 0xffff_ffff] {
        d.err(13, &[0, bad], Errno::EFAULT);
    }
    // A buffer whose tail is unmapped: EFAULT (a copy-out may leave a prefix written,
    // as the kernel's copyout does).
    let (_, regs) = d.call(13, &[0, BUF + 0x41000 - 8]);
    assert_eq!(
        (regs.carry(), regs.eax),
        (true, u32::from(Errno::EFAULT.raw()))
    );
}

fn fdstat(base: Rights, inheriting: Rights, flags: u16) -> Vec<u8> {
    let mut st = vec![0u8; 24];
    st[2..4].copy_from_slice(&flags.to_le_bytes());
    st[8..16].copy_from_slice(&base.bits().to_le_bytes());
    st[16..24].copy_from_slice(&inheriting.bits().to_le_bytes());
    st
}

#[test]
fn fd_stat_put() {
    let mut d = desc();
    let rights = |d: &Desc, n: i32| d.p.table.lock().get(fd(n)).unwrap().rights();
    // Narrowing: base and inheriting, each a subset.
    d.put(BUF, &fdstat(Rights::empty(), Rights::FD_READ, 0));
    assert_eq!(d.ok(14, &[4, BUF, 2]), (0, 0));
    assert_eq!(
        rights(&d, 4),
        FdRights::new(Rights::empty(), Rights::FD_READ)
    );
    // Same rights again: fine.
    assert_eq!(d.ok(14, &[4, BUF, 2]), (0, 0));
    // Widening base or inheriting: ENOTCAPABLE, nothing changes.
    d.put(BUF, &fdstat(Rights::FILE_OPEN, Rights::FD_READ, 0));
    d.err(14, &[4, BUF, 2], Errno::ENOTCAPABLE);
    d.put(BUF, &fdstat(Rights::empty(), Rights::FD_WRITE, 0));
    d.err(14, &[4, BUF, 2], Errno::ENOTCAPABLE);
    // Bits no right has are widening too.
    let mut st = fdstat(Rights::FD_READ, Rights::empty(), 0);
    st[15] = 0x80;
    d.put(BUF, &st);
    d.err(14, &[2, BUF, 2], Errno::ENOTCAPABLE);
    // Unknown flags: EINVAL, even with a bad pointer.
    for flags in [4u32, 8, 0x100, 0x8000_0002, u32::MAX] {
        d.err(14, &[2, BUF, flags], Errno::EINVAL);
        d.err(14, &[2, 0, flags], Errno::EINVAL);
    }
    // FDSTAT_FLAGS needs FD_STAT_PUT_FLAGS.
    d.put(BUF, &fdstat(Rights::empty(), Rights::empty(), 0));
    d.err(14, &[2, BUF, 1], Errno::ENOTCAPABLE);
    assert_eq!(d.ok(14, &[0, BUF, 1]), (0, 0));
    assert_eq!(
        rights(&d, 0),
        stream_rights(),
        "flags alone keep the rights"
    );
    // Bad descriptor, bad pointer.
    d.err(14, &[5, BUF, 2], Errno::EBADF);
    d.err(14, &[0, 0x1000, 2], Errno::EFAULT);
    d.err(14, &[0, 0xffff_fff0, 2], Errno::EFAULT);
    // No flags at all changes nothing and succeeds.
    assert_eq!(d.ok(14, &[3, BUF, 0]), (0, 0));
    assert_eq!(rights(&d, 3), write_only());
}

#[test]
fn fd_read_scatters_across_iovecs() {
    let mut d = desc();
    d.put(BUF, &[0xee; 64]);
    // 3 bytes, an empty iovec at an unmapped address, 5 bytes, then room for more
    // than is left.
    d.put(
        IOV,
        &iovecs(&[(BUF, 3), (0x1000, 0), (BUF + 10, 5), (BUF + 20, 30)]),
    );
    assert_eq!(d.ok(10, &[0, IOV, 4]), (13, 0));
    assert_eq!(d.get(BUF, 3), b"hel");
    assert_eq!(d.get(BUF + 3, 7), [0xee; 7]);
    assert_eq!(d.get(BUF + 10, 5), b"lo, w");
    assert_eq!(d.get(BUF + 20, 5), b"orld!");
    assert_eq!(d.get(BUF + 25, 5), [0xee; 5]);
    // At end of input: 0.
    assert_eq!(d.ok(10, &[0, IOV, 4]), (0, 0));
    // No iovecs.
    assert_eq!(d.ok(10, &[2, 0xffff_ffff, 0]), (0, 0));
}

#[test]
fn fd_read_errors() {
    let mut d = desc();
    d.put(IOV, &iovecs(&[(BUF, 4)]));
    d.err(10, &[3, IOV, 1], Errno::ENOTCAPABLE);
    d.err(10, &[4, IOV, 1], Errno::ENOTCAPABLE);
    d.err(10, &[5, IOV, 1], Errno::EBADF);
    d.err(10, &[0x8000_0000, IOV, 1], Errno::EBADF);
    d.err(10, &[2, 0x1000, 1], Errno::EFAULT);
    d.err(10, &[2, 0xffff_fffc, 1], Errno::EFAULT);
    // A bad buffer: nothing is delivered to it.
    d.put(IOV, &iovecs(&[(0x1000, 4)]));
    let (_, regs) = d.call(10, &[2, IOV, 1]);
    assert!(regs.carry());
    assert_eq!(regs.eax, u32::from(Errno::EFAULT.raw()));
    d.put(IOV, &iovecs(&[(0xffff_fffe, 4)]));
    let (_, regs) = d.call(10, &[0, IOV, 1]);
    assert_eq!(
        (regs.carry(), regs.eax),
        (true, u32::from(Errno::EFAULT.raw()))
    );
}

#[test]
fn fd_write_gathers_across_iovecs() {
    let mut d = desc();
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 97) as u8).collect();
    d.put(BUF, b"abc");
    d.put(BUF + 100, b"defgh");
    d.put(BUF + 200, &big);
    d.put(
        IOV,
        &iovecs(&[
            (BUF, 3),
            (0xffff_ffff, 0),
            (BUF + 100, 5),
            (BUF + 200, 3000),
        ]),
    );
    assert_eq!(d.ok(16, &[1, IOV, 4]), (3008, 0));
    let mut want = b"abcdefgh".to_vec();
    want.extend_from_slice(&big);
    assert_eq!(d.files[1].output(), want);
    assert_eq!(d.ok(16, &[3, IOV, 1]), (3, 0));
    assert_eq!(d.files[3].output(), b"abc");
    assert_eq!(d.ok(16, &[1, 0, 0]), (0, 0));
}

#[test]
fn fd_write_errors() {
    let mut d = desc();
    d.put(BUF, b"abcd");
    d.put(IOV, &iovecs(&[(BUF, 4)]));
    d.err(16, &[2, IOV, 1], Errno::ENOTCAPABLE);
    d.err(16, &[4, IOV, 1], Errno::ENOTCAPABLE);
    d.err(16, &[5, IOV, 1], Errno::EBADF);
    d.err(16, &[u32::MAX, IOV, 1], Errno::EBADF);
    d.err(16, &[1, 0x1000, 1], Errno::EFAULT);
    d.err(16, &[1, 0xffff_fff8, 2], Errno::EFAULT);
    for iov in [(0x1000u32, 4u32), (0xffff_fffe, 4), (BUF + 0x41000 - 2, 4)] {
        d.put(IOV, &iovecs(&[iov]));
        d.err(16, &[1, IOV, 1], Errno::EFAULT);
        assert!(d.files[1].output().is_empty(), "{iov:x?}");
    }
}

#[test]
fn random_get_fills_from_the_kernel_source() {
    let mut d = desc();
    d.put(BUF, &[0; 1100]);
    assert_eq!(d.ok(42, &[BUF + 1, 1000]), (0, 0));
    // `common::run` serves random_get from the activator's TestRng(0x9e37_79b9_7f4a_7c15).
    assert_eq!(d.get(BUF + 1, 1000), rng_bytes(0x9e37_79b9_7f4a_7c15, 1000));
    assert_eq!(d.get(BUF, 1), [0]);
    assert_eq!(d.get(BUF + 1001, 99), vec![0; 99]);
    assert_eq!(d.ok(42, &[0xffff_ffff, 0]), (0, 0));
    assert_eq!(d.ok(42, &[0, 0]), (0, 0));
    for (buf, len) in [(0x1000u32, 1u32), (0xffff_ffff, 2), (0xffff_fff0, 0x20)] {
        d.err(42, &[buf, len], Errno::EFAULT);
    }
}

#[test]
fn proc_exit_reports_the_value() {
    for rval in [0u32, 1, 42, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
        let mut d = desc();
        let before = snapshot(&d.p);
        let (act, _) = d.call(39, &[rval]);
        assert_eq!(act, SyscallAction::Exit(rval));
        assert_eq!(snapshot(&d.p), before);
    }
}

#[test]
fn return_convention() {
    let mut d = desc();
    // Success: carry cleared, result in eax, edx the second result (0 here); other
    // registers untouched.
    let mut regs = frame(&mut d.p, 7, &[0]);
    regs.eflags = 0x246 | EFLAGS_CF;
    regs.ebx = 9;
    regs.gs_base = 0x1234;
    let before = regs;
    assert_eq!(run(&mut d.p, &mut regs), SyscallAction::Resume);
    let mut want = before;
    want.eax = 5;
    want.edx = 0;
    want.eflags = 0x246;
    assert_eq!(regs, want);
    // Failure: carry set, eax errno, the rest untouched.
    let mut regs = frame(&mut d.p, 3, &[100]);
    regs.eflags = 0x202;
    let before = regs;
    let _ = run(&mut d.p, &mut regs);
    assert_failed_with(&before, &regs, Errno::EBADF);
    assert_eq!(regs.eax, 8);
}
