//! An executable held in memory (`ImageFile::bytes`, a RAM disk's file) execs exactly
//! as one read through `ImageFile::read_at`: same entry state, same pages with the same
//! bytes and protections, same refusals; and its segments are copied from the file's
//! bytes without a kernel buffer (`SegmentContents::in_file`).

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Layout32, Regs32, SyscallAction};
use capexec::exec::{ImageActivator, Protection, exec_copyin_data_fds};
use capexec_sim::minimal_cloudabi_elf;
use common::*;

/// A text segment and a data segment sharing its last page, with `.bss` past it.
fn two_segments() -> Vec<u8> {
    let code: Vec<u8> = (0..0x300u32).map(|i| (i * 7) as u8).collect();
    let mut v = minimal_cloudabi_elf(0x0804_8000, &code);
    let data_off = v.len() as u32;
    v.extend((0..0x180u32).map(|i| (i * 13 + 5) as u8));
    // A second PT_LOAD after the first, at the end of the file, and e_phoff to both.
    let mut ph = v[52..84].to_vec();
    let put =
        |ph: &mut Vec<u8>, at: usize, w: u32| ph[at..at + 4].copy_from_slice(&w.to_le_bytes());
    put(&mut ph, 4, data_off); // p_offset
    put(&mut ph, 8, 0x0804_8f80); // p_vaddr
    put(&mut ph, 12, 0x0804_8f80);
    put(&mut ph, 16, 0x180); // p_filesz
    put(&mut ph, 20, 0x2000); // p_memsz
    put(&mut ph, 24, 6); // R | W
    let first = v[52..84].to_vec();
    let phoff = v.len() as u32;
    v.extend_from_slice(&first);
    v.extend_from_slice(&ph);
    v[28..32].copy_from_slice(&phoff.to_le_bytes());
    v[44..46].copy_from_slice(&2u16.to_le_bytes());
    v
}

/// Every page of the new image and stack: address, protection, bytes.
type Pages = Vec<(u32, Option<Protection>, Vec<u8>)>;

/// Execs `exe` (descriptor 1) with data and descriptor 0 passed on; returns the action,
/// the registers and every page of the new image and stack with its protection.
fn exec(exe: Arc<TFile>) -> (SyscallAction, Regs32, Pages) {
    let out = TFile::stream("out");
    let mut p = process_with(&[Some((out, stream_rights())), Some((exe, exe_rights()))]);
    let mut regs = exec_frame(&mut p, 1, b"argdata", &[0]);
    let action = run(&mut p, &mut regs);
    let l = Layout32::default();
    let pages = (0x0804_8000u32..0x0805_0000)
        .step_by(4096)
        .chain((l.stack_top - 0x2000..l.stack_top).step_by(4096))
        .chain([l.sysinfo_ehdr])
        .map(|a| {
            let mut b = vec![0u8; 4096];
            let got = p.mem.peek(a, &mut b).map(|()| b).unwrap_or_default();
            (a, p.mem.protection(a), got)
        })
        .collect();
    (action, regs, pages)
}

#[test]
fn an_image_in_memory_execs_exactly_as_one_read_from_the_file() {
    for image in [test_elf(), two_segments()] {
        let read = exec(TFile::regular("exe", image.clone()));
        let in_memory = exec(TFile::in_memory("exe", image));
        assert!(matches!(read.0, SyscallAction::Exec(_)), "{:?}", read.0);
        assert_eq!(read.0, in_memory.0);
        assert_eq!(read.1, in_memory.1);
        assert!(read.2 == in_memory.2, "the new address spaces differ");
        // The image really is there (not two empty spaces compared).
        assert!(
            read.2
                .iter()
                .any(|(_, _, b)| b.len() == 4096 && b[..4] == [0x7f, b'E', b'L', b'F'])
        );
    }
}

#[test]
fn refused_images_are_refused_alike() {
    let good = two_segments();
    let cut = |n: usize| good[..good.len() - n].to_vec();
    let mut bad_class = good.clone();
    bad_class[4] = 2;
    for (what, image) in [
        ("cut in the last program header", cut(1)),
        ("cut in the data segment", cut(64)),
        ("ELF64", bad_class),
        ("empty", Vec::new()),
    ] {
        let read = exec(TFile::regular("exe", image.clone()));
        let in_memory = exec(TFile::in_memory("exe", image));
        assert_eq!(read.0, SyscallAction::Resume, "{what}");
        assert_eq!(read.1.eax, u32::from(Errno::ENOEXEC.raw()), "{what}");
        assert_eq!(read.1, in_memory.1, "{what}");
    }
}

#[test]
fn segments_in_memory_are_not_copied_into_a_kernel_buffer() {
    for (exe, in_file) in [
        (TFile::in_memory("exe", two_segments()), true),
        (TFile::regular("exe", two_segments()), false),
    ] {
        let p = process_with(&[Some((exe.clone(), exe_rights()))]);
        let args = exec_copyin_data_fds(&p.table, &p.mem, CALLER_DATA, 0, CALLER_FDS, 0).unwrap();
        let mut rng = TestRng(7);
        let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
        let prepared = ImageActivator::<Proc>::prepare(&mut act, &p, &exe, &args).unwrap();
        assert_eq!(prepared.contents.in_file(), in_file);
        assert_eq!(
            prepared.contents.len(),
            if in_file { 0 } else { 52 + 32 + 0x300 + 0x180 }
        );
    }
}
