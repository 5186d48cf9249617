//! The new image's initial i386 stack, byte for byte against the table of abi-i386.md,
//! built directly and through a whole `proc_exec`, then read back through the program's
//! side (`read_start_info`, `read_argdata`).

mod common;

use capexec::abi::cloudabi32::ARG_MAX;
use capexec::abi::{
    AUXV_ENTRIES, AuxInfo, STACK_HEADER, SyscallAction, build_initial_stack, read_argdata,
    read_start_info,
};
use capexec::exec::copyin;
use common::*;

/// The data lengths the spec asks for: empty, one byte, three (alignment), the largest.
fn lengths() -> [usize; 5] {
    [0, 1, 2, 3, (ARG_MAX - 1) as usize]
}

fn data_of(len: usize) -> Vec<u8> {
    // No zero bytes, so the appended NUL is distinguishable.
    (0..len).map(|i| (i % 251) as u8 + 1).collect()
}

fn with_nul(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    if !v.is_empty() {
        v.push(0);
    }
    v
}

fn le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

/// The stack the spec's table describes, from `esp` to the end of the data's NUL,
/// written independently of the crate: returns (esp, bytes).
fn expected_stack(top: u32, data: &[u8], aux: &AuxInfo, seed: u64) -> (u32, Vec<u8>) {
    let l = if data.is_empty() {
        0
    } else {
        data.len() as u32 + 1
    };
    let a = (top - l) / 4 * 4;
    let esp = a - 196;
    let mut img = vec![0u8; (196 + l) as usize];
    let at = |addr: u32| (addr - esp) as usize;
    let random = rng_bytes(seed, 64 + 16);
    // The two `_start` words, then the TCB slot (zero).
    img[0..4].copy_from_slice(&le(a - 188));
    img[4..8].copy_from_slice(&le(a - 184));
    assert_eq!(at(a - 188), 8);
    // The auxiliary vector, FreeBSD 12 order.
    let auxv: [(u32, u32); 13] = [
        (256, a),                 // ARGDATA
        (257, data.len() as u32), // ARGDATALEN: without the NUL
        (7, aux.base),            // BASE
        (258, a - 64),            // CANARY
        (259, 64),                // CANARYLEN
        (260, aux.ncpus),         // NCPUS
        (6, aux.page_size),       // PAGESZ
        (3, aux.phdr),            // PHDR
        (4, aux.phnum),           // PHNUM
        (263, a - 80),            // PID
        (262, aux.sysinfo_ehdr),  // SYSINFO_EHDR
        (261, aux.tid),           // TID
        (0, 0),                   // NULL
    ];
    for (i, (t, v)) in auxv.iter().enumerate() {
        let o = at(a - 184) + i * 8;
        img[o..o + 4].copy_from_slice(&le(*t));
        img[o + 4..o + 8].copy_from_slice(&le(*v));
    }
    // The UUID v4 (second 16 random bytes, version and variant bits forced).
    let pid = at(a - 80);
    img[pid..pid + 16].copy_from_slice(&random[64..80]);
    img[pid + 6] = (img[pid + 6] & 0x0f) | 0x40;
    img[pid + 8] = (img[pid + 8] & 0x3f) | 0x80;
    // The canary (first 64 random bytes).
    let c = at(a - 64);
    img[c..c + 64].copy_from_slice(&random[..64]);
    // The data and its NUL.
    let d = at(a);
    img[d..].copy_from_slice(&with_nul(data));
    (esp, img)
}

fn sample_aux() -> AuxInfo {
    AuxInfo {
        base: 0x0123_4000,
        phdr: 0x0123_4034,
        phnum: 3,
        ncpus: 4,
        tid: 77,
        sysinfo_ehdr: 0xffff_e000,
        page_size: 4096,
    }
}

#[test]
fn built_stack_matches_the_spec_table_byte_for_byte() {
    for top in [
        0xbfc0_0000u32,
        0xbfc0_0001,
        0xbfc0_0002,
        0xbfc0_0003,
        0x8000_0000,
    ] {
        for len in lengths() {
            let data = data_of(len);
            let seed = 0x1234_5678 + len as u64;
            let mut rng = TestRng(seed);
            let img = build_initial_stack(top, &with_nul(&data), &sample_aux(), &mut rng).unwrap();
            let (esp, want) = expected_stack(top, &data, &sample_aux(), seed);
            assert_eq!(img.esp, esp, "top {top:#x} len {len}");
            assert_eq!(img.esp % 4, 0);
            assert_eq!(img.argdata, esp + STACK_HEADER);
            assert_eq!(img.argdata_len, len as u32);
            assert!(
                img.to_vec(&with_nul(&data)).unwrap() == want,
                "top {top:#x} len {len}: bytes differ"
            );
            // Exactly 80 random bytes were taken.
            let mut next = [0u8; 1];
            capexec::abi::Entropy::fill(&mut rng, &mut next).unwrap();
            assert_eq!(next[0], rng_bytes(seed, 81)[80]);
        }
    }
}

#[test]
fn uuid_has_version_4_and_variant_bits_for_every_random_byte() {
    // Bytes 6 and 8 of the UUID take every value: the other bits are kept.
    for seed in 1..200u64 {
        let mut rng = TestRng(seed);
        let img = build_initial_stack(0x1000_0000, &[], &AuxInfo::default(), &mut rng).unwrap();
        let raw = rng_bytes(seed, 80);
        let pid = &img.header[(STACK_HEADER - 80) as usize..(STACK_HEADER - 64) as usize];
        assert_eq!(pid[6] >> 4, 4);
        assert_eq!(pid[6] & 0x0f, raw[64 + 6] & 0x0f);
        assert_eq!(pid[8] >> 6, 0b10);
        assert_eq!(pid[8] & 0x3f, raw[64 + 8] & 0x3f);
        for i in (0..16).filter(|&i| i != 6 && i != 8) {
            assert_eq!(pid[i], raw[64 + i]);
        }
    }
}

#[test]
fn auxv_has_thirteen_entries_and_defaults() {
    assert_eq!(AUXV_ENTRIES, 13);
    assert_eq!(STACK_HEADER, 196);
    let d = AuxInfo::default();
    assert_eq!(
        (d.ncpus, d.tid, d.page_size, d.sysinfo_ehdr),
        (1, 1, 4096, 0)
    );
    let img = build_initial_stack(0x1000_0000, b"ab\0", &d, &mut TestRng(3)).unwrap();
    let (_, want) = expected_stack(0x1000_0000, b"ab", &d, 3);
    assert_eq!(img.to_vec(b"ab\0").unwrap(), want);
}

#[test]
fn stack_through_proc_exec_and_read_back_by_the_program() {
    for len in lengths() {
        let data = data_of(len);
        let exe = TFile::regular("exe", test_elf());
        let mut p = process_with(&[
            Some((TFile::stream("out"), stream_rights())),
            Some((exe, exe_rights())),
        ]);
        let mut regs = exec_frame(&mut p, 1, &data, &[0]);
        let action = run(&mut p, &mut regs);
        let SyscallAction::Exec(entry) = action else {
            panic!("len {len}: {action:?}")
        };
        // The activator's randomness in `common::run` is TestRng(0x9e37_79b9_7f4a_7c15).
        let aux = AuxInfo {
            base: 0,
            phdr: 0x0804_8000 + 52,
            phnum: 1,
            sysinfo_ehdr: capexec::abi::Layout32::default().sysinfo_ehdr,
            ..AuxInfo::default()
        };
        let top = capexec::abi::Layout32::default().stack_top;
        let (esp, want) = expected_stack(top, &data, &aux, 0x9e37_79b9_7f4a_7c15);
        assert_eq!(entry.esp, esp, "len {len}");
        let mut got = vec![0u8; want.len()];
        copyin(&p.mem, esp, &mut got).unwrap();
        assert!(got == want, "len {len}: stack in memory differs");

        // The program's side.
        let info = read_start_info(&p.mem, regs.esp).unwrap();
        let a = esp + 196;
        assert_eq!(info.tcb, a - 188);
        assert_eq!(info.auxv, a - 184);
        assert_eq!(info.argdata, a);
        assert_eq!(info.argdata_len, len as u32);
        assert_eq!(info.canary, (a - 64, 64));
        assert_eq!(info.pid, a - 80);
        assert_eq!(info.phdr, (0x0804_8000 + 52, 1));
        assert_eq!(
            (info.base, info.page_size, info.ncpus, info.tid),
            (0, 4096, 1, 1)
        );
        // AT_SYSINFO_EHDR points at the vDSO, mapped there.
        assert_eq!(info.sysinfo_ehdr, 0xbfe0_0000);
        let vdso = capexec::abi::vdso::vdso_image();
        let mut mapped = vec![0u8; vdso.len()];
        copyin(&p.mem, info.sysinfo_ehdr, &mut mapped).unwrap();
        assert!(mapped == vdso, "the vDSO is not at AT_SYSINFO_EHDR");
        assert_eq!(read_argdata(&p.mem, &info).unwrap(), data);
        // %gs:0 (the word at the gs base) is the TCB pointer.
        let mut w = [0u8; 4];
        copyin(&p.mem, regs.gs_base, &mut w).unwrap();
        assert_eq!(u32::from_le_bytes(w), a - 188);
        if len > 0 {
            let mut nul = [0xffu8; 1];
            copyin(&p.mem, a + len as u32, &mut nul).unwrap();
            assert_eq!(nul, [0], "NUL after the data");
        }
    }
}

#[test]
fn stack_top_too_low_is_an_error_not_a_wrap() {
    for (top, data) in [
        (0u32, &b""[..]),
        (100, b""),
        (195, b""),
        (200, b"abcdefgh\0"),
    ] {
        let r = build_initial_stack(top, data, &AuxInfo::default(), &mut TestRng(1));
        assert!(r.is_err(), "top {top}");
    }
    // Exactly enough room.
    let img = build_initial_stack(196, &[], &AuxInfo::default(), &mut TestRng(1)).unwrap();
    assert_eq!(img.esp, 0);
}
