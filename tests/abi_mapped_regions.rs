//! `Cloudabi32Activator::mapped_regions` lists exactly what `activate` maps: after an
//! activation the new address space holds the pages of those regions and no other, for
//! images of one and several segments, with and without a vDSO. A kernel sizes its
//! reservation before the point of no return from this list.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use capexec::abi::{Cloudabi32Activator, Layout32};
use capexec::exec::{ImageActivator, ImageArgs, exec_copyin_data_fds};
use capexec_sim::minimal_cloudabi_elf;
use common::*;

/// The pages `[addr, addr + len)` touches.
fn pages(addr: u32, len: u32) -> impl Iterator<Item = u32> {
    let first = addr / 4096;
    let last = (u64::from(addr) + u64::from(len)).div_ceil(4096) as u32;
    (first..last).map(|p| p * 4096)
}

/// An image with a text segment at 0x0804_8000 and, when `data` is set, a data segment
/// sharing the text's last page and running into the next ones.
fn image(data: bool) -> Vec<u8> {
    let mut v = minimal_cloudabi_elf(0x0804_8000, &[0x90; 16]);
    if !data {
        return v;
    }
    // Append a second PT_LOAD: copy the first program header and move it.
    let phoff = u32::from_le_bytes(v[28..32].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(v[44..46].try_into().unwrap()) as usize;
    assert_eq!(phnum, 1);
    let mut ph = v[phoff..phoff + 32].to_vec();
    let vaddr: u32 = 0x0804_8f00;
    ph[8..12].copy_from_slice(&vaddr.to_le_bytes()); // p_vaddr
    ph[12..16].copy_from_slice(&vaddr.to_le_bytes()); // p_paddr
    ph[20..24].copy_from_slice(&0x2400u32.to_le_bytes()); // p_memsz
    ph[24..28].copy_from_slice(&6u32.to_le_bytes()); // R | W
    // Put the new header at the end of the file and point e_phoff at both.
    let new_phoff = v.len();
    let first = v[phoff..phoff + 32].to_vec();
    v.extend_from_slice(&first);
    v.extend_from_slice(&ph);
    v[28..32].copy_from_slice(&(new_phoff as u32).to_le_bytes());
    v[44..46].copy_from_slice(&2u16.to_le_bytes());
    v
}

fn check(layout: Layout32, data: bool) {
    let exe = TFile::regular("exe", image(data));
    let mut p = process_with(&[Some((exe.clone(), exe_rights()))]);
    let args: ImageArgs<Arc<TFile>> =
        exec_copyin_data_fds(&p.table, &p.mem, CALLER_DATA, 0, CALLER_FDS, 0).unwrap();
    let mut rng = TestRng(7);
    let mut activator = Cloudabi32Activator::new(layout, &mut rng);
    let prepared = ImageActivator::<Proc>::prepare(&mut activator, &p, &exe, &args).unwrap();
    let regions = activator.mapped_regions(&prepared);
    let expected_len = prepared.image.segments.len() + 1 + usize::from(layout.sysinfo_ehdr != 0);
    assert_eq!(regions.len(), expected_len);
    let expected: BTreeSet<u32> = regions.iter().flat_map(|&(a, l)| pages(a, l)).collect();

    ImageActivator::<Proc>::activate(&mut activator, &mut p, prepared, &exe, &args).unwrap();
    for &page in &expected {
        assert!(p.mem.is_mapped(page), "{page:#x} listed but not mapped");
    }
    assert_eq!(
        p.mem.mapped_pages(),
        expected.len(),
        "activate mapped pages outside the listed regions"
    );
}

#[test]
fn one_segment_stack_and_vdso() {
    check(Layout32::default(), false);
}

#[test]
fn two_segments_sharing_a_page() {
    check(Layout32::default(), true);
}

#[test]
fn without_a_vdso() {
    let layout = Layout32 {
        sysinfo_ehdr: 0,
        ..Layout32::default()
    };
    check(layout, false);
    check(layout, true);
}
