//! Model test: random operation sequences on several live tables (an original, its
//! forks and remapped copies) against a `BTreeMap` reference model. After every step
//! every table must match its model exactly, and every file's strong count must be 1
//! plus the number of entries holding it across all live tables.
//!
//! Every sequence runs twice: with `Arc` handles and with `Bounded`, a kernel-style
//! handle with its own 16-bit reference count (tests/fdtable_handle.rs drives its
//! refused overflow).

mod fdtable_common;

use std::collections::BTreeMap;
use std::sync::Arc;

use capexec::Errno;
use capexec::fdtable::{
    CloseRange, Fd, FdRights, FdTable, Rights, fdcopy_remapped, fdcopy_remapped_into,
    fdescfree_remapped,
};
use fdtable_common::*;
use proptest::prelude::*;

/// Closes every descriptor of `t` (its storage stays).
fn empty<H>(t: &mut FdTable<H>) {
    let closed = t
        .close_range(Fd::STDIN, Fd::MAX, CloseRange::Close)
        .expect("closing everything needs no allocation");
    drop(closed);
    assert!(t.is_empty());
}

/// Files in the pool; the last `UNPASSABLE` of them are not passable.
const POOL: usize = 6;
const UNPASSABLE: usize = 2;
const MAX_TABLES: usize = 4;

fn passable(id: usize) -> bool {
    id < POOL - UNPASSABLE
}

/// Rights built from four bits (two of them in the high word), so random requests
/// narrow and widen about equally often.
fn rights_of(base: u8, inh: u8) -> FdRights {
    let set = |bits: u8| {
        [
            Rights::FD_READ,
            Rights::FD_WRITE,
            Rights::FD_SEEK,
            Rights::PROC_EXEC,
        ]
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .fold(Rights::empty(), |acc, (_, r)| acc | *r)
    };
    FdRights::new(set(base), set(inh))
}

#[derive(Debug, Clone)]
enum Op {
    Alloc {
        t: usize,
        min: u32,
        file: usize,
        rights: (u8, u8),
        cloexec: bool,
    },
    Open {
        t: usize,
        file: usize,
    },
    Close {
        t: usize,
        fd: u32,
    },
    Dup {
        t: usize,
        old: u32,
    },
    DupMin {
        t: usize,
        old: u32,
        min: u32,
    },
    Dup2 {
        t: usize,
        old: u32,
        new: u32,
    },
    Replace {
        t: usize,
        from: u32,
        to: u32,
    },
    CloseRange {
        t: usize,
        first: u32,
        last: u32,
        cloexec_only: bool,
    },
    Fork {
        t: usize,
    },
    Sweep {
        t: usize,
    },
    SetCloexec {
        t: usize,
        fd: u32,
        on: bool,
    },
    Narrow {
        t: usize,
        fd: u32,
        rights: (u8, u8),
    },
    Remap {
        t: usize,
        list: Vec<i32>,
    },
    Free {
        t: usize,
    },
    /// `count` allocations in a row at or above `min` (dense runs across word and
    /// summary-word boundaries).
    Fill {
        t: usize,
        min: u32,
        file: usize,
        count: usize,
    },
}

/// Which descriptor numbers the random operations use.
#[derive(Debug, Clone, Copy)]
enum Scale {
    /// Limits of 70 to 200: around the first 64-descriptor word.
    Small,
    /// Limits of 4,000 to 9,000: around the 4,096-descriptor summary words (the first
    /// summary word ends at 4,096, the second at 8,192).
    Large,
}

fn any_fd(scale: Scale) -> BoxedStrategy<u32> {
    match scale {
        Scale::Small => prop_oneof![
            6 => 0u32..12,
            6 => 0u32..210,
            1 => 60u32..70,
            1 => Just(i32::MAX as u32),
        ]
        .boxed(),
        Scale::Large => prop_oneof![
            3 => 0u32..12,
            6 => 3_950u32..4_250,
            3 => 8_100u32..8_300,
            2 => 0u32..9_100,
            1 => Just(i32::MAX as u32),
        ]
        .boxed(),
    }
}

fn list_entry(scale: Scale) -> BoxedStrategy<i32> {
    let far = match scale {
        Scale::Small => 0i32..200,
        Scale::Large => 4_000i32..4_200,
    };
    prop_oneof![
        8 => 0i32..12,
        2 => far,
        1 => -3i32..0,
        1 => Just(i32::MIN),
        1 => Just(i32::MAX),
    ]
    .boxed()
}

fn op(scale: Scale) -> impl Strategy<Value = Op> {
    let any_fd = || any_fd(scale);
    let list_entry = || list_entry(scale);
    let t = 0usize..MAX_TABLES;
    let rights = (0u8..16, 0u8..16);
    prop_oneof![
        4 => (t.clone(), any_fd(), 0..POOL, rights.clone(), any::<bool>()).prop_map(
            |(t, min, file, rights, cloexec)| Op::Alloc { t, min, file, rights, cloexec }
        ),
        8 => (t.clone(), 0..POOL).prop_map(|(t, file)| Op::Open { t, file }),
        4 => (t.clone(), any_fd()).prop_map(|(t, fd)| Op::Close { t, fd }),
        4 => (t.clone(), any_fd()).prop_map(|(t, old)| Op::Dup { t, old }),
        2 => (t.clone(), any_fd(), any_fd()).prop_map(|(t, old, min)| Op::DupMin { t, old, min }),
        3 => (t.clone(), any_fd(), any_fd()).prop_map(|(t, old, new)| Op::Dup2 { t, old, new }),
        3 => (t.clone(), any_fd(), any_fd())
            .prop_map(|(t, from, to)| Op::Replace { t, from, to }),
        1 => (t.clone(), any_fd(), any_fd(), any::<bool>()).prop_map(
            |(t, first, last, cloexec_only)| Op::CloseRange { t, first, last, cloexec_only }
        ),
        1 => t.clone().prop_map(|t| Op::Fork { t }),
        1 => t.clone().prop_map(|t| Op::Sweep { t }),
        2 => (t.clone(), any_fd(), any::<bool>()).prop_map(|(t, fd, on)| Op::SetCloexec { t, fd, on }),
        2 => (t.clone(), any_fd(), rights).prop_map(|(t, fd, rights)| Op::Narrow { t, fd, rights }),
        3 => (t.clone(), prop::collection::vec(list_entry(), 0..14))
            .prop_map(|(t, list)| Op::Remap { t, list }),
        1 => t.clone().prop_map(|t| Op::Free { t }),
        2 => (t, any_fd(), 0..POOL, 1usize..300)
            .prop_map(|(t, min, file, count)| Op::Fill { t, min, file, count }),
    ]
}

/// The reference: descriptor -> (file id, rights, close-on-exec).
#[derive(Debug, Clone)]
struct Model {
    limit: usize,
    map: BTreeMap<u32, (usize, FdRights, bool)>,
}

impl Model {
    fn lowest_free(&self, min: u32) -> Result<u32, Errno> {
        let mut n = min as usize;
        for &k in self.map.range(min..).map(|(k, _)| k) {
            if k as usize != n {
                break;
            }
            n += 1;
        }
        if n >= self.limit {
            Err(Errno::EMFILE)
        } else {
            Ok(n as u32)
        }
    }

    fn entry(&self, fd: u32) -> Result<(usize, FdRights, bool), Errno> {
        self.map.get(&fd).copied().ok_or(Errno::EBADF)
    }

    fn lastfile(&self) -> Option<u32> {
        self.map.keys().next_back().copied()
    }

    fn remap(&self, list: &[i32]) -> Result<Model, Errno> {
        let end = self.lastfile().map_or(0, |l| l as usize + 1);
        if list.len() > end {
            return Err(Errno::E2BIG);
        }
        let mut map = BTreeMap::new();
        for (i, &raw) in list.iter().enumerate() {
            if raw < 0 || raw as usize >= end {
                return Err(Errno::EBADF);
            }
            let (file, rights, _) = self.entry(raw as u32)?;
            if !passable(file) {
                return Err(Errno::EINVAL);
            }
            map.insert(i as u32, (file, rights, false));
        }
        Ok(Model {
            limit: self.limit,
            map,
        })
    }
}

/// Minimums `check` asks `lowest_free` about: word and summary-word edges.
const MINS: [u32; 17] = [
    0, 1, 63, 64, 65, 69, 127, 128, 199, 4_031, 4_095, 4_096, 4_097, 4_160, 8_191, 8_192, 8_193,
];

/// Checks the live tables against their models. Every table's length, limit and last
/// descriptor, and every file's reference count, at every step; the full contents and
/// `lowest_free` of the tables for which `probe` holds (every table in small runs; the
/// changed and the newest one in large runs, where a full comparison costs thousands of
/// entries per table).
fn check<H: TestHandle>(
    pool: &[H],
    live: &[(FdTable<H>, Model)],
    step: usize,
    op: &Op,
    probe: impl Fn(usize) -> bool,
) {
    let mut in_tables = [0usize; POOL];
    let mut probed_all = true;
    for (k, (t, m)) in live.iter().enumerate() {
        assert_eq!(t.len(), m.map.len(), "step {step} {op:?}: table {k}");
        assert_eq!(t.limit(), m.limit);
        assert_eq!(t.lastfile().map(|f| f.raw() as u32), m.lastfile());
        if !probe(k) {
            probed_all = false;
            continue;
        }
        let want: Vec<Slot> = m
            .map
            .iter()
            .map(|(&n, &(id, rights, cloexec))| Slot {
                fd: n as i32,
                ptr: addr_of(&pool[id]),
                id,
                rights,
                cloexec,
            })
            .collect();
        let got = snapshot(t);
        for slot in &got {
            in_tables[slot.id] += 1;
        }
        assert_eq!(got, want, "step {step} {op:?}: table {k}");
        for min in MINS {
            assert_eq!(
                t.lowest_free(fd(min as i32)).map(|f| f.raw() as u32),
                m.lowest_free(min),
                "step {step} {op:?}: table {k} lowest_free({min})"
            );
        }
    }
    let mut in_models = [0usize; POOL];
    for (_, m) in live {
        for e in m.map.values() {
            in_models[e.0] += 1;
        }
    }
    if probed_all {
        assert_eq!(in_tables, in_models, "step {step} {op:?}: holders");
    }
    for f in pool {
        assert_eq!(
            f.refs(),
            1 + in_models[f.id],
            "step {step} {op:?}: strong count of file {}",
            f.id
        );
    }
}

fn to_fd(n: u32) -> Fd {
    Fd::from_raw(n as i32).expect("generated descriptors are non-negative")
}

fn run<H: TestHandle>(scale: Scale, limit: usize, ops: &[Op]) {
    let pool: Vec<H> = (0..POOL)
        .map(|i| {
            if passable(i) {
                file_as::<H>(i)
            } else {
                unpassable_as::<H>(i)
            }
        })
        .collect();
    let mut live: Vec<(FdTable<H>, Model)> = vec![(
        FdTable::with_limit(limit),
        Model {
            limit,
            map: BTreeMap::new(),
        },
    )];
    // The in-place forms build into this table, emptied after each use (so it keeps
    // whatever storage it grew: each build starts from a used, empty table).
    let mut spare: FdTable<H> = FdTable::with_limit(5000);
    for (step, op) in ops.iter().enumerate() {
        let k = match op {
            Op::Alloc { t, .. }
            | Op::Open { t, .. }
            | Op::Close { t, .. }
            | Op::Dup { t, .. }
            | Op::DupMin { t, .. }
            | Op::Dup2 { t, .. }
            | Op::Replace { t, .. }
            | Op::CloseRange { t, .. }
            | Op::Fork { t }
            | Op::Sweep { t }
            | Op::SetCloexec { t, .. }
            | Op::Narrow { t, .. }
            | Op::Remap { t, .. }
            | Op::Free { t }
            | Op::Fill { t, .. } => *t % live.len(),
        };
        let mut new_table: Option<(FdTable<H>, Model)> = None;
        {
            let (t, m) = &mut live[k];
            match *op {
                Op::Alloc {
                    min,
                    file,
                    rights,
                    cloexec,
                    ..
                } => {
                    let r = rights_of(rights.0, rights.1);
                    let want = m.lowest_free(min);
                    let got = t.alloc(
                        to_fd(min),
                        pool[file]
                            .try_clone()
                            .expect("counts stay far below the ceiling"),
                        r,
                        cloexec,
                    );
                    match got {
                        Ok(n) => assert_eq!(Ok(n.raw() as u32), want, "{op:?}"),
                        Err(rej) => {
                            assert_eq!(Err(rej.errno), want, "{op:?}");
                            assert!(rej.file.same_file(&pool[file]));
                        }
                    }
                    if let Ok(n) = want {
                        m.map.insert(n, (file, r, cloexec));
                    }
                }
                Op::Open { file, .. } => {
                    let want = m.lowest_free(0);
                    let got = t.open(
                        pool[file]
                            .try_clone()
                            .expect("counts stay far below the ceiling"),
                        FdRights::ALL,
                    );
                    assert_eq!(got.map(|n| n.raw() as u32).map_err(Errno::from), want);
                    if let Ok(n) = want {
                        m.map.insert(n, (file, FdRights::ALL, false));
                    }
                }
                Op::Close { fd: n, .. } => {
                    let want = m.map.remove(&n);
                    let got = t.close(to_fd(n)).map(|c| c.into_file());
                    match (got, want) {
                        (Ok(f), Some(e)) => assert!(f.same_file(&pool[e.0])),
                        (Err(e), None) => assert_eq!(e, Errno::EBADF),
                        (g, w) => panic!("close({n}): {:?} vs {w:?}", g.err()),
                    }
                }
                Op::Dup { old, .. } => {
                    let want = m.entry(old).and_then(|e| Ok((e, m.lowest_free(0)?)));
                    let got = t.dup(to_fd(old));
                    assert_eq!(got.map(|n| n.raw() as u32), want.map(|w| w.1), "{op:?}");
                    if let Ok(((file, r, _), n)) = want {
                        m.map.insert(n, (file, r, false));
                    }
                }
                Op::DupMin { old, min, .. } => {
                    let want = if min as usize >= m.limit {
                        Err(Errno::EINVAL)
                    } else {
                        m.entry(old).and_then(|e| Ok((e, m.lowest_free(min)?)))
                    };
                    let got = t.dup_min(to_fd(old), to_fd(min));
                    assert_eq!(got.map(|n| n.raw() as u32), want.map(|w| w.1), "{op:?}");
                    if let Ok(((file, r, _), n)) = want {
                        m.map.insert(n, (file, r, false));
                    }
                }
                Op::Dup2 { old, new, .. } => {
                    let want = if new as usize >= m.limit {
                        Err(Errno::EBADF)
                    } else {
                        m.entry(old)
                    };
                    let got = t.dup2(to_fd(old), to_fd(new));
                    match (&got, want) {
                        (Ok((n, closed)), Ok((file, r, _))) => {
                            assert_eq!(n.raw() as u32, new);
                            let prev = m.map.get(&new).copied();
                            if old == new {
                                assert!(closed.is_none());
                            } else {
                                assert_eq!(closed.is_some(), prev.is_some(), "{op:?}");
                                m.map.insert(new, (file, r, false));
                            }
                        }
                        (Err(e), Err(w)) => assert_eq!(*e, w, "{op:?}"),
                        (g, w) => panic!("{op:?}: {:?} vs {w:?}", g.as_ref().err()),
                    }
                    drop(got);
                }
                Op::Replace { from, to, .. } => {
                    let want = m.entry(from).and_then(|e| m.entry(to).map(|_| e));
                    let got = t.replace(to_fd(from), to_fd(to));
                    match (&got, want) {
                        (Ok(closed), Ok((file, r, _))) => {
                            assert_eq!(closed.is_none(), from == to, "{op:?}");
                            if from != to {
                                m.map.insert(to, (file, r, false));
                            }
                        }
                        (Err(e), Err(w)) => assert_eq!(*e, w, "{op:?}"),
                        (g, w) => panic!("{op:?}: {:?} vs {w:?}", g.as_ref().err()),
                    }
                    drop(got);
                }
                Op::CloseRange {
                    first,
                    last,
                    cloexec_only,
                    ..
                } => {
                    let mode = if cloexec_only {
                        CloseRange::CloexecOnly
                    } else {
                        CloseRange::Close
                    };
                    let got = t.close_range(to_fd(first), to_fd(last), mode);
                    if first > last {
                        assert_eq!(got.err(), Some(Errno::EINVAL), "{op:?}");
                    } else {
                        let keys: Vec<u32> = m.map.range(first..=last).map(|(&n, _)| n).collect();
                        let closed = got.expect("valid range");
                        if cloexec_only {
                            assert!(closed.is_empty());
                            for n in keys {
                                m.map.get_mut(&n).expect("key").2 = true;
                            }
                        } else {
                            assert_eq!(closed.len(), keys.len(), "{op:?}");
                            for n in keys {
                                m.map.remove(&n);
                            }
                        }
                    }
                }
                Op::Fork { .. } => {
                    let child = t.fork_copy().expect("small tables fork");
                    t.fork_copy_into(&mut spare).expect("small tables fork");
                    assert!(spare == child, "{op:?}: fork_copy_into differs");
                    assert_eq!(spare.limit(), child.limit(), "{op:?}");
                    empty(&mut spare);
                    let mut cm = m.clone();
                    cm.map.retain(|_, e| passable(e.0));
                    new_table = Some((child, cm));
                }
                Op::Sweep { .. } => {
                    let swept = t.close_on_exec().expect("small collection");
                    let before = m.map.len();
                    m.map.retain(|_, e| !e.2);
                    assert_eq!(swept.len(), before - m.map.len(), "{op:?}");
                }
                Op::SetCloexec { fd: n, on, .. } => {
                    let got = t.set_cloexec(to_fd(n), on);
                    match m.map.get_mut(&n) {
                        Some(e) => {
                            assert_eq!(got, Ok(()));
                            e.2 = on;
                        }
                        None => assert_eq!(got, Err(Errno::EBADF)),
                    }
                }
                Op::Narrow { fd: n, rights, .. } => {
                    let r = rights_of(rights.0, rights.1);
                    let got = t.narrow_rights(to_fd(n), r);
                    match m.map.get_mut(&n) {
                        Some(e) => {
                            let ok =
                                e.1.base.contains(r.base) && e.1.inheriting.contains(r.inheriting);
                            if ok {
                                assert_eq!(got, Ok(()), "{op:?}");
                                e.1 = r;
                            } else {
                                assert_eq!(got, Err(Errno::ENOTCAPABLE), "{op:?}");
                            }
                        }
                        None => assert_eq!(got, Err(Errno::EBADF)),
                    }
                }
                Op::Remap { ref list, .. } => {
                    let want = m.remap(list);
                    let got = fdcopy_remapped(t, list);
                    let spare_limit = spare.limit();
                    let got_in = fdcopy_remapped_into(&mut spare, t, list);
                    match (&got, got_in) {
                        (Ok(nt), Ok(())) => {
                            assert!(spare == *nt, "{op:?}: fdcopy_remapped_into differs");
                            assert_eq!(spare.limit(), nt.limit(), "{op:?}");
                        }
                        (Err(e), Err(e_in)) => {
                            assert_eq!(*e, e_in, "{op:?}");
                            assert!(spare.is_empty(), "{op:?}: failed, not empty");
                            assert_eq!(spare.limit(), spare_limit, "{op:?}: limit kept");
                        }
                        (g, g_in) => panic!("{op:?}: {:?} vs in place {g_in:?}", g.as_ref().err()),
                    }
                    empty(&mut spare);
                    match (got, want) {
                        (Ok(nt), Ok(nm)) => new_table = Some((nt, nm)),
                        (Err(e), Err(w)) => assert_eq!(e, w, "{op:?}"),
                        (g, w) => panic!("{op:?}: {:?} vs {:?}", g.err(), w.err()),
                    }
                }
                Op::Free { .. } => {}
                Op::Fill {
                    min, file, count, ..
                } => {
                    // Each allocation's answer is above the previous one: the model's
                    // search resumes there instead of starting again from `min`.
                    let mut from = min;
                    for _ in 0..count {
                        let want = m.lowest_free(from);
                        let got = t.alloc(
                            to_fd(min),
                            pool[file]
                                .try_clone()
                                .expect("counts stay far below the ceiling"),
                            FdRights::ALL,
                            false,
                        );
                        match got {
                            Ok(n) => assert_eq!(Ok(n.raw() as u32), want, "{op:?}"),
                            Err(rej) => {
                                assert_eq!(Err(rej.errno), want, "{op:?}");
                                break;
                            }
                        }
                        let n = want.expect("checked above");
                        m.map.insert(n, (file, FdRights::ALL, false));
                        from = n + 1;
                    }
                }
            }
        }
        if let Op::Free { .. } = op {
            if live.len() > 1 {
                let (t, _) = live.remove(k);
                fdescfree_remapped(t);
            }
        }
        if let Some(nt) = new_table {
            if live.len() >= MAX_TABLES {
                let (t, _) = live.pop().expect("non-empty");
                fdescfree_remapped(t);
            }
            live.push(nt);
        }
        let newest = live.len() - 1;
        let changed = k.min(newest);
        check(&pool, &live, step, op, |j| {
            matches!(scale, Scale::Small) || j == changed || j == newest
        });
    }
    drop(live);
    assert!(pool.iter().all(|f| f.refs() == 1), "leak at the end");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn tables_follow_the_model(
        limit in 70usize..=200,
        ops in prop::collection::vec(op(Scale::Small), 1..80),
    ) {
        run::<Arc<TestFile>>(Scale::Small, limit, &ops);
        run::<Bounded>(Scale::Small, limit, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    /// Limits around the 4,096-descriptor summary words, starting from a dense block that
    /// ends near the first summary-word edge.
    #[test]
    fn large_tables_follow_the_model_across_summary_words(
        limit in 4_000usize..=9_000,
        prefill in 3_900usize..4_200,
        ops in prop::collection::vec(op(Scale::Large), 1..60),
    ) {
        let mut all = vec![Op::Fill { t: 0, min: 0, file: 0, count: prefill }];
        all.extend(ops);
        run::<Arc<TestFile>>(Scale::Large, limit, &all);
        run::<Bounded>(Scale::Large, limit, &all);
    }
}

/// A fixed, long sequence that reaches the limit and crosses the 64 boundary, so the
/// interesting regions are covered even when the random cases are few.
#[test]
fn deterministic_long_sequence() {
    let mut ops = Vec::new();
    for i in 0..75 {
        ops.push(Op::Open {
            t: 0,
            file: i % POOL,
        });
    }
    ops.push(Op::Close { t: 0, fd: 64 });
    ops.push(Op::Close { t: 0, fd: 3 });
    ops.push(Op::Dup { t: 0, old: 70 });
    ops.push(Op::Dup { t: 0, old: 70 });
    ops.push(Op::Dup { t: 0, old: 70 });
    ops.push(Op::CloseRange {
        t: 0,
        first: 60,
        last: 68,
        cloexec_only: true,
    });
    ops.push(Op::Fork { t: 0 });
    ops.push(Op::Sweep { t: 1 });
    ops.push(Op::Remap {
        t: 0,
        list: vec![69, 5, 5, 0],
    });
    ops.push(Op::Remap {
        t: 0,
        list: vec![69, 4],
    });
    ops.push(Op::Dup2 {
        t: 0,
        old: 1,
        new: 69,
    });
    ops.push(Op::DupMin {
        t: 0,
        old: 1,
        min: 69,
    });
    ops.push(Op::Replace {
        t: 2,
        from: 0,
        to: 3,
    });
    ops.push(Op::Free { t: 1 });
    run::<Arc<TestFile>>(Scale::Small, 70, &ops);
    run::<Bounded>(Scale::Small, 70, &ops);
}

/// A fixed sequence across the first summary-word edge (4,096) up to the limit, so the
/// edge is covered whatever the random cases draw.
#[test]
fn deterministic_summary_word_edge() {
    let fill = |min, count| Op::Fill {
        t: 0,
        min,
        file: 1,
        count,
    };
    let ops = vec![
        fill(0, 4_100),
        Op::Close { t: 0, fd: 4_095 },
        Op::Close { t: 0, fd: 4_032 },
        Op::Close { t: 0, fd: 4_096 },
        Op::Dup { t: 0, old: 7 },
        Op::Open { t: 0, file: 2 },
        Op::DupMin {
            t: 0,
            old: 5,
            min: 4_090,
        },
        Op::CloseRange {
            t: 0,
            first: 4_090,
            last: 4_097,
            cloexec_only: true,
        },
        Op::Fork { t: 0 },
        Op::Sweep { t: 1 },
        Op::Remap {
            t: 0,
            list: vec![4_099, 4_096, 0, 4_095],
        },
        Op::CloseRange {
            t: 0,
            first: 4_000,
            last: 4_200,
            cloexec_only: false,
        },
        fill(4_050, 200),
        Op::Close { t: 0, fd: 4_160 },
        Op::Alloc {
            t: 0,
            min: 4_100,
            file: 3,
            rights: (1, 0),
            cloexec: true,
        },
        Op::Free { t: 1 },
    ];
    run::<Arc<TestFile>>(Scale::Large, 4_200, &ops);
    run::<Bounded>(Scale::Large, 4_200, &ops);
}
