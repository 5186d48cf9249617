//! The `mem_*` calls served natively: mappings the runner injects into the
//! stub with `mmap2` / `munmap` / `mprotect`, checked against the host's own
//! view (`/proc/PID/maps`) and through the tracee's memory. jemalloc's chunk
//! pattern runs as the real `exec_real` program makes it. A mapping can
//! never replace the stub or any host mapping the runner did not make.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use capexec::Errno;
use capexec::abi::mem::{
    MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, MS_SYNC, PROT_READ, PROT_WRITE, mem_map,
    mem_protect, mem_sync, mem_unmap,
};
use capexec::exec::{Process, UserMemory, copyin, copyout};
use capexec::fdtable::FdTable;
use capexec_native::{HostFile, NativeProcess, PAGE_SIZE};
use common::setup;

const RW: u8 = PROT_READ | PROT_WRITE;
const ANON: u8 = MAP_ANON | MAP_PRIVATE;
const MIB: u32 = 1 << 20;

fn launcher(dir: &std::path::Path) -> NativeProcess<HostFile> {
    NativeProcess::spawn(&dir.join("stub"), FdTable::new()).expect("stub")
}

/// The host's mappings of the tracee: (start, end, permissions "rwxp").
fn host_maps(p: &NativeProcess<HostFile>) -> Vec<(u32, u32, String)> {
    let pid = p.address_space().tracee().pid();
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (s, e) = f.next()?.split_once('-')?;
            Some((
                u32::from_str_radix(s, 16).ok()?,
                u32::from_str_radix(e, 16).ok()?,
                f.next()?.to_string(),
            ))
        })
        .collect()
}

/// The host's permissions of the page holding `addr`, if mapped.
fn host_perms(p: &NativeProcess<HostFile>, addr: u32) -> Option<String> {
    host_maps(p)
        .into_iter()
        .find(|(s, e, _)| (*s..*e).contains(&addr))
        .map(|(_, _, perms)| perms[..3].to_string())
}

fn anon(
    p: &mut NativeProcess<HostFile>,
    addr: u32,
    len: u32,
    prot: u8,
    flags: u8,
) -> Result<u32, Errno> {
    mem_map(p, addr, len, prot, flags, MAP_ANON_FD, 0)
}

#[test]
fn anonymous_mappings_reservations_and_partial_unmaps_reach_the_host() {
    let Some(dir) = setup("anonymous_mappings_reservations_and_partial_unmaps_reach_the_host")
    else {
        return;
    };
    let mut p = launcher(dir);
    let a = anon(&mut p, 0, 4 * PAGE_SIZE, RW, ANON).unwrap();
    assert!(a < capexec_native::NATIVE_LAYOUT.user_top);
    assert_eq!(host_perms(&p, a).as_deref(), Some("rw-"));
    copyout(p.memory_mut(), a, &[7; 4096 * 4]).unwrap();

    // Reserve, then commit inside with a fixed mapping.
    let r = anon(&mut p, 0, 8 * PAGE_SIZE, 0, ANON).unwrap();
    assert_eq!(host_perms(&p, r).as_deref(), Some("---"));
    let mut b = [0u8; 4];
    assert_eq!(copyin(p.memory(), r, &mut b), Err(Errno::EFAULT));
    let c = r + 2 * PAGE_SIZE;
    assert_eq!(anon(&mut p, c, PAGE_SIZE, RW, ANON | MAP_FIXED), Ok(c));
    assert_eq!(host_perms(&p, c).as_deref(), Some("rw-"));
    assert_eq!(host_perms(&p, c + PAGE_SIZE).as_deref(), Some("---"));
    copyout(p.memory_mut(), c, b"abcd").unwrap();

    // Partial unmap of the first mapping; protection change of its rest.
    mem_unmap(&mut p, a + PAGE_SIZE, PAGE_SIZE).unwrap();
    assert_eq!(host_perms(&p, a + PAGE_SIZE), None);
    mem_protect(&mut p, a, 4 * PAGE_SIZE, PROT_READ).unwrap();
    assert_eq!(host_perms(&p, a).as_deref(), Some("r--"));
    assert_eq!(host_perms(&p, a + 2 * PAGE_SIZE).as_deref(), Some("r--"));
    copyin(p.memory(), a + 3 * PAGE_SIZE, &mut b).unwrap();
    assert_eq!(b, [7; 4]);
    assert_eq!(copyout(p.memory_mut(), a, b"x"), Err(Errno::EFAULT));
    assert_eq!(
        mem_sync(&mut p, a, 4 * PAGE_SIZE, MS_SYNC),
        Err(Errno::ENOMEM)
    );
    assert_eq!(mem_sync(&mut p, c, PAGE_SIZE, MS_SYNC), Ok(()));
    p.memory()
        .check_access(c, 4, capexec::exec::UserAccess::Write)
        .unwrap();
}

#[test]
fn jemallocs_chunk_pattern_runs_natively() {
    let Some(dir) = setup("jemallocs_chunk_pattern_runs_natively") else {
        return;
    };
    let mut p = launcher(dir);
    // One page first, so the kernel's first choice for a chunk is misaligned.
    anon(&mut p, 0, PAGE_SIZE, RW, ANON).unwrap();
    let size = 2 * MIB;
    let a = anon(&mut p, 0, size, RW, ANON).unwrap();
    assert_ne!(a % size, 0, "the first choice should be misaligned here");
    mem_unmap(&mut p, a, size).unwrap();
    let alloc = size + size - PAGE_SIZE;
    let b = anon(&mut p, 0, alloc, RW, ANON).unwrap();
    let lead = b.next_multiple_of(size) - b;
    if lead > 0 {
        mem_unmap(&mut p, b, lead).unwrap();
    }
    let trail = alloc - lead - size;
    if trail > 0 {
        mem_unmap(&mut p, b + lead + size, trail).unwrap();
    }
    let chunk = b + lead;
    assert_eq!(chunk % size, 0);
    let maps = host_maps(&p);
    assert!(
        maps.iter()
            .any(|(s, e, perms)| *s <= chunk && *e >= chunk + size && perms.starts_with("rw")),
        "the chunk is one read-write host mapping: {maps:x?}"
    );
    assert_eq!(host_perms(&p, chunk - PAGE_SIZE), None, "the lead is gone");
    assert_eq!(host_perms(&p, chunk + size), None, "the trail is gone");
    // Decommit and recommit a page inside.
    let mid = chunk + 16 * PAGE_SIZE;
    copyout(p.memory_mut(), mid, b"live").unwrap();
    assert_eq!(anon(&mut p, mid, PAGE_SIZE, 0, ANON | MAP_FIXED), Ok(mid));
    assert_eq!(host_perms(&p, mid).as_deref(), Some("---"));
    assert_eq!(anon(&mut p, mid, PAGE_SIZE, RW, ANON | MAP_FIXED), Ok(mid));
    let mut b4 = [9u8; 4];
    copyin(p.memory(), mid, &mut b4).unwrap();
    assert_eq!(b4, [0; 4], "a recommitted page is fresh");
}

#[test]
fn a_program_cannot_map_over_the_stub_or_the_host() {
    let Some(dir) = setup("a_program_cannot_map_over_the_stub_or_the_host") else {
        return;
    };
    let mut p = launcher(dir);
    let before = host_maps(&p);
    let top = capexec_native::NATIVE_LAYOUT.user_top;
    // Outside the program's range: refused before the host is asked.
    for at in [top, 0, 0xf000_0000, top - PAGE_SIZE] {
        let len = 2 * PAGE_SIZE;
        assert_eq!(
            anon(&mut p, at, len, RW, ANON | MAP_FIXED),
            Err(Errno::EINVAL),
            "{at:#x}"
        );
        assert_eq!(mem_unmap(&mut p, at, len), Err(Errno::EINVAL), "{at:#x}");
    }
    // A hint up there is only a hint: the mapping lands in the program's range.
    let h = anon(&mut p, 0xf000_0000, PAGE_SIZE, RW, ANON).unwrap();
    assert!(h < top);
    mem_unmap(&mut p, h, PAGE_SIZE).unwrap();
    // Even with a range that covers the stub, a host mapping the runner did not
    // make is never replaced.
    let stub = before
        .iter()
        .find(|(s, _, _)| *s >= top)
        .map(|(s, _, _)| *s)
        .expect("the stub's mapping");
    let mut layout = capexec_native::NATIVE_LAYOUT;
    layout.user_top = stub + 16 * MIB;
    p.set_layout(layout);
    assert_eq!(
        anon(&mut p, stub, PAGE_SIZE, RW, ANON | MAP_FIXED),
        Err(Errno::ENOMEM)
    );
    mem_protect(&mut p, stub, PAGE_SIZE, 0).unwrap();
    mem_unmap(&mut p, stub, PAGE_SIZE).unwrap();
    assert_eq!(host_maps(&p), before, "the host's mappings are untouched");
    let _ = p.address_space_mut().take_error();
}

#[test]
fn a_regular_file_maps_as_a_private_copy() {
    let Some(dir) = setup("a_regular_file_maps_as_a_private_copy") else {
        return;
    };
    use capexec::fdtable::{FdRights, Rights};
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm-map-file.bin");
    let content: Vec<u8> = (0..3 * PAGE_SIZE).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let file = std::sync::Arc::new(HostFile::open_read_only(&path).unwrap());
    let mut t = FdTable::new();
    let rights = FdRights::new(Rights::MEM_MAP | Rights::FD_READ, Rights::empty());
    t.open(file.clone(), rights).unwrap();
    t.open(file, FdRights::new(Rights::FD_READ, Rights::empty()))
        .unwrap();
    let mut p = NativeProcess::spawn(&dir.join("stub"), t).expect("stub");

    // From byte PAGE + 10, 20 bytes: the page is mapped, the address is the byte's.
    let off = u64::from(PAGE_SIZE) + 10;
    let a = mem_map(&mut p, 0, 20, PROT_READ, MAP_PRIVATE, 0, off).unwrap();
    assert_eq!(a % PAGE_SIZE, 10);
    let mut got = [0u8; 20];
    copyin(p.memory(), a, &mut got).unwrap();
    assert_eq!(&got[..], &content[off as usize..off as usize + 20]);
    assert_eq!(host_perms(&p, a).as_deref(), Some("r--"));
    assert_eq!(copyout(p.memory_mut(), a, b"x"), Err(Errno::EFAULT));

    // Past the end of the file: zeros. Without MEM_MAP: ENOTCAPABLE. Shared: ENOTSUP.
    let b = mem_map(&mut p, 0, 2 * PAGE_SIZE, RW, MAP_PRIVATE, 0, 2 * 4096).unwrap();
    let mut tail = vec![0u8; 2 * PAGE_SIZE as usize];
    copyin(p.memory(), b, &mut tail).unwrap();
    assert_eq!(
        &tail[..PAGE_SIZE as usize],
        &content[2 * PAGE_SIZE as usize..]
    );
    assert!(tail[PAGE_SIZE as usize..].iter().all(|&x| x == 0));
    copyout(p.memory_mut(), b, b"private").unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        content,
        "the file is unchanged"
    );
    assert_eq!(
        mem_map(&mut p, 0, PAGE_SIZE, PROT_READ, MAP_PRIVATE, 1, 0),
        Err(Errno::ENOTCAPABLE)
    );
    assert_eq!(
        mem_map(
            &mut p,
            0,
            PAGE_SIZE,
            PROT_READ,
            capexec::abi::mem::MAP_SHARED,
            0,
            0
        ),
        Err(Errno::ENOTSUP)
    );
}
