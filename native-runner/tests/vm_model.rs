//! Property test: random `mem_map` (kernel's choice, hint, fixed), `mem_unmap`,
//! `mem_protect` and program stores served natively (injected `mmap2` / `munmap` /
//! `mprotect`) against a model that is an array of page states. After every step the
//! host's own view of each page (`/proc/PID/maps`) has the model's protection, and each
//! page holds the model's byte.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use capexec::Errno;
use capexec::abi::mem::{
    MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE, mem_map,
    mem_protect, mem_unmap,
};
use capexec::exec::{Process, copyout};
use capexec::fdtable::FdTable;
use capexec_native::{HostFile, MAP_BASE, NATIVE_LAYOUT, NativeProcess, PAGE_SIZE};
use common::setup;
use proptest::prelude::*;

/// The window the model covers; the program's range ends with it, and the operations
/// are too few and too small to fill it, so the runner's choice always lands inside.
const PAGES: u32 = 192;
/// Where the operations aim (hints, unmaps, protections, stores): the low part of the
/// window, where the runner's first-fit choices land too, so they overlap often.
const AIM: u32 = 40;

#[derive(Debug, Clone)]
enum Op {
    Map {
        hint: Option<u32>,
        fixed: bool,
        pages: u32,
        prot: u8,
    },
    Unmap {
        page: u32,
        pages: u32,
    },
    Protect {
        page: u32,
        pages: u32,
        prot: u8,
    },
    Store {
        page: u32,
        byte: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (proptest::option::of(0..AIM), any::<bool>(), 1u32..5, 0u8..8)
            .prop_map(|(hint, fixed, pages, prot)| Op::Map { hint, fixed, pages, prot }),
        2 => (0..AIM, 1u32..9).prop_map(|(page, pages)| Op::Unmap { page, pages }),
        3 => (0..AIM, 1u32..9, 0u8..8)
            .prop_map(|(page, pages, prot)| Op::Protect { page, pages, prot }),
        3 => (0..AIM, 1u8..=255).prop_map(|(page, byte)| Op::Store { page, byte }),
    ]
}

/// A page: its Linux permissions ("rw-", "---", ...) and the byte it is filled with.
type Model = Vec<Option<(String, u8)>>;

fn perms(prot: u8) -> Result<String, Errno> {
    if prot & (PROT_WRITE | PROT_EXEC) == PROT_WRITE | PROT_EXEC {
        return Err(Errno::ENOTSUP);
    }
    let bit = |b: u8, c: char| if prot & b != 0 { c } else { '-' };
    Ok([
        bit(PROT_READ, 'r'),
        bit(PROT_WRITE, 'w'),
        bit(PROT_EXEC, 'x'),
    ]
    .iter()
    .collect())
}

fn free(m: &Model, first: u32, n: u32) -> bool {
    first + n <= PAGES && (first..first + n).all(|p| m[p as usize].is_none())
}

fn model_step(m: &mut Model, op: &Op) -> Result<u32, Errno> {
    match *op {
        Op::Map {
            hint,
            fixed,
            pages,
            prot,
        } => {
            let p = perms(prot)?;
            let first = match (hint, fixed) {
                (None, true) => return Err(Errno::EINVAL),
                (Some(h), true) if h + pages > PAGES => return Err(Errno::EINVAL),
                (Some(h), true) => h,
                (Some(h), false) if free(m, h, pages) => h,
                _ => (0..PAGES).find(|&q| free(m, q, pages)).expect("never full"),
            };
            for q in first..first + pages {
                m[q as usize] = Some((p.clone(), 0));
            }
            Ok(MAP_BASE + first * PAGE_SIZE)
        }
        Op::Unmap { page, pages } => {
            if page + pages > PAGES {
                return Err(Errno::EINVAL);
            }
            for q in page..page + pages {
                m[q as usize] = None;
            }
            Ok(0)
        }
        Op::Protect { page, pages, prot } => {
            let p = perms(prot)?;
            for q in page..(page + pages).min(PAGES) {
                if let Some((old, _)) = &mut m[q as usize] {
                    *old = p.clone();
                }
            }
            Ok(0)
        }
        Op::Store { page, byte } => match &mut m[page as usize] {
            Some((p, b)) if p.contains('w') => {
                *b = byte;
                Ok(0)
            }
            _ => Err(Errno::EFAULT),
        },
    }
}

fn real_step(p: &mut NativeProcess<HostFile>, op: &Op) -> Result<u32, Errno> {
    let at = |page: u32| MAP_BASE + page * PAGE_SIZE;
    match *op {
        Op::Map {
            hint,
            fixed,
            pages,
            prot,
        } => {
            let flags = MAP_ANON | MAP_PRIVATE | if fixed { MAP_FIXED } else { 0 };
            mem_map(
                p,
                hint.map_or(0, at),
                pages * PAGE_SIZE,
                prot,
                flags,
                MAP_ANON_FD,
                0,
            )
        }
        Op::Unmap { page, pages } => mem_unmap(p, at(page), pages * PAGE_SIZE).map(|()| 0),
        Op::Protect { page, pages, prot } => {
            mem_protect(p, at(page), pages * PAGE_SIZE, prot).map(|()| 0)
        }
        Op::Store { page, byte } => {
            copyout(p.memory_mut(), at(page), &vec![byte; PAGE_SIZE as usize]).map(|()| 0)
        }
    }
}

/// The host's permissions of each page of the window.
fn host_pages(p: &NativeProcess<HostFile>) -> Vec<Option<String>> {
    let pid = p.address_space().tracee().pid();
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let ranges: Vec<(u32, u32, String)> = maps
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (s, e) = f.next()?.split_once('-')?;
            Some((
                u32::from_str_radix(s, 16).ok()?,
                u32::from_str_radix(e, 16).ok()?,
                f.next()?[..3].to_string(),
            ))
        })
        .collect();
    (0..PAGES)
        .map(|i| {
            let a = MAP_BASE + i * PAGE_SIZE;
            ranges
                .iter()
                .find(|(s, e, _)| (*s..*e).contains(&a))
                .map(|r| r.2.clone())
        })
        .collect()
}

fn check(p: &mut NativeProcess<HostFile>, m: &Model) -> Result<(), TestCaseError> {
    let host = host_pages(p);
    for (i, want) in m.iter().enumerate() {
        prop_assert_eq!(
            host[i].as_deref(),
            want.as_ref().map(|w| w.0.as_str()),
            "page {}",
            i
        );
        if let Some((perm, byte)) = want {
            // Read through the host, whatever the protection (ptrace peeks pass it).
            let a = MAP_BASE + i as u32 * PAGE_SIZE;
            let pid = p.address_space().tracee().pid();
            let mut buf = [0u8; 8];
            let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
            std::os::unix::fs::FileExt::read_exact_at(&mem, &mut buf, u64::from(a)).unwrap();
            prop_assert_eq!(buf, [*byte; 8], "page {} ({})", i, perm);
        }
    }
    Ok(())
}

#[test]
fn the_native_vm_behaves_as_an_array_of_pages() {
    let Some(dir) = setup("the_native_vm_behaves_as_an_array_of_pages") else {
        return;
    };
    let config = ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 1..32))| {
        let mut p = NativeProcess::spawn(&dir.join("stub"), FdTable::new()).expect("stub");
        let mut layout = NATIVE_LAYOUT;
        layout.user_top = MAP_BASE + PAGES * PAGE_SIZE;
        p.set_layout(layout);
        let mut m: Model = vec![None; PAGES as usize];
        for op in &ops {
            let want = model_step(&mut m, op);
            let got = real_step(&mut p, op);
            prop_assert_eq!(got, want, "{:?}", op);
            check(&mut p, &m)?;
        }
    });
}
