//! Property test: random sequences of `mem_map` (kernel's choice, hint, fixed),
//! `mem_unmap`, `mem_protect`, `mem_sync` and program stores, run against the simulated
//! VM and against a model that is just an array of page states; every result, every
//! page's protection and contents, and what the program may read and write must agree.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::{
    MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, MS_SYNC, PROT_EXEC, PROT_READ, PROT_WRITE,
    mem_map, mem_protect, mem_sync, mem_unmap,
};
use capexec::exec::Protection;
use mem_common::*;
use proptest::prelude::*;

/// The window the model covers: the whole user range of the simulated process, so the
/// kernel's choice stays inside it.
const BASE: u32 = 0x1000_0000;
const PAGES: u32 = 48;

#[derive(Debug, Clone)]
enum Op {
    /// `mem_map` of `pages` pages: `hint` None is a NULL hint; `fixed` uses the hint.
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
    Sync {
        page: u32,
        pages: u32,
    },
    /// The program stores `byte` over the whole page.
    Store {
        page: u32,
        byte: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0..PAGES;
    let pages = 1u32..12;
    prop_oneof![
        3 => (proptest::option::of(0..PAGES), any::<bool>(), pages.clone(), 0u8..8)
            .prop_map(|(hint, fixed, pages, prot)| Op::Map { hint, fixed, pages, prot }),
        2 => (page.clone(), pages.clone()).prop_map(|(page, pages)| Op::Unmap { page, pages }),
        2 => (page.clone(), pages.clone(), 0u8..8)
            .prop_map(|(page, pages, prot)| Op::Protect { page, pages, prot }),
        1 => (page.clone(), pages).prop_map(|(page, pages)| Op::Sync { page, pages }),
        3 => (page, 1u8..=255).prop_map(|(page, byte)| Op::Store { page, byte }),
    ]
}

/// A page: its protection and the byte every one of its bytes holds.
type Model = Vec<Option<(Protection, u8)>>;

fn prot_of(raw: u8) -> Result<Protection, Errno> {
    if raw & (PROT_WRITE | PROT_EXEC) == PROT_WRITE | PROT_EXEC {
        return Err(Errno::ENOTSUP);
    }
    let mut p = Protection::empty();
    for (bit, flag) in [
        (PROT_READ, Protection::READ),
        (PROT_WRITE, Protection::WRITE),
        (PROT_EXEC, Protection::EXEC),
    ] {
        if raw & bit != 0 {
            p |= flag;
        }
    }
    Ok(p)
}

fn free(m: &Model, first: u32, n: u32) -> bool {
    first + n <= PAGES && (first..first + n).all(|p| m[p as usize].is_none())
}

/// What the model expects of one operation (its result word), applied to `m`.
fn model_step(m: &mut Model, op: &Op) -> Result<u32, Errno> {
    match *op {
        Op::Map {
            hint,
            fixed,
            pages,
            prot,
        } => {
            let prot = prot_of(prot)?;
            let first = match (hint, fixed) {
                (None, true) => return Err(Errno::EINVAL), // fixed at address 0
                (Some(h), true) if h + pages > PAGES => return Err(Errno::EINVAL),
                (Some(h), true) => h,
                (Some(h), false) if free(m, h, pages) => h,
                _ => (0..PAGES)
                    .find(|&p| free(m, p, pages))
                    .ok_or(Errno::ENOMEM)?,
            };
            for p in first..first + pages {
                m[p as usize] = Some((prot, 0));
            }
            Ok(BASE + first * PAGE)
        }
        Op::Unmap { page, pages } => {
            if page + pages > PAGES {
                return Err(Errno::EINVAL);
            }
            for p in page..page + pages {
                m[p as usize] = None;
            }
            Ok(0)
        }
        Op::Protect { page, pages, prot } => {
            let prot = prot_of(prot)?;
            for p in page..(page + pages).min(PAGES) {
                if let Some((old, _)) = &mut m[p as usize] {
                    *old = prot;
                }
            }
            Ok(0)
        }
        Op::Sync { page, pages } => {
            let all =
                page + pages <= PAGES && (page..page + pages).all(|p| m[p as usize].is_some());
            if all { Ok(0) } else { Err(Errno::ENOMEM) }
        }
        Op::Store { page, byte } => match &mut m[page as usize] {
            Some((prot, b)) if prot.contains(Protection::WRITE) => {
                *b = byte;
                Ok(0)
            }
            _ => Err(Errno::EFAULT),
        },
    }
}

fn real_step(p: &mut MapProc, op: &Op) -> Result<u32, Errno> {
    let at = |page: u32| BASE + page * PAGE;
    match *op {
        Op::Map {
            hint,
            fixed,
            pages,
            prot,
        } => {
            let flags = MAP_ANON | MAP_PRIVATE | if fixed { MAP_FIXED } else { 0 };
            let addr = hint.map_or(0, at);
            mem_map(p, addr, pages * PAGE, prot, flags, MAP_ANON_FD, 0)
        }
        Op::Unmap { page, pages } => mem_unmap(p, at(page), pages * PAGE).map(|()| 0),
        Op::Protect { page, pages, prot } => {
            mem_protect(p, at(page), pages * PAGE, prot).map(|()| 0)
        }
        Op::Sync { page, pages } => mem_sync(p, at(page), pages * PAGE, MS_SYNC).map(|()| 0),
        Op::Store { page, byte } => p.fill(at(page), PAGE, byte).map(|()| 0),
    }
}

fn check_pages(p: &MapProc, m: &Model) {
    for (i, want) in m.iter().enumerate() {
        let addr = BASE + i as u32 * PAGE;
        let mem = p.mem();
        match want {
            None => {
                assert!(!mem.is_mapped(addr), "page {i} should be unmapped");
                assert_eq!(p.read(addr, 1), Err(Errno::EFAULT));
            }
            Some((prot, byte)) => {
                assert_eq!(mem.protection(addr), Some(*prot), "page {i}");
                let mut b = vec![0; PAGE as usize];
                mem.peek(addr, &mut b).unwrap();
                assert!(b.iter().all(|x| x == byte), "page {i} contents");
                // The program may read any page with a protection, none without.
                assert_eq!(p.read(addr, 1).is_ok(), !prot.is_empty(), "page {i} read");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_vm_behaves_as_an_array_of_pages(ops in proptest::collection::vec(op(), 1..40)) {
        let mut p = MapProc::new(&[]);
        p.mem_mut().set_user_range(BASE..BASE + PAGES * PAGE);
        p.mem_mut().set_map_base(BASE);
        let mut m: Model = vec![None; PAGES as usize];
        for op in &ops {
            let want = model_step(&mut m, op);
            let got = real_step(&mut p, op);
            prop_assert_eq!(got, want, "{:?}", op);
            check_pages(&p, &m);
        }
    }
}
