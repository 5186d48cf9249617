//! Everything an exec can refuse is refused before its point of no return: the image is
//! read completely and every segment's placement is checked in `prepare`, so that after
//! the old address space is gone only mapping and copying of bytes already in kernel
//! memory remain. Also the `map_region` / `protect_region` contract for segments that
//! share a page.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use capexec::Errno;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, Layout32, SyscallAction};
use capexec::exec::{
    AddressSpace, ElfImage, ExecOutcome, ImageFile, Process, Protection, UserAccess, UserMemory,
    copyin, proc_exec,
};
use capexec::fdtable::{FdTable, File, FileType, SharedFdTable};
use capexec_sim::{MemImage, SimAddressSpace, read_slice_at};
use common::*;

const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// One `PT_LOAD` of a test image: where, how big in memory, its file bytes, its flags.
#[derive(Clone)]
struct Seg {
    vaddr: u32,
    memsz: u32,
    data: Vec<u8>,
    flags: u32,
}

fn seg(vaddr: u32, memsz: u32, data: Vec<u8>, flags: u32) -> Seg {
    Seg {
        vaddr,
        memsz,
        data,
        flags,
    }
}

/// A static ELF32 i386 CloudABI image with `segs` in this order, entry at the first
/// segment; each segment's bytes follow the headers in order. `cut` bytes are removed
/// from the end of the file.
fn image(segs: &[Seg], cut: usize) -> Vec<u8> {
    let mut v = vec![0x7f, b'E', b'L', b'F', 1, 1, 1, 17, 0, 0, 0, 0, 0, 0, 0, 0];
    let h16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let h32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    h16(&mut v, 2); // ET_EXEC
    h16(&mut v, 3); // EM_386
    h32(&mut v, 1);
    h32(&mut v, segs[0].vaddr);
    h32(&mut v, 52); // e_phoff
    h32(&mut v, 0);
    h32(&mut v, 0);
    h16(&mut v, 52);
    h16(&mut v, 32);
    h16(&mut v, segs.len() as u16);
    h16(&mut v, 40);
    h16(&mut v, 0);
    h16(&mut v, 0);
    let mut off = 52 + 32 * segs.len() as u32;
    for s in segs {
        h32(&mut v, 1); // PT_LOAD
        h32(&mut v, off);
        h32(&mut v, s.vaddr);
        h32(&mut v, s.vaddr);
        h32(&mut v, s.data.len() as u32);
        h32(&mut v, s.memsz);
        h32(&mut v, s.flags);
        h32(&mut v, 0x1000);
        off += s.data.len() as u32;
    }
    for s in segs {
        v.extend_from_slice(&s.data);
    }
    v.truncate(v.len() - cut);
    v
}

fn bytes(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| seed ^ (i as u8).wrapping_mul(7)).collect()
}

/// A good text segment, so that the image is refused for the segment under test only.
fn text() -> Seg {
    seg(0x0804_8000, 0x100, bytes(1, 0x100), R | X)
}

// ---- placement and truncation: ENOEXEC, the caller untouched ----------------------------

/// Where the default layout puts things.
const STACK_TOP: u32 = 0xbfc0_0000;
const STACK_BOTTOM: u32 = STACK_TOP - (1 << 20);
const USER_TOP: u32 = 0xc000_0000;
const VDSO: u32 = 0xbfe0_0000;

fn refused_images() -> Vec<(&'static str, Vec<u8>)> {
    let d = || bytes(2, 0x10);
    vec![
        (
            "across the stack's bottom",
            image(&[text(), seg(STACK_BOTTOM - 0x1000, 0x2000, d(), R | W)], 0),
        ),
        (
            "inside the stack",
            image(&[text(), seg(STACK_BOTTOM + 0x8000, 0x10, d(), R | W)], 0),
        ),
        (
            "bss reaching the stack's first page",
            image(&[text(), seg(STACK_BOTTOM - 0x10, 0x11, d(), R | W)], 0),
        ),
        (
            "last byte in the stack's last page",
            image(&[text(), seg(STACK_TOP - 1, 1, vec![9], R)], 0),
        ),
        (
            "at the kernel half",
            image(&[text(), seg(USER_TOP, 0x10, d(), R | W)], 0),
        ),
        (
            "across the kernel half",
            image(&[text(), seg(USER_TOP - 0x800, 0x1000, d(), R | W)], 0),
        ),
        (
            "over the vDSO",
            image(&[text(), seg(VDSO + 0x800, 0x10, d(), R | W)], 0),
        ),
        (
            "in the last page of 4 GiB",
            image(&[text(), seg(0xffff_f000, 0x1000, d(), R)], 0),
        ),
        (
            "at address 0",
            image(&[seg(0, 0x100, bytes(3, 0x100), R | X)], 0),
        ),
        (
            "in the first page",
            image(&[text(), seg(0xff0, 0x10, d(), R | W)], 0),
        ),
        (
            "truncated in the last segment",
            image(
                &[text(), seg(0x0804_9000, 0x1000, bytes(4, 0x800), R | W)],
                1,
            ),
        ),
        (
            "truncated in the first segment",
            image(
                &[text(), seg(0x0804_9000, 0x1000, bytes(4, 0x800), R | W)],
                0x900,
            ),
        ),
    ]
}

#[test]
fn misplaced_and_truncated_images_are_enoexec_and_leave_the_caller_untouched() {
    for (what, bytes) in refused_images() {
        let exe = TFile::regular("exe", bytes);
        let stdout = TFile::stream("stdout");
        let files = [stdout.clone(), exe.clone()];
        let mut p = process_with(&[
            Some((stdout.clone(), stream_rights())),
            Some((exe.clone(), exe_rights())),
        ]);
        let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
        let before = proc_state(&p, &files);
        let eip = regs.eip;
        assert_eq!(run(&mut p, &mut regs), SyscallAction::Resume, "{what}");
        assert!(regs.carry(), "{what}");
        assert_eq!(
            Errno::from_raw(regs.eax as u16),
            Some(Errno::ENOEXEC),
            "{what}"
        );
        assert_eq!(regs.eip, eip, "{what}");
        assert_eq!(proc_state(&p, &files), before, "{what}");
    }
}

#[test]
fn segments_next_to_the_stack_and_below_the_kernel_half_are_accepted() {
    let ok = [
        seg(STACK_BOTTOM - 0x1000, 0x1000, bytes(5, 0x20), R | W),
        seg(STACK_TOP, 0x10, bytes(6, 0x10), R | W),
        seg(USER_TOP - 0x1000, 0x1000, bytes(7, 0x20), R),
    ];
    for s in ok {
        let exe = TFile::regular("exe", image(&[text(), s.clone()], 0));
        let stdout = TFile::stream("stdout");
        let mut p = process_with(&[
            Some((stdout.clone(), stream_rights())),
            Some((exe.clone(), exe_rights())),
        ]);
        let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
        let action = run(&mut p, &mut regs);
        assert!(
            matches!(action, SyscallAction::Exec(_)),
            "{:#x}: {action:?}",
            s.vaddr
        );
        let mut got = vec![0u8; s.data.len()];
        copyin(&p.mem, s.vaddr, &mut got).unwrap();
        assert_eq!(got, s.data);
    }
}

#[test]
fn check_placement_works_in_whole_pages() {
    let parsed = |s: Seg| ElfImage::parse(&MemImage(image(&[s], 0)), 0).unwrap();
    let stack = [(0x1_0000, 0x2_0000)];
    let cases = [
        // (vaddr, memsz, accepted)
        (0x2_0000, 1, true),
        (0x1_ffff, 1, false),
        (0x0_ffff, 1, true),
        (0x0_ffff, 2, false),
        (0x0_f000, 0x1000, true),
        (0x0_f000, 0x1001, false),
        (0x2_0000 - 0x1000, 0x10, false),
        (0x2_1000, 0x10, true),
        (0x3000_0000 - 0x1000, 0x1000, true),
        (0x3000_0000 - 0x1000, 0x1001, false),
        (0x3000_0000 - 1, 1, true),
        (0x3000_0000, 1, false),
    ];
    for (vaddr, memsz, accepted) in cases {
        let img = parsed(seg(vaddr, memsz, vec![], R));
        let got = img.check_placement(0x1000, 0x3000_0000, &stack);
        let want = if accepted {
            Ok(())
        } else {
            Err(Errno::ENOEXEC)
        };
        assert_eq!(got, want, "{vaddr:#x}+{memsz:#x}");
    }
}

// ---- no read of the image after the point of no return ----------------------------------

/// The moment the old address space is destroyed, seen by both the file and the memory.
type Ponr = Arc<AtomicBool>;

/// An executable that counts its reads, before and after the point of no return, and
/// fails with `EIO` when a read touches `eio_at`.
struct CountingImage {
    bytes: Vec<u8>,
    ponr: Ponr,
    reads_before: AtomicUsize,
    reads_after: AtomicUsize,
    eio_at: Option<u64>,
}

impl File for CountingImage {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

impl ImageFile for CountingImage {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let c = if self.ponr.load(Ordering::SeqCst) {
            &self.reads_after
        } else {
            &self.reads_before
        };
        c.fetch_add(1, Ordering::SeqCst);
        if let Some(at) = self.eio_at {
            if offset <= at && at < offset + buf.len() as u64 {
                return Err(Errno::EIO);
            }
        }
        Ok(read_slice_at(&self.bytes, offset, buf))
    }
}

/// A simulated address space whose `reset` marks the point of no return.
struct MarkingMem {
    sim: SimAddressSpace,
    ponr: Ponr,
}

impl UserMemory for MarkingMem {
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

impl AddressSpace for MarkingMem {
    fn reset(&mut self) {
        self.ponr.store(true, Ordering::SeqCst);
        self.sim.reset();
    }
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.sim.map_region(addr, len, prot)
    }
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.sim.protect_region(addr, len, prot)
    }
}

struct ImageProc {
    table: SharedFdTable<Arc<CountingImage>>,
    mem: MarkingMem,
}

impl Process for ImageProc {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = CountingImage;
    type Handle = Arc<CountingImage>;
    type Memory = MarkingMem;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<CountingImage>> {
        &self.table
    }
    fn memory(&self) -> &MarkingMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut MarkingMem {
        &mut self.mem
    }
}

/// A process whose descriptor 0 is `bytes` as a [`CountingImage`]; the caller has one
/// mapped page at 0x1000.
fn image_proc(bytes: Vec<u8>, eio_at: Option<u64>) -> (ImageProc, Ponr) {
    let ponr: Ponr = Arc::new(AtomicBool::new(false));
    let exe = Arc::new(CountingImage {
        bytes,
        ponr: ponr.clone(),
        reads_before: AtomicUsize::new(0),
        reads_after: AtomicUsize::new(0),
        eio_at,
    });
    let mut t = FdTable::new();
    t.alloc(fd(0), exe, exe_rights(), false).unwrap();
    let mut sim = SimAddressSpace::new();
    sim.map(0x1000, 0x1000);
    sim.write_user(0x1000, b"caller").unwrap();
    let p = ImageProc {
        table: SharedFdTable::new(t),
        mem: MarkingMem {
            sim,
            ponr: ponr.clone(),
        },
    };
    (p, ponr)
}

fn exe_of(p: &ImageProc) -> Arc<CountingImage> {
    p.table.get_file(fd(0)).unwrap().0
}

fn exec(p: &mut ImageProc) -> ExecOutcome<capexec::abi::EntryState32> {
    let mut rng = TestRng(7);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    proc_exec(p, &mut act, 0, 0, 0, 0, 0)
}

/// Text, data sharing the text's last page, and a two-page data segment with bss.
fn three_segments() -> Vec<Seg> {
    vec![
        seg(0x0804_8000, 0x0f00, bytes(10, 0x0f00), R | X),
        seg(0x0804_8f00, 0x0100, bytes(11, 0x80), R | W),
        seg(0x0805_0000, 0x3000, bytes(12, 0x1800), R | W),
    ]
}

#[test]
fn nothing_is_read_from_the_image_after_the_point_of_no_return() {
    let segs = three_segments();
    let (mut p, ponr) = image_proc(image(&segs, 0), None);
    let exe = exe_of(&p);
    let outcome = exec(&mut p);
    assert!(matches!(outcome, ExecOutcome::Replaced(_)), "{outcome:?}");
    assert!(ponr.load(Ordering::SeqCst));
    assert!(exe.reads_before.load(Ordering::SeqCst) > 0);
    assert_eq!(
        exe.reads_after.load(Ordering::SeqCst),
        0,
        "reads after the point of no return"
    );
    for s in &segs {
        let mut got = vec![0u8; s.memsz as usize];
        copyin(&p.mem, s.vaddr, &mut got).unwrap();
        let mut want = s.data.clone();
        want.resize(s.memsz as usize, 0);
        assert_eq!(got, want, "segment at {:#x}", s.vaddr);
    }
}

#[test]
fn a_read_error_in_the_middle_of_a_segment_fails_before_the_point_of_no_return() {
    let segs = three_segments();
    let file = image(&segs, 0);
    // The middle of the third segment's bytes: the headers and each segment's last byte
    // read fine, the full read does not.
    let third = (52 + 3 * 32 + 0x0f00 + 0x80) as u64;
    let (mut p, ponr) = image_proc(file, Some(third + 0x400));
    let outcome = exec(&mut p);
    assert_eq!(outcome, ExecOutcome::Failed(Errno::EIO));
    assert!(
        !ponr.load(Ordering::SeqCst),
        "the old address space was destroyed"
    );
    let mut caller = [0u8; 6];
    copyin(&p.mem, 0x1000, &mut caller).unwrap();
    assert_eq!(&caller, b"caller");
    assert_eq!(p.mem.sim.mapped_pages(), 1);
}

// ---- segments sharing a page ---------------------------------------------------------

fn exec_sim(segs: &[Seg]) -> capexec_sim::SimProcess<TFile> {
    let exe = TFile::regular("exe", image(segs, 0));
    let stdout = TFile::stream("stdout");
    let mut p = process_with(&[
        Some((stdout.clone(), stream_rights())),
        Some((exe.clone(), exe_rights())),
    ]);
    let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
    let action = run(&mut p, &mut regs);
    assert!(matches!(action, SyscallAction::Exec(_)), "{action:?}");
    p
}

#[test]
fn segments_sharing_a_page_keep_their_bytes_and_get_the_union_of_protections() {
    let text = seg(0x0804_8000, 0x0800, bytes(20, 0x0800), R | X);
    // The data segment starts in the text's page: file bytes, then bss into the next page.
    let data = seg(0x0804_8800, 0x1000, bytes(21, 0x0400), R | W);
    for order in [[text.clone(), data.clone()], [data.clone(), text.clone()]] {
        let p = exec_sim(&order);
        let mut got = vec![0u8; 0x1800];
        copyin(&p.mem, 0x0804_8000, &mut got).unwrap();
        let mut want = text.data.clone();
        want.extend_from_slice(&data.data);
        want.resize(0x1800, 0);
        assert_eq!(got, want, "order {:#x} first", order[0].vaddr);
        // The data segment's bytes in the shared page stay writable.
        let mut p = p;
        assert_eq!(p.mem.write_user(0x0804_8800, b"w"), Ok(()));
        let rwx = Protection::READ | Protection::WRITE | Protection::EXEC;
        assert_eq!(p.mem.protection(0x0804_8000), Some(rwx));
        assert_eq!(
            p.mem.protection(0x0804_9000),
            Some(Protection::READ | Protection::WRITE)
        );
    }
}

#[test]
fn map_region_keeps_the_bytes_of_a_page_mapped_before() {
    // The contract of AddressSpace, on the reference simulator.
    let mut m = SimAddressSpace::new();
    m.map_region(0x5000, 0x100, Protection::READ).unwrap();
    m.write_user(0x5000, b"first").unwrap();
    m.protect_region(0x5000, 0x100, Protection::READ).unwrap();
    assert!(m.write_user(0x5000, b"x").is_err());
    m.map_region(0x5100, 0x100, Protection::READ | Protection::WRITE)
        .unwrap();
    m.write_user(0x5100, b"second").unwrap();
    m.protect_region(0x5100, 0x100, Protection::READ | Protection::WRITE)
        .unwrap();
    let mut got = [0u8; 5];
    m.read_user(0x5000, &mut got).unwrap();
    assert_eq!(&got, b"first");
    let mut got = [0u8; 6];
    m.read_user(0x5100, &mut got).unwrap();
    assert_eq!(&got, b"second");
    assert_eq!(
        m.protection(0x5000),
        Some(Protection::READ | Protection::WRITE)
    );
    // A later read-only segment in the same page does not take write access away.
    m.map_region(0x5200, 0x10, Protection::READ).unwrap();
    m.protect_region(0x5200, 0x10, Protection::READ).unwrap();
    assert!(m.write_user(0x5100, b"still").is_ok());
}
