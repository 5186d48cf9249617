//! `proc_exec` end to end through the i386 shim, with its baseline in
//! the same criterion group.
//!
//! Two sizes: 4 KiB of argument data with 16 descriptors, and 256 KiB - 1 bytes (the
//! largest `ARG_MAX` allows) with 1024 descriptors; plus an empty exec (no data, no
//! descriptors but the executable's) that shows the fixed cost. Each iteration is one trapped
//! `proc_exec` (`capexec::abi::syscall32` with the reference `Cloudabi32Activator` and a
//! minimal static ELF, held in memory as a RAM disk's file): copy the data and the list
//! in, build the remapped table, parse the image, lay out the initial stack, reset and
//! rebuild the address space (the segment copied in, the stack copied out, the vDSO
//! mapped), install the new table and drop the old one. Exec replaces the caller's table and memory, so every
//! iteration gets a fresh process from an untimed setup (`iter_batched`, one input per
//! iteration); the process is returned and dropped outside the timed section.
//!
//! - `capexec_flat`: the process's memory is [`FlatMem`], a few flat `Vec`-backed windows
//!   of the 32-bit address space (caller stack, data, fd list; the new image and stack),
//!   so a copy is a bounds check and a `memcpy` and mapping is bookkeeping, as in a kernel
//!   whose page tables and demand-zero pages are not part of exec's own cost. The process
//!   is its table's only user, so the exec moves the descriptors it passes
//!   (`Process::fd_table_exclusive`), and it has an argument buffer ready
//!   (`Process::take_arg_buffer`, made by the untimed setup as the limit's buffer is).
//! - `capexec_sim`: the same exec on `SimAddressSpace` (the crate's test address space: a
//!   `BTreeMap` of boxed 4 KiB pages). Mapping the activator's 1 MiB stack allocates and
//!   zeroes 256 pages, which a kernel does not pay at exec time; the difference to
//!   `capexec_flat` is simulation overhead.
//! - `limit`: what the exec cannot avoid: copy the data in and out again (two `memcpy`s
//!   of the data size into buffers allocated beforehand), copy the descriptor list in, and
//!   clone the `Arc`s it names into a `Vec` sized for them.
//!
//! Run: `cargo bench --bench exec`. Results: `target/criterion/exec/<impl>/<param>`.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, Layout32, Regs32, SyscallAction, syscall32};
use capexec::exec::{AddressSpace, Process, Protection, UserAccess, UserMemory, copyout};
use capexec::fdtable::{FdRights, FdTable, SharedFdTable};
use capexec_sim::SimProcess;
use common::{
    CALLER_DATA, CALLER_FDS, CALLER_STACK, TFile, TestRng, exe_rights, exec_frame, fd,
    stream_rights, test_elf,
};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

// ---------------------------------------------------------------------------------------
// A flat user memory.
// ---------------------------------------------------------------------------------------

/// One window of the 32-bit address space backed by a flat buffer.
struct Window {
    base: u32,
    bytes: Vec<u8>,
    mapped: bool,
    writable: bool,
    /// Contents mapped shared ([`AddressSpace::map_shared`]: the vDSO), read instead of
    /// `bytes` (zeros past their end) until a store copies them into `bytes`.
    shared: Option<&'static [u8]>,
}

impl Window {
    /// The window's own bytes for a store: shared contents are copied in first.
    fn bytes_mut(&mut self) -> &mut [u8] {
        if let Some(src) = self.shared.take() {
            self.bytes[..src.len()].copy_from_slice(src);
            self.bytes[src.len()..].fill(0);
        }
        &mut self.bytes
    }
}

/// A user address space made of a few flat windows. `map_region` marks the window that
/// holds the range mapped and `reset` unmaps every window: bookkeeping only, as for a
/// kernel whose page tables and demand-zero pages are not exec's own cost. An access
/// outside a mapped window is `EFAULT`; a range outside every window cannot be mapped
/// (`EFAULT`, which would make the benchmark fail loudly).
///
/// The windows' buffers are recycled through [`POOL`] when a process is dropped, so that
/// the untimed setup does not zero 1.3 MB per iteration: that would evict the caller's
/// table and files from the cache before every timed exec, while the baseline runs warm.
/// Stale bytes in the new image's windows are the previous iteration's, identical.
struct FlatMem {
    windows: Vec<Window>,
}

thread_local! {
    static POOL: RefCell<Vec<Vec<Window>>> = const { RefCell::new(Vec::new()) };
}

impl Drop for FlatMem {
    fn drop(&mut self) {
        let windows = std::mem::take(&mut self.windows);
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < 4 {
                p.push(windows);
            }
        });
    }
}

impl FlatMem {
    /// Windows at `layout` (base, length, mapped), recycled from [`POOL`] when possible.
    fn with_windows(layout: &[(u32, u32, bool)]) -> FlatMem {
        let recycled = POOL.with(|p| p.borrow_mut().pop());
        let same = |ws: &Vec<Window>| {
            ws.len() == layout.len()
                && ws
                    .iter()
                    .zip(layout)
                    .all(|(w, &(base, len, _))| w.base == base && w.bytes.len() == len as usize)
        };
        let windows = match recycled {
            Some(mut ws) if same(&ws) => {
                for (w, &(_, _, mapped)) in ws.iter_mut().zip(layout) {
                    w.mapped = mapped;
                    w.writable = true;
                    w.shared = None;
                }
                ws
            }
            _ => layout
                .iter()
                .map(|&(base, len, mapped)| Window {
                    base,
                    bytes: vec![0; len as usize],
                    mapped,
                    writable: true,
                    shared: None,
                })
                .collect(),
        };
        FlatMem { windows }
    }

    #[inline]
    fn find(&self, addr: u32, len: usize) -> Option<(usize, usize)> {
        let end = u64::from(addr) + len as u64;
        self.windows.iter().enumerate().find_map(|(i, w)| {
            let wend = u64::from(w.base) + w.bytes.len() as u64;
            (addr >= w.base && end <= wend).then(|| (i, (addr - w.base) as usize))
        })
    }
}

impl UserMemory for FlatMem {
    type Abi = Cloudabi32;

    #[inline]
    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        match self.find(addr, buf.len()) {
            Some((i, off)) if self.windows[i].mapped => {
                let w = &self.windows[i];
                match w.shared {
                    None => buf.copy_from_slice(&w.bytes[off..off + buf.len()]),
                    Some(src) => {
                        let have = src.len().saturating_sub(off).min(buf.len());
                        buf[..have].copy_from_slice(&src[off..off + have]);
                        buf[have..].fill(0);
                    }
                }
                Ok(())
            }
            _ => Err(Errno::EFAULT),
        }
    }

    /// The argument data copied once, straight from the window (no zero-fill first).
    #[inline]
    fn read_user_append(&self, addr: u32, len: usize, out: &mut Vec<u8>) -> Result<(), Errno> {
        if out.capacity() - out.len() < len {
            return Err(Errno::ENOMEM);
        }
        match self.find(addr, len) {
            Some((i, off)) if self.windows[i].mapped && self.windows[i].shared.is_none() => {
                out.extend_from_slice(&self.windows[i].bytes[off..off + len]);
                Ok(())
            }
            Some((i, _)) if self.windows[i].mapped => {
                let start = out.len();
                out.resize(start + len, 0);
                self.read_user(addr, &mut out[start..])
            }
            _ => Err(Errno::EFAULT),
        }
    }

    #[inline]
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        match self.find(addr, data.len()) {
            Some((i, off)) if self.windows[i].mapped && self.windows[i].writable => {
                self.windows[i].bytes_mut()[off..off + data.len()].copy_from_slice(data);
                Ok(())
            }
            _ => Err(Errno::EFAULT),
        }
    }

    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        match self.find(addr, len) {
            Some((i, _)) if self.windows[i].mapped => (access == UserAccess::Read
                || self.windows[i].writable)
                .then_some(())
                .ok_or(Errno::EFAULT),
            _ => Err(Errno::EFAULT),
        }
    }
}

impl AddressSpace for FlatMem {
    fn reset(&mut self) {
        for w in &mut self.windows {
            w.mapped = false;
            w.shared = None;
        }
    }

    fn map_region(&mut self, addr: u32, len: u32, _prot: Protection) -> Result<(), Errno> {
        let (i, _) = self.find(addr, len as usize).ok_or(Errno::EFAULT)?;
        self.windows[i].mapped = true;
        self.windows[i].writable = true;
        Ok(())
    }

    /// Maps the vDSO as a kernel does: the window refers to the shared bytes (no copy);
    /// a store after a `mem_protect` making it writable copies them first.
    fn map_shared(
        &mut self,
        addr: u32,
        contents: &'static [u8],
        prot: Protection,
    ) -> Result<(), Errno> {
        let (i, _) = self.find(addr, contents.len()).ok_or(Errno::EFAULT)?;
        let w = &mut self.windows[i];
        if w.base != addr {
            return Err(Errno::EFAULT);
        }
        w.mapped = true;
        w.writable = prot.contains(Protection::WRITE);
        w.shared = Some(contents);
        Ok(())
    }

    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let (i, _) = self.find(addr, len as usize).ok_or(Errno::EFAULT)?;
        self.windows[i].writable = prot.contains(Protection::WRITE);
        Ok(())
    }
}

/// A process whose memory is a [`FlatMem`], with an argument buffer made ready by the
/// untimed setup (as the limit's kernel buffer is, and as FreeBSD's `exec_map` keeps
/// buffers ready).
struct FlatProcess {
    table: SharedFdTable<Arc<TFile>>,
    mem: FlatMem,
    arg_buffer: Vec<u8>,
}

impl capexec::abi::KernelCalls for FlatProcess {}

impl Process for FlatProcess {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    fn install_fd_table_in_place(&mut self, new: &mut capexec::fdtable::FdTable<Self::Handle>) {
        capexec::fdtable::fdinstall_remapped_in_place(self.fd_table(), new);
    }

    // No other process shares this table: exec moves the descriptors it passes.
    fn fd_table_exclusive(&self) -> bool {
        true
    }

    fn take_arg_buffer(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.arg_buffer)
    }

    fn put_arg_buffer(&mut self, buf: Vec<u8>) {
        self.arg_buffer = buf;
    }

    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = FlatMem;
    type Lock = capexec::fdtable::DefaultRawMutex;

    fn fd_table(&self) -> &SharedFdTable<Arc<TFile>> {
        &self.table
    }
    fn memory(&self) -> &FlatMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut FlatMem {
        &mut self.mem
    }
}

// ---------------------------------------------------------------------------------------
// The caller.
// ---------------------------------------------------------------------------------------

/// What every caller of one size shares: its open files (descriptors `0..n` are streams,
/// descriptor `n` the executable), the argument data and the descriptor list.
struct Caller {
    files: Vec<(Arc<TFile>, FdRights)>,
    exe: u32,
    data: Vec<u8>,
    fds: Vec<u32>,
}

impl Caller {
    fn new(data_len: usize, nfds: usize) -> Caller {
        let mut files: Vec<(Arc<TFile>, FdRights)> = (0..nfds)
            .map(|_| (TFile::stream("s"), stream_rights()))
            .collect();
        // The executable is a RAM disk's file (`ImageFile::bytes`), as in the reference
        // kernel: parsed in place, its segment copied straight into the new image.
        files.push((TFile::in_memory("exe", test_elf()), exe_rights()));
        // Pseudo-random bytes (the kernel copies argdata without parsing it).
        let mut data = vec![0u8; data_len];
        capexec::abi::Entropy::fill(&mut TestRng(0x1234_5678), &mut data).unwrap();
        // A reversed list: new descriptor i is the caller's n - 1 - i.
        let fds = (0..nfds as u32).rev().collect();
        Caller {
            files,
            exe: nfds as u32,
            data,
            fds,
        }
    }

    fn table(&self) -> FdTable<Arc<TFile>> {
        let mut t = FdTable::new();
        for (i, (f, r)) in self.files.iter().enumerate() {
            let got = t.alloc(fd(i as i32), f.clone(), *r, false).expect("alloc");
            assert_eq!(got, fd(i as i32));
        }
        t
    }

    /// A `SimAddressSpace` process (the tests' layout), with its trapped frame.
    fn sim_process(&self) -> (SimProcess<TFile>, Regs32) {
        let mut p = SimProcess::new(self.table());
        p.mem.map(CALLER_STACK, 0x1000);
        p.mem.map(CALLER_DATA, 0x41000);
        p.mem.map(CALLER_FDS, 0x10000);
        let regs = exec_frame(&mut p, self.exe, &self.data, &self.fds);
        (p, regs)
    }

    /// A [`FlatMem`] process with the same layout, with its trapped frame.
    fn flat_process(&self) -> (FlatProcess, Regs32) {
        let layout = Layout32::default();
        let mut mem = FlatMem::with_windows(&[
            (CALLER_STACK, 0x1000, true),
            (CALLER_DATA, 0x41000, true),
            (CALLER_FDS, 0x10000, true),
            // The new image (loaded at 0x0804_8000, one page) and its stack.
            (0x0804_8000, 0x1000, false),
            (
                layout.stack_top - layout.stack_size,
                layout.stack_size,
                false,
            ),
            // The vDSO page the activator maps into every new image.
            (layout.sysinfo_ehdr, 0x1000, false),
        ]);
        copyout(&mut mem, CALLER_DATA, &self.data).expect("data");
        let list: Vec<u8> = self.fds.iter().flat_map(|f| f.to_le_bytes()).collect();
        copyout(&mut mem, CALLER_FDS, &list).expect("fds");
        let esp = CALLER_STACK + 0x100;
        let args = [
            self.exe,
            CALLER_DATA,
            self.data.len() as u32,
            CALLER_FDS,
            self.fds.len() as u32,
        ];
        let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
        copyout(&mut mem, esp + 4, &words).expect("args");
        let regs = Regs32 {
            eax: 38, // proc_exec
            esp,
            eip: 0x1234,
            ..Regs32::default()
        };
        (
            FlatProcess {
                table: SharedFdTable::new(self.table()),
                mem,
                arg_buffer: Vec::with_capacity(self.data.len() + 1),
            },
            regs,
        )
    }
}

/// One trapped system call with the reference activator (as `tests/common::run`, generic
/// over the process).
#[inline]
fn trap<P>(p: &mut P, regs: &mut Regs32) -> SyscallAction
where
    P: Process<File = TFile> + capexec::abi::KernelCalls,
    P::Memory: AddressSpace + UserMemory<Abi = Cloudabi32>,
{
    let mut rng_exec = WordRng(0x9e37_79b9_7f4a_7c15);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng_exec);
    syscall32(p, &mut act, regs)
}

/// The activator's entropy source: xorshift64, eight bytes per step. The kernel's
/// generator is not exec's cost; the tests' `TestRng` makes one step per byte, which was
/// a quarter of the instructions of an empty exec.
struct WordRng(u64);

impl capexec::abi::Entropy for WordRng {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        let mut next = || {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0.to_le_bytes()
        };
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&next());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let word = next();
            tail.copy_from_slice(&word[..tail.len()]);
        }
        Ok(())
    }
}

fn expect_exec(action: SyscallAction, regs: &Regs32) {
    assert!(
        matches!(action, SyscallAction::Exec(_)),
        "exec failed: {action:?} {regs:?}"
    );
}

/// A buffer starting on a 4096-byte boundary. The limit's copies run between such
/// buffers because on this machine (AMD EPYC, glibc's `rep movsb` path for copies of
/// 2 KiB and more) a `memcpy` whose destination lies a few bytes past its source modulo
/// 4096 is ~25x slower (4 KiB: ~2.7 µs instead of ~0.1 µs), and `malloc` places equal
/// sized buffers at just such distances. Page-aligned buffers give the machine's real
/// copy speed.
struct PageAligned {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl PageAligned {
    fn new(len: usize) -> PageAligned {
        let buf = vec![0u8; len + 4096];
        let start = buf.as_ptr().align_offset(4096);
        PageAligned { buf, start, len }
    }
}

impl AsRef<[u8]> for PageAligned {
    fn as_ref(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl AsMut<[u8]> for PageAligned {
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

// ---------------------------------------------------------------------------------------
// 7. exec end to end.
// ---------------------------------------------------------------------------------------

fn exec(c: &mut Criterion) {
    let mut g = c.benchmark_group("exec");
    // The empty exec (no data, no descriptors) shows the fixed cost; the big case split
    // in its data and its descriptors (flat and limit only) shows what each costs.
    for (data_len, nfds, sim) in [
        (0usize, 0usize, true),
        (4096, 16, true),
        ((256 << 10) - 1, 1024, true),
        ((256 << 10) - 1, 0, false),
        (0, 1024, false),
    ] {
        let caller = Caller::new(data_len, nfds);
        let param = format!("{data_len}B_{nfds}fds");

        // Check once that both processes really exec and end with `nfds` descriptors.
        let (mut p, mut regs) = caller.flat_process();
        expect_exec(trap(&mut p, &mut regs), &regs);
        assert_eq!(p.table.lock().len(), nfds);
        let (mut p, mut regs) = caller.sim_process();
        expect_exec(trap(&mut p, &mut regs), &regs);
        assert_eq!(p.table.lock().len(), nfds);

        g.bench_function(BenchmarkId::new("capexec_flat", &param), |b| {
            b.iter_batched(
                || caller.flat_process(),
                |(mut p, mut regs)| {
                    let action = trap(&mut p, &mut regs);
                    black_box(&action);
                    (p, regs)
                },
                BatchSize::PerIteration,
            )
        });
        if sim {
            g.bench_function(BenchmarkId::new("capexec_sim", &param), |b| {
                b.iter_batched(
                    || caller.sim_process(),
                    |(mut p, mut regs)| {
                        let action = trap(&mut p, &mut regs);
                        black_box(&action);
                        (p, regs)
                    },
                    BatchSize::PerIteration,
                )
            });
        }

        // The limit: the caller's files as a bare vector, user memory as flat buffers.
        let vec: Vec<Option<Arc<TFile>>> =
            caller.files.iter().map(|(f, _)| Some(f.clone())).collect();
        let mut user_data = PageAligned::new(data_len);
        user_data.as_mut().copy_from_slice(&caller.data);
        let mut user_fds = PageAligned::new(caller.fds.len() * 4);
        for (w, f) in user_fds.as_mut().chunks_exact_mut(4).zip(&caller.fds) {
            w.copy_from_slice(&f.to_le_bytes());
        }
        let mut kernel_data = PageAligned::new(data_len);
        let mut kernel_fds = PageAligned::new(caller.fds.len() * 4);
        let mut user_stack = PageAligned::new(data_len);
        let (user_data, user_fds) = (user_data.as_ref(), user_fds.as_ref());
        let (kernel_data, kernel_fds, user_stack) = (
            kernel_data.as_mut(),
            kernel_fds.as_mut(),
            user_stack.as_mut(),
        );
        g.bench_function(BenchmarkId::new("limit", &param), |b| {
            // Timed like the exec: one iteration per measurement, the result dropped
            // outside the timed section.
            b.iter_batched(
                || (),
                |()| {
                    kernel_data.copy_from_slice(black_box(user_data));
                    kernel_fds.copy_from_slice(black_box(user_fds));
                    let mut out = Vec::with_capacity(kernel_fds.len() / 4);
                    for w in kernel_fds.chunks_exact(4) {
                        let raw = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                        if let Some(Some(f)) = vec.get(raw as usize) {
                            out.push(f.clone());
                        }
                    }
                    user_stack.copy_from_slice(kernel_data);
                    black_box(&user_stack);
                    out
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config_long();
    targets = exec
}
criterion_main!(benches);
