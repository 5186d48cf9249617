//! The lock of a shared table is the kernel's: any `lock_api::RawMutex` works, every
//! shared-table operation and `proc_exec` take it and release it, and no type of the
//! default lock's crate appears in capexec's public signatures.
//!
//! Nothing is allocated or freed while that lock is held: this binary's global allocator
//! counts every allocator call a thread makes while it holds the recording lock, and
//! every shared-table operation (growing ones, failing ones, the fork copy of a large
//! table, the remapped copy, `proc_exec`) and a multi-threaded stress must leave that
//! count at zero. The work done under the lock is counted too (slots visited).

mod fdtable_common;
mod lock_common;

#[global_allocator]
static ALLOC: lock_common::RecordingAlloc = lock_common::RecordingAlloc;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::exec::{ExecOutcome, ImageActivator, ImageArgs, Process, UserAccess, UserMemory};
use capexec::fdtable::{CloseRange, FdRights, FdTable, Rights, SharedFdTable, fdinstall_remapped};
use fdtable_common::*;
use lock_common::{ACQUISITIONS, RecordingRawMutex, acquired_here, held, under_lock_here};

type KernelShared = SharedFdTable<Arc<TestFile>, RecordingRawMutex>;

const R_EXEC: FdRights = FdRights::new(Rights::PROC_EXEC, Rights::empty());

fn acquisitions() -> usize {
    ACQUISITIONS.load(Ordering::Relaxed)
}

/// Runs `op`, which must take the kernel's lock at least once and leave it released.
fn through_kernel_lock<T>(name: &str, shared: &KernelShared, op: impl FnOnce() -> T) -> T {
    let before = acquisitions();
    let out = op();
    assert!(
        acquisitions() > before,
        "{name} did not take the kernel's lock"
    );
    assert!(!shared.is_locked(), "{name} left the lock held");
    assert!(!held(), "{name} left the lock held on this thread");
    out
}

#[test]
fn every_shared_operation_takes_the_kernels_lock() {
    let a = file(0);
    let shared: KernelShared = SharedFdTable::new(FdTable::new());
    let t = &shared;
    through_kernel_lock("open", t, || t.open(Arc::clone(&a), R_RW).unwrap());
    through_kernel_lock("dup", t, || t.dup(fd(0)).unwrap());
    through_kernel_lock("dup2", t, || t.dup2(fd(0), fd(5)).unwrap());
    through_kernel_lock("replace", t, || t.replace(fd(0), fd(1)).unwrap());
    through_kernel_lock("get_file", t, || t.get_file(fd(5)).unwrap());
    through_kernel_lock("close", t, || t.close(fd(5)).unwrap());
    through_kernel_lock("close bad", t, || {
        assert_eq!(t.close(fd(5)), Err(Errno::EBADF))
    });
    through_kernel_lock("fork", t, || t.fork_copy().unwrap());
    through_kernel_lock("remap", t, || t.fdcopy_remapped(&[1, 0]).unwrap());
    through_kernel_lock("close_range", t, || {
        drop(
            t.lock()
                .close_range(fd(1), fd(1), CloseRange::Close)
                .unwrap(),
        )
    });
    let new: FdTable<Arc<TestFile>> = t.fdcopy_remapped(&[0]).unwrap();
    let old = through_kernel_lock("install", t, || fdinstall_remapped(t, new));
    assert_eq!(open_fds(&old), vec![0]);
    drop(old);
    assert!(t.try_lock().is_some());
    assert_eq!(open_fds(&*t.lock()), vec![0]);
    assert_eq!(Arc::strong_count(&a), 2);
}

#[test]
fn try_lock_fails_while_the_kernels_lock_is_held() {
    let shared: KernelShared = SharedFdTable::new(FdTable::new());
    let g = shared.lock();
    assert!(held());
    assert!(shared.try_lock().is_none());
    drop(g);
    assert!(!held());
    assert!(shared.try_lock().is_some());
}

// ---- proc_exec through a process whose table uses the kernel's lock ----------------------

/// User memory: one readable window at address 0x1000.
struct Window(Vec<u8>);

impl UserMemory for Window {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        let off = (addr as usize).checked_sub(0x1000).ok_or(Errno::EFAULT)?;
        let src = self.0.get(off..off + buf.len()).ok_or(Errno::EFAULT)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write_user(&mut self, _: u32, _: &[u8]) -> Result<(), Errno> {
        Err(Errno::EFAULT)
    }
    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        let off = (addr as usize).checked_sub(0x1000).ok_or(Errno::EFAULT)?;
        match access {
            UserAccess::Read if off + len <= self.0.len() => Ok(()),
            _ => Err(Errno::EFAULT),
        }
    }
}

struct KernelProc {
    table: KernelShared,
    mem: Window,
}

impl Process for KernelProc {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = TestFile;
    type Handle = Arc<TestFile>;
    type Memory = Window;
    type Lock = RecordingRawMutex;
    fn fd_table(&self) -> &KernelShared {
        &self.table
    }
    fn memory(&self) -> &Window {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut Window {
        &mut self.mem
    }
}

/// Accepts every image; checks that the lock is free in both phases.
struct Accept;

impl ImageActivator<KernelProc> for Accept {
    type PreparedImage = ();
    type Entry = ();
    fn prepare(
        &mut self,
        p: &KernelProc,
        _: &Arc<TestFile>,
        _: &ImageArgs<Arc<TestFile>>,
    ) -> Result<(), Errno> {
        assert!(!p.table.is_locked());
        Ok(())
    }
    fn activate(
        &mut self,
        p: &mut KernelProc,
        _: (),
        _: &Arc<TestFile>,
        _: &ImageArgs<Arc<TestFile>>,
    ) -> Result<(), Errno> {
        assert!(!p.table.is_locked());
        Ok(())
    }
}

#[test]
fn proc_exec_runs_on_a_table_behind_the_kernels_lock() {
    let (exe, other) = (file(1), file(2));
    let mut t = FdTable::new();
    t.open(Arc::clone(&other), R_RW).unwrap(); // 0
    t.open(Arc::clone(&exe), R_EXEC).unwrap(); // 1
    // The list [0, 0] at 0x1000.
    let mut p = KernelProc {
        table: SharedFdTable::new(t),
        mem: Window(vec![0; 8]),
    };
    let before = acquisitions();
    let out = capexec::exec::proc_exec(&mut p, &mut Accept, 1, 0, 0, 0x1000, 2);
    assert_eq!(out, ExecOutcome::Replaced(()));
    assert!(acquisitions() > before);
    assert!(!p.table.is_locked() && !held());
    assert_eq!(open_fds(&*p.table.lock()), vec![0, 1]);
    assert_eq!(Arc::strong_count(&other), 3);
    assert_eq!(Arc::strong_count(&exe), 1);
}

// ---- the default lock's crate stays out of the public API -------------------------------

/// Every `.rs` file under `dir`.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn spin_is_named_only_by_the_default_lock_alias() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 10, "library sources not found under {src:?}");
    let mut uses = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines().filter(|l| l.contains("spin::")) {
            uses.push(line.trim().to_string());
        }
    }
    assert_eq!(
        uses,
        vec!["pub type DefaultRawMutex = spin::Mutex<()>;".to_string()]
    );
}

// ---- no allocation under the lock ------------------------------------------------------

/// Runs `op` and checks that it took the lock, released it, and made no allocator call
/// while holding it.
fn no_alloc_under_lock<T>(name: &str, shared: &KernelShared, op: impl FnOnce() -> T) -> T {
    let (acq, under) = (acquired_here(), under_lock_here());
    let out = op();
    assert!(acquired_here() > acq, "{name} did not take the lock");
    assert!(!shared.is_locked() && !held(), "{name} left the lock held");
    assert_eq!(
        under_lock_here() - under,
        0,
        "{name} called the allocator while holding the table lock"
    );
    out
}

/// A table shared through the recording lock, with descriptors `0..n` open on files
/// held only by the table (so closing one frees it).
fn kernel_table(n: usize) -> KernelShared {
    let mut t = FdTable::new();
    for i in 0..n {
        t.open(file(i), R_RW).unwrap();
    }
    SharedFdTable::new(t)
}

#[test]
fn no_shared_operation_allocates_or_frees_under_the_lock() {
    let t = &kernel_table(8); // capacity exactly 8: the next open grows
    let n = no_alloc_under_lock("open growing", t, || t.open(file(100), R_RW).unwrap());
    assert_eq!(n, fd(8));
    assert!(t.lock().capacity() > 8);
    no_alloc_under_lock("open", t, || t.open(file(101), R_RW).unwrap());
    no_alloc_under_lock("alloc far, growing", t, || {
        t.alloc(fd(5000), file(102), R_RW, true).unwrap()
    });
    let r = no_alloc_under_lock("alloc beyond the limit", t, || {
        t.alloc(fd(1 << 20), file(103), R_RW, false).unwrap_err()
    });
    assert_eq!(r.errno, Errno::EMFILE);
    drop(r);
    no_alloc_under_lock("dup", t, || t.dup(fd(0)).unwrap());
    no_alloc_under_lock("dup bad", t, || {
        assert_eq!(t.dup(fd(77)), Err(Errno::EBADF))
    });
    no_alloc_under_lock("dup_min growing", t, || t.dup_min(fd(0), fd(9000)).unwrap());
    no_alloc_under_lock("dup2 growing", t, || t.dup2(fd(1), fd(40_000)).unwrap());
    // The target's file is freed (last reference) after the lock.
    no_alloc_under_lock("dup2 over an open fd", t, || t.dup2(fd(0), fd(2)).unwrap());
    no_alloc_under_lock("replace", t, || t.replace(fd(0), fd(3)).unwrap());
    no_alloc_under_lock("replace bad", t, || {
        assert_eq!(t.replace(fd(0), fd(30)), Err(Errno::EBADF))
    });
    no_alloc_under_lock("close", t, || t.close(fd(4)).unwrap());
    no_alloc_under_lock("close bad", t, || {
        assert_eq!(t.close(fd(4)), Err(Errno::EBADF))
    });
    no_alloc_under_lock("get_file", t, || drop(t.get_file(fd(5)).unwrap()));
    no_alloc_under_lock("set_cloexec", t, || t.set_cloexec(fd(5), true).unwrap());
    no_alloc_under_lock("narrow rights", t, || {
        t.narrow_rights(fd(5), R_READ).unwrap()
    });
    no_alloc_under_lock("narrow rights refused", t, || {
        assert_eq!(t.narrow_rights(fd(5), R_RW), Err(Errno::ENOTCAPABLE))
    });
    let fork = no_alloc_under_lock("fork copy", t, || t.fork_copy().unwrap());
    assert_eq!(open_fds(&fork), open_fds(&*t.lock()));
    let remap = no_alloc_under_lock("fdcopy_remapped", t, || {
        t.fdcopy_remapped(&[5, 0, 5, 40_000]).unwrap()
    });
    assert_eq!(open_fds(&remap), vec![0, 1, 2, 3]);
    no_alloc_under_lock("fdcopy_remapped failing late", t, || {
        assert_eq!(t.fdcopy_remapped(&[5, 0, 4]).err(), Some(Errno::EBADF))
    });
    no_alloc_under_lock("fdcopy_remapped too long", t, || {
        assert_eq!(t.fdcopy_remapped(&[0; 50_000]).err(), Some(Errno::E2BIG))
    });
    no_alloc_under_lock("close_range cloexec", t, || {
        t.close_range(fd(6), fd(7), CloseRange::CloexecOnly)
            .unwrap()
    });
    no_alloc_under_lock("close_on_exec sweep", t, || t.close_on_exec().unwrap());
    no_alloc_under_lock("close_range", t, || {
        t.close_range(fd(0), fd(1 << 30), CloseRange::Close)
            .unwrap()
    });
    assert!(t.lock().is_empty());
    no_alloc_under_lock("open after close_range", t, || {
        t.open(file(104), R_RW).unwrap()
    });
    let old = no_alloc_under_lock("fdinstall_remapped", t, || fdinstall_remapped(t, remap));
    drop(old);
    assert_eq!(open_fds(&*t.lock()), vec![0, 1, 2, 3]);
    let s: KernelShared = SharedFdTable::new(fork);
    no_alloc_under_lock("fork of a fork", &s, || drop(s.fork_copy().unwrap()));
}

/// The `i`-th of many distinct rights sets (narrowings of `R_RW` plus other bits).
fn distinct_rights(i: usize) -> FdRights {
    let bits = Rights::all().bits();
    // The i-th subset of the defined rights, by the bits of `i` spread over them.
    let mut base = Rights::empty();
    let mut k = i + 1;
    let mut b = 0;
    while k != 0 && b < 64 {
        if bits & (1 << b) != 0 {
            if k & 1 != 0 {
                base |= Rights::from_bits_truncate(1 << b);
            }
            k >>= 1;
        }
        b += 1;
    }
    FdRights::new(base, Rights::empty())
}

#[test]
fn rights_sets_grow_outside_the_lock() {
    // Many distinct rights sets: the table's pool of sets grows (past the size where it
    // keeps an index) through opens and narrowings, always outside the lock.
    let t = &kernel_table(0);
    for i in 0..100 {
        no_alloc_under_lock("open with new rights", t, || {
            t.open(file(i), distinct_rights(i)).unwrap()
        });
    }
    let all = FdRights::new(Rights::all(), Rights::all());
    for i in 100..160 {
        let d = no_alloc_under_lock("open", t, || t.open(file(i), all).unwrap());
        no_alloc_under_lock("narrow to a new set", t, || {
            t.narrow_rights(d, distinct_rights(i)).unwrap()
        });
    }
    for i in 0..160 {
        assert_eq!(t.lock().rights(fd(i)), Ok(distinct_rights(i as usize)));
    }
    let fork = no_alloc_under_lock("fork copy", t, || t.fork_copy().unwrap());
    let list: Vec<i32> = (0..160).rev().collect();
    let remap = no_alloc_under_lock("fdcopy_remapped", t, || t.fdcopy_remapped(&list).unwrap());
    let one = no_alloc_under_lock("fdcopy_remapped of one", t, || {
        t.fdcopy_remapped(&[7]).unwrap()
    });
    assert_eq!(one.rights(fd(0)), Ok(distinct_rights(7)));
    let two = no_alloc_under_lock("fdcopy_remapped of two", t, || {
        t.fdcopy_remapped(&[7, 9]).unwrap()
    });
    assert_eq!(two.rights(fd(1)), Ok(distinct_rights(9)));
    for i in 0..160 {
        assert_eq!(fork.rights(fd(i)), Ok(distinct_rights(i as usize)));
        assert_eq!(remap.rights(fd(159 - i)), Ok(distinct_rights(i as usize)));
    }
    // Closing frees sets; new ones reuse their room.
    no_alloc_under_lock("close_range", t, || {
        t.close_range(fd(0), fd(149), CloseRange::Close).unwrap()
    });
    for i in 200..300 {
        no_alloc_under_lock("open reusing freed sets", t, || {
            t.open(file(i), distinct_rights(i)).unwrap()
        });
    }
}

#[test]
fn proc_exec_does_not_allocate_under_the_lock() {
    let mut t = FdTable::new();
    t.open(file(0), R_RW).unwrap();
    t.open(file(1), R_EXEC).unwrap();
    let mut p = KernelProc {
        table: SharedFdTable::new(t),
        mem: Window(vec![0; 8]),
    };
    let under = under_lock_here();
    let out = capexec::exec::proc_exec(&mut p, &mut Accept, 1, 0, 0, 0x1000, 2);
    assert_eq!(out, ExecOutcome::Replaced(()));
    assert_eq!(under_lock_here(), under);
}

#[test]
fn the_recorder_sees_an_allocation_under_the_lock() {
    // The plain table's own dup2 grows in place: called under the lock, the recorder
    // must see it (this is what the shared table's methods avoid).
    let t = kernel_table(1);
    let under = under_lock_here();
    let grown = t.lock().dup2(fd(0), fd(10_000));
    assert!(grown.is_ok());
    assert!(
        under_lock_here() > under,
        "the recording allocator saw nothing"
    );
}

// ---- work under the lock ---------------------------------------------------------------

thread_local! {
    static PASSABLE_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A file that counts how often the table asks whether it is passable: the fork copy
/// asks once per open slot it visits.
struct Counted;

impl capexec::fdtable::File for Counted {
    fn file_type(&self) -> capexec::fdtable::FileType {
        capexec::fdtable::FileType::RegularFile
    }
    fn is_passable(&self) -> bool {
        PASSABLE_CALLS.with(|c| c.set(c.get() + 1));
        true
    }
}

#[test]
fn fork_copy_of_a_large_sparse_table_visits_only_the_open_slots_under_the_lock() {
    const SLOTS: usize = 65_536;
    for k in [1usize, 16, 1024, 65_536] {
        let mut t: FdTable<Arc<Counted>> = FdTable::new();
        let f = Arc::new(Counted);
        // The highest descriptor is always open, so the copy spans the whole table.
        let step = SLOTS / k;
        for i in 0..k {
            let n = SLOTS - 1 - i * step;
            t.dup2_or_alloc(&f, n);
        }
        assert_eq!(t.len(), k);
        assert_eq!(t.lastfile(), Some(fd(SLOTS as i32 - 1)));
        let shared: SharedFdTable<Arc<Counted>, RecordingRawMutex> = SharedFdTable::new(t);
        let (under, visits) = (under_lock_here(), PASSABLE_CALLS.with(|c| c.get()));
        let copy = shared.fork_copy().unwrap();
        let visited = PASSABLE_CALLS.with(|c| c.get()) - visits;
        let allocs = under_lock_here() - under;
        eprintln!(
            "fork copy, {SLOTS} slots, {k} open: {visited} slots visited under the lock, \
             {allocs} allocator calls under it"
        );
        assert_eq!(visited, k);
        assert_eq!(allocs, 0);
        assert_eq!(copy.len(), k);
        assert_eq!(Arc::strong_count(&f), 2 * k + 1);
    }
}

/// Opens descriptor `n` of a plain table on `f`.
trait OpenAt {
    fn dup2_or_alloc(&mut self, f: &Arc<Counted>, n: usize);
}

impl OpenAt for FdTable<Arc<Counted>> {
    fn dup2_or_alloc(&mut self, f: &Arc<Counted>, n: usize) {
        let got = self.alloc(fd(n as i32), Arc::clone(f), R_RW, n % 3 == 0);
        assert_eq!(got.map_err(|r| r.errno), Ok(fd(n as i32)));
    }
}

// ---- stress: several threads, one table, the recording lock ----------------------------

/// xorshift64*: reproducible and allocation-free.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

#[test]
fn stress_no_thread_allocates_under_the_lock() {
    const THREADS: usize = 4;
    const STEPS: usize = 3_000;
    let pool: Vec<Arc<TestFile>> = (0..16).map(file).collect();
    let shared: KernelShared = SharedFdTable::new(FdTable::with_limit(1 << 16));
    let per_thread: Vec<(usize, usize, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|id| {
                let (t, pool) = (&shared, &pool);
                s.spawn(move || {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1));
                    let (acq, under) = (acquired_here(), under_lock_here());
                    let mut done = 0usize;
                    for _ in 0..STEPS {
                        let a = fd(rng.below(64) as i32);
                        let far = fd(rng.below(1 << 14) as i32);
                        let ok = match rng.below(13) {
                            0 | 1 => t.open(Arc::clone(&pool[rng.below(16)]), R_RW).is_ok(),
                            2 => t.dup(a).is_ok(),
                            3 => t.dup2(a, far).is_ok(),
                            4 => t.dup_min(a, far).is_ok(),
                            5 | 6 => t.close(a).is_ok(),
                            7 => t.replace(a, fd(rng.below(64) as i32)).is_ok(),
                            8 => t
                                .close_range(far, fd(far.raw() + 64), CloseRange::Close)
                                .is_ok(),
                            9 => t.set_cloexec(a, true).is_ok(),
                            10 => t.fork_copy().is_ok(),
                            11 => {
                                let list = [a.raw(), 0, a.raw()];
                                match t.fdcopy_remapped(&list) {
                                    // An exec of another thread: swap and free after.
                                    Ok(new) if rng.below(8) == 0 => {
                                        drop(fdinstall_remapped(t, new));
                                        true
                                    }
                                    r => r.is_ok(),
                                }
                            }
                            _ => t.close_on_exec().is_ok(),
                        };
                        done += usize::from(ok);
                        assert!(!held());
                    }
                    (acquired_here() - acq, under_lock_here() - under, done)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, &(acq, under, done)) in per_thread.iter().enumerate() {
        assert!(acq >= STEPS, "thread {i} took the lock only {acq} times");
        assert!(
            done > STEPS / 10,
            "thread {i}: only {done} operations succeeded"
        );
        assert_eq!(under, 0, "thread {i} called the allocator under the lock");
    }
    drop(shared);
    for f in &pool {
        assert_eq!(Arc::strong_count(f), 1, "file {} leaked a reference", f.id);
    }
}
