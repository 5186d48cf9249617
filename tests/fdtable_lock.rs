//! The lock of a shared table is the kernel's: any `lock_api::RawMutex` works, every
//! shared-table operation and `proc_exec` take it and release it, and no type of the
//! default lock's crate appears in capexec's public signatures.

mod fdtable_common;
mod lock_common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use capexec::Errno;
use capexec::exec::{
    ExecOutcome, ImageActivator, ImageArgs, Process, UserAccess, UserAddr, UserMemory,
};
use capexec::fdtable::{CloseRange, FdRights, FdTable, Rights, SharedFdTable, fdinstall_remapped};
use fdtable_common::*;
use lock_common::{ACQUISITIONS, RecordingRawMutex, held};

type KernelShared = SharedFdTable<TestFile, RecordingRawMutex>;

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
    through_kernel_lock("open", t, || t.lock().open(Arc::clone(&a), R_RW).unwrap());
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
    let new: FdTable<TestFile> = t.fdcopy_remapped(&[0]).unwrap();
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
    fn read_user(&self, addr: UserAddr, buf: &mut [u8]) -> Result<(), Errno> {
        let off = (addr as usize).checked_sub(0x1000).ok_or(Errno::EFAULT)?;
        let src = self.0.get(off..off + buf.len()).ok_or(Errno::EFAULT)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write_user(&mut self, _: UserAddr, _: &[u8]) -> Result<(), Errno> {
        Err(Errno::EFAULT)
    }
    fn check_access(&self, addr: UserAddr, len: usize, access: UserAccess) -> Result<(), Errno> {
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
    type File = TestFile;
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
    type Prepared = ();
    type Entry = ();
    fn prepare(
        &mut self,
        p: &KernelProc,
        _: &Arc<TestFile>,
        _: &ImageArgs<TestFile>,
    ) -> Result<(), Errno> {
        assert!(!p.table.is_locked());
        Ok(())
    }
    fn activate(
        &mut self,
        p: &mut KernelProc,
        _: (),
        _: &Arc<TestFile>,
        _: &ImageArgs<TestFile>,
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
