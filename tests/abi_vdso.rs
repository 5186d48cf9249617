//! The generated vDSO: linked the way cloudlibc's start-up code links it, and every stub
//! decoded back to its call number and result stores.

use capexec::abi::cloudabi32::Syscall;
use capexec::abi::vdso::{STUB_ALIGN, VDSO_SIZE, elf_hash, stub_len, stub_offset, vdso_image};

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: u32) -> u32 {
    let at = at as usize;
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn c_str(b: &[u8], at: u32) -> &str {
    let rest = &b[at as usize..];
    let end = rest
        .iter()
        .position(|&c| c == 0)
        .expect("unterminated name");
    std::str::from_utf8(&rest[..end]).unwrap()
}

#[path = "abi_common/syscall_names.rs"]
mod syscall_names;
/// The calls in cloudabi.txt order (number = index).
use syscall_names::SPEC_SYSCALLS as NAMES;

/// What crt0 does with `AT_SYSINFO_EHDR`: program headers to `PT_DYNAMIC`, the dynamic
/// entries to `DT_HASH` (symbol count = `nchain`), `DT_SYMTAB` and `DT_STRTAB`, then every
/// global, default-visibility function whose name starts with `cloudabi_sys_`. Returns
/// (name without the prefix, offset of the function in the image).
fn link_like_crt0(image: &[u8]) -> Vec<(String, u32)> {
    let phoff = u32_at(image, 28);
    let phnum = u16_at(image, 44);
    let dynamic = (0..u32::from(phnum))
        .map(|i| phoff + i * 32)
        .find(|&ph| u32_at(image, ph) == 2)
        .map(|ph| u32_at(image, ph + 8))
        .expect("no PT_DYNAMIC");
    let (mut nsyms, mut symtab, mut strtab) = (None, None, None);
    let mut d = dynamic;
    loop {
        let (tag, val) = (u32_at(image, d), u32_at(image, d + 4));
        match tag {
            0 => break,
            4 => nsyms = Some(u32_at(image, val + 4)),
            5 => strtab = Some(val),
            6 => symtab = Some(val),
            _ => {}
        }
        d += 8;
    }
    let (nsyms, symtab, strtab) = (nsyms.unwrap(), symtab.unwrap(), strtab.unwrap());
    let mut found = Vec::new();
    for i in 0..nsyms {
        let sym = symtab + i * 16;
        let (name, value) = (u32_at(image, sym), u32_at(image, sym + 4));
        let (info, other) = (image[sym as usize + 12], image[sym as usize + 13]);
        if info >> 4 == 1 && info & 0xf == 2 && other & 3 == 0 && name > 0 {
            if let Some(call) = c_str(image, strtab + name).strip_prefix("cloudabi_sys_") {
                found.push((call.to_string(), value));
            }
        }
    }
    found
}

#[test]
fn crt0_links_every_call() {
    let image = vdso_image();
    assert_eq!(image.len(), VDSO_SIZE);
    let found = link_like_crt0(image);
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, NAMES);
    for (i, (name, value)) in found.iter().enumerate() {
        let call = Syscall::from_raw(i as u32).unwrap();
        assert_eq!(call.name(), name);
        assert_eq!(*value as usize, stub_offset(call));
        // The first instruction of the stub loads the call's number.
        let at = *value as usize;
        assert_eq!(image[at], 0xb8, "{name}");
        assert_eq!(u32_at(image, *value + 1), i as u32, "{name}");
    }
}

#[test]
fn headers_are_a_loadable_shared_object() {
    let b = vdso_image();
    assert_eq!(&b[..8], &[0x7f, b'E', b'L', b'F', 1, 1, 1, 17]);
    assert_eq!(u16_at(b, 16), 3, "ET_DYN");
    assert_eq!(u16_at(b, 18), 3, "EM_386");
    let phoff = u32_at(b, 28);
    let phnum = u32::from(u16_at(b, 44));
    let loads: Vec<u32> = (0..phnum)
        .map(|i| phoff + i * 32)
        .filter(|&ph| u32_at(b, ph) == 1)
        .collect();
    assert_eq!(loads.len(), 1, "one PT_LOAD");
    let ph = loads[0];
    assert_eq!(u32_at(b, ph + 4), 0, "p_offset");
    assert_eq!(u32_at(b, ph + 8), 0, "p_vaddr");
    assert_eq!(u32_at(b, ph + 16) as usize, VDSO_SIZE, "p_filesz");
    assert_eq!(u32_at(b, ph + 20) as usize, VDSO_SIZE, "p_memsz");
    assert_eq!(u32_at(b, ph + 24), 5, "R+X");
}

#[test]
fn hash_table_finds_every_symbol_by_name() {
    // A dynamic linker's lookup: bucket[hash % nbucket], then the chain.
    let b = vdso_image();
    let dynamic = u32_at(b, 52 + 32 + 8);
    let tag = |t: u32| {
        (0..)
            .map(|i| dynamic + i * 8)
            .find(|&d| u32_at(b, d) == t || u32_at(b, d) == 0)
            .map(|d| u32_at(b, d + 4))
            .unwrap()
    };
    let (hash, symtab, strtab) = (tag(4), tag(6), tag(5));
    let nbucket = u32_at(b, hash);
    let nchain = u32_at(b, hash + 4);
    assert_eq!(nchain, 50, "the null symbol and one per call");
    for name in NAMES {
        let full = format!("cloudabi_sys_{name}");
        let mut s = u32_at(b, hash + 8 + 4 * (elf_hash(full.as_bytes()) % nbucket));
        let mut steps = 0;
        loop {
            assert_ne!(s, 0, "{full} not in its chain");
            if c_str(b, strtab + u32_at(b, symtab + s * 16)) == full {
                break;
            }
            s = u32_at(b, hash + 8 + 4 * nbucket + 4 * s);
            steps += 1;
            assert!(steps < 50, "chain loops");
        }
    }
}

/// A result store a stub makes: `reg` (eax or edx) through the pointer found at
/// `esp + disp`, at offset `off` from it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Store {
    reg: &'static str,
    disp: u8,
    off: u8,
}

const fn st(reg: &'static str, disp: u8, off: u8) -> Store {
    Store { reg, disp, off }
}

/// The stores each call's stub makes on success, from cloudabi.txt's output values and
/// the i386 calling convention (argument word `k` at `esp + 4 + 4k`).
fn expected_stores(name: &str) -> Vec<Store> {
    match name {
        "clock_res_get" => vec![st("eax", 8, 0), st("edx", 8, 4)],
        "clock_time_get" => vec![st("eax", 16, 0), st("edx", 16, 4)],
        "fd_create1" | "fd_dup" | "thread_create" => vec![st("eax", 8, 0)],
        "fd_create2" => vec![st("eax", 8, 0), st("edx", 12, 0)],
        "fd_pread" | "fd_pwrite" | "file_readdir" | "file_readlink" => vec![st("eax", 24, 0)],
        "fd_read" | "fd_write" | "poll" => vec![st("eax", 16, 0)],
        "fd_seek" => vec![st("eax", 20, 0), st("edx", 20, 4)],
        "file_open" => vec![st("eax", 28, 0)],
        "mem_map" => vec![st("eax", 32, 0)],
        "proc_fork" => vec![st("eax", 4, 0), st("edx", 8, 0)],
        _ => vec![],
    }
}

/// Decodes one stub: its call number and stores. Panics on any instruction outside the
/// expected shape, or a carry branch that does not land on the final `ret`.
fn decode(code: &[u8]) -> (u32, Vec<Store>, usize) {
    assert_eq!(code[0], 0xb8, "mov $N, %eax");
    let nr = u32::from_le_bytes(code[1..5].try_into().unwrap());
    assert_eq!(&code[5..7], &[0xcd, 0x80], "int $0x80");
    assert_eq!(code[7], 0x72, "jc");
    let jc_target = 9 + code[8] as usize;
    let mut p = 9;
    let mut ecx = None;
    let mut stores = Vec::new();
    loop {
        match code[p..] {
            [0x8b, 0x4c, 0x24, d, ..] => {
                ecx = Some(d);
                p += 4;
            }
            [0x89, 0x01, ..] => {
                stores.push(st("eax", ecx.unwrap(), 0));
                p += 2;
            }
            [0x89, 0x11, ..] => {
                stores.push(st("edx", ecx.unwrap(), 0));
                p += 2;
            }
            [0x89, 0x51, off, ..] => {
                stores.push(st("edx", ecx.unwrap(), off));
                p += 3;
            }
            [0x31, 0xc0, 0xc3, ..] => {
                assert_eq!(jc_target, p + 2, "jc lands on ret");
                return (nr, stores, p + 3);
            }
            _ => panic!("unexpected bytes {:02x?}", &code[p..]),
        }
    }
}

#[test]
fn every_stub_traps_with_its_number_and_stores_its_results() {
    let image = vdso_image();
    for (i, name) in NAMES.iter().enumerate() {
        let call = Syscall::from_raw(i as u32).unwrap();
        let at = stub_offset(call);
        assert_eq!(at % STUB_ALIGN, 0, "{name}");
        let end = Syscall::from_raw(i as u32 + 1).map_or(at + stub_len(call), stub_offset);
        let slot = &image[at..end];
        let (nr, stores, len) = decode(slot);
        assert_eq!(len, stub_len(call), "{name}");
        assert_eq!(nr, i as u32, "{name}");
        assert_eq!(stores, expected_stores(name), "{name}");
        assert!(slot[len..].iter().all(|&b| b == 0xcc), "{name}: padding");
    }
}

// ---- the activator maps it ---------------------------------------------------------------

mod common;

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Layout32, SyscallAction, read_start_info, syscall32};
use capexec::exec::copyin;
use common::*;

fn exec_with(layout: Layout32) -> (Proc, Vec<std::sync::Arc<TFile>>, capexec::abi::Regs32) {
    let exe = TFile::regular("exe", test_elf());
    let out = TFile::stream("out");
    let mut p = process_with(&[
        Some((out.clone(), stream_rights())),
        Some((exe.clone(), exe_rights())),
    ]);
    let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(layout, &mut rng);
    let action = syscall32(&mut p, &mut act, &mut regs);
    if let SyscallAction::Exec(_) = action {
    } else {
        assert_eq!(action, SyscallAction::Resume);
    }
    (p, vec![out, exe], regs)
}

#[test]
fn every_new_image_gets_the_vdso_at_at_sysinfo_ehdr_read_execute() {
    for at in [Layout32::default().sysinfo_ehdr, 0x1000_0000, 0xbff0_0000] {
        let layout = Layout32 {
            sysinfo_ehdr: at,
            ..Layout32::default()
        };
        let (p, _, regs) = exec_with(layout);
        assert!(!regs.carry(), "{at:#x}: {regs:?}");
        let info = read_start_info(&p.mem, regs.esp).unwrap();
        assert_eq!(info.sysinfo_ehdr, at);
        let mut mapped = vec![0u8; VDSO_SIZE];
        copyin(&p.mem, at, &mut mapped).unwrap();
        assert!(mapped == vdso_image(), "{at:#x}");
        // The program links every call from what is mapped.
        assert_eq!(link_like_crt0(&mapped).len(), 49);
        // The %gs base is a writable word (crt0 stores its TCB pointer at %gs:0 first).
        assert_eq!(
            capexec::exec::useracc(&p.mem, regs.gs_base, 4, capexec::exec::UserAccess::Write),
            Ok(())
        );
        // Read + execute, not writable.
        assert_eq!(
            capexec::exec::useracc(&p.mem, at, VDSO_SIZE, capexec::exec::UserAccess::Write),
            Err(Errno::EFAULT)
        );
        assert_eq!(
            capexec::exec::useracc(&p.mem, at, VDSO_SIZE, capexec::exec::UserAccess::Read),
            Ok(())
        );
    }
}

#[test]
fn a_layout_without_a_vdso_reports_none() {
    let layout = Layout32 {
        sysinfo_ehdr: 0,
        ..Layout32::default()
    };
    let (p, _, regs) = exec_with(layout);
    assert!(!regs.carry());
    assert_eq!(read_start_info(&p.mem, regs.esp).unwrap().sysinfo_ehdr, 0);
}

#[test]
fn a_misplaced_vdso_is_enomem_before_the_point_of_no_return() {
    let d = Layout32::default();
    let stack_bottom = d.stack_top - d.stack_size;
    let bad = [
        ("not page-aligned", d.sysinfo_ehdr + 0x10),
        ("in the first page", 0x10),
        (
            "the last page below the stack, too big for it",
            stack_bottom - 0x1000 + 0x800,
        ),
        ("overlapping the stack's top", d.stack_top - 0x1000),
        ("inside the stack", stack_bottom + 0x4000),
        ("at the kernel's half", d.user_top),
        ("wrapping around 4 GiB", 0xffff_f000),
    ];
    for (what, at) in bad {
        let layout = Layout32 {
            sysinfo_ehdr: at,
            ..d
        };
        let exe = TFile::regular("exe", test_elf());
        let out = TFile::stream("out");
        let files = [out.clone(), exe.clone()];
        let mut p = process_with(&[
            Some((out.clone(), stream_rights())),
            Some((exe.clone(), exe_rights())),
        ]);
        let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
        let before = proc_state(&p, &files);
        let mut rng = TestRng(1);
        let mut act = Cloudabi32Activator::new(layout, &mut rng);
        let action = syscall32(&mut p, &mut act, &mut regs);
        assert_eq!(action, SyscallAction::Resume, "{what}");
        assert!(regs.carry(), "{what}");
        assert_eq!(
            Errno::from_raw(regs.eax as u16),
            Some(Errno::ENOMEM),
            "{what}"
        );
        assert_eq!(proc_state(&p, &files), before, "{what}: changed");
    }
}

#[test]
fn an_image_over_the_vdso_is_enoexec() {
    // The test image is linked at 0x0804_8000: a vDSO there collides with it.
    let layout = Layout32 {
        sysinfo_ehdr: 0x0804_8000,
        ..Layout32::default()
    };
    let exe = TFile::regular("exe", test_elf());
    let out = TFile::stream("out");
    let files = [out.clone(), exe.clone()];
    let mut p = process_with(&[
        Some((out.clone(), stream_rights())),
        Some((exe.clone(), exe_rights())),
    ]);
    let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
    let before = proc_state(&p, &files);
    let mut rng = TestRng(1);
    let mut act = Cloudabi32Activator::new(layout, &mut rng);
    assert_eq!(
        syscall32(&mut p, &mut act, &mut regs),
        SyscallAction::Resume
    );
    assert_eq!(Errno::from_raw(regs.eax as u16), Some(Errno::ENOEXEC));
    assert_eq!(proc_state(&p, &files), before);
}

// ---- shared mapping ----------------------------------------------------------------------

use capexec::exec::{AddressSpace, Protection, UserAccess, UserMemory, VirtualMemory};
use capexec_sim::SimAddressSpace;

/// A kernel's address space that keeps the default `map_shared` (map, copy, protect).
struct Copying(SimAddressSpace);

impl UserMemory for Copying {
    type Abi = capexec::abi::Cloudabi32;
    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.0.read_user(addr, buf)
    }
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        self.0.write_user(addr, data)
    }
    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        self.0.check_access(addr, len, access)
    }
}

impl AddressSpace for Copying {
    fn reset(&mut self) {
        self.0.reset()
    }
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.0.map_region(addr, len, prot)
    }
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.0.protect_region(addr, len, prot)
    }
}

/// The page at `at`, as the program reads it.
fn page_at<M: UserMemory<Abi = capexec::abi::Cloudabi32>>(m: &M, at: u32) -> Vec<u8> {
    let mut page = vec![0xaa; 4096];
    copyin(m, at, &mut page).unwrap();
    page
}

fn vdso_page() -> Vec<u8> {
    let mut page = vdso_image().to_vec();
    page.resize(4096, 0);
    page
}

#[test]
fn the_default_map_shared_maps_copies_and_protects() {
    let at = 0x1000_0000;
    let rx = Protection::READ | Protection::EXEC;
    let mut m = Copying(SimAddressSpace::new());
    m.map_shared(at, vdso_image(), rx).unwrap();
    assert_eq!(page_at(&m, at), vdso_page());
    assert_eq!(m.0.protection(at), Some(rx));
    assert_eq!(
        capexec::exec::useracc(&m, at, 4096, UserAccess::Write),
        Err(Errno::EFAULT)
    );
    assert!(!m.0.is_mapped(at + 4096));
}

#[test]
fn the_simulator_shares_the_vdso_and_copies_a_page_on_its_first_store() {
    let at = 0x1000_0000;
    let rx = Protection::READ | Protection::EXEC;
    let (mut a, mut b) = (SimAddressSpace::new(), SimAddressSpace::new());
    a.map_shared(at, vdso_image(), rx).unwrap();
    b.map_shared(at, vdso_image(), rx).unwrap();
    assert_eq!(page_at(&a, at), vdso_page());
    assert_eq!(a.protection(at), Some(rx));
    assert_eq!(a.mapped_pages(), 1);
    // Read-only as mapped.
    assert_eq!(a.write_user(at, &[0]), Err(Errno::EFAULT));
    // A program makes it writable and stores into it: its own copy changes, nobody
    // else's (the other mapping, the shared bytes).
    a.mprotect(at, 4096, Protection::READ | Protection::WRITE)
        .unwrap();
    a.write_user(at + 8, &[0xee, 0xff]).unwrap();
    a.write_user(at + 4090, &[1]).unwrap();
    let mut expected = vdso_page();
    expected[8..10].copy_from_slice(&[0xee, 0xff]);
    expected[4090] = 1;
    assert_eq!(page_at(&a, at), expected);
    assert_eq!(page_at(&b, at), vdso_page());
    assert_eq!(&page_at(&b, at)[..VDSO_SIZE], vdso_image());
    // A reset drops the mapping.
    a.reset();
    assert!(!a.is_mapped(at));
}
