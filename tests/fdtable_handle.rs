//! The table stores the kernel's handle type, whose clone may fail: with `Bounded`, a
//! handle whose reference count has a ceiling (FreeBSD's `fhold` refuses an overflow
//! with `EBADF`), every path that takes a reference (`dup`, `dup_min`, `dup2`,
//! `replace`, `get_file`, the fork copy, the remapped copy, `proc_exec`'s copy and its
//! executable check) fails with `EBADF` and leaves the table and every reference count
//! exactly as they were.

mod fdtable_common;

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::exec::{ExecOutcome, ImageActivator, ImageArgs, Process, UserAccess, UserMemory};
use capexec::fdtable::{FdRights, FdTable, FileHandle, Rights, SharedFdTable, fdcopy_remapped};
use fdtable_common::*;

type BTable = FdTable<Bounded>;

const R_EXEC: FdRights = FdRights::new(Rights::PROC_EXEC, Rights::empty());

/// Descriptor 0: `roomy` (no ceiling in reach); descriptors 1 and 2: `full`, whose
/// count (the test's handle plus two entries) is at its ceiling of 3; descriptor 3:
/// `roomy` again.
fn setup() -> (BTable, Bounded, Bounded) {
    let roomy = Bounded::with_max(
        TestFile {
            id: 0,
            passable: true,
        },
        100,
    );
    let full = Bounded::with_max(
        TestFile {
            id: 1,
            passable: true,
        },
        3,
    );
    let mut t = BTable::new();
    t.open(roomy.try_clone().unwrap(), R_RW).unwrap();
    t.open(full.try_clone().unwrap(), R_EXEC).unwrap();
    t.open(full.try_clone().unwrap(), R_READ).unwrap();
    t.open(roomy.try_clone().unwrap(), R_WRITE).unwrap();
    t.set_cloexec(fd(3), true).unwrap();
    assert_eq!(full.try_clone().err(), Some(Errno::EBADF));
    (t, roomy, full)
}

/// Runs `op` on a fresh setup and checks that it failed with `EBADF` and changed
/// nothing: same descriptors, files, rights and flags; same reference counts.
fn refused<T>(name: &str, op: impl FnOnce(&mut BTable) -> Result<T, Errno>) {
    let (mut t, roomy, full) = setup();
    let before = snapshot(&t);
    let counts = (roomy.refs(), full.refs());
    let r = op(&mut t);
    assert_eq!(r.err(), Some(Errno::EBADF), "{name}");
    assert_eq!(snapshot(&t), before, "{name} changed the table");
    assert_eq!(
        (roomy.refs(), full.refs()),
        counts,
        "{name} changed a count"
    );
    assert_eq!(counts, (3, 3));
}

/// The same through a shared table.
fn refused_shared<T>(name: &str, op: impl FnOnce(&SharedFdTable<Bounded>) -> Result<T, Errno>) {
    let (t, roomy, full) = setup();
    let before = snapshot(&t);
    let shared: SharedFdTable<Bounded> = SharedFdTable::new(t);
    let r = op(&shared);
    assert_eq!(r.err(), Some(Errno::EBADF), "shared {name}");
    assert!(!shared.is_locked());
    assert_eq!(
        snapshot(&*shared.lock()),
        before,
        "shared {name} changed the table"
    );
    assert_eq!(
        (roomy.refs(), full.refs()),
        (3, 3),
        "shared {name} changed a count"
    );
}

#[test]
fn dup_refuses_a_full_count() {
    refused("dup", |t| t.dup(fd(1)));
    refused_shared("dup", |t| t.dup(fd(2)));
}

#[test]
fn dup_min_refuses_a_full_count() {
    refused("dup_min", |t| t.dup_min(fd(1), fd(500)));
    refused_shared("dup_min", |t| t.dup_min(fd(1), fd(500)));
}

#[test]
fn dup2_refuses_a_full_count_and_keeps_the_target() {
    refused("dup2 onto an open fd", |t| t.dup2(fd(1), fd(0)).map(drop));
    refused("dup2 onto a free fd", |t| t.dup2(fd(1), fd(9)).map(drop));
    refused_shared("dup2 onto an open fd", |t| t.dup2(fd(2), fd(3)));
    refused_shared("dup2 growing", |t| t.dup2(fd(2), fd(5000)));
}

#[test]
fn replace_refuses_a_full_count_and_keeps_the_target() {
    refused("replace", |t| t.replace(fd(1), fd(3)).map(drop));
    refused_shared("replace", |t| t.replace(fd(2), fd(0)));
}

#[test]
fn get_file_refuses_a_full_count() {
    refused_shared("get_file", |t| t.get_file(fd(1)).map(drop));
}

#[test]
fn fork_copy_refuses_a_full_count_and_releases_what_it_took() {
    // Descriptor 0's file is cloned first; the failure at descriptor 1 releases it.
    refused("fork copy", |t| t.fork_copy().map(drop));
    refused_shared("fork copy", |t| t.fork_copy().map(drop));
}

#[test]
fn fdcopy_remapped_refuses_a_full_count_and_releases_what_it_took() {
    refused("fdcopy_remapped", |t| {
        fdcopy_remapped(t, &[0, 3, 1]).map(drop)
    });
    refused_shared("fdcopy_remapped", |t| {
        t.fdcopy_remapped(&[3, 0, 2]).map(drop)
    });
}

#[test]
fn the_same_paths_succeed_below_the_ceiling() {
    let (mut t, roomy, full) = setup();
    let n = t.dup(fd(0)).unwrap();
    assert_eq!(roomy.refs(), 4);
    t.close(n).unwrap().into_file();
    assert_eq!(roomy.refs(), 3);
    // Closing a holder of `full` makes room for exactly one more reference.
    drop(t.close(fd(2)).unwrap());
    assert_eq!(full.refs(), 2);
    assert_eq!(t.dup(fd(1)).unwrap(), fd(2));
    assert_eq!(full.refs(), 3);
    assert_eq!(t.dup(fd(1)), Err(Errno::EBADF));
    let copy = fdcopy_remapped(&t, &[0, 0, 3]).unwrap();
    assert_eq!(roomy.refs(), 6);
    drop(copy);
    assert_eq!(roomy.refs(), 3);
}

// ---- proc_exec with kernel handles -----------------------------------------------------

/// User memory: one readable window at address 0x1000 holding the list `[1, 0]`.
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
    table: SharedFdTable<Bounded>,
    mem: Window,
}

impl Process for KernelProc {
    type File = TestFile;
    type Handle = Bounded;
    type Memory = Window;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Bounded> {
        &self.table
    }
    fn memory(&self) -> &Window {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut Window {
        &mut self.mem
    }
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }
}

/// Accepts every image.
struct Accept;

impl ImageActivator<KernelProc> for Accept {
    type PreparedImage = ();
    type Entry = ();
    fn prepare(
        &mut self,
        _: &KernelProc,
        _: &Bounded,
        _: &ImageArgs<Bounded>,
    ) -> Result<(), Errno> {
        Ok(())
    }
    fn activate(
        &mut self,
        _: &mut KernelProc,
        _: (),
        _: &Bounded,
        _: &ImageArgs<Bounded>,
    ) -> Result<(), Errno> {
        Ok(())
    }
}

fn exec_world() -> (KernelProc, Bounded, Bounded) {
    let (t, roomy, full) = setup();
    let mut list = Vec::new();
    for n in [3i32, 0] {
        list.extend_from_slice(&n.to_le_bytes());
    }
    let p = KernelProc {
        table: SharedFdTable::new(t),
        mem: Window(list),
    };
    (p, roomy, full)
}

#[test]
fn proc_exec_refuses_a_full_count_and_leaves_the_caller_as_it_was() {
    // The list [3, 0] copies only `roomy`; the executable (descriptor 1) is `full`, so
    // the executable check's reference is refused.
    let (mut p, roomy, full) = exec_world();
    let before = snapshot(&*p.table.lock());
    let out = capexec::exec::proc_exec(&mut p, &mut Accept, 1, 0, 0, 0x1000, 2);
    assert_eq!(out, ExecOutcome::Failed(Errno::EBADF));
    assert_eq!(snapshot(&*p.table.lock()), before);
    assert_eq!((roomy.refs(), full.refs()), (3, 3));
    // The list [0, 1] makes the copy itself refuse at its second entry (`full`),
    // after taking a reference to `roomy` for the first: that one is released.
    let (mut p, roomy, full) = exec_world();
    p.mem = Window([0i32, 1].iter().flat_map(|n| n.to_le_bytes()).collect());
    let before = snapshot(&*p.table.lock());
    let out = capexec::exec::proc_exec(&mut p, &mut Accept, 1, 0, 0, 0x1000, 2);
    assert_eq!(out, ExecOutcome::Failed(Errno::EBADF));
    assert_eq!(snapshot(&*p.table.lock()), before);
    assert_eq!((roomy.refs(), full.refs()), (3, 3));
}

#[test]
fn proc_exec_with_kernel_handles_succeeds_below_the_ceiling() {
    let (mut p, roomy, full) = exec_world();
    drop(p.table.lock().close(fd(2)).unwrap()); // room for the executable check
    let out = capexec::exec::proc_exec(&mut p, &mut Accept, 1, 0, 0, 0x1000, 2);
    assert_eq!(out, ExecOutcome::Replaced(()));
    assert_eq!(open_fds(&*p.table.lock()), vec![0, 1]);
    // The new table holds `roomy` twice; the old table and the executable's reference
    // are gone.
    assert_eq!((roomy.refs(), full.refs()), (3, 1));
}
