//! Property test of `proc_exec` against a small model of exec.md: random tables (holes,
//! non-passable files, executables, directories), random descriptor lists, random data
//! lengths, user memory with random unmapped pages, random executable descriptor.

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::cloudabi32::ARG_MAX;
use capexec::abi::{Cloudabi32Activator, Layout32};
use capexec::exec::{ExecOutcome, copyout, proc_exec};
use capexec::fdtable::FdRights;
use capexec_sim::SimProcess;
use common::*;
use proptest::prelude::*;

const DATA: u32 = 0x6000_0000;
const FDS: u32 = 0x5000_0000;
const PAGE: u32 = 4096;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Hole,
    Stream,
    Unpassable,
    Exe,
    /// A directory that carries PROC_EXEC (so its type decides: EACCES).
    Dir,
}

#[derive(Debug, Clone)]
struct Case {
    slots: Vec<Slot>,
    cloexec: Vec<bool>,
    fds: Vec<u32>,
    data_len: u32,
    data_off: u32,
    fds_off: u32,
    /// Which of the two data pages and two fd-list pages are unmapped.
    holes: [bool; 4],
    exe: u32,
}

fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![
        2 => Just(Slot::Hole),
        5 => Just(Slot::Stream),
        1 => Just(Slot::Unpassable),
        2 => Just(Slot::Exe),
        1 => Just(Slot::Dir),
    ]
}

fn fd_value(n: u32) -> impl Strategy<Value = u32> {
    prop_oneof![
        12 => 0..n.max(1),                   // in range (maybe a hole)
        1 => n..n + 3,                       // just out of range
        1 => prop_oneof![Just(0x7fff_ffffu32), Just(0x8000_0000), Just(u32::MAX), any::<u32>()],
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (proptest::collection::vec(slot(), 0..12)).prop_flat_map(|slots| {
        let n = slots.len() as u32;
        (
            Just(slots),
            proptest::collection::vec(any::<bool>(), 12),
            proptest::collection::vec(fd_value(n), 0..(n as usize + 3)),
            prop_oneof![
                8 => 0u32..3000,
                2 => Just(0u32),
                1 => ARG_MAX..ARG_MAX + 2,
                1 => Just(u32::MAX),
            ],
            0u32..PAGE,
            0u32..PAGE,
            proptest::array::uniform4(proptest::bool::weighted(0.15)),
            fd_value(n),
        )
            .prop_map(
                |(slots, cloexec, fds, data_len, data_off, fds_off, holes, exe)| Case {
                    slots,
                    cloexec,
                    fds,
                    data_len,
                    data_off,
                    fds_off,
                    holes,
                    exe,
                },
            )
    })
}

fn rights_for(s: Slot, i: usize) -> FdRights {
    match s {
        Slot::Exe | Slot::Dir => exe_rights(),
        _ => {
            let mut r = stream_rights();
            // Vary the rights per slot so a mix-up shows.
            r.inheriting = capexec::fdtable::Rights::from_bits_truncate(1 << i);
            r
        }
    }
}

/// The first failing check of exec.md, in its order; `None` when the exec succeeds.
fn model(c: &Case) -> Option<Errno> {
    let lastfile_plus_one = c
        .slots
        .iter()
        .rposition(|s| *s != Slot::Hole)
        .map_or(0, |i| i + 1);
    if c.data_len >= ARG_MAX {
        return Some(Errno::E2BIG);
    }
    if c.fds.len() > lastfile_plus_one {
        return Some(Errno::E2BIG);
    }
    let mapped = |addr: u32, len: u32, first_hole: usize| {
        (0..len).all(|i| {
            let page = ((addr + i) - (addr & !(PAGE - 1))) / PAGE;
            !c.holes[first_hole + page as usize]
        })
    };
    if !mapped(DATA + c.data_off, c.data_len, 0) {
        return Some(Errno::EFAULT);
    }
    if !mapped(FDS + c.fds_off, 4 * c.fds.len() as u32, 2) {
        return Some(Errno::EFAULT);
    }
    for &v in &c.fds {
        match c.slots.get(v as usize) {
            _ if v >= 0x8000_0000 => return Some(Errno::EBADF),
            None | Some(Slot::Hole) => return Some(Errno::EBADF),
            Some(Slot::Unpassable) => return Some(Errno::EINVAL),
            Some(_) => {}
        }
    }
    match c.slots.get(c.exe as usize) {
        _ if c.exe >= 0x8000_0000 => Some(Errno::EBADF),
        None | Some(Slot::Hole) => Some(Errno::EBADF),
        Some(Slot::Stream | Slot::Unpassable) => Some(Errno::ENOTCAPABLE),
        Some(Slot::Dir) => Some(Errno::EACCES),
        Some(Slot::Exe) => None,
    }
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let files: Vec<Arc<TFile>> = c
        .slots
        .iter()
        .map(|s| match s {
            Slot::Unpassable => TFile::unpassable("kq"),
            Slot::Exe => TFile::regular("exe", test_elf()),
            Slot::Dir => TFile::directory("dir"),
            _ => TFile::stream("s"),
        })
        .collect();
    let spec: Vec<_> = c
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| (*s != Slot::Hole).then(|| (files[i].clone(), rights_for(*s, i))))
        .collect();
    let mut p: Proc = SimProcess::new(table_with(&spec));
    drop(spec);
    for (i, s) in c.slots.iter().enumerate() {
        if *s != Slot::Hole && c.cloexec[i] {
            p.table.lock().set_cloexec(fd(i as i32), true).unwrap();
        }
    }
    p.mem.map(DATA, 2 * PAGE);
    p.mem.map(FDS, 2 * PAGE);
    let data: Vec<u8> = (0..c.data_len.min(2 * PAGE)).map(|i| i as u8).collect();
    let avail = (2 * PAGE - c.data_off) as usize;
    copyout(
        &mut p.mem,
        DATA + c.data_off,
        &data[..data.len().min(avail)],
    )
    .unwrap();
    let list: Vec<u8> = c.fds.iter().flat_map(|v| v.to_le_bytes()).collect();
    copyout(&mut p.mem, FDS + c.fds_off, &list).unwrap();
    for (i, h) in c.holes.iter().enumerate() {
        if *h {
            let base = if i < 2 { DATA } else { FDS };
            p.mem.unmap(base + (i as u32 % 2) * PAGE, PAGE);
        }
    }
    let before = snapshot(&p);
    let counts = strong_counts(&files);
    for (i, s) in c.slots.iter().enumerate() {
        prop_assert_eq!(counts[i], if *s == Slot::Hole { 1 } else { 2 });
    }

    let mut rng = TestRng(11);
    let layout = Layout32 {
        stack_size: 0x1_0000,
        ..Layout32::default()
    };
    let mut act = Cloudabi32Activator::new(layout, &mut rng);
    let out = proc_exec(
        &mut p,
        &mut act,
        c.exe,
        DATA + c.data_off,
        c.data_len,
        FDS + c.fds_off,
        c.fds.len() as u32,
    );
    prop_assert!(!p.table.is_locked());
    match model(c) {
        Some(e) => {
            prop_assert_eq!(out, ExecOutcome::Failed(e));
            prop_assert_eq!(snapshot(&p), before);
            prop_assert_eq!(strong_counts(&files), counts);
        }
        None => {
            prop_assert!(matches!(out, ExecOutcome::Replaced(_)), "{:?}", out);
            let want: Vec<_> = c
                .fds
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let v = v as usize;
                    (
                        i as i32,
                        Arc::as_ptr(&files[v]),
                        rights_for(c.slots[v], v),
                        false,
                    )
                })
                .collect();
            prop_assert_eq!(snapshot(&p), want);
            let t = p.table.lock();
            prop_assert_eq!(t.len(), c.fds.len());
            prop_assert_eq!(
                t.lastfile().map(|f| f.raw() as usize),
                c.fds.len().checked_sub(1)
            );
            prop_assert_eq!(t.lowest_free(fd(0)).unwrap().raw() as usize, c.fds.len());
            drop(t);
            // The old table was released: each file is held by the test and once per
            // occurrence in the list.
            for (i, f) in files.iter().enumerate() {
                let k = c.fds.iter().filter(|&&v| v as usize == i).count();
                prop_assert_eq!(Arc::strong_count(f), 1 + k, "file {}", i);
            }
        }
    }
    drop(p);
    prop_assert!(files.iter().all(|f| Arc::strong_count(f) == 1));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn proc_exec_matches_the_model(c in case()) {
        check(&c)?;
    }
}

#[test]
fn model_sanity_hand_cases() {
    // A few fixed cases, so the model itself is pinned.
    let base = Case {
        slots: vec![Slot::Stream, Slot::Hole, Slot::Unpassable, Slot::Exe],
        cloexec: vec![true; 12],
        fds: vec![3, 0, 0],
        data_len: 5,
        data_off: 4094,
        fds_off: 4090,
        holes: [false; 4],
        exe: 3,
    };
    assert_eq!(model(&base), None);
    check(&base).unwrap();
    let with = |f: &dyn Fn(&mut Case)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    let cases: Vec<(Case, Errno)> = vec![
        (with(&|c| c.data_len = ARG_MAX), Errno::E2BIG),
        (with(&|c| c.fds = vec![0; 5]), Errno::E2BIG),
        (with(&|c| c.holes[1] = true), Errno::EFAULT),
        (with(&|c| c.holes[3] = true), Errno::EFAULT),
        (with(&|c| c.fds = vec![0, 1]), Errno::EBADF),
        (with(&|c| c.fds = vec![2, 1]), Errno::EINVAL),
        (with(&|c| c.fds = vec![0x8000_0000]), Errno::EBADF),
        (with(&|c| c.exe = 0), Errno::ENOTCAPABLE),
        (with(&|c| c.exe = 1), Errno::EBADF),
        (with(&|c| c.exe = u32::MAX), Errno::EBADF),
    ];
    for (c, e) in cases {
        assert_eq!(model(&c), Some(e), "{c:?}");
        check(&c).unwrap();
    }
}
