//! Instruction counts of the table's hot paths and of their baselines, for
//! `valgrind --tool=callgrind` (repeatable whatever the machine's load, unlike time).
//!
//! Each case runs its operation `ITERS` times inside a function named `timed_<case>`;
//! `benches/report.sh instr` runs this program once per case under callgrind with
//! `--toggle-collect` on that function and prints instructions per operation.
//!
//! Run one case by hand:
//! `valgrind --tool=callgrind --toggle-collect='*timed_*' target/release/examples/instr remap3`

#[path = "../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;

use capexec::fdtable::{
    DEFAULT_LIMIT, Fd, FdRights, FdTable, fdcopy_remapped, fdcopy_remapped_into,
};
use support::baselines::OneLevelTable;
use support::{MyFile, Rng, files, mixed_rights};

/// Operations per case.
const ITERS: usize = 1000;

fn fd(i: usize) -> Fd {
    Fd::from_index(i).expect("descriptor in range")
}

fn dense(fs: &[Arc<MyFile>]) -> FdTable<Arc<MyFile>> {
    let mut t = FdTable::with_limit(DEFAULT_LIMIT);
    for f in fs {
        t.open(f.clone(), FdRights::ALL).expect("open");
    }
    t
}

fn list(n: usize, old: usize) -> Vec<i32> {
    let mut r = Rng(0x5eed ^ ((n as u64) << 32) ^ old as u64);
    (0..n).map(|_| r.below(old) as i32).collect()
}

#[inline(never)]
fn timed_remap(t: &FdTable<Arc<MyFile>>, fds: &[i32], out: &mut Vec<FdTable<Arc<MyFile>>>) {
    for _ in 0..ITERS {
        out.push(fdcopy_remapped(t, black_box(fds)).expect("remap"));
    }
}

#[inline(never)]
fn timed_remap_in_place(t: &FdTable<Arc<MyFile>>, fds: &[i32], out: &mut [FdTable<Arc<MyFile>>]) {
    for new in out {
        fdcopy_remapped_into(new, t, black_box(fds)).expect("remap");
    }
}

/// Empty tables to build into in place, made before the timed function runs.
fn fresh_tables() -> Vec<FdTable<Arc<MyFile>>> {
    (0..ITERS).map(|_| FdTable::new()).collect()
}

#[inline(never)]
fn timed_arc_loop(v: &[Option<Arc<MyFile>>], fds: &[i32], out: &mut Vec<Vec<Arc<MyFile>>>) {
    for _ in 0..ITERS {
        let fds = black_box(fds);
        let mut o = Vec::with_capacity(fds.len());
        for &raw in fds {
            if let Some(Some(f)) = usize::try_from(raw).ok().and_then(|i| v.get(i)) {
                o.push(f.clone());
            }
        }
        out.push(o);
    }
}

#[inline(never)]
fn timed_lookup(t: &FdTable<Arc<MyFile>>, raws: &[i32]) {
    for &raw in raws {
        if let Ok(f) = Fd::from_raw(raw).and_then(|fd| t.file(fd)) {
            black_box(f);
        }
    }
}

#[inline(never)]
fn timed_lookup_vec(v: &[Option<Arc<MyFile>>], raws: &[i32]) {
    for &raw in raws {
        if let Some(Some(f)) = usize::try_from(raw).ok().and_then(|i| v.get(i)) {
            black_box(f);
        }
    }
}

#[inline(never)]
fn timed_churn(t: &mut FdTable<Arc<MyFile>>, ks: &[usize]) {
    for &k in ks {
        let f = t.close(fd(k)).expect("open").into_file();
        black_box(t.alloc(Fd::STDIN, f, FdRights::ALL, false).ok());
    }
}

#[inline(never)]
fn timed_churn_onelevel(t: &mut OneLevelTable, ks: &[usize]) {
    for &k in ks {
        let f = t.close(k).expect("open");
        black_box(t.alloc(f));
    }
}

#[inline(never)]
fn timed_fork(t: &FdTable<Arc<MyFile>>, out: &mut Vec<FdTable<Arc<MyFile>>>) {
    for _ in 0..ITERS {
        out.push(t.fork_copy().expect("fork"));
    }
}

#[inline(never)]
fn timed_fork_in_place(t: &FdTable<Arc<MyFile>>, out: &mut [FdTable<Arc<MyFile>>]) {
    for new in out {
        t.fork_copy_into(new).expect("fork");
    }
}

#[inline(never)]
fn timed_vec_clone(v: &Vec<Option<Arc<MyFile>>>, out: &mut Vec<Vec<Option<Arc<MyFile>>>>) {
    for _ in 0..ITERS {
        out.push(black_box(v).clone());
    }
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "remap3" | "remap64" | "remap1024" | "remap3m" | "remap64m" | "remap1024m" | "remap3i"
        | "remap64i" | "arc3" | "arc64" | "arc1024" => {
            // A trailing `m`: from a table with four rights sets in turn; `i`: in place.
            let mixed = case.ends_with('m');
            let in_place = case.ends_with('i');
            let case = case.trim_end_matches(['m', 'i']);
            let n: usize = case
                .trim_start_matches(char::is_alphabetic)
                .parse()
                .unwrap();
            let old = 1 << 16;
            let fs = files(old);
            let fds = list(n, old);
            if case.starts_with("remap") {
                let mut t = dense(&fs);
                if mixed {
                    for i in 0..old {
                        t.narrow_rights(fd(i), mixed_rights(i)).expect("narrow");
                    }
                }
                if in_place {
                    timed_remap_in_place(&t, &fds, &mut fresh_tables());
                } else {
                    let mut out = Vec::with_capacity(ITERS);
                    timed_remap(&t, &fds, &mut out);
                }
            } else {
                let v: Vec<_> = fs.iter().cloned().map(Some).collect();
                let mut out = Vec::with_capacity(ITERS);
                timed_arc_loop(&v, &fds, &mut out);
            }
        }
        "lookup64" | "lookup64_vec" => {
            let fs = files(64);
            let mut r = Rng(0x5eed ^ 64);
            let raws: Vec<i32> = (0..ITERS).map(|_| r.below(64) as i32).collect();
            if case == "lookup64" {
                timed_lookup(&dense(&fs), &raws);
            } else {
                let v: Vec<_> = fs.iter().cloned().map(Some).collect();
                timed_lookup_vec(&v, &raws);
            }
        }
        "churn64" | "churn64_onelevel_hint" => {
            let fs = files(64);
            let mut r = Rng(0xc0ffee ^ 64);
            let ks: Vec<usize> = (0..ITERS).map(|_| r.below(64)).collect();
            if case == "churn64" {
                timed_churn(&mut dense(&fs), &ks);
            } else {
                timed_churn_onelevel(&mut OneLevelTable::dense(&fs, true), &ks);
            }
        }
        "fork16" | "fork16_vec" | "forksparse1024" | "forksparse1024_vec" | "fork16m"
        | "forksparse1024m" | "fork16i" | "forksparse16" | "forksparse16i" | "forksparse16_vec" => {
            // A trailing `m`: four rights sets in turn; `i`: in place.
            let mixed = case.ends_with('m');
            let in_place = case.ends_with('i');
            let n = if case.contains("16") { 16 } else { 1024 };
            let open: Vec<usize> = if !case.contains("sparse") {
                (0..n).collect()
            } else {
                (0..n)
                    .filter(|&i| i < 3 || i % 8 == 0 || i == n - 1)
                    .collect()
            };
            let fs = files(n);
            if case.ends_with("_vec") {
                let mut v: Vec<Option<Arc<MyFile>>> = vec![None; n];
                for &i in &open {
                    v[i] = Some(fs[i].clone());
                }
                let mut out = Vec::with_capacity(ITERS);
                timed_vec_clone(&v, &mut out);
            } else {
                let mut t = FdTable::with_limit(DEFAULT_LIMIT);
                for &i in &open {
                    let tmp = t.open(fs[i].clone(), FdRights::ALL).expect("open");
                    if tmp != fd(i) {
                        let (_, old) = t.dup2(tmp, fd(i)).expect("dup2");
                        assert!(old.is_none());
                        drop(t.close(tmp).expect("close"));
                    }
                    if i % 4 == 3 {
                        t.set_cloexec(fd(i), true).expect("open");
                    }
                    if mixed {
                        t.narrow_rights(fd(i), mixed_rights(i)).expect("narrow");
                    }
                }
                if in_place {
                    timed_fork_in_place(&t, &mut fresh_tables());
                } else {
                    let mut out = Vec::with_capacity(ITERS);
                    timed_fork(&t, &mut out);
                }
            }
        }
        _ => {
            eprintln!(
                "cases: remap3 remap64 remap1024 (each also with a trailing m: four rights \
                 sets) remap3i remap64i (in place) arc3 arc64 arc1024 lookup64 lookup64_vec \
                 churn64 churn64_onelevel_hint fork16 fork16m fork16i fork16_vec \
                 forksparse16 forksparse16i forksparse16_vec forksparse1024 forksparse1024m \
                 forksparse1024_vec"
            );
            std::process::exit(2);
        }
    }
}
