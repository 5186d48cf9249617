//! Descriptor-table benchmarks (issue 7, groups 1, 2, 3 and 5), each group holding its
//! baseline so that ratios come from one run.
//!
//! - `lookup`: `FdTable::file` (the `get` + borrow of a syscall) vs `Vec<Option<Arc<F>>>`.
//! - `alloc_top`, `alloc_churn`: `close(k); alloc()` with N open descriptors vs a
//!   linear-scan table, a one-level `u64` bitmap, and (for reference) a one-level bitmap
//!   with FreeBSD's `fd_freefile` hint.
//! - `fork_copy`: `FdTable::fork_copy` vs `Vec<Option<Arc<F>>>::clone`, dense and sparse;
//!   `capexec_in_place` builds the same copy in place (`FdTable::fork_copy_into`) into an
//!   empty table made before the clock started; `capexec_mixed` forks the same table
//!   with four rights sets in turn.
//! - `close_range`, `cloexec_sweep`: 16 open descriptors in a table of 1<<12 or 1<<20
//!   slots (cost must follow the open descriptors, not the slots), vs a linear table.
//!
//! Run: `cargo bench --bench fdtable`. Results: `target/criterion/<group>/<impl>/<param>`.

use std::hint::black_box;
use std::sync::Arc;

use capexec::fdtable::{CloseRange, DEFAULT_LIMIT, Entry, Fd, FdRights, FdTable};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod support;
use support::baselines::{LinearTable, OneLevelTable};
use support::{MyFile, Rng, config, files, iter_in_place, iter_stored, mixed_rights};

fn fd(i: usize) -> Fd {
    Fd::from_index(i).expect("descriptor in range")
}

fn randoms(n: usize, below: usize, seed: u64) -> Vec<usize> {
    let mut r = Rng(seed);
    (0..n).map(|_| r.below(below)).collect()
}

/// A capexec table with descriptors `0..n` open on distinct files.
fn capexec_dense(files: &[Arc<MyFile>]) -> FdTable<Arc<MyFile>> {
    let mut t = FdTable::with_limit(DEFAULT_LIMIT);
    for f in files {
        t.open(f.clone(), FdRights::ALL).expect("open");
    }
    t
}

// ---------------------------------------------------------------------------------------
// 1. Lookup.
// ---------------------------------------------------------------------------------------

fn lookup(c: &mut Criterion) {
    const LOOKUPS: usize = 1024;
    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(LOOKUPS as u64));
    for n in [64usize, 65536] {
        let fs = files(n);
        let table = capexec_dense(&fs);
        let vec: Vec<Option<Arc<MyFile>>> = fs.iter().cloned().map(Some).collect();
        // The raw `int`s a system call receives.
        let raws: Vec<i32> = randoms(LOOKUPS, n, 0x5eed ^ n as u64)
            .into_iter()
            .map(|i| i as i32)
            .collect();
        g.bench_with_input(BenchmarkId::new("capexec", n), &raws, |b, raws| {
            b.iter(|| {
                for &raw in raws {
                    if let Ok(f) = Fd::from_raw(raw).and_then(|fd| table.file(fd)) {
                        black_box(f);
                    }
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("vec_option_arc", n), &raws, |b, raws| {
            b.iter(|| {
                for &raw in raws {
                    if let Some(Some(f)) = usize::try_from(raw).ok().and_then(|i| vec.get(i)) {
                        black_box(f);
                    }
                }
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// 2. Lowest-free allocation.
// ---------------------------------------------------------------------------------------

const ALLOC_SIZES: [usize; 3] = [64, 4096, 1 << 20];

/// Runs `close(k); alloc()` for every implementation, `next_k` choosing `k` (the table is
/// full again after each iteration, so the only free slot is `k` and state is restored).
fn alloc_group(c: &mut Criterion, name: &str, churn: bool) {
    let mut g = c.benchmark_group(name);
    for n in ALLOC_SIZES {
        let fs = files(n);
        let ks: Vec<usize> = if churn {
            randoms(4096, n, 0xc0ffee ^ n as u64)
        } else {
            vec![n - 2]
        };
        let mask = ks.len() - 1;

        let mut t = capexec_dense(&fs);
        g.bench_function(BenchmarkId::new("capexec", n), |b| {
            let mut i = 0;
            b.iter(|| {
                let k = ks[i & mask];
                i += 1;
                let f = t.close(fd(k)).expect("open").into_file();
                let got = t.alloc(Fd::STDIN, f, FdRights::ALL, false).ok();
                debug_assert_eq!(got, Some(fd(k)));
                black_box(got)
            })
        });
        drop(t);

        let mut t = OneLevelTable::dense(&fs, false);
        g.bench_function(BenchmarkId::new("onelevel", n), |b| {
            let mut i = 0;
            b.iter(|| {
                let k = ks[i & mask];
                i += 1;
                let f = t.close(k).expect("open");
                black_box(t.alloc(f))
            })
        });
        drop(t);

        let mut t = OneLevelTable::dense(&fs, true);
        g.bench_function(BenchmarkId::new("onelevel_hint", n), |b| {
            let mut i = 0;
            b.iter(|| {
                let k = ks[i & mask];
                i += 1;
                let f = t.close(k).expect("open");
                black_box(t.alloc(f))
            })
        });
        drop(t);

        let mut t = LinearTable::dense(&fs);
        g.bench_function(BenchmarkId::new("linear", n), |b| {
            let mut i = 0;
            b.iter(|| {
                let k = ks[i & mask];
                i += 1;
                let f = t.close(k).expect("open");
                black_box(t.alloc(f))
            })
        });
    }
    g.finish();
}

fn alloc_top(c: &mut Criterion) {
    alloc_group(c, "alloc_top", false);
}

fn alloc_churn(c: &mut Criterion) {
    alloc_group(c, "alloc_churn", true);
}

// ---------------------------------------------------------------------------------------
// 3. Fork copy.
// ---------------------------------------------------------------------------------------

fn fork_copy(c: &mut Criterion) {
    let mut g = c.benchmark_group("fork_copy");
    for n in [16usize, 1024, 65536] {
        for (layout, open) in [
            ("dense", (0..n).collect::<Vec<_>>()),
            // Sparse: 0, 1, 2, every 8th descriptor, and the top one (1/8 of the slots).
            (
                "sparse",
                (0..n)
                    .filter(|&i| i < 3 || i % 8 == 0 || i == n - 1)
                    .collect(),
            ),
        ] {
            let fs = files(n);
            let mut t = FdTable::with_limit(DEFAULT_LIMIT);
            let mut v: Vec<Option<Arc<MyFile>>> = vec![None; n];
            for &i in &open {
                t.dup2_from_file(i, &fs[i]);
                // Some descriptors are close-on-exec, as in a real process.
                if i % 4 == 3 {
                    t.set_cloexec(fd(i), true).expect("open");
                }
                v[i] = Some(fs[i].clone());
            }
            // The same table with four rights sets in turn.
            let mut m = t.fork_copy().expect("fork copy");
            for &i in &open {
                m.narrow_rights(fd(i), mixed_rights(i)).expect("narrow");
            }
            let param = format!("{layout}/{n}");
            g.throughput(Throughput::Elements(open.len() as u64));
            g.bench_function(BenchmarkId::new("capexec", &param), |b| {
                iter_stored(b, || t.fork_copy().expect("fork copy"))
            });
            g.bench_function(BenchmarkId::new("capexec_in_place", &param), |b| {
                iter_in_place(b, FdTable::new, |new| {
                    t.fork_copy_into(new).expect("fork copy")
                })
            });
            g.bench_function(BenchmarkId::new("capexec_mixed", &param), |b| {
                iter_stored(b, || m.fork_copy().expect("fork copy"))
            });
            g.bench_function(BenchmarkId::new("vec_clone", &param), |b| {
                iter_stored(b, || v.clone())
            });
        }
    }
    g.finish();
}

/// Puts `file` at descriptor `i` through the public API (`open` then `dup2` + `close`
/// when the lowest free descriptor is not `i`).
trait PutAt {
    fn dup2_from_file(&mut self, i: usize, file: &Arc<MyFile>);
}

impl PutAt for FdTable<Arc<MyFile>> {
    fn dup2_from_file(&mut self, i: usize, file: &Arc<MyFile>) {
        let tmp = self.open(file.clone(), FdRights::ALL).expect("open");
        if tmp != fd(i) {
            let (_, old) = self.dup2(tmp, fd(i)).expect("dup2");
            assert!(old.is_none());
            drop(self.close(tmp).expect("close"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// 5. close_range(3, MAX) and the close-on-exec sweep with few open descriptors.
// ---------------------------------------------------------------------------------------

const FEW_OPEN: usize = 16;

/// A capexec table grown to `slots` slots with only descriptors `0..FEW_OPEN` open.
fn capexec_sparse_big(slots: usize, fs: &[Arc<MyFile>], cloexec: bool) -> FdTable<Arc<MyFile>> {
    let mut t = FdTable::with_limit(DEFAULT_LIMIT);
    for f in fs {
        let d = t.open(f.clone(), FdRights::ALL).expect("open");
        if d.index() >= 3 {
            t.set_cloexec(d, cloexec).expect("open");
        }
    }
    // Grow the slot array (it never shrinks) with a descriptor at the top, then close it.
    let (_, old) = t.dup2(Fd::STDIN, fd(slots - 1)).expect("dup2");
    assert!(old.is_none());
    drop(t.close(fd(slots - 1)).expect("close"));
    assert_eq!(t.capacity(), slots);
    assert_eq!(t.len(), FEW_OPEN);
    t
}

fn close_range(c: &mut Criterion) {
    let mut g = c.benchmark_group("close_range");
    let fs = files(FEW_OPEN);
    for slots in [1usize << 12, 1 << 20] {
        // Each iteration closes 3..16 and reopens the 13 files (O(1) each through the
        // hint), so that every iteration starts from the same table.
        let mut t = capexec_sparse_big(slots, &fs, false);
        g.bench_function(BenchmarkId::new("capexec", slots), |b| {
            b.iter(|| {
                let closed = t
                    .close_range(fd(3), Fd::MAX, CloseRange::Close)
                    .expect("close_range");
                let n = closed.len();
                for f in closed.into_files() {
                    t.open(f, FdRights::ALL).expect("reopen");
                }
                black_box(n)
            })
        });
        let mut buf = Vec::with_capacity(FEW_OPEN);
        g.bench_function(BenchmarkId::new("capexec_with", slots), |b| {
            b.iter(|| {
                let n = t
                    .close_range_with(fd(3), Fd::MAX, CloseRange::Close, |f| buf.push(f))
                    .expect("close_range");
                for f in buf.drain(..) {
                    t.open(f, FdRights::ALL).expect("reopen");
                }
                black_box(n)
            })
        });
        drop(t);

        let mut lin = LinearTable {
            slots: (0..slots).map(|_| None).collect(),
        };
        for (i, f) in fs.iter().enumerate() {
            lin.slots[i] = Some(Entry::new(f.clone(), FdRights::ALL));
        }
        let mut buf = Vec::with_capacity(FEW_OPEN);
        g.bench_function(BenchmarkId::new("linear", slots), |b| {
            b.iter(|| {
                buf.extend(lin.slots[3..].iter_mut().filter_map(Option::take));
                let n = buf.len();
                for f in buf.drain(..) {
                    lin.alloc(f);
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

fn cloexec_sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("cloexec_sweep");
    let fs = files(FEW_OPEN);
    for slots in [1usize << 12, 1 << 20] {
        // 3..16 are close-on-exec; each iteration sweeps them and reopens them
        // close-on-exec.
        let mut t = capexec_sparse_big(slots, &fs, true);
        let mut buf = Vec::with_capacity(FEW_OPEN);
        g.bench_function(BenchmarkId::new("capexec", slots), |b| {
            b.iter(|| {
                let n = t.close_on_exec_with(|f| buf.push(f));
                for f in buf.drain(..) {
                    t.alloc(Fd::STDIN, f, FdRights::ALL, true).expect("reopen");
                }
                black_box(n)
            })
        });
        drop(t);

        // The linear table keeps the flag in the slot and visits every slot.
        let mut lin: Vec<Option<(Entry<Arc<MyFile>>, bool)>> = (0..slots).map(|_| None).collect();
        for (i, f) in fs.iter().enumerate() {
            lin[i] = Some((Entry::new(f.clone(), FdRights::ALL), i >= 3));
        }
        let mut buf = Vec::with_capacity(FEW_OPEN);
        g.bench_function(BenchmarkId::new("linear", slots), |b| {
            b.iter(|| {
                for s in lin.iter_mut() {
                    if matches!(s, Some((_, true))) {
                        buf.extend(s.take().map(|(f, _)| f));
                    }
                }
                let n = buf.len();
                for f in buf.drain(..) {
                    let i = lin.iter().position(Option::is_none).expect("free slot");
                    lin[i] = Some((f, true));
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = lookup, alloc_top, alloc_churn, fork_copy, close_range, cloexec_sweep
}
criterion_main!(benches);
