//! A `proc_exec` racing other threads that use the same descriptor table: the remapped
//! table is always one consistent snapshot of the old one, and no reference is leaked or
//! lost.
//!
//! The table is behind the recording lock of tests/lock_common, and this binary's
//! allocator counts allocator calls made while a thread holds it: the execs and the
//! threads churning through `SharedFdTable`'s methods make none.

mod common;
mod lock_common;

#[global_allocator]
static ALLOC: lock_common::RecordingAlloc = lock_common::RecordingAlloc;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Layout32};
use capexec::exec::{ExecOutcome, Process, copyout, proc_exec};
use capexec::fdtable::{FdRights, FdTable, Rights, SharedFdTable};
use capexec_sim::SimAddressSpace;
use common::*;
use lock_common::{RecordingRawMutex, under_lock_here};

/// The table shared by the racing threads, behind the recording lock.
type Shared = SharedFdTable<Arc<TFile>, RecordingRawMutex>;

const EXECS: usize = 150;

/// A process whose table handle is shared with other threads (and which, like a
/// kernel with a table shared beyond this process, keeps the new table for itself
/// instead of swapping it into the shared handle).
struct SharedProc {
    table: Arc<Shared>,
    mem: SimAddressSpace,
    installed: Option<FdTable<Arc<TFile>>>,
}

impl Process for SharedProc {
    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = SimAddressSpace;
    type Lock = RecordingRawMutex;
    fn fd_table(&self) -> &Shared {
        &self.table
    }
    fn memory(&self) -> &SimAddressSpace {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.mem
    }
    fn install_fd_table(&mut self, new: FdTable<Arc<TFile>>) -> FdTable<Arc<TFile>> {
        self.installed = Some(new);
        FdTable::new()
    }
}

fn exec_once(
    table: &Arc<Shared>,
    exe: u32,
    fds: &[u32],
) -> (ExecOutcome<()>, Option<FdTable<Arc<TFile>>>) {
    let mut p = SharedProc {
        table: table.clone(),
        mem: SimAddressSpace::new(),
        installed: None,
    };
    p.mem.map(CALLER_FDS, 0x1000);
    let list: Vec<u8> = fds.iter().flat_map(|v| v.to_le_bytes()).collect();
    copyout(&mut p.mem, CALLER_FDS, &list).unwrap();
    let mut rng = TestRng(3);
    let layout = Layout32 {
        stack_size: 0x4000,
        ..Layout32::default()
    };
    let mut act = Cloudabi32Activator::new(layout, &mut rng);
    let under = under_lock_here();
    let out = proc_exec(&mut p, &mut act, exe, 0, 0, CALLER_FDS, fds.len() as u32);
    assert_eq!(
        under_lock_here(),
        under,
        "proc_exec allocated under the table lock"
    );
    let out = match out {
        ExecOutcome::Failed(e) => ExecOutcome::Failed(e),
        ExecOutcome::Replaced(_) => ExecOutcome::Replaced(()),
        ExecOutcome::Killed(e) => ExecOutcome::Killed(e),
        ExecOutcome::Restart => ExecOutcome::Restart,
    };
    (out, p.installed.take())
}

/// A file's identity, as a plain number (shareable between threads).
fn id(f: &Arc<TFile>) -> usize {
    Arc::as_ptr(f) as usize
}

fn rows(t: &FdTable<Arc<TFile>>) -> Vec<(i32, usize, FdRights, bool)> {
    t.iter()
        .map(|(f, e)| (f.raw(), id(e.file()), e.rights(), t.cloexec(f).unwrap()))
        .collect()
}

fn gen_rights(g: usize) -> FdRights {
    FdRights::new(Rights::FD_READ, Rights::from_bits_truncate(1 << g))
}

/// A churner: dups, closes and dup2s descriptors at 8 and above, leaving 0..8 alone.
/// `dup` takes the lowest free descriptor, so it is only used (`with_dup`) while 0..8
/// are all open.
fn churn_high(table: &Shared, stop: &AtomicBool, ops: &AtomicUsize, seed: u64, with_dup: bool) {
    let mut x = seed;
    let under = under_lock_here();
    while !stop.load(Ordering::Relaxed) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let src = fd((x % 8) as i32);
        match x % 3 {
            0 if with_dup => {
                if let Ok(n) = table.dup(src) {
                    assert!(n.raw() >= 8, "dup landed on a listed descriptor");
                    let _ = table.close(n);
                }
            }
            0 | 1 => {
                let _ = table.dup2(src, fd(8 + (x % 40) as i32));
            }
            _ => {
                let _ = table.close(fd(8 + (x % 40) as i32));
            }
        }
        ops.fetch_add(1, Ordering::Relaxed);
    }
    assert_eq!(
        under_lock_here(),
        under,
        "a churner allocated under the table lock"
    );
}

#[test]
fn exec_while_other_threads_churn_unlisted_descriptors() {
    let stable: Vec<Arc<TFile>> = (0..7).map(|_| TFile::stream("s")).collect();
    let exe = TFile::regular("exe", test_elf());
    let mut spec: Vec<_> = stable
        .iter()
        .enumerate()
        .map(|(i, f)| Some((f.clone(), gen_rights(i))))
        .collect();
    spec.push(Some((exe.clone(), exe_rights()))); // 7
    let table = Arc::new(SharedFdTable::new(table_with(&spec)));
    drop(spec);
    let fds = [3u32, 1, 0, 6, 1, 5];
    let want: Vec<_> = fds
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            (
                i as i32,
                id(&stable[s as usize]),
                gen_rights(s as usize),
                false,
            )
        })
        .collect();
    let stop = AtomicBool::new(false);
    let ops = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for seed in 1..=3u64 {
            let (t, stop, ops) = (&table, &stop, &ops);
            s.spawn(move || churn_high(t, stop, ops, seed * 0x9e37_79b9, true));
        }
        // Let the churners get going first.
        while ops.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        for _ in 0..EXECS {
            let (out, new) = exec_once(&table, 7, &fds);
            assert_eq!(out, ExecOutcome::Replaced(()));
            assert_eq!(rows(&new.unwrap()), want);
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(ops.load(Ordering::Relaxed) > 0);
    // After the churn: every reference is accounted for.
    let t = table.lock();
    for (i, f) in stable.iter().enumerate() {
        let holders = t.iter().filter(|(_, e)| Arc::ptr_eq(e.file(), f)).count();
        assert_eq!(Arc::strong_count(f), 1 + holders, "file {i}");
    }
    drop(t);
    drop(table);
    assert!(stable.iter().all(|f| Arc::strong_count(f) == 1));
    assert_eq!(Arc::strong_count(&exe), 1);
}

#[test]
fn exec_while_other_threads_replace_or_close_listed_descriptors() {
    // Four generations of the files at 0..4; a churner swaps a whole generation in (or
    // closes all four) in one lock section. A consistent snapshot never mixes
    // generations.
    const GENS: usize = 4;
    let gens: Vec<Vec<Arc<TFile>>> = (0..GENS)
        .map(|_| (0..4).map(|_| TFile::stream("g")).collect())
        .collect();
    let exe = TFile::regular("exe", test_elf());
    let mut spec: Vec<_> = gens[0]
        .iter()
        .map(|f| Some((f.clone(), gen_rights(0))))
        .collect();
    spec.extend((4..7).map(|_| None));
    spec.push(Some((exe.clone(), exe_rights()))); // 7
    let table = Arc::new(SharedFdTable::new(table_with(&spec)));
    drop(spec);
    let fds = [2u32, 0, 3, 1, 0];
    let stop = AtomicBool::new(false);
    let ops = AtomicUsize::new(0);
    let (mut ok, mut ebadf) = (0, 0);
    std::thread::scope(|s| {
        let (t, stopr, opsr, gens) = (&table, &stop, &ops, &gens);
        s.spawn(move || {
            let mut step = 0usize;
            while !stopr.load(Ordering::Relaxed) {
                step += 1;
                let mut closed = Vec::new();
                {
                    let mut tab = t.lock();
                    for k in 0..4 {
                        if let Ok(c) = tab.close(fd(k)) {
                            closed.push(c);
                        }
                    }
                    if step % 5 != 0 {
                        let g = step % GENS;
                        for (k, f) in gens[g].iter().enumerate() {
                            let got = tab.alloc(fd(k as i32), f.clone(), gen_rights(g), false);
                            assert_eq!(got.ok(), Some(fd(k as i32)));
                        }
                    }
                }
                drop(closed);
                opsr.fetch_add(1, Ordering::Relaxed);
            }
        });
        s.spawn(move || churn_high(t, stopr, opsr, 77, false));
        // Let the churners get going first.
        while ops.load(Ordering::Relaxed) == 0 {
            std::thread::yield_now();
        }
        // On until EXECS execs succeeded: with few CPUs the churner can sit descheduled
        // in its "all closed" state for a while (EBADF), but it is there only one step in
        // five, so most attempts succeed.
        let mut n = 0;
        while ok < EXECS {
            n += 1;
            assert!(n < 100_000, "only {ok} of {n} execs succeeded");
            let (out, new) = exec_once(&table, 7, &fds);
            match out {
                ExecOutcome::Replaced(()) => {
                    let new = new.unwrap();
                    let r = rows(&new);
                    // Which generation? The rights say; every entry must agree.
                    let g = gens
                        .iter()
                        .position(|g| id(&g[fds[0] as usize]) == r[0].1)
                        .expect("entry 0 from no generation");
                    let want: Vec<_> = fds
                        .iter()
                        .enumerate()
                        .map(|(i, &k)| (i as i32, id(&gens[g][k as usize]), gen_rights(g), false))
                        .collect();
                    assert_eq!(r, want, "a mixed snapshot");
                    ok += 1;
                }
                ExecOutcome::Failed(Errno::EBADF) => {
                    assert!(new.is_none());
                    ebadf += 1;
                    std::thread::yield_now();
                }
                other => panic!("{other:?}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(ok, EXECS, "execs that succeeded ({ebadf} EBADF)");
    eprintln!("exec_concurrency: {ok} execs succeeded, {ebadf} saw the closed state (EBADF)");
    // No reference leaked or lost: holders are the pool and the shared table.
    let t = table.lock();
    for g in &gens {
        for f in g {
            let holders = t.iter().filter(|(_, e)| Arc::ptr_eq(e.file(), f)).count();
            assert_eq!(Arc::strong_count(f), 1 + holders);
        }
    }
    drop(t);
    drop(table);
    assert!(gens.iter().flatten().all(|f| Arc::strong_count(f) == 1));
    assert_eq!(Arc::strong_count(&exe), 1);
}

/// The same process, installing with the trait's default (in place, under the lock).
struct InPlace<'a>(&'a mut SharedProc);

impl Process for InPlace<'_> {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = SimAddressSpace;
    type Lock = RecordingRawMutex;
    fn fd_table(&self) -> &Shared {
        &self.0.table
    }
    fn memory(&self) -> &SimAddressSpace {
        &self.0.mem
    }
    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.0.mem
    }
}

#[test]
fn in_place_install_is_seen_whole_by_other_threads() {
    // The default install swaps the table in place: a thread reading the table sees
    // either the whole old table or the whole new one, never a mix.
    let files: Vec<Arc<TFile>> = (0..6).map(|_| TFile::stream("f")).collect();
    let exe = TFile::regular("exe", test_elf());
    for _ in 0..30 {
        let mut spec: Vec<_> = files
            .iter()
            .map(|f| Some((f.clone(), stream_rights())))
            .collect();
        spec.push(Some((exe.clone(), exe_rights())));
        let table = Arc::new(SharedFdTable::new(table_with(&spec)));
        drop(spec);
        let old = rows(&table.lock());
        let new_want = vec![
            (0, id(&files[5]), stream_rights(), false),
            (1, id(&files[4]), stream_rights(), false),
        ];
        let mut sp = SharedProc {
            table: table.clone(),
            mem: SimAddressSpace::new(),
            installed: None,
        };
        sp.mem.map(CALLER_FDS, 0x1000);
        copyout(&mut sp.mem, CALLER_FDS, &[5, 0, 0, 0, 4, 0, 0, 0]).unwrap();
        let mut rng = TestRng(9);
        let layout = Layout32 {
            stack_size: 0x4000,
            ..Layout32::default()
        };
        let mut act = Cloudabi32Activator::new(layout, &mut rng);
        let stop = AtomicBool::new(false);
        let reads = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let (t, stop, old, new_want, reads) = (&table, &stop, &old, &new_want, &reads);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let seen = rows(&t.lock());
                    assert!(seen == *old || seen == *new_want, "a half-installed table");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
            while reads.load(Ordering::Relaxed) == 0 {
                std::hint::spin_loop();
            }
            let out = proc_exec(&mut InPlace(&mut sp), &mut act, 6, 0, 0, CALLER_FDS, 2);
            assert!(matches!(out, ExecOutcome::Replaced(_)), "{out:?}");
            stop.store(true, Ordering::Relaxed);
        });
        assert_eq!(rows(&table.lock()), new_want);
        drop(sp);
        drop(table);
        assert!(files.iter().all(|f| Arc::strong_count(f) == 1));
        assert_eq!(Arc::strong_count(&exe), 1);
    }
}
