//! `mem_map`: argument validation in FreeBSD's order, placement (kernel's choice, hint,
//! fixed replacement), reservations, file mappings through the kernel's hook and their
//! rights, and failures that change nothing.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::{
    MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE,
    mem_map,
};
use capexec::exec::{Placement, Protection, Sharing};
use capexec::fdtable::{FdRights, Rights};
use capexec_sim::{SIM_MAP_BASE, SIM_USER_TOP};
use mem_common::*;

const ANON: u8 = MAP_ANON | MAP_PRIVATE;

#[test]
fn constants_match_the_cloudabi_crate() {
    use cloudabi::{mflags, mprot};
    assert_eq!(MAP_ANON, mflags::ANON.bits());
    assert_eq!(MAP_FIXED, mflags::FIXED.bits());
    assert_eq!(MAP_PRIVATE, mflags::PRIVATE.bits());
    assert_eq!(MAP_SHARED, mflags::SHARED.bits());
    assert_eq!(PROT_EXEC, mprot::EXEC.bits());
    assert_eq!(PROT_WRITE, mprot::WRITE.bits());
    assert_eq!(PROT_READ, mprot::READ.bits());
    assert_eq!(MAP_ANON_FD, cloudabi::MAP_ANON_FD.0);
}

/// Each row: (what, addr, len, prot, flags, fd, off, errno). Nothing may be mapped
/// afterwards and no hook may be called.
#[test]
fn invalid_arguments_fail_in_freebsds_order_and_change_nothing() {
    let fixed = ANON | MAP_FIXED;
    type Row = (&'static str, u32, u32, u8, u8, u32, u64, Errno);
    let rows: &[Row] = &[
        (
            "unknown protection bit",
            0,
            PAGE,
            0x8,
            ANON,
            MAP_ANON_FD,
            0,
            Errno::ENOTSUP,
        ),
        (
            "write and exec (W^X)",
            0,
            PAGE,
            PROT_WRITE | PROT_EXEC,
            ANON,
            MAP_ANON_FD,
            0,
            Errno::ENOTSUP,
        ),
        (
            "W^X before a zero length",
            0,
            0,
            PROT_WRITE | PROT_EXEC,
            ANON,
            MAP_ANON_FD,
            0,
            Errno::ENOTSUP,
        ),
        ("zero length", 0, 0, RW, ANON, MAP_ANON_FD, 0, Errno::EINVAL),
        (
            "anonymous with a descriptor",
            0,
            PAGE,
            RW,
            ANON,
            3,
            0,
            Errno::EINVAL,
        ),
        (
            "anonymous with descriptor 0",
            0,
            PAGE,
            RW,
            ANON,
            0,
            0,
            Errno::EINVAL,
        ),
        (
            "anonymous with an offset",
            0,
            PAGE,
            RW,
            ANON,
            MAP_ANON_FD,
            0x1000,
            Errno::EINVAL,
        ),
        (
            "shared and private",
            0,
            PAGE,
            RW,
            ANON | MAP_SHARED,
            MAP_ANON_FD,
            0,
            Errno::EINVAL,
        ),
        (
            "length rounds past 4 GiB",
            0,
            u32::MAX,
            RW,
            ANON,
            MAP_ANON_FD,
            0,
            Errno::ENOMEM,
        ),
        (
            "fixed, unaligned",
            0x2000_0001,
            PAGE,
            RW,
            fixed,
            MAP_ANON_FD,
            0,
            Errno::EINVAL,
        ),
        (
            "fixed at 0",
            0,
            PAGE,
            RW,
            fixed,
            MAP_ANON_FD,
            0,
            Errno::EINVAL,
        ),
        (
            "fixed below the user range",
            0x0,
            2 * PAGE,
            RW,
            fixed,
            MAP_ANON_FD,
            0,
            Errno::EINVAL,
        ),
        (
            "fixed reaching the kernel",
            SIM_USER_TOP - PAGE,
            2 * PAGE,
            RW,
            fixed,
            MAP_ANON_FD,
            0,
            Errno::EINVAL,
        ),
        (
            "fixed wrapping",
            0xffff_f000,
            2 * PAGE,
            RW,
            fixed,
            MAP_ANON_FD,
            0,
            Errno::EINVAL,
        ),
        (
            "file: closed descriptor",
            0,
            PAGE,
            PROT_READ,
            MAP_PRIVATE,
            5,
            0,
            Errno::EBADF,
        ),
        (
            "file: the anonymous descriptor",
            0,
            PAGE,
            PROT_READ,
            MAP_PRIVATE,
            MAP_ANON_FD,
            0,
            Errno::EBADF,
        ),
    ];
    for &(what, addr, len, prot, flags, fdn, off, want) in rows {
        let mut p = MapProc::new(&[]);
        assert_eq!(
            mem_map(&mut p, addr, len, prot, flags, fdn, off),
            Err(want),
            "{what}"
        );
        assert_eq!(p.mem().mapped_pages(), 0, "{what}");
        assert!(p.file_maps.is_empty(), "{what}");
    }
}

#[test]
fn without_a_vm_every_call_is_enosys() {
    let mut p = MapProc::new(&[]);
    p.vm = false;
    // Even arguments that are wrong otherwise: the call is not there.
    assert_eq!(p.anon(0, 0xff), Err(Errno::ENOSYS));
    assert_eq!(p.anon(PAGE, RW), Err(Errno::ENOSYS));
    use capexec::abi::mem::*;
    assert_eq!(mem_unmap(&mut p, 0x1000_0000, PAGE), Err(Errno::ENOSYS));
    assert_eq!(
        mem_protect(&mut p, 0x1000_0000, PAGE, 0),
        Err(Errno::ENOSYS)
    );
    assert_eq!(
        mem_advise(&mut p, 0x1000_0000, PAGE, ADVICE_NORMAL),
        Err(Errno::ENOSYS)
    );
    assert_eq!(
        mem_sync(&mut p, 0x1000_0000, PAGE, MS_SYNC),
        Err(Errno::ENOSYS)
    );
}

#[test]
fn unknown_flag_bits_are_ignored_as_freebsd_ignores_them() {
    let mut p = MapProc::new(&[]);
    let a = mem_map(&mut p, 0, PAGE, RW, ANON | 0xf0, MAP_ANON_FD, 0).unwrap();
    assert_eq!(p.mem().protection(a), Some(rw()));
}

#[test]
fn a_null_hint_is_the_kernels_choice_and_lengths_round_to_pages() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(1, RW).unwrap();
    assert_eq!(a, SIM_MAP_BASE);
    let b = p.anon(PAGE + 1, RW).unwrap();
    assert_eq!(b, a + PAGE, "first fit after the first mapping");
    assert_eq!(p.mem().mapped_pages(), 3);
    // Zero-filled, readable and writable to the end of the last page.
    assert_eq!(p.read(b, 2 * PAGE).unwrap(), vec![0; 2 * PAGE as usize]);
    p.fill(b + 2 * PAGE - 1, 1, 7).unwrap();
}

#[test]
fn a_hint_is_honoured_when_free_and_never_replaces() {
    let mut p = MapProc::new(&[]);
    let want = 0x3000_0000;
    let a = mem_map(&mut p, want + 5, PAGE, RW, ANON, MAP_ANON_FD, 0).unwrap();
    assert_eq!(a, want, "the hint, rounded down to its page");
    p.fill(a, PAGE, 0xaa).unwrap();
    let b = mem_map(&mut p, want, PAGE, RW, ANON, MAP_ANON_FD, 0).unwrap();
    assert_ne!(b, want, "an occupied hint goes elsewhere");
    assert_eq!(p.read(a, PAGE).unwrap(), vec![0xaa; PAGE as usize]);
    // A hint in the kernel's half is only a hint.
    let c = mem_map(&mut p, 0xf000_0000, PAGE, RW, ANON, MAP_ANON_FD, 0).unwrap();
    assert!(c < SIM_USER_TOP);
}

#[test]
fn fixed_replaces_contents_and_protection() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(4 * PAGE, RW).unwrap();
    p.fill(a, 4 * PAGE, 0x55).unwrap();
    let b = p.fixed(a + PAGE, 2 * PAGE, PROT_READ).unwrap();
    assert_eq!(b, a + PAGE);
    assert_eq!(
        prots(p.mem(), a, 4 * PAGE),
        [
            Some(rw()),
            Some(Protection::READ),
            Some(Protection::READ),
            Some(rw())
        ]
    );
    assert_eq!(p.read(a, PAGE).unwrap(), vec![0x55; PAGE as usize]);
    assert_eq!(p.read(b, 2 * PAGE).unwrap(), vec![0; 2 * PAGE as usize]);
    assert_eq!(p.fill(b, 1, 1), Err(Errno::EFAULT), "read-only now");
    assert_eq!(
        p.read(a + 3 * PAGE, PAGE).unwrap(),
        vec![0x55; PAGE as usize]
    );
}

#[test]
fn prot_none_reserves_until_committed() {
    let mut p = MapProc::new(&[]);
    let r = p.anon(8 * PAGE, 0).unwrap();
    assert_eq!(p.read(r, 1), Err(Errno::EFAULT));
    assert_eq!(p.fill(r, 1, 1), Err(Errno::EFAULT));
    // The reservation keeps its space: the kernel's choice goes past it.
    let other = p.anon(PAGE, RW).unwrap();
    assert!(other >= r + 8 * PAGE);
    // Commit two pages in the middle.
    p.fixed(r + 2 * PAGE, 2 * PAGE, RW).unwrap();
    p.fill(r + 2 * PAGE, 2 * PAGE, 9).unwrap();
    assert_eq!(p.read(r + PAGE, 1), Err(Errno::EFAULT));
    assert_eq!(p.read(r + 4 * PAGE, 1), Err(Errno::EFAULT));
    assert_eq!(p.read(r + 3 * PAGE, PAGE).unwrap(), vec![9; PAGE as usize]);
    assert_eq!(p.mem().protection(r), Some(Protection::empty()));
}

#[test]
fn running_out_of_pages_is_enomem_and_changes_nothing() {
    let mut p = MapProc::new(&[]);
    let a = p.anon(2 * PAGE, RW).unwrap();
    p.fill(a, 2 * PAGE, 3).unwrap();
    p.mem_mut().set_page_limit(Some(3));
    assert_eq!(p.anon(2 * PAGE, RW), Err(Errno::ENOMEM));
    // Replacing a mapped page costs nothing more.
    assert_eq!(p.fixed(a + PAGE, 2 * PAGE, RW), Ok(a + PAGE));
    assert_eq!(p.fixed(a, 4 * PAGE, RW), Err(Errno::ENOMEM));
    assert_eq!(p.read(a, PAGE).unwrap(), vec![3; PAGE as usize]);
    assert_eq!(p.mem().mapped_pages(), 3);
}

#[test]
fn an_address_space_with_no_room_left_is_enomem() {
    let mut p = MapProc::new(&[]);
    p.mem_mut().set_user_range(0x1000_0000..0x1000_4000);
    assert_eq!(p.anon(4 * PAGE, RW), Ok(0x1000_0000));
    assert_eq!(p.anon(PAGE, RW), Err(Errno::ENOMEM));
}

fn file_rights(r: Rights) -> FdRights {
    FdRights::new(r, Rights::empty())
}

fn file_proc(rights: Rights) -> MapProc {
    let bytes: Vec<u8> = (0..3 * PAGE).map(|i| (i / 7) as u8).collect();
    MapProc::new(&[Some((TFile::regular("data", bytes), file_rights(rights)))])
}

/// Each row: (prot, flags, rights held, result): the rights FreeBSD's `kern_mmap` asks
/// for, in CloudABI terms.
#[test]
fn file_mappings_check_rights_as_freebsd_does() {
    let all = Rights::MEM_MAP | Rights::MEM_MAP_EXEC | Rights::FD_READ | Rights::FD_WRITE;
    let rows: &[(u8, u8, Rights, Result<(), Errno>)] = &[
        (
            PROT_READ,
            MAP_PRIVATE,
            Rights::MEM_MAP | Rights::FD_READ,
            Ok(()),
        ),
        (
            PROT_READ,
            MAP_PRIVATE,
            Rights::FD_READ,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            PROT_READ,
            MAP_PRIVATE,
            Rights::MEM_MAP,
            Err(Errno::ENOTCAPABLE),
        ),
        (0, MAP_PRIVATE, Rights::MEM_MAP, Ok(())),
        (0, MAP_PRIVATE, Rights::empty(), Err(Errno::ENOTCAPABLE)),
        (RW, MAP_PRIVATE, Rights::MEM_MAP | Rights::FD_READ, Ok(())),
        (
            PROT_READ | PROT_EXEC,
            MAP_PRIVATE,
            Rights::MEM_MAP | Rights::FD_READ,
            Err(Errno::ENOTCAPABLE),
        ),
        (
            PROT_READ | PROT_EXEC,
            MAP_PRIVATE,
            Rights::MEM_MAP | Rights::FD_READ | Rights::MEM_MAP_EXEC,
            Ok(()),
        ),
        // A shared writable mapping needs FD_WRITE; the simulated kernel then refuses
        // shared file mappings itself.
        (
            RW,
            MAP_SHARED,
            Rights::MEM_MAP | Rights::FD_READ,
            Err(Errno::ENOTCAPABLE),
        ),
        (RW, MAP_SHARED, all, Err(Errno::ENOTSUP)),
        // Neither private nor shared: EINVAL, but only after the rights.
        (PROT_READ, 0, Rights::MEM_MAP, Err(Errno::ENOTCAPABLE)),
        (PROT_READ, 0, all, Err(Errno::EINVAL)),
    ];
    for &(prot, flags, held, want) in rows {
        let mut p = file_proc(held);
        let got = mem_map(&mut p, 0, PAGE, prot, flags, 0, 0).map(|_| ());
        assert_eq!(got, want, "prot {prot:#x} flags {flags:#x} rights {held:?}");
        let hook_called = matches!(want, Ok(()) | Err(Errno::ENOTSUP));
        assert_eq!(
            !p.file_maps.is_empty(),
            hook_called,
            "prot {prot:#x} flags {flags:#x}"
        );
    }
}

#[test]
fn a_file_maps_from_its_offsets_page_and_returns_the_offsets_byte() {
    let mut p = file_proc(Rights::MEM_MAP | Rights::FD_READ);
    let off = PAGE as u64 + 10;
    let a = mem_map(&mut p, 0, 20, PROT_READ, MAP_PRIVATE, 0, off).unwrap();
    assert_eq!(a % PAGE, 10);
    let (req, file_off) = p.file_maps[0];
    assert_eq!(file_off, PAGE as u64, "the hook maps whole pages");
    assert_eq!(req.len, PAGE);
    assert_eq!(req.sharing, Sharing::Private);
    assert_eq!(req.placement, Placement::Anywhere);
    let want: Vec<u8> = (PAGE + 10..PAGE + 30).map(|i| (i / 7) as u8).collect();
    assert_eq!(p.read(a, 20).unwrap(), want);
    assert_eq!(p.mem().protection(a), Some(Protection::READ));

    // Fixed: the address must share the offset's remainder.
    let fixed = MAP_PRIVATE | MAP_FIXED;
    assert_eq!(
        mem_map(&mut p, 0x2000_0000, 20, PROT_READ, fixed, 0, off),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mem_map(&mut p, 0x2000_000a, 20, PROT_READ, fixed, 0, off),
        Ok(0x2000_000a)
    );
    assert_eq!(p.file_maps[1].0.placement, Placement::Fixed(0x2000_0000));
}

#[test]
fn a_file_the_kernel_cannot_map_is_its_errno() {
    let mut p = MapProc::new(&[Some((
        TFile::socket("sock"),
        file_rights(Rights::MEM_MAP | Rights::FD_READ),
    ))]);
    assert_eq!(
        mem_map(&mut p, 0, PAGE, PROT_READ, MAP_PRIVATE, 0, 0),
        Err(Errno::ENODEV)
    );
    assert_eq!(p.mem().mapped_pages(), 0);
}

#[test]
fn the_default_file_hook_is_enodev() {
    // A plain simulated process keeps Process::map_file's default.
    let t = table_with(&[Some((
        TFile::regular("f", vec![1; 100]),
        file_rights(Rights::MEM_MAP | Rights::FD_READ),
    ))]);
    let mut p = capexec_sim::SimProcess::new(t);
    assert_eq!(
        mem_map(&mut p, 0, PAGE, PROT_READ, MAP_PRIVATE, 0, 0),
        Err(Errno::ENODEV)
    );
}
