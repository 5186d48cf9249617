//! A process, and running it: capexec's `Process` over this kernel's page tables and
//! descriptor table, the image activator that gives every exec a fresh address space,
//! and the loop that serves a program's traps until it ends.

use alloc::sync::Arc;
use alloc::vec::Vec;

use capexec::Errno;
use capexec::abi::{
    Cloudabi32, Cloudabi32Activator, EFLAGS_CF, Entropy, EntryState32, Layout32, PreparedImage32,
    Regs32, SyscallAction, syscall32,
};
use capexec::exec::{
    ExecOutcome, ImageActivator, ImageArgs, Process, VirtualMemory, exec_sysspace_data_fds,
    kern_execve, proc_exec,
};
use capexec::fdtable::{
    DefaultRawMutex, Fd, FdTable, SharedFdTable, fdinstall_remapped, fdinstall_remapped_in_place,
};

use crate::cpu;
use crate::gdt::{self, USER_CODE, USER_DATA, USER_TLS};
use crate::paging::UserSpace;
use crate::timer::{self, HZ, SPURIOUS_VECTOR, TIMER_VECTOR};
use crate::trap::{FxArea, SYSCALL_VECTOR, TrapFrame, enter_user, exception_name};
use crate::vnode::Vnode;

/// The page fault exception vector (its faulting address is in CR2).
pub const PAGE_FAULT: u32 = 14;

/// `eflags` of a program: the always-one bit and `IF` (the timer interrupts it); `IOPL`
/// 0, so no port is open to it.
const USER_EFLAGS: u32 = 0x202;

/// How long a program may run: a program still running after this many timer ticks
/// (2 s at 100 Hz; the programs here need milliseconds) is taken back.
pub const TICK_LIMIT: u32 = 2 * HZ;

/// Where images and their stacks go: capexec's default i386 layout (stack below
/// 0xbfc00000, the vDSO at 0xbfe00000, user space below 3 GiB, where this kernel's half
/// starts).
fn layout() -> Layout32 {
    Layout32::default()
}

/// A process: its descriptor table, its address space and its saved registers.
pub struct KernelProcess {
    table: SharedFdTable<Arc<Vnode>>,
    space: UserSpace,
    frame: TrapFrame,
    fx: FxArea,
    /// The `%gs` base (the ABI's TLS pointer).
    tls: u32,
    /// The argument buffer of this process's last exec, kept for its next one.
    arg_buffer: Vec<u8>,
}

impl KernelProcess {
    /// A process holding `table`, with an empty address space: a launcher, until its
    /// first exec.
    pub fn new(table: FdTable<Arc<Vnode>>) -> Result<KernelProcess, Errno> {
        Ok(KernelProcess {
            table: SharedFdTable::new(table),
            space: UserSpace::new()?,
            frame: TrapFrame::default(),
            fx: FxArea::initial(),
            tls: 0,
            arg_buffer: Vec::new(),
        })
    }

    /// Points the registers at a new image's entry: ring-3 selectors, `eip`, `esp`, the
    /// `%gs` base, everything else zero.
    fn start_image(&mut self, entry: EntryState32) {
        let data = u32::from(USER_DATA);
        self.frame = TrapFrame {
            gs: u32::from(USER_TLS),
            fs: data,
            es: data,
            ds: data,
            eip: entry.eip,
            cs: u32::from(USER_CODE),
            eflags: USER_EFLAGS,
            esp: entry.esp,
            ss: data,
            ..TrapFrame::default()
        };
        self.fx = FxArea::initial();
        self.tls = entry.gs_base;
    }
}

/// The calls whose meaning is a kernel's (clocks, file systems, sockets, threads): none
/// in this kernel, so capexec answers them `ENOSYS`.
impl capexec::abi::KernelCalls for KernelProcess {}

impl Process for KernelProcess {
    type File = Vnode;
    type Handle = Arc<Vnode>;
    type Memory = UserSpace;
    type Lock = DefaultRawMutex;

    fn fd_table(&self) -> &SharedFdTable<Arc<Vnode>> {
        &self.table
    }

    fn memory(&self) -> &UserSpace {
        &self.space
    }

    fn memory_mut(&mut self) -> &mut UserSpace {
        &mut self.space
    }

    /// `mem_map` and friends change this process's page tables.
    fn virtual_memory(&mut self) -> Option<&mut dyn VirtualMemory<Abi = Cloudabi32>> {
        Some(&mut self.space)
    }

    /// One thread per process and no table shared between processes: swap in place.
    fn install_fd_table(&mut self, new: FdTable<Arc<Vnode>>) -> FdTable<Arc<Vnode>> {
        fdinstall_remapped(&self.table, new)
    }

    // Only this process's threads share the table: swapped in place, neither moved.
    fn install_fd_table_in_place(&mut self, new: &mut FdTable<Arc<Vnode>>) {
        fdinstall_remapped_in_place(&self.table, new);
    }

    // No other process shares this table: exec moves the descriptors it passes.
    fn fd_table_exclusive(&self) -> bool {
        true
    }

    // Each exec reuses the buffer of the one before (no allocation when it is large
    // enough).
    fn take_arg_buffer(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.arg_buffer)
    }

    fn put_arg_buffer(&mut self, buf: Vec<u8>) {
        self.arg_buffer = buf;
    }
}

/// The kernel's randomness for canaries, process ids and `random_get`: a xorshift
/// generator seeded from the time-stamp counter. Good enough for a demonstration
/// kernel; a real one feeds an entropy pool (RDRAND, interrupt timings) instead.
pub struct KernelRng(u64);

impl KernelRng {
    /// Seeded from the cycle counter.
    pub fn seeded() -> KernelRng {
        KernelRng(cpu::rdtsc() | 1)
    }
}

impl Entropy for KernelRng {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let word = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

/// capexec's ELF activator, building each new image in a fresh address space.
///
/// `prepare` (before the point of no return, where failing leaves the caller as it was)
/// lets capexec check the image and read it, then creates the new page directory and
/// sets aside every frame the image and its stack will need. `activate` (after it)
/// swaps the new space in and frees the old one, page directory and frames, then lets
/// capexec map and copy: nothing is allocated past the point of no return.
pub struct ExecActivator<'a> {
    inner: Cloudabi32Activator<'a>,
}

impl<'a> ExecActivator<'a> {
    /// An activator drawing its randomness from `rng`.
    pub fn new(rng: &'a mut dyn Entropy) -> ExecActivator<'a> {
        ExecActivator {
            inner: Cloudabi32Activator::new(layout(), rng),
        }
    }
}

impl Entropy for ExecActivator<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        self.inner.fill(buf)
    }
}

/// Frames to map `len` bytes at `addr`: its pages plus its page tables.
fn frames_for(addr: u32, len: u32) -> usize {
    if len == 0 {
        return 0;
    }
    let end = u64::from(addr) + u64::from(len);
    let pages = end.div_ceil(4096) - u64::from(addr) / 4096;
    let tables = (end - 1) / (4 << 20) - u64::from(addr) / (4 << 20) + 1;
    (pages + tables) as usize
}

impl ImageActivator<KernelProcess> for ExecActivator<'_> {
    type PreparedImage = (PreparedImage32, UserSpace);
    type Entry = EntryState32;

    fn prepare(
        &mut self,
        process: &KernelProcess,
        executable: &Arc<Vnode>,
        args: &ImageArgs<Arc<Vnode>>,
    ) -> Result<Self::PreparedImage, Errno> {
        let prepared = self.inner.prepare(process, executable, args)?;
        let needed: usize = self
            .inner
            .mapped_regions(&prepared)
            .iter()
            .map(|&(addr, len)| frames_for(addr, len))
            .sum();
        let mut space = UserSpace::new()?;
        space.reserve(needed)?;
        Ok((prepared, space))
    }

    fn activate(
        &mut self,
        process: &mut KernelProcess,
        (prepared, space): Self::PreparedImage,
        executable: &Arc<Vnode>,
        args: &ImageArgs<Arc<Vnode>>,
    ) -> Result<EntryState32, Errno> {
        // The old image is gone for good: its page directory, page tables and frames
        // go back to the frame allocator here.
        drop(core::mem::replace(&mut process.space, space));
        let entry = self.inner.activate(process, prepared, executable, args);
        process.space.release_reserve();
        entry
    }
}

/// How a program's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It called `proc_exit(status)`.
    Exited(u32),
    /// A CPU exception in the program (vector, `eip`, faulting address for a page
    /// fault): the program was killed, the kernel runs on.
    Faulted { vector: u32, eip: u32, address: u32 },
    /// It ran past its time ([`TICK_LIMIT`]) and was taken back.
    TimedOut,
    /// Its `proc_exec` failed after the point of no return.
    Killed(Errno),
    /// The launcher's `proc_exec` failed before the point of no return: no program ran.
    NotStarted(Errno),
    /// It raised a signal whose default action ends the process (`proc_raise`).
    Signaled(capexec::abi::cloudabi32::Signal),
}

/// Starts a program as a launcher would: a process holding `table` (and nothing mapped)
/// execs `exe` with `argdata` and the descriptor list `fds`, straight from kernel memory
/// through capexec's kernel-space entry (`exec_sysspace_data_fds`, then `kern_execve`:
/// how FreeBSD starts `init`), with the same checks as a program's `proc_exec`. The new
/// program then runs until it ends.
///
/// `argdata_at`, when set, makes the launcher exec through the user-space entry
/// (`proc_exec`) instead, naming that address for the argument data: a bad pointer, to
/// show the exec refuse it.
pub fn launch(
    table: FdTable<Arc<Vnode>>,
    exe: Fd,
    argdata: &[u8],
    fds: &[i32],
    argdata_at: Option<u32>,
) -> Ending {
    let mut rng = KernelRng::seeded();
    let mut activator = ExecActivator::new(&mut rng);
    let mut process = match KernelProcess::new(table) {
        Ok(p) => p,
        Err(e) => return Ending::NotStarted(e),
    };
    let outcome = match argdata_at {
        None => match exec_sysspace_data_fds::<Cloudabi32, _, _>(&process.table, argdata, fds) {
            Ok(args) => kern_execve(&mut process, &mut activator, exe, args),
            Err(e) => ExecOutcome::Failed(e),
        },
        Some(at) => {
            let len = u32::try_from(argdata.len()).unwrap_or(u32::MAX);
            proc_exec(
                &mut process,
                &mut activator,
                exe.raw() as u32,
                at,
                len,
                0,
                0,
            )
        }
    };
    match outcome {
        ExecOutcome::Replaced(entry) => process.start_image(entry),
        ExecOutcome::Killed(e) => return Ending::Killed(e),
        ExecOutcome::Failed(e) => return Ending::NotStarted(e),
        // One thread per process: nobody else single-threads it, so this never happens;
        // a restart would find the same arguments, so it is reported as a busy exec.
        ExecOutcome::Restart => return Ending::NotStarted(Errno::EAGAIN),
    }
    run(&mut process, &mut activator)
}

/// Runs `process` until it ends, serving each `int $0x80` with capexec's `syscall32`.
fn run(process: &mut KernelProcess, activator: &mut ExecActivator<'_>) -> Ending {
    let mut ticks = 0;
    loop {
        // SAFETY: every process page directory maps the kernel's half as the boot one.
        unsafe { cpu::load_cr3(process.space.page_directory()) };
        gdt::set_user_tls(process.tls);
        enter_user(&mut process.frame, &mut process.fx);

        let f = &process.frame;
        if f.vector == TIMER_VECTOR {
            timer::end_of_interrupt();
            ticks += 1;
            if ticks > TICK_LIMIT {
                return Ending::TimedOut;
            }
            continue;
        }
        if f.vector == SPURIOUS_VECTOR {
            continue;
        }
        if f.vector != SYSCALL_VECTOR {
            let address = if f.vector == PAGE_FAULT {
                cpu::cr2()
            } else {
                0
            };
            return Ending::Faulted {
                vector: f.vector,
                eip: f.eip,
                address,
            };
        }
        let mut regs = Regs32 {
            eax: f.eax,
            ebx: f.ebx,
            ecx: f.ecx,
            edx: f.edx,
            esi: f.esi,
            edi: f.edi,
            ebp: f.ebp,
            esp: f.esp,
            eip: f.eip,
            eflags: f.eflags,
            gs_base: process.tls,
        };
        match syscall32(process, activator, &mut regs) {
            // One thread per process: a yield or a stop-and-continue resumes it at once.
            SyscallAction::Resume | SyscallAction::Yield | SyscallAction::Stop(_) => {
                let f = &mut process.frame;
                f.eax = regs.eax;
                f.edx = regs.edx;
                // Only the carry flag is the system call's to change.
                f.eflags = (f.eflags & !EFLAGS_CF) | (regs.eflags & EFLAGS_CF);
            }
            SyscallAction::Exec(entry) => process.start_image(entry),
            SyscallAction::Exit(status) => return Ending::Exited(status),
            SyscallAction::Kill(e) => return Ending::Killed(e),
            // One thread per process: nobody else single-threads it. Restart the call.
            SyscallAction::Restart => process.frame.eip = process.frame.eip.wrapping_sub(2),
            SyscallAction::Terminate(sig) => return Ending::Signaled(sig),
            // One thread per process: `thread_exit` of the last thread is an exit.
            SyscallAction::ThreadExit => return Ending::Exited(0),
        }
    }
}

/// A readable description of how a program ended.
pub fn describe(ending: &Ending) -> alloc::string::String {
    use alloc::format;
    match *ending {
        Ending::Exited(s) => format!("exited with status {s}"),
        Ending::Faulted {
            vector: PAGE_FAULT,
            eip,
            address,
        } => {
            format!("killed by a page fault at eip {eip:#010x} (address {address:#010x})")
        }
        Ending::Faulted { vector, eip, .. } => {
            format!("killed by a {} at eip {eip:#010x}", exception_name(vector))
        }
        Ending::Killed(e) => format!(
            "killed: exec failed after its point of no return ({})",
            e.name()
        ),
        Ending::NotStarted(e) => format!("not started: proc_exec failed ({})", e.name()),
        Ending::TimedOut => format!("taken back after running for {TICK_LIMIT} timer ticks"),
        Ending::Signaled(sig) => format!("terminated by {}", sig.name()),
    }
}
