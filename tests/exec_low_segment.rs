//! An image with a segment in the first page (address 0 and its neighbours) is refused
//! with `ENOEXEC` before the point of no return: the caller keeps running, its table and
//! memory as they were.

mod common;

use capexec::Errno;
use capexec::abi::SyscallAction;
use capexec::exec::{ElfImage, MIN_LOAD_ADDR};
use capexec_sim::minimal_cloudabi_elf;
use common::*;

#[test]
fn parse_refuses_segments_in_the_first_page() {
    let code = [0x90; 16];
    for addr in [0, 0x10, 0x800, MIN_LOAD_ADDR - 1] {
        let image = TFile::regular("low", minimal_cloudabi_elf(addr, &code));
        assert_eq!(
            ElfImage::parse(&*image, 0).map(drop),
            Err(Errno::ENOEXEC),
            "segment at {addr:#x}"
        );
    }
    let image = TFile::regular("first", minimal_cloudabi_elf(MIN_LOAD_ADDR, &code));
    let parsed = ElfImage::parse(&*image, 0).unwrap();
    assert_eq!(parsed.segments[0].vaddr, MIN_LOAD_ADDR);
}

#[test]
fn exec_of_a_page_zero_image_fails_and_the_caller_keeps_running() {
    let exe = TFile::regular("zero", minimal_cloudabi_elf(0, &[0x90; 16]));
    let stdout = TFile::stream("stdout");
    let mut p = process_with(&[
        Some((stdout.clone(), stream_rights())),
        Some((exe.clone(), exe_rights())),
    ]);
    let table_before = snapshot(&p);
    let memory_before = memory_image(&p);
    let mut regs = exec_frame(&mut p, 1, b"\x07", &[0]);
    let eip = regs.eip;
    assert_eq!(run(&mut p, &mut regs), SyscallAction::Resume);
    assert!(regs.carry());
    assert_eq!(Errno::from_raw(regs.eax as u16), Some(Errno::ENOEXEC));
    assert_eq!(regs.eip, eip);
    assert_eq!(snapshot(&p), table_before);
    assert!(!p.mem.is_mapped(0), "nothing mapped at 0");
    // The frame written by exec_frame is the only change to the caller's memory.
    assert_eq!(memory_image(&p).0, memory_before.0);
}
