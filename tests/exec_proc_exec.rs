//! `proc_exec`: its three outcomes, the checks on the executable (decision 7), the order
//! of the checks (stop hook, copy-in, executable), reversibility before the point of no
//! return, and the kill after it.

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, EntryState32, Layout32, read_start_info};
use capexec::exec::{
    AddressSpace, ExecOutcome, ImageActivator, ImageArgs, Process, Protection, Restart,
    SingleThreadEnd, UserAccess, UserMemory, copyin, copyout, proc_exec,
};
use capexec::fdtable::{FdRights, FdTable, FileType, Rights, SharedFdTable, fdinstall_remapped};
use capexec_sim::{SimAddressSpace, minimal_cloudabi_elf};
use common::*;

const LOAD: u32 = 0x0804_8000;

fn exec_with_layout<P>(
    p: &mut P,
    layout: Layout32,
    exe: u32,
    data_len: u32,
    fds_len: u32,
) -> ExecOutcome<EntryState32>
where
    P: Process<File = TFile>,
    P::Memory: AddressSpace + UserMemory<Abi = Cloudabi32>,
{
    let mut rng = TestRng(7);
    let mut act = Cloudabi32Activator::new(layout, &mut rng);
    proc_exec(p, &mut act, exe, CALLER_DATA, data_len, CALLER_FDS, fds_len)
}

/// Writes `data` and `fds` to the caller's memory and runs `proc_exec` directly.
fn exec(p: &mut Proc, exe: u32, data: &[u8], fds: &[u32]) -> ExecOutcome<EntryState32> {
    put(&mut p.mem, data, fds);
    exec_with_layout(
        p,
        Layout32::default(),
        exe,
        data.len() as u32,
        fds.len() as u32,
    )
}

fn put<M: UserMemory<Abi = Cloudabi32>>(mem: &mut M, data: &[u8], fds: &[u32]) {
    copyout(mem, CALLER_DATA, data).unwrap();
    let list: Vec<u8> = fds.iter().flat_map(|v| v.to_le_bytes()).collect();
    copyout(mem, CALLER_FDS, &list).unwrap();
}

/// Standard caller: 0 stdin, 1 stdout, 2 stderr, 3 the executable, 4 a directory,
/// 5 closed, 6 a socket, 7 not passable.
struct World {
    files: Vec<Arc<TFile>>,
    p: Proc,
}

fn world_with_exe(image: Vec<u8>, exe_rights: FdRights) -> World {
    let files = vec![
        TFile::stream("stdin"),
        TFile::stream("stdout"),
        TFile::stream("stderr"),
        TFile::regular("exe", image),
        TFile::directory("dir"),
        TFile::stream("closed"),
        TFile::socket("sock"),
        TFile::unpassable("kq"),
    ];
    let mut spec: Vec<_> = files
        .iter()
        .map(|f| Some((f.clone(), stream_rights())))
        .collect();
    spec[3] = Some((files[3].clone(), exe_rights));
    spec[5] = None;
    World {
        p: process_with(&spec),
        files,
    }
}

fn world() -> World {
    world_with_exe(test_elf(), exe_rights())
}

impl World {
    fn state(&self) -> ProcState {
        proc_state(&self.p, &self.files)
    }

    /// Runs an exec that must fail with `want` and checks the caller is unchanged.
    fn expect_failed(&mut self, exe: u32, data: &[u8], fds: &[u32], want: Errno) {
        put(&mut self.p.mem, data, fds);
        self.expect_failed_raw(exe, data.len() as u32, fds.len() as u32, want);
    }

    fn expect_failed_raw(&mut self, exe: u32, data_len: u32, fds_len: u32, want: Errno) {
        let before = self.state();
        let got = exec_with_layout(&mut self.p, Layout32::default(), exe, data_len, fds_len);
        assert_eq!(
            got,
            ExecOutcome::Failed(want),
            "exe {exe} data_len {data_len:#x} fds_len {fds_len:#x}"
        );
        assert!(
            self.state() == before,
            "exe {exe}: a failed exec changed the caller"
        );
        assert!(!self.p.table.is_locked());
    }
}

// ---- outcome: Replaced ---------------------------------------------------------------

#[test]
fn replaced_installs_the_remapped_table_and_releases_the_old_one() {
    let mut w = world();
    w.p.table.lock().set_cloexec(fd(1), true).unwrap();
    let out = exec(&mut w.p, 3, b"args", &[1, 2, 1]);
    let ExecOutcome::Replaced(entry) = out else {
        panic!("{out:?}")
    };
    assert_eq!(entry.eip, LOAD + 52 + 32);
    assert_eq!(entry.gs_base, entry.esp);
    let snap = snapshot(&w.p);
    let want = vec![
        (0, Arc::as_ptr(&w.files[1]), stream_rights(), false),
        (1, Arc::as_ptr(&w.files[2]), stream_rights(), false),
        (2, Arc::as_ptr(&w.files[1]), stream_rights(), false),
    ];
    assert_eq!(snap, want);
    // Old table released: only the new table and the test hold references.
    assert_eq!(
        strong_counts(&w.files),
        vec![1, 3, 2, 1, 1, 1, 1, 1],
        "stdin stdout stderr exe dir closed sock kq"
    );
    // The new program's memory: argdata where AT_ARGDATA says.
    let info = read_start_info(&w.p.mem, entry.esp).unwrap();
    let mut got = [0u8; 5];
    copyin(&w.p.mem, info.argdata, &mut got).unwrap();
    assert_eq!(&got, b"args\0");
    assert_eq!(info.argdata_len, 4);
    assert_eq!(info.base, 0, "ET_EXEC: AT_BASE 0");
    // The caller's memory is gone.
    assert!(!w.p.mem.is_mapped(CALLER_DATA));
    assert!(!w.p.mem.is_mapped(CALLER_FDS));
}

#[test]
fn executable_is_not_passed_on_unless_listed() {
    let mut w = world();
    let out = exec(&mut w.p, 3, b"", &[0]);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
    assert_eq!(snapshot(&w.p).len(), 1);
    assert_eq!(Arc::strong_count(&w.files[3]), 1, "executable still held");

    let mut w = world();
    let out = exec(&mut w.p, 3, b"", &[3, 0]);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
    let snap = snapshot(&w.p);
    assert_eq!(snap[0].1, Arc::as_ptr(&w.files[3]));
    assert_eq!(snap[0].2, exe_rights());
    assert_eq!(Arc::strong_count(&w.files[3]), 2);
}

#[test]
fn empty_list_leaves_the_new_program_without_descriptors() {
    let mut w = world();
    let out = exec(&mut w.p, 3, b"", &[]);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
    assert!(w.p.table.lock().is_empty());
    assert_eq!(strong_counts(&w.files), vec![1; 8]);
}

fn et_dyn_elf(code: &[u8]) -> Vec<u8> {
    let mut b = minimal_cloudabi_elf(0, code);
    b[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    b
}

#[test]
fn et_dyn_loads_at_the_layout_base_and_reports_it_as_at_base() {
    for dyn_base in [0x0040_0000u32, 0x1000_0000, 0x2345_6000] {
        let mut w = world_with_exe(et_dyn_elf(&[0xcc; 8]), exe_rights());
        put(&mut w.p.mem, b"", &[]);
        let layout = Layout32 {
            dyn_base,
            ..Layout32::default()
        };
        let out = exec_with_layout(&mut w.p, layout, 3, 0, 0);
        let ExecOutcome::Replaced(entry) = out else {
            panic!("{out:?}")
        };
        assert_eq!(entry.eip, dyn_base + 84);
        let info = read_start_info(&w.p.mem, entry.esp).unwrap();
        assert_eq!(info.base, dyn_base);
        assert_eq!(info.phdr, (dyn_base + 52, 1));
        let mut magic = [0u8; 4];
        copyin(&w.p.mem, dyn_base, &mut magic).unwrap();
        assert_eq!(&magic, b"\x7fELF");
        let mut code = [0u8; 8];
        copyin(&w.p.mem, entry.eip, &mut code).unwrap();
        assert_eq!(code, [0xcc; 8]);
        assert!(!w.p.mem.is_mapped(0), "nothing at the linked address 0");
    }
}

// ---- outcome: Failed, the executable ---------------------------------------------------

#[test]
fn executable_descriptor_checks() {
    let no_exec = FdRights::new(Rights::FD_READ | Rights::MEM_MAP_EXEC, Rights::all());
    // (file in slot 3 or none, rights, exe fd, errno)
    let cases: Vec<(Option<Arc<TFile>>, FdRights, u32, Errno)> = vec![
        (None, exe_rights(), 3, Errno::EBADF),
        (
            Some(TFile::regular("e", test_elf())),
            exe_rights(),
            5,
            Errno::EBADF,
        ),
        (
            Some(TFile::regular("e", test_elf())),
            exe_rights(),
            100,
            Errno::EBADF,
        ),
        (
            Some(TFile::regular("e", test_elf())),
            exe_rights(),
            0x7fff_ffff,
            Errno::EBADF,
        ),
        (
            Some(TFile::regular("e", test_elf())),
            exe_rights(),
            0x8000_0000,
            Errno::EBADF,
        ),
        (
            Some(TFile::regular("e", test_elf())),
            exe_rights(),
            u32::MAX,
            Errno::EBADF,
        ),
        (
            Some(TFile::regular("e", test_elf())),
            no_exec,
            3,
            Errno::ENOTCAPABLE,
        ),
        (
            Some(TFile::regular("e", test_elf())),
            FdRights::new(Rights::empty(), Rights::PROC_EXEC),
            3,
            Errno::ENOTCAPABLE,
        ),
        // The right is checked before the type.
        (Some(TFile::directory("d")), no_exec, 3, Errno::ENOTCAPABLE),
        (Some(TFile::socket("s")), no_exec, 3, Errno::ENOTCAPABLE),
        (Some(TFile::directory("d")), exe_rights(), 3, Errno::EACCES),
        (Some(TFile::stream("chr")), exe_rights(), 3, Errno::EACCES),
        (
            Some(typed("blk", FileType::BlockDevice)),
            exe_rights(),
            3,
            Errno::EACCES,
        ),
        (
            Some(typed("lnk", FileType::SymbolicLink)),
            exe_rights(),
            3,
            Errno::EACCES,
        ),
        (Some(TFile::socket("s")), exe_rights(), 3, Errno::EINVAL),
        (
            Some(typed("dg", FileType::SocketDgram)),
            exe_rights(),
            3,
            Errno::EINVAL,
        ),
        (
            Some(typed("pd", FileType::Process)),
            exe_rights(),
            3,
            Errno::EINVAL,
        ),
        (
            Some(typed("shm", FileType::SharedMemory)),
            exe_rights(),
            3,
            Errno::EINVAL,
        ),
        (
            Some(typed("unk", FileType::Unknown)),
            exe_rights(),
            3,
            Errno::EINVAL,
        ),
    ];
    for (file, rights, exe, want) in cases {
        let out = TFile::stream("out");
        let mut files = vec![out.clone()];
        let mut spec = vec![Some((out.clone(), stream_rights())), None, None];
        if let Some(f) = &file {
            files.push(f.clone());
            spec.push(Some((f.clone(), rights)));
        }
        let mut w = World {
            p: process_with(&spec),
            files,
        };
        w.expect_failed(exe, b"d", &[0], want);
    }
}

/// Patches of the test image that make it something the activator must refuse.
fn bad_images() -> Vec<(&'static str, Vec<u8>)> {
    let good = test_elf();
    let patch = |at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    // A second program header: PT_INTERP, placed where the "code" starts.
    let with_second_ph = |p_type: u32| {
        let mut ph = [0u8; 32];
        ph[0..4].copy_from_slice(&p_type.to_le_bytes());
        ph[4..8].copy_from_slice(&84u32.to_le_bytes());
        ph[16..20].copy_from_slice(&1u32.to_le_bytes());
        ph[20..24].copy_from_slice(&1u32.to_le_bytes());
        let mut b = minimal_cloudabi_elf(LOAD, &ph);
        b[44..46].copy_from_slice(&2u16.to_le_bytes());
        b
    };
    vec![
        ("empty file", Vec::new()),
        ("shell script", b"#!/bin/sh\necho hi\n".to_vec()),
        ("bad magic", patch(1, b"XLF")),
        ("OSABI SysV", patch(7, &[0])),
        ("OSABI FreeBSD", patch(7, &[9])),
        ("OSABI Linux", patch(7, &[3])),
        ("ELF64 class", patch(4, &[2])),
        ("class none", patch(4, &[0])),
        ("big endian", patch(5, &[2])),
        ("x86-64 machine", patch(18, &62u16.to_le_bytes())),
        ("ARM machine", patch(18, &40u16.to_le_bytes())),
        ("ET_REL", patch(16, &1u16.to_le_bytes())),
        ("ET_CORE", patch(16, &4u16.to_le_bytes())),
        ("no program headers", patch(44, &0u16.to_le_bytes())),
        ("phentsize 40", patch(42, &40u16.to_le_bytes())),
        ("phoff past the end", patch(28, &0x1000u32.to_le_bytes())),
        ("only PT_NULL", patch(52, &0u32.to_le_bytes())),
        ("PT_INTERP present", with_second_ph(3)),
        ("truncated in e_ident", good[..10].to_vec()),
        ("truncated in the header", good[..51].to_vec()),
        ("truncated in the program header", good[..60].to_vec()),
        ("truncated in the segment", good[..good.len() - 1].to_vec()),
        ("segment larger than the file", {
            let mut b = good.clone();
            let big = (good.len() as u32 + 4096).to_le_bytes();
            b[52 + 16..52 + 20].copy_from_slice(&big); // p_filesz
            b[52 + 20..52 + 24].copy_from_slice(&big); // p_memsz
            b
        }),
    ]
}

#[test]
fn images_the_activator_refuses_are_enoexec_and_reversible() {
    for (what, image) in bad_images() {
        let mut w = world_with_exe(image, exe_rights());
        put(&mut w.p.mem, b"abc", &[0, 1]);
        let before = w.state();
        let out = exec_with_layout(&mut w.p, Layout32::default(), 3, 3, 2);
        assert_eq!(out, ExecOutcome::Failed(Errno::ENOEXEC), "{what}");
        assert!(w.state() == before, "{what}: caller changed");
    }
}

#[test]
fn harmless_second_program_header_is_accepted() {
    // Same as the PT_INTERP image but PT_NOTE: proves the refusal above is about
    // PT_INTERP.
    let mut ph = [0u8; 32];
    ph[0..4].copy_from_slice(&4u32.to_le_bytes());
    let mut b = minimal_cloudabi_elf(LOAD, &ph);
    b[44..46].copy_from_slice(&2u16.to_le_bytes());
    let mut w = world_with_exe(b, exe_rights());
    let out = exec(&mut w.p, 3, b"", &[]);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
}

// ---- order -----------------------------------------------------------------------------

#[test]
fn copy_in_errors_come_before_executable_errors() {
    let mut w = world();
    // (exe fd: 5 closed / 4 directory / 6 socket; data_len; fds) -> copy-in's errno.
    w.expect_failed_raw(5, capexec::abi::cloudabi32::ARG_MAX, 0, Errno::E2BIG);
    w.expect_failed_raw(4, 0, 9, Errno::E2BIG);
    w.expect_failed(6, b"", &[5], Errno::EBADF);
    w.expect_failed(5, b"", &[7], Errno::EINVAL);
    w.expect_failed(4, b"", &[0x8000_0000], Errno::EBADF);
    // Data fault, executable not open.
    w.p.mem.unmap(CALLER_DATA, 0x1000);
    w.expect_failed_raw(5, 16, 0, Errno::EFAULT);
    // Data fault, executable lacks PROC_EXEC (descriptor 0 is a stream).
    w.expect_failed_raw(0, 1, 0, Errno::EFAULT);
}

#[test]
fn copy_in_errors_come_before_enoexec() {
    let mut w = world_with_exe(b"not an image".to_vec(), exe_rights());
    w.expect_failed(3, b"", &[7], Errno::EINVAL);
    w.expect_failed_raw(3, 0, 100, Errno::E2BIG);
    w.expect_failed(3, b"", &[0], Errno::ENOEXEC);
}

#[test]
fn the_executable_is_checked_on_the_callers_table_not_the_new_one() {
    // Descriptor 3 is not in the list (the new table would not have it), and descriptor
    // 0 of the list is a stream (the new table's 3 would not exist either).
    let mut w = world();
    let out = exec(&mut w.p, 3, b"", &[0]);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
}

// ---- single-threading ------------------------------------------------------------------

/// A process with other threads: `busy` when another thread is already single-threading
/// it; records each begin and each end.
struct Threads {
    p: Proc,
    busy: bool,
    begins: usize,
    ends: Vec<SingleThreadEnd>,
    /// `Process::fd_table_exclusive`: the exec moves the descriptors it passes.
    exclusive: bool,
    /// The argument buffer kept between execs, and how often it was taken and put back.
    arg_buffer: Vec<u8>,
    takes: usize,
    puts: usize,
}

impl Threads {
    fn new(p: Proc, busy: bool) -> Threads {
        Threads {
            p,
            busy,
            begins: 0,
            ends: Vec::new(),
            exclusive: false,
            arg_buffer: Vec::new(),
            takes: 0,
            puts: 0,
        }
    }
}

impl Process for Threads {
    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = SimAddressSpace;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn single_thread_begin(&mut self) -> Result<(), Restart> {
        self.begins += 1;
        if self.busy { Err(Restart) } else { Ok(()) }
    }
    fn single_thread_end(&mut self, how: SingleThreadEnd) {
        self.ends.push(how);
    }
    fn fd_table(&self) -> &SharedFdTable<Arc<TFile>> {
        &self.p.table
    }
    fn memory(&self) -> &SimAddressSpace {
        &self.p.mem
    }
    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.p.mem
    }
    fn install_fd_table(&mut self, new: FdTable<Arc<TFile>>) -> FdTable<Arc<TFile>> {
        fdinstall_remapped(&self.p.table, new)
    }
    fn fd_table_exclusive(&self) -> bool {
        self.exclusive
    }
    fn take_arg_buffer(&mut self) -> Vec<u8> {
        self.takes += 1;
        std::mem::take(&mut self.arg_buffer)
    }
    fn put_arg_buffer(&mut self, buf: Vec<u8>) {
        self.puts += 1;
        self.arg_buffer = buf;
    }
}

/// The reference activator, but its first phase closes descriptor 2 of the caller
/// first (as a thread the kernel did not stop could, between the copy-in and the point
/// of no return).
struct ClosesTwo<'a>(Cloudabi32Activator<'a>);

impl<P> ImageActivator<P> for ClosesTwo<'_>
where
    P: Process<File = TFile, Handle = Arc<TFile>>,
    P::Memory: AddressSpace + UserMemory<Abi = Cloudabi32>,
{
    type PreparedImage = <Cloudabi32Activator<'static> as ImageActivator<P>>::PreparedImage;
    type Entry = EntryState32;
    fn prepare(
        &mut self,
        p: &P,
        exe: &Arc<TFile>,
        args: &ImageArgs<Arc<TFile>>,
    ) -> Result<Self::PreparedImage, Errno> {
        let closed = p.fd_table().lock().close(fd(2));
        drop(closed);
        self.0.prepare(p, exe, args)
    }
    fn activate(
        &mut self,
        p: &mut P,
        prepared: Self::PreparedImage,
        exe: &Arc<TFile>,
        args: &ImageArgs<Arc<TFile>>,
    ) -> Result<EntryState32, Errno> {
        self.0.activate(p, prepared, exe, args)
    }
}

/// An activator that must not be reached.
struct Unreachable;

impl<P: Process + ?Sized> ImageActivator<P> for Unreachable {
    type PreparedImage = ();
    type Entry = ();
    fn prepare(&mut self, _: &P, _: &P::Handle, _: &ImageArgs<P::Handle>) -> Result<(), Errno> {
        panic!("prepare reached")
    }
    fn activate(
        &mut self,
        _: &mut P,
        _: (),
        _: &P::Handle,
        _: &ImageArgs<P::Handle>,
    ) -> Result<(), Errno> {
        panic!("activate reached")
    }
}

/// An activator whose second phase faults (after the point of no return).
struct FaultsAfterThePoint;

impl<P: Process + ?Sized> ImageActivator<P> for FaultsAfterThePoint {
    type PreparedImage = ();
    type Entry = ();
    fn prepare(&mut self, _: &P, _: &P::Handle, _: &ImageArgs<P::Handle>) -> Result<(), Errno> {
        Ok(())
    }
    fn activate(
        &mut self,
        _: &mut P,
        _: (),
        _: &P::Handle,
        _: &ImageArgs<P::Handle>,
    ) -> Result<(), Errno> {
        Err(Errno::EFAULT)
    }
}

/// An exec of descriptor 3 with `data_len` bytes and `fds_len` descriptors from the
/// caller's memory, through [`FaultsAfterThePoint`].
fn exec_faulting(t: &mut Threads, data_len: u32, fds_len: u32) -> ExecOutcome<()> {
    proc_exec(
        t,
        &mut FaultsAfterThePoint,
        3,
        CALLER_DATA,
        data_len,
        CALLER_FDS,
        fds_len,
    )
}

#[test]
fn another_single_threading_thread_restarts_the_call_before_any_check() {
    let w = world();
    let files = w.files.clone();
    let mut t = Threads::new(w.p, true);
    let before = proc_state(&t.p, &files);
    // Every other argument is bad too.
    for (exe, data_len, fds_len) in [(5, u32::MAX, u32::MAX), (4, 0, 100), (3, 0, 0)] {
        let out = proc_exec(&mut t, &mut Unreachable, exe, 0, data_len, 0, fds_len);
        assert_eq!(out, ExecOutcome::Restart);
    }
    assert_eq!(t.begins, 3);
    assert_eq!(t.ends, [], "nothing began, nothing ends");
    assert!(proc_state(&t.p, &files) == before);
}

#[test]
fn each_exec_ends_single_threading_once() {
    let w = world();
    let mut t = Threads::new(w.p, false);
    put(&mut t.p.mem, b"", &[5]);
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    for (exe, fds_len, want) in [
        (3, 1, Errno::EBADF),       // list names the closed slot
        (6, 0, Errno::ENOTCAPABLE), // socket without PROC_EXEC
        (3, 100, Errno::E2BIG),     // list too long
    ] {
        let out = proc_exec(&mut t, &mut act, exe, CALLER_DATA, 0, CALLER_FDS, fds_len);
        assert_eq!(out, ExecOutcome::Failed(want));
    }
    assert_eq!(t.begins, 3);
    assert_eq!(
        t.ends,
        [SingleThreadEnd::Resume; 3],
        "failures let the threads run on"
    );
    let out = proc_exec(&mut t, &mut act, 3, CALLER_DATA, 0, CALLER_FDS, 0);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
    assert_eq!(t.begins, 4);
    assert_eq!(
        t.ends[3..],
        [SingleThreadEnd::Exit],
        "a new image: the threads exit"
    );
}

#[test]
fn a_kill_after_the_point_of_no_return_ends_with_exit() {
    let w = world();
    let mut t = Threads::new(w.p, false);
    put(&mut t.p.mem, b"", &[]);
    let out = exec_faulting(&mut t, 0, 0);
    assert_eq!(out, ExecOutcome::Killed(Errno::EFAULT));
    assert_eq!((t.begins, &t.ends[..]), (1, &[SingleThreadEnd::Exit][..]));
}

// ---- moving the descriptors (`Process::fd_table_exclusive`) ------------------------------

/// The standard caller as a process of one running thread, moving descriptors when
/// `exclusive`, and its files.
fn world_threads(exclusive: bool) -> (Vec<Arc<TFile>>, Threads) {
    let World { files, p } = world();
    let mut t = Threads::new(p, false);
    t.exclusive = exclusive;
    (files, t)
}

fn open_fds(t: &FdTable<Arc<TFile>>) -> Vec<i32> {
    t.iter().map(|(n, _)| n.raw()).collect()
}

#[test]
fn a_table_changed_during_a_moving_exec_restarts_it_with_nothing_moved() {
    let (files, mut t) = world_threads(true);
    put(&mut t.p.mem, b"hi", &[0, 1, 6, 1]);
    let mut rng = TestRng(1);
    let mut act = ClosesTwo(Cloudabi32Activator::new(Layout32::default(), &mut rng));
    let out = proc_exec(&mut t, &mut act, 3, CALLER_DATA, 2, CALLER_FDS, 4);
    assert_eq!(out, ExecOutcome::Restart);
    assert_eq!(t.ends, [SingleThreadEnd::Resume]);
    // The caller has its table, less what the activator closed, and every reference
    // the exec took is released: each file is held by `files` and the caller's table.
    let mut want = vec![2, 2, 1, 2, 2, 1, 2, 2];
    assert_eq!(strong_counts(&files), want);
    assert_eq!(open_fds(&t.p.table.lock()), [0, 1, 3, 4, 6, 7]);
    // Restarted, with nothing changing the table: the descriptors move.
    let out = exec_with_layout(&mut t, Layout32::default(), 3, 2, 4);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
    want = vec![2, 3, 1, 1, 1, 1, 2, 1];
    assert_eq!(strong_counts(&files), want);
    let got: Vec<*const TFile> =
        t.p.table
            .lock()
            .iter()
            .map(|(_, e)| Arc::as_ptr(e.file()))
            .collect();
    let named: Vec<*const TFile> = [0, 1, 6, 1]
        .iter()
        .map(|&i| Arc::as_ptr(&files[i]))
        .collect();
    assert_eq!(got, named);
}

#[test]
fn a_kill_after_a_moving_exec_leaves_the_new_table_for_the_exit_path() {
    let (files, mut t) = world_threads(true);
    put(&mut t.p.mem, b"", &[6, 0]);
    let out = exec_faulting(&mut t, 0, 2);
    assert_eq!(out, ExecOutcome::Killed(Errno::EFAULT));
    assert_eq!(t.ends, [SingleThreadEnd::Exit]);
    // The new table was installed at the point of no return and the old one released.
    assert_eq!(open_fds(&t.p.table.lock()), [0, 1]);
    assert_eq!(strong_counts(&files), [2, 1, 1, 1, 1, 1, 2, 1]);
    assert!(!t.p.table.is_locked());
    drop(t);
    assert_eq!(strong_counts(&files), [1; 8]);
}

#[test]
fn moving_and_copying_execs_leave_the_same_caller() {
    let lists: [&[u32]; 4] = [&[], &[3], &[0, 1, 2, 1, 0], &[6, 4, 3, 2, 1, 0]];
    for fds in lists {
        let mut states = Vec::new();
        for exclusive in [false, true] {
            let (files, mut t) = world_threads(exclusive);
            put(&mut t.p.mem, b"data", fds);
            let out = exec_with_layout(&mut t, Layout32::default(), 3, 4, fds.len() as u32);
            assert!(matches!(out, ExecOutcome::Replaced(_)), "{fds:?}: {out:?}");
            // Files by their place in `files` (the two worlds' files differ).
            let (table, counts, memory) = proc_state(&t.p, &files);
            let table: Vec<_> = table
                .into_iter()
                .map(|(n, f, r, c)| (n, files.iter().position(|g| Arc::as_ptr(g) == f), r, c))
                .collect();
            states.push((table, counts, memory));
        }
        assert!(states[0] == states[1], "{fds:?}");
    }
}

// ---- the argument buffer (`Process::take_arg_buffer`) ----------------------------------------

#[test]
fn the_argument_buffer_is_taken_and_put_back_once_per_exec_whatever_the_outcome() {
    let (files, mut t) = world_threads(false);
    t.arg_buffer = Vec::with_capacity(64);
    let kept = t.arg_buffer.as_ptr();
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    // Refused at the copy-in (the list names the closed slot 5): the data was copied.
    put(&mut t.p.mem, b"hello", &[5]);
    let out = proc_exec(&mut t, &mut act, 3, CALLER_DATA, 5, CALLER_FDS, 1);
    assert_eq!(out, ExecOutcome::Failed(Errno::EBADF));
    assert_eq!((t.takes, t.puts), (1, 1));
    assert_eq!(t.arg_buffer, b"hello\0");
    // Refused by the executable check.
    let out = proc_exec(&mut t, &mut act, 6, CALLER_DATA, 5, CALLER_FDS, 0);
    assert_eq!(out, ExecOutcome::Failed(Errno::ENOTCAPABLE));
    assert_eq!((t.takes, t.puts), (2, 2));
    // Killed after the point of no return.
    let out = exec_faulting(&mut t, 2, 0);
    assert_eq!(out, ExecOutcome::Killed(Errno::EFAULT));
    assert_eq!((t.takes, t.puts), (3, 3));
    assert_eq!(t.arg_buffer, b"he\0");
    // The same allocation every time: it was large enough.
    assert_eq!(t.arg_buffer.as_ptr(), kept);
    assert_eq!(t.arg_buffer.capacity(), 64);
    drop(files);

    // Replaced, with more data than the buffer holds: it grows (fallibly) and the new
    // program gets the data.
    let (files, mut t) = world_threads(false);
    t.arg_buffer = Vec::with_capacity(4);
    let data: Vec<u8> = (0..100).collect();
    put(&mut t.p.mem, &data, &[0]);
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    let out = proc_exec(&mut t, &mut act, 3, CALLER_DATA, 100, CALLER_FDS, 1);
    let ExecOutcome::Replaced(entry) = out else {
        panic!("{out:?}")
    };
    assert_eq!((t.takes, t.puts), (1, 1));
    assert_eq!(&t.arg_buffer[..100], &data[..]);
    assert!(t.arg_buffer.capacity() >= 101);
    let info = read_start_info(&t.p.mem, entry.esp).unwrap();
    assert_eq!(info.argdata_len, 100);
    let mut on_stack = vec![0; 100];
    copyin(&t.p.mem, info.argdata, &mut on_stack).unwrap();
    assert_eq!(on_stack, data);
    drop(files);
}

// ---- reversibility --------------------------------------------------------------------------

#[test]
fn activator_refusal_after_the_table_was_built_frees_it() {
    // The stack does not fit the layout: the activator fails in its first phase after
    // the remapped table (holding references) exists.
    let mut w = world();
    let before = w.state();
    put(&mut w.p.mem, &[1; 5000], &[0, 1, 2, 1, 0]);
    let layout = Layout32 {
        stack_size: 4096,
        ..Layout32::default()
    };
    let out = exec_with_layout(&mut w.p, layout, 3, 5000, 5);
    assert!(matches!(out, ExecOutcome::Failed(_)), "{out:?}");
    // Memory now also holds the data written above; compare table and counts.
    let after = w.state();
    assert_eq!(after.0, before.0);
    assert_eq!(after.1, before.1);
}

// ---- outcome: Killed -------------------------------------------------------------------------

/// An address space that can refuse to map, or map read-only, at one address.
struct FaultMem {
    sim: SimAddressSpace,
    refuse_map_at: Option<u32>,
    readonly_at: Option<u32>,
    resets: usize,
}

impl UserMemory for FaultMem {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.sim.read_user(addr, buf)
    }
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        self.sim.write_user(addr, data)
    }
    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        self.sim.check_access(addr, len, access)
    }
}

impl AddressSpace for FaultMem {
    fn reset(&mut self) {
        self.resets += 1;
        self.sim.reset();
    }
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        if self.refuse_map_at == Some(addr) {
            return Err(Errno::ENOMEM);
        }
        if self.readonly_at == Some(addr) {
            self.sim.map_readonly(addr, len);
            return Ok(());
        }
        self.sim.map_region(addr, len, prot)
    }
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.sim.protect_region(addr, len, prot)
    }
}

struct FaultProc {
    table: SharedFdTable<Arc<TFile>>,
    mem: FaultMem,
}

impl Process for FaultProc {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = FaultMem;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<TFile>> {
        &self.table
    }
    fn memory(&self) -> &FaultMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut FaultMem {
        &mut self.mem
    }
}

#[test]
fn fault_after_the_point_of_no_return_kills_and_frees_the_new_table() {
    let l = Layout32::default();
    let stack_bottom = l.stack_top - l.stack_size;
    // (refuse map at, read-only at, expected errno)
    let cases = [
        (Some(stack_bottom), None, Errno::ENOMEM), // stack mapping refused
        (Some(LOAD), None, Errno::ENOMEM),         // image mapping refused
        (None, Some(stack_bottom), Errno::EFAULT), // stack copy-out faults
        (None, Some(LOAD), Errno::EFAULT),         // segment copy-out faults
    ];
    for (refuse, ro, want) in cases {
        let files = vec![
            TFile::stream("a"),
            TFile::stream("b"),
            TFile::regular("exe", test_elf()),
        ];
        let spec = vec![
            Some((files[0].clone(), stream_rights())),
            Some((files[1].clone(), stream_rights())),
            Some((files[2].clone(), exe_rights())),
        ];
        let mut sim = SimAddressSpace::new();
        sim.map(CALLER_DATA, 0x1000);
        sim.map(CALLER_FDS, 0x1000);
        let mut p = FaultProc {
            table: SharedFdTable::new(table_with(&spec)),
            mem: FaultMem {
                sim,
                refuse_map_at: refuse,
                readonly_at: ro,
                resets: 0,
            },
        };
        drop(spec);
        put(&mut p.mem, b"xy", &[1, 0, 2]);
        let snap_before: Vec<_> = p
            .table
            .lock()
            .iter()
            .map(|(f, e)| (f.raw(), Arc::as_ptr(e.file()), e.rights()))
            .collect();
        let counts_before = strong_counts(&files);
        let out = exec_with_layout(&mut p, l, 2, 2, 3);
        assert_eq!(out, ExecOutcome::Killed(want), "{refuse:x?} {ro:x?}");
        assert_eq!(p.mem.resets, 1, "the old image was destroyed");
        // The remapped table was freed; the old one is still installed, for the exit
        // path.
        assert_eq!(strong_counts(&files), counts_before);
        let snap_after: Vec<_> = p
            .table
            .lock()
            .iter()
            .map(|(f, e)| (f.raw(), Arc::as_ptr(e.file()), e.rights()))
            .collect();
        assert_eq!(snap_after, snap_before);
        assert!(!p.table.is_locked());
        // The exit path releases everything.
        drop(p);
        assert_eq!(strong_counts(&files), vec![1, 1, 1]);
    }
}

#[test]
fn no_fault_no_kill_with_the_same_fault_memory() {
    // Control for the test above: the same process without an injected fault execs.
    let files = [TFile::stream("a"), TFile::regular("exe", test_elf())];
    let spec = vec![
        Some((files[0].clone(), stream_rights())),
        Some((files[1].clone(), exe_rights())),
    ];
    let mut sim = SimAddressSpace::new();
    sim.map(CALLER_DATA, 0x1000);
    sim.map(CALLER_FDS, 0x1000);
    let mut p = FaultProc {
        table: SharedFdTable::new(table_with(&spec)),
        mem: FaultMem {
            sim,
            refuse_map_at: None,
            readonly_at: None,
            resets: 0,
        },
    };
    drop(spec);
    put(&mut p.mem, b"xy", &[0]);
    let out = exec_with_layout(&mut p, Layout32::default(), 1, 2, 1);
    assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
    assert_eq!(p.table.lock().len(), 1);
    assert_eq!(strong_counts(&files), vec![2, 1]);
}
