//! Concurrency stress: threads dup, dup2, replace and close on one `SharedFdTable` while
//! another thread execs from it (`proc_exec` through `syscall32`) and a third forks it.
//! After joining, every file's reference count equals its holders and no lock is held.

mod hardening_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Layout32, Regs32, SyscallAction, syscall32};
use capexec::exec::{Process, UserMemory};
use capexec::fdtable::{Fd, FdRights, FdTable, Rights, SharedFdTable};
use capexec_sim::{SimAddressSpace, minimal_cloudabi_elf};
use hardening_common::{HFile, HKind, XorShift, assert_counts};

/// Descriptors the threads play with.
const FDS: u32 = 16;
const ITERS: usize = 300_000;
const EXECS: usize = 16_000;
/// Execs that must succeed. From the playground as it starts, about a third of the
/// random execs can succeed (the executable at 0 or 4, every listed file passable); the
/// other threads' moves make some of those fail, but once they are done every exec starts
/// from the intact playground, so this many is reached on any number of CPUs.
const MIN_EXECS_OK: u64 = 2_000;
/// Attempts after which too few successes is a failure.
const MAX_EXECS: usize = 4 * EXECS;
const FORKS: usize = 80_000;

/// The exec'ing thread's process: the shared table, and (after an exec that does not
/// swap the shared table in place) a table of its own, created before the exec.
struct StressProc {
    shared: Arc<SharedFdTable<Arc<HFile>>>,
    own: SharedFdTable<Arc<HFile>>,
    in_place: bool,
    installed: bool,
    /// The table as installed: (descriptor, passable, close-on-exec, file from the pool).
    new_table: Vec<(i32, bool, bool, *const HFile)>,
    mem: SimAddressSpace,
}

impl capexec::abi::KernelCalls for StressProc {}

impl Process for StressProc {
    type File = HFile;
    type Handle = Arc<HFile>;
    type Memory = SimAddressSpace;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<HFile>> {
        if self.installed && !self.in_place {
            &self.own
        } else {
            &self.shared
        }
    }
    fn memory(&self) -> &SimAddressSpace {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.mem
    }
    fn install_fd_table(&mut self, new: FdTable<Arc<HFile>>) -> FdTable<Arc<HFile>> {
        self.installed = true;
        // Seen before the swap: after it, other threads may change a table swapped in
        // place.
        self.new_table = new
            .iter()
            .map(|(f, e)| {
                (
                    f.raw(),
                    e.file().passable,
                    new.cloexec(f).unwrap(),
                    Arc::as_ptr(e.file()),
                )
            })
            .collect();
        let target = if self.in_place {
            &*self.shared
        } else {
            &self.own
        };
        core::mem::replace(&mut *target.lock(), new)
    }
}

fn fd(n: u32) -> Fd {
    Fd::from_raw(n as i32).unwrap()
}

fn exe_rights() -> FdRights {
    FdRights::new(Rights::FD_READ | Rights::PROC_EXEC, Rights::empty())
}

/// The rights of playground descriptor `k`.
fn playground_rights(k: u32) -> FdRights {
    if k % 4 == 0 {
        exe_rights()
    } else {
        FdRights::ALL
    }
}

#[test]
fn dup_replace_close_exec_fork_on_one_shared_table() {
    let elf = minimal_cloudabi_elf(0x0804_8000, &[0x90; 16]);
    let pool: Vec<Arc<HFile>> = vec![
        HFile::new(HKind::Regular(elf.clone()), true),
        HFile::new(HKind::Stream, true),
        HFile::new(HKind::Stream, false),
        HFile::new(HKind::Directory, true),
        HFile::new(HKind::Regular(elf), true),
    ];
    let mut t = FdTable::new();
    for i in 0..FDS {
        let f = pool[i as usize % pool.len()].clone();
        assert!(t.alloc(fd(i), f, playground_rights(i), i % 2 == 0).is_ok());
    }
    let shared = Arc::new(SharedFdTable::new(t));
    let start = Instant::now();
    let execs_ok = AtomicU64::new(0);
    let forks_ok = AtomicU64::new(0);
    let ops_ok = AtomicU64::new(0);

    std::thread::scope(|s| {
        // dup / dup2, closing what lands above the playground.
        for seed in [1u64, 2] {
            let shared = &shared;
            let ops_ok = &ops_ok;
            s.spawn(move || {
                let mut r = XorShift(0x1234_5678 + seed);
                for _ in 0..ITERS {
                    let a = (r.next() % u64::from(FDS)) as u32;
                    let b = (r.next() % u64::from(FDS)) as u32;
                    let ok = if r.next() % 2 == 0 {
                        match shared.dup(fd(a)) {
                            Ok(n) => {
                                if n.raw() as u32 >= FDS {
                                    let _ = shared.close(n);
                                }
                                true
                            }
                            Err(e) => {
                                assert!(e == Errno::EBADF, "dup: {e:?}");
                                false
                            }
                        }
                    } else {
                        shared.dup2(fd(a), fd(b)).is_ok()
                    };
                    if ok {
                        ops_ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        // replace and close.
        {
            let shared = &shared;
            let ops_ok = &ops_ok;
            s.spawn(move || {
                let mut r = XorShift(0xdead_beef);
                for i in 0..ITERS {
                    let a = (r.next() % u64::from(FDS)) as u32;
                    let b = (r.next() % u64::from(FDS)) as u32;
                    let res = if i % 3 == 0 {
                        shared.close(fd(a))
                    } else {
                        shared.replace(fd(a), fd(b))
                    };
                    if res.is_ok() {
                        ops_ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        // fork.
        {
            let shared = &shared;
            let forks_ok = &forks_ok;
            let pool = &pool;
            s.spawn(move || {
                for _ in 0..FORKS {
                    let child = shared.fork_copy().expect("fork_copy");
                    for (_, e) in child.iter() {
                        assert!(e.file().passable, "fork copied a non-passable file");
                        assert!(pool.iter().any(|f| Arc::ptr_eq(f, e.file())));
                    }
                    forks_ok.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // exec.
        {
            let shared = &shared;
            let execs_ok = &execs_ok;
            let pool = &pool;
            s.spawn(move || {
                let mut r = XorShift(0x5eed);
                let mut i = 0;
                // At least EXECS attempts, and on until MIN_EXECS_OK succeeded.
                while i < EXECS || execs_ok.load(Ordering::Relaxed) < MIN_EXECS_OK {
                    assert!(
                        i < MAX_EXECS,
                        "only {} of {i} execs succeeded",
                        execs_ok.load(Ordering::Relaxed)
                    );
                    let mut mem = SimAddressSpace::new();
                    mem.map(0x7000_0000, 0x1000);
                    mem.map(0x6000_0000, 0x1000);
                    mem.map(0x5000_0000, 0x1000);
                    let n = (r.next() % 6) as u32;
                    let list: Vec<u8> = (0..n)
                        .flat_map(|_| ((r.next() % u64::from(FDS)) as u32).to_le_bytes())
                        .collect();
                    mem.write_user(0x5000_0000, &list).unwrap();
                    mem.write_user(0x6000_0000, &[0x07, 0x81, 0x07]).unwrap();
                    let exe = (r.next() % u64::from(FDS)) as u32 & !3;
                    let args: Vec<u8> = [exe, 0x6000_0000, 3, 0x5000_0000, n]
                        .iter()
                        .flat_map(|w| w.to_le_bytes())
                        .collect();
                    mem.write_user(0x7000_0104, &args).unwrap();
                    let mut p = StressProc {
                        shared: Arc::clone(shared),
                        own: SharedFdTable::new(FdTable::new()),
                        in_place: i % 10 == 9,
                        installed: false,
                        new_table: Vec::new(),
                        mem,
                    };
                    let mut rng_exec = XorShift(7);
                    let layout = Layout32 {
                        stack_size: 0x4000,
                        ..Layout32::default()
                    };
                    let mut regs = Regs32 {
                        eax: 38,
                        esp: 0x7000_0100,
                        ..Regs32::default()
                    };
                    let action = {
                        let mut act = Cloudabi32Activator::new(layout, &mut rng_exec);
                        syscall32(&mut p, &mut act, &mut regs)
                    };
                    match action {
                        SyscallAction::Exec(_) => {
                            let t = &p.new_table;
                            assert_eq!(t.len(), n as usize, "new table is not the list");
                            for (j, &(f, passable, cloexec, file)) in t.iter().enumerate() {
                                assert_eq!(f, j as i32, "new table is not dense");
                                assert!(passable && !cloexec);
                                assert!(pool.iter().any(|x| Arc::as_ptr(x) == file));
                            }
                            execs_ok.fetch_add(1, Ordering::Relaxed);
                        }
                        SyscallAction::Resume => {
                            assert!(regs.carry());
                            let e = Errno::from_raw(regs.eax as u16).unwrap();
                            assert!(
                                [
                                    Errno::EBADF,
                                    Errno::EINVAL,
                                    Errno::ENOTCAPABLE,
                                    Errno::EACCES,
                                    Errno::E2BIG
                                ]
                                .contains(&e),
                                "exec: {e:?}"
                            );
                            assert!(!p.installed);
                        }
                        other => panic!("exec: {other:?}"),
                    }
                    drop(p);
                    // Execs in place shrink the shared table, closes drain it and dup2 /
                    // replace move files around: put the playground back as it started,
                    // so every exec starts from the same table and only the other
                    // threads' work in between can make it fail.
                    let mut closed = Vec::new();
                    {
                        let mut t = shared.lock();
                        for k in 0..FDS {
                            let f = &pool[k as usize % pool.len()];
                            let r = playground_rights(k);
                            let intact = t
                                .get(fd(k))
                                .is_ok_and(|e| Arc::ptr_eq(e.file(), f) && e.rights() == r);
                            if !intact {
                                closed.extend(t.close(fd(k)).ok());
                                let placed = t.alloc(fd(k), f.clone(), r, false);
                                assert_eq!(placed.ok(), Some(fd(k)), "refill");
                            }
                        }
                    }
                    drop(closed);
                    i += 1;
                }
            });
        }
    });

    let elapsed = start.elapsed();
    assert!(!shared.is_locked(), "a lock is still held after joining");
    let table = shared.lock();
    assert_counts(&pool, &[&table]);
    for (f, e) in table.iter() {
        assert!(f.raw() < FDS as i32);
        assert!(pool.iter().any(|x| Arc::ptr_eq(x, e.file())));
    }
    drop(table);
    drop(shared);
    for f in &pool {
        assert_eq!(Arc::strong_count(f), 1, "a reference leaked");
    }
    let execs = execs_ok.load(Ordering::Relaxed);
    assert!(execs >= MIN_EXECS_OK, "only {execs} execs succeeded");
    assert_eq!(forks_ok.load(Ordering::Relaxed), FORKS as u64);
    assert!(
        ops_ok.load(Ordering::Relaxed) > 0,
        "no table operation succeeded"
    );
    eprintln!(
        "stress: {} table ops ok of {}, {} forks, {} execs succeeded (at least {}), {:?}",
        ops_ok.load(Ordering::Relaxed),
        3 * ITERS,
        forks_ok.load(Ordering::Relaxed),
        execs,
        MIN_EXECS_OK,
        elapsed
    );
}
