//! Helpers shared by the `fdtable_*` integration tests: a test file type, descriptor
//! shorthands, table builders and whole-table snapshots.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use capexec::Errno;
use capexec::fdtable::{Fd, FdRights, FdTable, File, FileHandle, FileType, Rights, SharedFdTable};

/// A file type with an identity the snapshots can report.
pub trait HasId {
    fn ident(&self) -> usize;
}

/// An open file for the tests: an identity and whether fork/remap may copy it.
#[derive(Debug)]
pub struct TestFile {
    pub id: usize,
    pub passable: bool,
}

impl HasId for TestFile {
    fn ident(&self) -> usize {
        self.id
    }
}

impl File for TestFile {
    fn file_type(&self) -> FileType {
        if self.passable {
            FileType::RegularFile
        } else {
            FileType::Unknown
        }
    }

    fn is_passable(&self) -> bool {
        self.passable
    }
}

pub type Table = FdTable<Arc<TestFile>>;

/// A handle type the model tests run with: a way to make one, and its reference count.
pub trait TestHandle: FileHandle<Target = TestFile> {
    /// A new file (one reference, held by the caller).
    fn make(file: TestFile) -> Self;
    /// How many references to this handle's file exist.
    fn refs(&self) -> usize;
}

impl TestHandle for Arc<TestFile> {
    fn make(file: TestFile) -> Self {
        Arc::new(file)
    }
    fn refs(&self) -> usize {
        Arc::strong_count(self)
    }
}

/// A kernel-style handle whose reference count is a `u16` with a ceiling: taking a
/// reference beyond `max` is refused with `EBADF` (FreeBSD's `fhold` on overflow).
pub struct Bounded {
    inner: Arc<BoundedFile>,
}

pub struct BoundedFile {
    file: TestFile,
    refs: AtomicU16,
    max: u16,
}

impl Bounded {
    /// A new file whose reference count may reach `max`.
    pub fn with_max(file: TestFile, max: u16) -> Bounded {
        Bounded {
            inner: Arc::new(BoundedFile {
                file,
                refs: AtomicU16::new(1),
                max,
            }),
        }
    }
}

impl std::ops::Deref for Bounded {
    type Target = TestFile;
    fn deref(&self) -> &TestFile {
        &self.inner.file
    }
}

impl FileHandle for Bounded {
    fn try_clone(&self) -> Result<Bounded, Errno> {
        let max = self.inner.max;
        self.inner
            .refs
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| Errno::EBADF)?;
        Ok(Bounded {
            inner: Arc::clone(&self.inner),
        })
    }
}

impl Drop for Bounded {
    fn drop(&mut self) {
        let before = self.inner.refs.fetch_sub(1, Ordering::AcqRel);
        assert!(before > 0, "reference count underflow");
    }
}

impl std::fmt::Debug for Bounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Bounded(file {}, refs {})",
            self.inner.file.id,
            self.refs()
        )
    }
}

impl TestHandle for Bounded {
    fn make(file: TestFile) -> Self {
        Bounded::with_max(file, u16::MAX)
    }
    fn refs(&self) -> usize {
        let counted = usize::from(self.inner.refs.load(Ordering::Acquire));
        // The count the handle keeps and the number of handles alive must agree.
        assert_eq!(
            counted,
            Arc::strong_count(&self.inner),
            "bounded count drifted"
        );
        counted
    }
}

/// A passable test file behind handle type `H`.
pub fn file_as<H: TestHandle>(id: usize) -> H {
    H::make(TestFile { id, passable: true })
}

/// A non-passable test file behind handle type `H`.
pub fn unpassable_as<H: TestHandle>(id: usize) -> H {
    H::make(TestFile {
        id,
        passable: false,
    })
}

/// A passable file with identity `id`.
pub fn file(id: usize) -> Arc<TestFile> {
    Arc::new(TestFile { id, passable: true })
}

/// A file that fork and remapped exec must not copy (kqueue-like).
pub fn unpassable(id: usize) -> Arc<TestFile> {
    Arc::new(TestFile {
        id,
        passable: false,
    })
}

/// The descriptor `n` (test inputs are never negative).
pub fn fd(n: i32) -> Fd {
    Fd::from_raw(n).expect("test descriptor must be non-negative")
}

/// Rights from raw base and inheriting bit sets (unknown bits dropped).
pub fn rights(base: u64, inheriting: u64) -> FdRights {
    FdRights::new(
        Rights::from_bits_truncate(base),
        Rights::from_bits_truncate(inheriting),
    )
}

/// A few distinct rights pairs used to tell descriptors apart.
pub const R_READ: FdRights = FdRights::new(Rights::FD_READ, Rights::empty());
pub const R_WRITE: FdRights = FdRights::new(Rights::FD_WRITE, Rights::FD_READ);
pub const R_RW: FdRights = FdRights::new(
    Rights::FD_READ.union(Rights::FD_WRITE),
    Rights::FD_READ.union(Rights::FD_SEEK),
);

/// Puts `file` exactly at descriptor `n` (which must be free) with `rights` and
/// `cloexec`.
pub fn put(t: &mut Table, n: i32, f: &Arc<TestFile>, r: FdRights, cloexec: bool) {
    let got = t
        .alloc(fd(n), Arc::clone(f), r, cloexec)
        .unwrap_or_else(|rej| panic!("alloc at {n} failed: {:?}", rej.errno));
    assert_eq!(got, fd(n), "descriptor {n} was not free");
}

/// A table of `limit` with `file` open (rights ALL, cloexec clear) at each of `fds`.
pub fn table_with(limit: usize, f: &Arc<TestFile>, fds: &[i32]) -> Table {
    let mut t = Table::with_limit(limit);
    for &n in fds {
        put(&mut t, n, f, FdRights::ALL, false);
    }
    t
}

/// One open descriptor as seen from outside: number, file identity (pointer), rights,
/// close-on-exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub fd: i32,
    pub ptr: usize,
    pub id: usize,
    pub rights: FdRights,
    pub cloexec: bool,
}

/// Every open descriptor of `t`, in increasing order, checked against `get`, `is_open`
/// and `cloexec`.
pub fn snapshot<H>(t: &FdTable<H>) -> Vec<Slot>
where
    H: FileHandle,
    H::Target: HasId,
{
    let slots: Vec<Slot> = t
        .iter()
        .map(|(n, e)| {
            let by_get = t.get(n).expect("iter yielded a descriptor get rejects");
            assert!(by_get.file().same_file(e.file()));
            assert!(t.is_open(n));
            Slot {
                fd: n.raw(),
                ptr: addr_of(e.file()),
                id: e.file().ident(),
                rights: e.rights(),
                cloexec: t.cloexec(n).expect("open descriptor has a flag"),
            }
        })
        .collect();
    assert!(
        slots.windows(2).all(|w| w[0].fd < w[1].fd),
        "iter not increasing"
    );
    assert_eq!(slots.len(), t.len(), "len disagrees with iter");
    assert_eq!(t.is_empty(), slots.is_empty());
    assert_eq!(
        t.lastfile().map(Fd::raw),
        slots.last().map(|s| s.fd),
        "lastfile disagrees with iter"
    );
    slots
}

/// The address of the file a handle refers to (its identity).
pub fn addr_of<H: std::ops::Deref>(h: &H) -> usize {
    (&**h as *const H::Target).cast::<()>() as usize
}

/// Open descriptor numbers of `t`.
pub fn open_fds<H: FileHandle>(t: &FdTable<H>) -> Vec<i32> {
    t.iter().map(|(n, _)| n.raw()).collect()
}

/// The lowest free descriptor computed the slow way (lowest number not open), or
/// `EMFILE` when it is not below the limit.
pub fn slow_lowest_free<H: FileHandle>(t: &FdTable<H>, min: usize) -> Result<Fd, Errno> {
    let open = open_fds(t);
    let mut n = min;
    while open.binary_search(&(n as i32)).is_ok() {
        n += 1;
    }
    if n >= t.limit() {
        Err(Errno::EMFILE)
    } else {
        Ok(Fd::from_index(n).expect("small"))
    }
}

/// Number of entries of `tables` whose file is `f` (pointer identity).
pub fn holders<F: ?Sized>(f: &Arc<F>, tables: &[&FdTable<Arc<F>>]) -> usize {
    tables
        .iter()
        .map(|t| t.iter().filter(|(_, e)| Arc::ptr_eq(e.file(), f)).count())
        .sum()
}

/// Asserts that each file's strong count is 1 (the test's own handle) plus the number
/// of entries holding it across `tables`.
#[track_caller]
pub fn assert_refcounts<F: HasId>(files: &[Arc<F>], tables: &[&FdTable<Arc<F>>]) {
    for f in files {
        assert_eq!(
            Arc::strong_count(f),
            1 + holders(f, tables),
            "reference count of file {} is off",
            f.ident()
        );
    }
}

/// What the destructors of [`LockFile`]s saw.
#[derive(Debug, Default)]
pub struct DropLog {
    /// Destructors run.
    pub total: AtomicUsize,
    /// Destructors run while the watched table's lock was held.
    pub under_lock: AtomicUsize,
}

impl DropLog {
    pub fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    pub fn under_lock(&self) -> usize {
        self.under_lock.load(Ordering::SeqCst)
    }
}

/// A file whose destructor records whether the lock of a shared table was held.
pub struct LockFile {
    pub id: usize,
    pub passable: bool,
    pub table: Weak<SharedFdTable<Arc<LockFile>>>,
    pub log: Arc<DropLog>,
}

impl HasId for LockFile {
    fn ident(&self) -> usize {
        self.id
    }
}

impl File for LockFile {
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }

    fn is_passable(&self) -> bool {
        self.passable
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        self.log.total.fetch_add(1, Ordering::SeqCst);
        if self.table.upgrade().is_some_and(|t| t.is_locked()) {
            self.log.under_lock.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A fresh shared table of `limit` and a maker of files watching it.
#[allow(clippy::type_complexity)]
pub fn watched(
    limit: usize,
) -> (
    Arc<SharedFdTable<Arc<LockFile>>>,
    Arc<DropLog>,
    impl Fn(usize, bool) -> Arc<LockFile>,
) {
    let shared = Arc::new(SharedFdTable::new(FdTable::with_limit(limit)));
    let log = Arc::new(DropLog::default());
    let weak = Arc::downgrade(&shared);
    let log2 = Arc::clone(&log);
    let make = move |id, passable| {
        Arc::new(LockFile {
            id,
            passable,
            table: weak.clone(),
            log: Arc::clone(&log2),
        })
    };
    (shared, log, make)
}
