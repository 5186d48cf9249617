//! Allocation-failure injection: a global allocator that fails the k-th allocation (or
//! every allocation from the k-th on) of the armed thread, swept over every allocation
//! an operation makes. Each failure must give `ENOMEM`, leave every table and reference
//! count as it was, and leak nothing (live bytes, tracked by the allocator, return to
//! the baseline once the operation's state and results are dropped).
//!
//! Everything runs inside one `#[test]`, so the sweeps are serial; the counters are
//! thread-local, so the harness's own threads never disturb them.

mod hardening_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, Layout32, Regs32, SyscallAction, syscall32};
use capexec::argdata::{ArgdataRef, Value};
use capexec::exec::{
    AddressSpace, MapRequest, Placement, Process, Protection, SyncMode, UserAccess, UserMemory,
    VirtualMemory, exec_copyin_data_fds, exec_sysspace_data_fds, kern_execve,
};
use capexec::fdtable::{
    CloseRange, Fd, FdRights, FdTable, INLINE_SLOTS, Rights, SharedFdTable, fdcopy_remapped,
    fdcopy_remapped_into,
};
use capexec_sim::{SimAddressSpace, minimal_cloudabi_elf};
use hardening_common::{HFile, HKind, Slot, XorShift, table_snapshot};

// ---------------------------------------------------------------------------------------
// The failing allocator.

struct Failing;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
    static FAIL_AT: Cell<u64> = const { Cell::new(u64::MAX) };
    static FAIL_REST: Cell<bool> = const { Cell::new(false) };
    static FAILED: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn should_fail() -> bool {
    ARMED
        .try_with(|armed| {
            if !armed.get() {
                return false;
            }
            let c = COUNT.with(|c| {
                c.set(c.get() + 1);
                c.get()
            });
            let at = FAIL_AT.with(Cell::get);
            let fail = c == at || (FAIL_REST.with(Cell::get) && c >= at);
            if fail {
                FAILED.with(|f| f.set(f.get() + 1));
            }
            fail
        })
        .unwrap_or(false)
}

fn live_add(d: i64) {
    let _ = LIVE.try_with(|l| l.set(l.get() + d));
}

unsafe impl GlobalAlloc for Failing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if should_fail() {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            live_add(layout.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if should_fail() {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            live_add(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        live_add(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if should_fail() {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            live_add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Failing = Failing;

fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// Arms the allocator: allocation `at` (1-based) fails, and every later one if `rest`.
fn arm(at: u64, rest: bool) {
    COUNT.with(|c| c.set(0));
    FAILED.with(|c| c.set(0));
    FAIL_AT.with(|c| c.set(at));
    FAIL_REST.with(|c| c.set(rest));
    ARMED.with(|a| a.set(true));
}

/// Disarms; returns (allocations attempted, allocations failed).
fn disarm() -> (u64, u64) {
    ARMED.with(|a| a.set(false));
    (COUNT.with(Cell::get), FAILED.with(Cell::get))
}

// ---------------------------------------------------------------------------------------
// The sweep.

struct Report {
    name: &'static str,
    points: u64,
    tolerated: u64,
}

/// Runs `op` once unarmed to count its allocations, then once per allocation point in
/// both modes (fail only the k-th; fail the k-th and all later ones). Every injected
/// failure must give an error in `errors`, leave `snap` unchanged, and leak nothing.
fn sweep<S, Snap, R>(
    name: &'static str,
    setup: impl Fn() -> S,
    snap: impl Fn(&S) -> Snap,
    op: impl Fn(&mut S) -> Result<R, Errno>,
    errors: &[Errno],
) -> Report
where
    Snap: PartialEq + std::fmt::Debug,
{
    let base = live();
    let points = {
        let mut s = setup();
        arm(u64::MAX, false);
        let r = op(&mut s);
        let (n, _) = disarm();
        assert!(r.is_ok(), "{name}: fails without injection: {:?}", r.err());
        drop(r);
        drop(s);
        n
    };
    assert_eq!(live(), base, "{name}: the successful run leaked");
    let mut tolerated = 0;
    for rest in [false, true] {
        for k in 1..=points {
            let base = live();
            {
                let mut s = setup();
                let before = snap(&s);
                arm(k, rest);
                let r = op(&mut s);
                let (_, failed) = disarm();
                match &r {
                    Err(e) => assert!(
                        errors.contains(e),
                        "{name}: allocation {k} (rest {rest}) failed with {e:?}"
                    ),
                    Ok(_) => {
                        assert!(failed > 0 || k > points);
                        tolerated += 1;
                    }
                }
                if r.is_err() {
                    let after = snap(&s);
                    assert_eq!(
                        after, before,
                        "{name}: allocation {k} (rest {rest}) failed but changed the state"
                    );
                }
                drop(r);
                drop(s);
            }
            assert_eq!(
                live(),
                base,
                "{name}: allocation {k} (rest {rest}) failed and leaked"
            );
        }
    }
    Report {
        name,
        points,
        tolerated,
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures.

fn pool() -> Vec<Arc<HFile>> {
    vec![
        HFile::new(
            HKind::Regular(minimal_cloudabi_elf(0x0804_8000, &[0x90; 16])),
            true,
        ),
        HFile::new(HKind::Stream, true),
        HFile::new(HKind::Stream, false),
        HFile::new(HKind::Directory, true),
    ]
}

fn exe_rights() -> FdRights {
    FdRights::new(Rights::FD_READ | Rights::PROC_EXEC, Rights::empty())
}

/// `n` descriptors from the pool (every seventh a hole), plus one at `high`.
fn table(pool: &[Arc<HFile>], n: usize, high: Option<usize>) -> FdTable<Arc<HFile>> {
    let mut t = FdTable::new();
    for i in 0..n {
        if i % 7 == 6 {
            continue;
        }
        let f = pool[i % pool.len()].clone();
        let r = if i % pool.len() == 0 {
            exe_rights()
        } else {
            FdRights::ALL
        };
        assert!(
            t.alloc(Fd::from_index(i).unwrap(), f, r, i % 3 == 0)
                .is_ok()
        );
    }
    if let Some(h) = high {
        let f = pool[1].clone();
        assert!(
            t.alloc(Fd::from_index(h).unwrap(), f, FdRights::ALL, true)
                .is_ok()
        );
    }
    t
}

type TableState = (Vec<Slot>, Vec<usize>, usize);

fn table_state(t: &FdTable<Arc<HFile>>, pool: &[Arc<HFile>]) -> TableState {
    (
        table_snapshot(t),
        pool.iter().map(Arc::strong_count).collect(),
        t.capacity(),
    )
}

struct TS {
    pool: Vec<Arc<HFile>>,
    t: FdTable<Arc<HFile>>,
}

fn ts(n: usize, high: Option<usize>) -> TS {
    let pool = pool();
    let t = table(&pool, n, high);
    TS { pool, t }
}

fn ts_state(s: &TS) -> TableState {
    table_state(&s.t, &s.pool)
}

/// An empty table with limit 777 to build into: fresh, or `used` (it held 100
/// descriptors with two rights sets, so it has heap slots, a class array and pool room).
fn emptied(used: bool) -> FdTable<Arc<HFile>> {
    let mut t = FdTable::with_limit(777);
    if used {
        let pool = pool();
        for i in 0..100 {
            let r = if i % 2 == 0 {
                exe_rights()
            } else {
                FdRights::ALL
            };
            assert!(t.open(pool[1].clone(), r).is_ok());
        }
        assert!(t.close_range(Fd::STDIN, Fd::MAX, CloseRange::Close).is_ok());
        assert!(t.is_empty() && t.capacity() >= 100);
    }
    t
}

/// A list of `n` open descriptors of a `ts(300, Some(5000))` table (passable ones).
fn passable_list(s: &TS, n: usize) -> Vec<i32> {
    let open: Vec<i32> =
        s.t.iter()
            .filter(|(_, e)| e.file().passable)
            .map(|(fd, _)| fd.raw())
            .collect();
    (0..n).map(|i| open[(i * 7) % open.len()]).collect()
}

// ---------------------------------------------------------------------------------------
// A user memory that never allocates after it is built: fixed regions, preallocated.

struct ArenaMem {
    regions: Vec<(u32, Vec<u8>, bool)>,
}

impl ArenaMem {
    fn new(regions: &[(u32, usize)]) -> ArenaMem {
        ArenaMem {
            regions: regions
                .iter()
                .map(|&(base, len)| (base, vec![0u8; len], true))
                .collect(),
        }
    }
    fn find(&self, addr: u32, len: usize) -> Option<(usize, usize)> {
        self.regions
            .iter()
            .enumerate()
            .find_map(|(i, (b, v, mapped))| {
                let off = addr.checked_sub(*b)? as usize;
                (*mapped && off.checked_add(len)? <= v.len()).then_some((i, off))
            })
    }
    fn image(&self) -> Vec<(u32, bool, u64)> {
        self.regions
            .iter()
            .map(|(b, v, m)| {
                let sum = v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
                    (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
                });
                (*b, *m, sum)
            })
            .collect()
    }
}

impl UserMemory for ArenaMem {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        let (i, off) = self.find(addr, buf.len()).ok_or(Errno::EFAULT)?;
        buf.copy_from_slice(&self.regions[i].1[off..off + buf.len()]);
        Ok(())
    }
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        let (i, off) = self.find(addr, data.len()).ok_or(Errno::EFAULT)?;
        self.regions[i].1[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }
    fn check_access(&self, addr: u32, len: usize, _: UserAccess) -> Result<(), Errno> {
        self.find(addr, len).map(|_| ()).ok_or(Errno::EFAULT)
    }
}

impl AddressSpace for ArenaMem {
    fn reset(&mut self) {
        for r in &mut self.regions {
            r.1.fill(0);
            r.2 = false;
        }
    }
    fn map_region(&mut self, addr: u32, len: u32, _: Protection) -> Result<(), Errno> {
        let r = self
            .regions
            .iter_mut()
            .find(|(b, v, _)| addr >= *b && (addr - *b) as usize + len as usize <= v.len())
            .ok_or(Errno::ENOMEM)?;
        r.2 = true;
        Ok(())
    }
    fn protect_region(&mut self, _: u32, _: u32, _: Protection) -> Result<(), Errno> {
        Ok(())
    }
}

const STACK: u32 = 0x7000_0000;
const DATA: u32 = 0x6000_0000;
const FDS: u32 = 0x5000_0000;
const STACK_TOP: u32 = 0x4000_0000;
const STACK_SIZE: u32 = 0x2_0000;
const VDSO: u32 = STACK_TOP;

struct AProc {
    pool: Vec<Arc<HFile>>,
    table: SharedFdTable<Arc<HFile>>,
    mem: ArenaMem,
    /// `Process::fd_table_exclusive`: an exec moves the descriptors it passes.
    exclusive: bool,
}

/// The kernel's hooks for the sweeps of the new calls: they answer without allocating
/// (a new file is a clone of a pool file).
impl capexec::abi::KernelCalls for AProc {
    fn provides(&self, _: capexec::abi::cloudabi32::Syscall) -> bool {
        true
    }
    fn file_open(
        &mut self,
        _: &Arc<HFile>,
        _: bool,
        _: &[u8],
        _: u16,
        _: &capexec::abi::wire::FdStat,
    ) -> Result<capexec::abi::NewFile<Arc<HFile>>, Errno> {
        Ok(capexec::abi::NewFile {
            file: self.pool[1].clone(),
            rights: FdRights::ALL,
        })
    }
    fn file_link(
        &mut self,
        _: &Arc<HFile>,
        _: bool,
        _: &[u8],
        _: &Arc<HFile>,
        _: &[u8],
    ) -> Result<(), Errno> {
        Ok(())
    }
    fn poll(
        &mut self,
        subs: &[capexec::abi::wire::Subscription],
        _: &mut [capexec::abi::wire::Event],
    ) -> Result<usize, Errno> {
        Ok(subs.len().min(3))
    }
    fn sock_send(
        &mut self,
        _: &Arc<HFile>,
        data: &[capexec::abi::wire::Iovec32],
        _: &[u32],
        _: u16,
    ) -> Result<u32, Errno> {
        Ok(data.iter().map(|v| v.buf_len).sum())
    }
}

impl Process for AProc {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = HFile;
    type Handle = Arc<HFile>;
    type Memory = ArenaMem;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<HFile>> {
        &self.table
    }
    fn memory(&self) -> &ArenaMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut ArenaMem {
        &mut self.mem
    }
    fn fd_table_exclusive(&self) -> bool {
        self.exclusive
    }
}

// ---------------------------------------------------------------------------------------
// A kernel VM whose every change builds the new region list in a fallibly allocated
// vector and swaps it in (ENOMEM leaves the old list): the memory calls' failures.

/// Sorted, disjoint `(start, end, protection)` regions, plus an arena for the stack.
struct VmMem {
    arena: ArenaMem,
    maps: Vec<(u32, u32, Protection)>,
}

impl VmMem {
    /// The regions with `start..end` cut out, then `add` inserted: all-or-nothing.
    fn rebuild(
        &mut self,
        start: u32,
        end: u32,
        add: &[(u32, u32, Protection)],
    ) -> Result<(), Errno> {
        let mut next: Vec<(u32, u32, Protection)> = Vec::new();
        next.try_reserve(self.maps.len() + 2 + add.len())
            .map_err(|_| Errno::ENOMEM)?;
        for &(s, e, p) in &self.maps {
            if e <= start || s >= end {
                next.push((s, e, p));
                continue;
            }
            if s < start {
                next.push((s, start, p));
            }
            if e > end {
                next.push((end, e, p));
            }
        }
        next.extend_from_slice(add);
        next.sort_unstable_by_key(|r| r.0);
        self.maps = next;
        Ok(())
    }

    fn free(&self, start: u32, end: u32) -> bool {
        self.maps.iter().all(|&(s, e, _)| e <= start || s >= end)
    }
}

impl UserMemory for VmMem {
    type Abi = Cloudabi32;
    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.arena.read_user(addr, buf)
    }
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        self.arena.write_user(addr, data)
    }
    fn check_access(&self, addr: u32, len: usize, a: UserAccess) -> Result<(), Errno> {
        self.arena.check_access(addr, len, a)
    }
}

/// Only for the activator's bound: these tests never exec.
impl AddressSpace for VmMem {
    fn reset(&mut self) {
        self.arena.reset();
    }
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.arena.map_region(addr, len, prot)
    }
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.arena.protect_region(addr, len, prot)
    }
}

impl VirtualMemory for VmMem {
    fn user_range(&self) -> core::ops::Range<u32> {
        0x1000..0xc000_0000
    }
    fn mmap(&mut self, req: &MapRequest<u32>) -> Result<u32, Errno> {
        let at = match req.placement {
            Placement::Fixed(a) => a,
            Placement::Near(h) if h >= 0x1000 && self.free(h, h + req.len) => h,
            _ => (0x1000_0000u32..0xb000_0000)
                .step_by(0x1000)
                .find(|&a| self.free(a, a + req.len))
                .ok_or(Errno::ENOMEM)?,
        };
        self.rebuild(at, at + req.len, &[(at, at + req.len, req.prot)])?;
        Ok(at)
    }
    fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Errno> {
        self.rebuild(addr, addr + len, &[])
    }
    fn mprotect(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let end = addr + len;
        let mut pieces = [(0, 0, prot); 4];
        let mut n = 0;
        for &(s, e, _) in &self.maps {
            if e > addr && s < end && n < pieces.len() {
                pieces[n] = (s.max(addr), e.min(end), prot);
                n += 1;
            }
        }
        self.rebuild(addr, end, &pieces[..n])
    }
    fn msync(&mut self, _: u32, _: u32, _: SyncMode) -> Result<(), Errno> {
        Ok(())
    }
}

struct VmProc {
    table: SharedFdTable<Arc<HFile>>,
    mem: VmMem,
}

impl capexec::abi::KernelCalls for VmProc {}

impl Process for VmProc {
    fn install_fd_table(&mut self, new: FdTable<Arc<HFile>>) -> FdTable<Arc<HFile>> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }
    type File = HFile;
    type Handle = Arc<HFile>;
    type Memory = VmMem;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn fd_table(&self) -> &SharedFdTable<Arc<HFile>> {
        &self.table
    }
    fn memory(&self) -> &VmMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut VmMem {
        &mut self.mem
    }
    fn virtual_memory(&mut self) -> Option<&mut dyn VirtualMemory<Abi = Cloudabi32>> {
        Some(&mut self.mem)
    }
}

const RW: Protection = Protection::READ.union(Protection::WRITE);

/// A process with three mappings (one of 16 pages at 0x2000_0000) and the call's words
/// at `STACK + 0x104`.
fn vm_proc(words: &[u32]) -> VmProc {
    let mut arena = ArenaMem::new(&[(STACK, 0x1000)]);
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    arena.write_user(STACK + 0x104, &bytes).unwrap();
    VmProc {
        table: SharedFdTable::new(FdTable::new()),
        mem: VmMem {
            arena,
            maps: vec![
                (0x1000_0000, 0x1000_4000, RW),
                (0x2000_0000, 0x2001_0000, RW),
                (0x3000_0000, 0x3000_1000, Protection::READ),
            ],
        },
    }
}

/// Makes memory call `nr` with the words `vm_proc` laid out.
fn mem_call(p: &mut VmProc, nr: u32) -> Result<u32, Errno> {
    let mut rng = XorShift(3);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    let mut regs = Regs32 {
        eax: nr,
        esp: STACK + 0x100,
        ..Regs32::default()
    };
    match syscall32(p, &mut act, &mut regs) {
        SyscallAction::Resume if regs.carry() => {
            Err(Errno::from_raw(regs.eax as u16).expect("an errno"))
        }
        SyscallAction::Resume => Ok(regs.eax),
        other => panic!("memory call {nr}: {other:?}"),
    }
}

/// A process with a 300-descriptor table, `data_len` bytes of data and `nfds` list
/// entries laid out for a `proc_exec(0, DATA, data_len, FDS, nfds)` frame.
fn exec_proc(data_len: usize, nfds: usize) -> AProc {
    let pool = pool();
    let t = table(&pool, 300, Some(5000));
    let s = TS { pool, t };
    let list = passable_list(&s, nfds);
    let TS { pool, t } = s;
    let mut mem = ArenaMem::new(&[
        (STACK, 0x1000),
        (DATA, data_len.max(1)),
        (FDS, (nfds * 4).max(4)),
        (0x0804_8000, 0x1000),
        (STACK_TOP - STACK_SIZE, STACK_SIZE as usize),
        (VDSO, 0x1000),
    ]);
    let data: Vec<u8> = (0..data_len).map(|i| i as u8).collect();
    mem.write_user(DATA, &data).ok();
    let words: Vec<u8> = list.iter().flat_map(|f| f.to_le_bytes()).collect();
    mem.write_user(FDS, &words).ok();
    let args: Vec<u8> = [0, DATA, data_len as u32, FDS, nfds as u32]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    mem.write_user(STACK + 0x104, &args).unwrap();
    AProc {
        pool,
        table: SharedFdTable::new(t),
        mem,
        exclusive: false,
    }
}

/// A process with a 300-descriptor table and `bytes` at `DATA` (and `fds` at `FDS`), for
/// a call `nr` whose argument words `args` are on its stack.
fn call_proc(args: &[u32], bytes: &[u8], fds: &[u8]) -> AProc {
    let pool = pool();
    let t = table(&pool, 300, None);
    let mut mem = ArenaMem::new(&[(STACK, 0x1000), (DATA, 0x1_0000), (FDS, 0x1000)]);
    mem.write_user(DATA, bytes).unwrap();
    mem.write_user(FDS, fds).unwrap();
    let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.write_user(STACK + 0x104, &words).unwrap();
    AProc {
        pool,
        table: SharedFdTable::new(t),
        mem,
        exclusive: false,
    }
}

/// Runs call `nr` (arguments staged by [`call_proc`]); its result registers or errno.
fn call_via_syscall(p: &mut AProc, nr: u32) -> Result<(u32, u32), Errno> {
    let mut rng = XorShift(7);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    let mut regs = Regs32 {
        eax: nr,
        esp: STACK + 0x100,
        ..Regs32::default()
    };
    match syscall32(p, &mut act, &mut regs) {
        SyscallAction::Resume if regs.carry() => {
            Err(Errno::from_raw(regs.eax as u16).expect("an errno"))
        }
        SyscallAction::Resume => Ok((regs.eax, regs.edx)),
        other => panic!("call {nr}: {other:?} {regs:?}"),
    }
}

fn le_words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Iovecs at `DATA`: `n` buffers of `len` bytes from `DATA + 0x1000`.
fn iovecs(n: u32, len: u32) -> Vec<u8> {
    le_words(
        &(0..n)
            .flat_map(|i| [DATA + 0x1000 + i * len, len])
            .collect::<Vec<u32>>(),
    )
}

/// Sweeps of the calls beyond `proc_exec` that allocate: iovec arrays past the stack
/// copy, transfer buffers, paths, `poll`'s arrays, `sock_send`'s descriptor list.
fn call_sweeps(reports: &mut Vec<Report>, nomem: &[Errno]) {
    // Stream descriptor 1 (pool[1]), directory 3 (pool[3]).
    type Case = (&'static str, u32, Vec<u32>, Vec<u8>, Vec<u8>);
    let mut subs = Vec::new();
    for i in 0..64u64 {
        let mut b = [0u8; 56];
        b[..8].copy_from_slice(&i.to_le_bytes());
        b[10] = 1; // clock
        b[24] = 1; // monotonic
        subs.extend_from_slice(&b);
    }
    let mut fdstat = [0u8; 24];
    fdstat[8] = 0x02; // FD_READ
    let mut path_bytes = vec![b'p'; 1000];
    path_bytes.extend_from_slice(&fdstat);
    let cases: Vec<Case> = vec![
        (
            "fd_read via syscall32 (16 iovecs)",
            10,
            vec![1, DATA, 16],
            iovecs(16, 80),
            vec![],
        ),
        (
            "fd_read via syscall32 (1 KiB iovec)",
            10,
            vec![1, DATA, 1],
            iovecs(1, 1024),
            vec![],
        ),
        (
            "fd_write via syscall32 (16 iovecs)",
            16,
            vec![1, DATA, 16],
            iovecs(16, 300),
            vec![],
        ),
        (
            "poll via syscall32 (64 subscriptions)",
            37,
            vec![DATA, DATA + 0x4000, 64],
            subs,
            vec![],
        ),
        (
            "sock_send via syscall32 (16 iovecs, 64 fds)",
            44,
            vec![1, FDS + 0x800, DATA + 0x8000],
            iovecs(16, 10),
            {
                let mut f = le_words(&[1; 64]);
                f.resize(0x800, 0);
                f.extend(le_words(&[DATA, 16, FDS, 64, 0]));
                f
            },
        ),
        (
            "file_open via syscall32 (1000-byte path)",
            21,
            vec![3, 1, DATA, 1000, 0, DATA + 1000],
            path_bytes,
            vec![],
        ),
        (
            "file_link via syscall32 (two paths)",
            20,
            vec![3, 0, DATA, 500, 3, DATA + 500, 500],
            vec![b'q'; 1000],
            vec![],
        ),
    ];
    for (name, nr, args, bytes, fds) in cases {
        reports.push(sweep(
            name,
            move || call_proc(&args, &bytes, &fds),
            proc_state,
            move |p| call_via_syscall(p, nr),
            nomem,
        ));
    }
}

type ProcState = (Vec<Slot>, Vec<usize>, Vec<(u32, bool, u64)>);

fn proc_state(p: &AProc) -> ProcState {
    (
        table_snapshot(&p.table.lock()),
        p.pool.iter().map(Arc::strong_count).collect(),
        p.mem.image(),
    )
}

fn exec_via_syscall(p: &mut AProc) -> Result<(), Errno> {
    let mut rng_exec = XorShift(7);
    let layout = Layout32 {
        stack_top: STACK_TOP,
        stack_size: STACK_SIZE,
        sysinfo_ehdr: VDSO,
        ..Layout32::default()
    };
    let mut act = Cloudabi32Activator::new(layout, &mut rng_exec);
    let mut regs = Regs32 {
        eax: 38,
        esp: STACK + 0x100,
        ..Regs32::default()
    };
    match syscall32(p, &mut act, &mut regs) {
        SyscallAction::Exec(_) => Ok(()),
        SyscallAction::Resume if regs.carry() => {
            Err(Errno::from_raw(regs.eax as u16).expect("an errno"))
        }
        other => panic!("proc_exec: {other:?} {regs:?}"),
    }
}

/// `exec_sysspace_data_fds` over `p`'s table, then `kern_execve` of descriptor 0.
fn exec_with_kernel_args(p: &mut AProc, data: &[u8], list: &[i32]) -> Result<(), Errno> {
    let mut rng_exec = XorShift(7);
    let layout = Layout32 {
        stack_top: STACK_TOP,
        stack_size: STACK_SIZE,
        sysinfo_ehdr: VDSO,
        ..Layout32::default()
    };
    let mut act = Cloudabi32Activator::new(layout, &mut rng_exec);
    let args = exec_sysspace_data_fds::<Cloudabi32, _, _>(&p.table, data, list)?;
    match kern_execve(p, &mut act, Fd::from_raw(0).unwrap(), args) {
        capexec::exec::ExecOutcome::Replaced(_) => Ok(()),
        capexec::exec::ExecOutcome::Failed(e) => Err(e),
        other => panic!("kern_execve: {other:?}"),
    }
}

fn deep_tree(depth: usize) -> Value<'static> {
    let mut v = Value::Fd(depth as i32);
    for i in 0..depth {
        v = if i % 3 == 0 {
            Value::Map(vec![(Value::Fd((i % 50) as i32), v)])
        } else {
            Value::Seq(vec![Value::from("x"), v, Value::Fd(-1)])
        };
    }
    v
}

fn wide_tree(n: usize) -> Value<'static> {
    let mut items = Vec::new();
    for i in 0..n {
        items.push(match i % 4 {
            0 => Value::Fd(i as i32),
            1 => Value::Map(vec![(Value::Fd((i / 2) as i32), Value::Int(i as i128))]),
            2 => Value::Binary(vec![i as u8; i % 40].into()),
            _ => Value::Seq(vec![Value::Fd(i as i32), Value::Null]),
        });
    }
    Value::Seq(items)
}

// ---------------------------------------------------------------------------------------

#[test]
fn every_allocation_point_fails_cleanly() {
    let nomem = &[Errno::ENOMEM][..];
    let mut reports = Vec::new();

    // Table growth.
    reports.push(sweep(
        "alloc at fd 1000 (growth)",
        || ts(10, None),
        ts_state,
        |s| {
            let f = s.pool[1].clone();
            s.t.alloc(Fd::from_raw(1000).unwrap(), f, FdRights::ALL, false)
                .map_err(|r| r.errno)
        },
        nomem,
    ));
    reports.push(sweep(
        // An empty table has its header's slots: the first allocation is past them.
        "alloc past the header's slots of an empty table",
        || ts(0, None),
        ts_state,
        |s| {
            let f = s.pool[1].clone();
            s.t.alloc(
                Fd::from_index(INLINE_SLOTS).unwrap(),
                f,
                FdRights::ALL,
                false,
            )
            .map_err(|r| r.errno)
        },
        nomem,
    ));
    // The rights pool: a second rights set in a table whose descriptors shared one (the
    // class array and the pool's heap are made), and sets past the pool's linear search
    // (its index is made).
    let uniform = || {
        let pool = pool();
        let mut t = FdTable::new();
        for i in 0..20 {
            assert!(t.open(pool[1 + i % 3].clone(), FdRights::ALL).is_ok());
        }
        TS { pool, t }
    };
    reports.push(sweep(
        "open with a second rights set",
        uniform,
        ts_state,
        |s| {
            s.t.open(s.pool[0].clone(), exe_rights())
                .map_err(|r| r.errno)
        },
        nomem,
    ));
    let narrowed = |i: usize| {
        FdRights::new(
            Rights::from_bits_truncate(Rights::all().bits() >> (i + 1)),
            Rights::empty(),
        )
    };
    reports.push(sweep(
        "narrow to a tenth rights set (the pool's index made)",
        || {
            let mut s = uniform();
            // Nine sets: the pool's heap (room for eight) is full.
            for i in 0..8 {
                s.t.narrow_rights(Fd::from_index(i).unwrap(), narrowed(i))
                    .unwrap();
            }
            s
        },
        ts_state,
        |s| s.t.narrow_rights(Fd::from_index(12).unwrap(), narrowed(12)),
        nomem,
    ));
    reports.push(sweep(
        "dup2 into fd 100000 (growth)",
        || ts(10, Some(5000)),
        ts_state,
        |s| {
            s.t.dup2(Fd::from_raw(1).unwrap(), Fd::from_raw(100_000).unwrap())
                .map(|(fd, c)| (fd, c.map(|c| c.into_file())))
        },
        nomem,
    ));
    reports.push(sweep(
        "dup_min from 70000 (growth)",
        || ts(10, None),
        ts_state,
        |s| {
            s.t.dup_min(Fd::from_raw(1).unwrap(), Fd::from_raw(70_000).unwrap())
        },
        nomem,
    ));
    reports.push(sweep(
        "close_range collecting 300",
        || ts(300, Some(5000)),
        ts_state,
        |s| {
            s.t.close_range(Fd::STDIN, Fd::MAX, CloseRange::Close)
                .map(|c| c.into_files())
        },
        nomem,
    ));
    reports.push(sweep(
        "close_on_exec collecting",
        || ts(300, Some(5000)),
        ts_state,
        |s| s.t.close_on_exec().map(|c| c.into_files()),
        nomem,
    ));

    // Fork copy.
    reports.push(sweep(
        "fork_copy (300 + fd 5000)",
        || ts(300, Some(5000)),
        ts_state,
        |s| s.t.fork_copy(),
        nomem,
    ));
    reports.push(sweep(
        "SharedFdTable::fork_copy",
        || {
            let s = ts(100, None);
            (s.pool, SharedFdTable::<_>::new(s.t))
        },
        |(p, t)| table_state(&t.lock(), p),
        |(_, t)| t.fork_copy(),
        nomem,
    ));
    // In place, into a fresh table and into an empty one that has storage of its own
    // (grown slots, a class array, pool room): a failure leaves it empty with its limit.
    for (name, used) in [
        ("fork_copy_into (300 + fd 5000), fresh", false),
        ("fork_copy_into (300 + fd 5000), used and emptied", true),
    ] {
        reports.push(sweep(
            name,
            move || (ts(300, Some(5000)), emptied(used)),
            |(s, new)| (ts_state(s), new.len(), new.limit()),
            |(s, new)| s.t.fork_copy_into(new),
            nomem,
        ));
    }

    // Remapped copy.
    for (name, n) in [
        ("fdcopy_remapped (3)", 3usize),
        ("fdcopy_remapped (1000)", 1000),
        ("fdcopy_remapped (5001)", 5001),
    ] {
        reports.push(sweep(
            name,
            move || {
                let s = ts(300, Some(5000));
                let list = passable_list(&s, n);
                (s, list)
            },
            |(s, _)| ts_state(s),
            |(s, list)| fdcopy_remapped(&s.t, list),
            nomem,
        ));
    }
    for (name, n, used) in [
        ("fdcopy_remapped_into (3), fresh", 3usize, false),
        ("fdcopy_remapped_into (1000), fresh", 1000, false),
        ("fdcopy_remapped_into (1000), used and emptied", 1000, true),
    ] {
        reports.push(sweep(
            name,
            move || {
                let s = ts(300, Some(5000));
                let list = passable_list(&s, n);
                (s, list, emptied(used))
            },
            |(s, _, new)| (ts_state(s), new.len(), new.limit()),
            |(s, list, new)| fdcopy_remapped_into(new, &s.t, list),
            nomem,
        ));
    }

    // exec_copyin_data_fds: large data and > 64 descriptors (the Vec path), and small.
    for (name, data_len, nfds) in [
        (
            "exec_copyin_data_fds (64 KiB, 200 fds)",
            65536usize,
            200usize,
        ),
        ("exec_copyin_data_fds (16 B, 10 fds)", 16, 10),
    ] {
        reports.push(sweep(
            name,
            move || {
                let s = ts(300, Some(5000));
                let list = passable_list(&s, nfds);
                let mut mem = SimAddressSpace::new();
                mem.map(DATA, data_len as u32);
                mem.map(FDS, (nfds * 4) as u32);
                let words: Vec<u8> = list.iter().flat_map(|f| f.to_le_bytes()).collect();
                mem.write_user(FDS, &words).unwrap();
                (s.pool, SharedFdTable::<_>::new(s.t), mem)
            },
            |(p, t, _)| table_state(&t.lock(), p),
            |(_, t, mem)| {
                exec_copyin_data_fds(t, mem, DATA, data_len as u32, FDS, nfds as u32)
                    .map(|a| a.data_len())
            },
            nomem,
        ));
    }

    // exec_sysspace_data_fds: the kernel-space entry, same sizes.
    for (name, data_len, nfds) in [
        (
            "exec_sysspace_data_fds (64 KiB, 200 fds)",
            65536usize,
            200usize,
        ),
        ("exec_sysspace_data_fds (16 B, 10 fds)", 16, 10),
    ] {
        reports.push(sweep(
            name,
            move || {
                let s = ts(300, Some(5000));
                let list = passable_list(&s, nfds);
                let data: Vec<u8> = (0..data_len).map(|i| i as u8).collect();
                (s.pool, SharedFdTable::<_>::new(s.t), data, list)
            },
            |(p, t, _, _)| table_state(&t.lock(), p),
            |(_, t, data, list)| {
                exec_sysspace_data_fds::<Cloudabi32, _, _>(t, data, list).map(|a| a.data_len())
            },
            nomem,
        ));
    }

    // kern_execve with arguments from exec_sysspace_data_fds (no user memory read).
    for (name, data_len, nfds) in [
        (
            "kern_execve with kernel arguments (8 KiB, 100 fds)",
            8192usize,
            100usize,
        ),
        ("kern_execve with kernel arguments (no data, 3 fds)", 0, 3),
    ] {
        reports.push(sweep(
            name,
            move || {
                let p = exec_proc(0, 0);
                let list: Vec<i32> = {
                    let t = p.table.lock();
                    let open: Vec<i32> = t
                        .iter()
                        .filter(|(_, e)| e.file().passable)
                        .map(|(fd, _)| fd.raw())
                        .collect();
                    (0..nfds).map(|i| open[(i * 7) % open.len()]).collect()
                };
                let data: Vec<u8> = (0..data_len).map(|i| i as u8).collect();
                (p, data, list)
            },
            |(p, _, _)| proc_state(p),
            |(p, data, list)| exec_with_kernel_args(p, data, list),
            nomem,
        ));
    }

    // proc_exec through the i386 entry, copying the descriptors and moving them
    // (`Process::fd_table_exclusive`).
    for (name, data_len, nfds, exclusive) in [
        (
            "proc_exec via syscall32 (8 KiB, 100 fds)",
            8192usize,
            100usize,
            false,
        ),
        ("proc_exec via syscall32 (no data, 3 fds)", 0, 3, false),
        (
            "proc_exec via syscall32, moving (8 KiB, 100 fds)",
            8192,
            100,
            true,
        ),
        (
            "proc_exec via syscall32, moving (no data, 3 fds)",
            0,
            3,
            true,
        ),
    ] {
        reports.push(sweep(
            name,
            move || AProc {
                exclusive,
                ..exec_proc(data_len, nfds)
            },
            proc_state,
            exec_via_syscall,
            nomem,
        ));
    }

    // The memory calls through the i386 entry, on a VM whose changes allocate.
    let anon = 0x5; // MAP_ANON | MAP_PRIVATE
    let fixed = 0x7; // ... | MAP_FIXED
    let calls: [(&'static str, u32, Vec<u32>); 5] = [
        (
            "mem_map via syscall32 (NULL hint, 2 MiB)",
            33,
            vec![0, 2 << 20, 6, anon, u32::MAX, 0, 0],
        ),
        (
            "mem_map via syscall32 (fixed, splits a mapping)",
            33,
            vec![0x2000_4000, 0x4000, 0, fixed, u32::MAX, 0, 0],
        ),
        (
            "mem_unmap via syscall32 (splits a mapping)",
            36,
            vec![0x2000_4000, 0x4000],
        ),
        (
            "mem_protect via syscall32 (splits a mapping)",
            34,
            vec![0x2000_4000, 0x4000, 4],
        ),
        (
            "mem_unmap via syscall32 (several mappings)",
            36,
            vec![0x1000_0000, 0x2000_0000],
        ),
    ];
    for (name, nr, words) in calls {
        reports.push(sweep(
            name,
            move || vm_proc(&words),
            |p: &VmProc| p.mem.maps.clone(),
            move |p: &mut VmProc| mem_call(p, nr),
            nomem,
        ));
    }

    call_sweeps(&mut reports, nomem);

    // argdata serialisation (and the other fallible tree walkers).
    // Serialisation sweeps use big trees (few allocation points each); the decoder and
    // clone allocate per container, so their sweeps (quadratic) use smaller trees.
    let deep = deep_tree(3000);
    let wide = wide_tree(4000);
    let small_deep = deep_tree(300);
    let small_wide = wide_tree(400);
    let [deep_bytes, wide_bytes, small_deep_bytes, small_wide_bytes] =
        [&deep, &wide, &small_deep, &small_wide].map(|t| t.to_bytes().unwrap());
    reports.push(sweep(
        "serialize_with_fds deep (3000)",
        || (),
        |_| (),
        |_| deep.serialize_with_fds(),
        nomem,
    ));
    reports.push(sweep(
        "serialize_with_fds wide (4000)",
        || (),
        |_| (),
        |_| wide.serialize_with_fds(),
        nomem,
    ));
    reports.push(sweep(
        "encoded re-serialise deep (3000)",
        || (),
        |_| (),
        |_| Value::encoded(ArgdataRef::for_program(&deep_bytes)).serialize_with_fds(),
        nomem,
    ));
    reports.push(sweep(
        "encoded re-serialise wide (4000)",
        || (),
        |_| (),
        |_| Value::encoded(ArgdataRef::for_program(&wide_bytes)).serialize_with_fds(),
        nomem,
    ));
    reports.push(sweep(
        "to_value deep (300)",
        || (),
        |_| (),
        |_| ArgdataRef::for_program(&small_deep_bytes).to_value(),
        nomem,
    ));
    reports.push(sweep(
        "to_value wide (400)",
        || (),
        |_| (),
        |_| ArgdataRef::for_program(&small_wide_bytes).to_value(),
        nomem,
    ));
    reports.push(sweep(
        "try_clone deep (300)",
        || (),
        |_| (),
        |_| small_deep.try_clone(),
        nomem,
    ));
    reports.push(sweep(
        "try_clone wide (400)",
        || (),
        |_| (),
        |_| small_wide.try_clone(),
        nomem,
    ));

    let mut total = 0;
    for r in &reports {
        eprintln!(
            "{:50} {:6} allocation points swept{}",
            r.name,
            r.points,
            if r.tolerated > 0 {
                format!(" ({} tolerated)", r.tolerated)
            } else {
                String::new()
            }
        );
        total += r.points;
        assert!(r.points > 0, "{}: made no allocation", r.name);
    }
    eprintln!("total: {total} allocation points, each failed alone and failed onwards");
}
