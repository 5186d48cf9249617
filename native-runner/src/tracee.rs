//! The traced stub process: starting it, injecting Linux system calls,
//! mapping images and serving trapped CloudABI system calls.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::libc::{self, user_regs_struct};
use nix::sys::ptrace;
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::image::{ImageError, ImageLayout, Prot};
use crate::memory::{Fault, TraceeMemory};
use crate::regs::I386Regs;

const PAGE: u32 = 4096;

/// Linux i386 system call numbers the runner injects.
const LINUX_MUNMAP: u32 = 91;
const LINUX_MPROTECT: u32 = 125;
const LINUX_MMAP2: u32 = 192;

const MAP_PRIVATE: u32 = 0x02;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
const PROT_RW: u32 = 3;

/// The first TLS slot of the GDT for 32-bit tasks on an x86_64 kernel, and
/// its user-mode selector (index 12, GDT, RPL 3).
const TLS_ENTRY: u32 = 12;
const TLS_SELECTOR: u64 = (TLS_ENTRY as u64) << 3 | 3;

/// The 32-bit user code segment selector on x86_64 Linux.
const USER32_CS: u64 = 0x23;

/// Why the runner failed.
#[derive(Debug)]
pub enum Error {
    /// A host call of the tracer failed.
    Host {
        /// Which operation.
        what: &'static str,
        /// The Linux errno.
        errno: Errno,
    },
    /// Starting the stub failed.
    Spawn(std::io::Error),
    /// A system call injected into the tracee failed.
    Injected {
        /// Which call.
        call: &'static str,
        /// The Linux errno it returned.
        errno: Errno,
    },
    /// The image cannot be loaded.
    Image(ImageError),
    /// A tracee address could not be read or written while loading.
    Memory(Fault),
    /// The tracee stopped or ended in a way the runner did not expect.
    Unexpected(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host { what, errno } => write!(f, "{what}: {errno}"),
            Error::Spawn(e) => write!(f, "starting the stub: {e}"),
            Error::Injected { call, errno } => write!(f, "injected {call} failed: {errno}"),
            Error::Image(e) => write!(f, "image: {e}"),
            Error::Memory(e) => write!(f, "loading: {e}"),
            Error::Unexpected(s) => write!(f, "unexpected tracee state: {s}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ImageError> for Error {
    fn from(e: ImageError) -> Self {
        Error::Image(e)
    }
}

impl From<Fault> for Error {
    fn from(e: Fault) -> Self {
        Error::Memory(e)
    }
}

/// Tags a nix error with the operation that produced it.
fn host(what: &'static str) -> impl FnOnce(Errno) -> Error {
    move |errno| Error::Host { what, errno }
}

/// A region of tracee memory mapped read-write for the initial stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackRegion {
    /// Lowest address.
    pub base: u32,
    /// Size in bytes (a multiple of the page size).
    pub size: u32,
}

impl StackRegion {
    /// One past the highest address (where a downward stack starts).
    pub fn top(&self) -> u32 {
        self.base.wrapping_add(self.size)
    }
}

/// Where a new image starts: the initial stack pointer and the `%gs` base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackStart {
    /// Initial `esp`.
    pub esp: u32,
    /// Base address of the `%gs` segment (CloudABI: the initial `esp`).
    pub gs_base: u32,
}

/// Fills a freshly mapped stack region and says where execution starts.
/// This is where a kernel's stack builder (argdata, auxv, TCB) plugs in.
pub type StackBuilder =
    Box<dyn FnOnce(&mut TraceeMemory, StackRegion) -> Result<StackStart, Fault>>;

/// A new image for the tracee: what [`Tracee::exec`] and
/// [`Action::ReplaceImage`] load.
pub struct Exec {
    /// The segments to map and the entry point.
    pub image: ImageLayout,
    /// Size of the stack region to map (rounded up to pages).
    pub stack_size: u32,
    /// Writes the initial stack into the new region.
    pub build_stack: StackBuilder,
}

impl fmt::Debug for Exec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exec")
            .field("image", &self.image)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

/// What the runner does after a handler served a system call.
#[derive(Debug)]
pub enum Action {
    /// Write the (possibly changed) registers back and resume the program.
    Continue,
    /// End the program with this exit value (`proc_exit`).
    Exit(u32),
    /// Replace the program's image (a successful `proc_exec`). Past this
    /// point a loading failure kills the program.
    ReplaceImage(Exec),
}

/// Serves the CloudABI system calls a tracee makes.
pub trait SyscallHandler {
    /// Handles one trapped system call: `regs.eax` is its number, its
    /// arguments are in `mem` from `regs.esp + 4`. Results go into `regs`
    /// (see [`I386Regs::return_ok`] / [`I386Regs::return_errno`]).
    fn syscall(&mut self, regs: &mut I386Regs, mem: &mut TraceeMemory) -> Action;
}

/// How a served program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// The handler ended it with [`Action::Exit`].
    Exited(u32),
    /// It stopped on a signal (a fault such as `SIGSEGV`, or one sent from
    /// outside) and was killed.
    Signaled(Signal),
}

/// Which ptrace stop the tracee is in; it decides how an injection starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// A signal-delivery or system-call-exit stop: resuming returns to
    /// user mode at `rip`.
    User,
    /// A `PTRACE_SYSEMU` entry stop: resuming with `PTRACE_SYSCALL` first
    /// produces the exit stop of the skipped call.
    SysemuEntry,
}

/// A 32-bit stub process under ptrace, ready to receive images.
#[derive(Debug)]
pub struct Tracee {
    pid: Pid,
    mem: TraceeMemory,
    /// Address of an `int $0x80` instruction inside the stub.
    syscall_insn: u32,
    stop: Stop,
    /// Page runs mapped for the current image and stack.
    mapped: Vec<(u32, u32)>,
    alive: bool,
}

impl Tracee {
    /// Starts the stub executable (see `programs/stub.S`) under ptrace and
    /// waits for its post-exec stop.
    pub fn spawn(stub: &Path) -> Result<Tracee, Error> {
        let mut cmd = Command::new(stub);
        cmd.env_clear().stdin(Stdio::null());
        // SAFETY: the closure runs in the forked child before exec and only
        // makes the PTRACE_TRACEME system call, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| ptrace::traceme().map_err(std::io::Error::from));
        }
        let child = cmd.spawn().map_err(Error::Spawn)?;
        let pid = Pid::from_raw(child.id() as i32);
        // The std handle is not used again: the tracer reaps with waitpid.
        drop(child);
        let mut t = Tracee {
            pid,
            mem: TraceeMemory::new(pid),
            syscall_insn: 0,
            stop: Stop::User,
            mapped: Vec::new(),
            alive: true,
        };
        match waitpid(pid, None).map_err(host("waitpid"))? {
            WaitStatus::Stopped(_, Signal::SIGTRAP) => {}
            other => return Err(Error::Unexpected(format!("after exec: {other:?}"))),
        }
        ptrace::setoptions(
            pid,
            ptrace::Options::PTRACE_O_TRACESYSGOOD | ptrace::Options::PTRACE_O_EXITKILL,
        )
        .map_err(host("PTRACE_SETOPTIONS"))?;
        let regs = ptrace::getregs(pid).map_err(host("PTRACE_GETREGS"))?;
        if regs.cs != USER32_CS {
            return Err(Error::Unexpected("the stub is not a 32-bit process".into()));
        }
        let entry = regs.rip as u32;
        let mut code = [0u8; 16];
        t.mem.copy_in(entry, &mut code)?;
        let at = code
            .windows(2)
            .position(|w| w == [0xcd, 0x80])
            .ok_or_else(|| Error::Unexpected("no int $0x80 near the stub's entry".into()))?;
        t.syscall_insn = entry + at as u32;
        Ok(t)
    }

    /// The tracee's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The tracee's memory.
    pub fn memory(&mut self) -> &mut TraceeMemory {
        &mut self.mem
    }

    /// Resumes with `PTRACE_SYSCALL` and waits for the next system call
    /// stop (entry or exit: the caller knows which comes).
    fn step_syscall(&mut self) -> Result<user_regs_struct, Error> {
        ptrace::syscall(self.pid, None).map_err(host("PTRACE_SYSCALL"))?;
        match waitpid(self.pid, None).map_err(host("waitpid"))? {
            WaitStatus::PtraceSyscall(_) => {}
            other => {
                return Err(Error::Unexpected(format!(
                    "injecting a system call: {other:?}"
                )));
            }
        }
        ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))
    }

    /// Makes Linux itself run an i386 system call in the stopped tracee and
    /// returns its raw result; registers are restored afterwards.
    pub fn inject(&mut self, nr: u32, args: [u32; 6]) -> Result<u32, Error> {
        if self.stop == Stop::SysemuEntry {
            // Let the emulated call finish: one exit stop for it.
            self.step_syscall()?;
            self.stop = Stop::User;
        }
        let saved = ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))?;
        let mut r = saved;
        r.rax = u64::from(nr);
        r.orig_rax = u64::MAX;
        r.rbx = u64::from(args[0]);
        r.rcx = u64::from(args[1]);
        r.rdx = u64::from(args[2]);
        r.rsi = u64::from(args[3]);
        r.rdi = u64::from(args[4]);
        r.rbp = u64::from(args[5]);
        r.rip = u64::from(self.syscall_insn);
        ptrace::setregs(self.pid, r).map_err(host("PTRACE_SETREGS"))?;
        let entry = self.step_syscall()?;
        if entry.orig_rax != u64::from(nr) {
            return Err(Error::Unexpected(format!(
                "injected {nr} but the tracee entered {}",
                entry.orig_rax
            )));
        }
        let exit = self.step_syscall()?;
        ptrace::setregs(self.pid, saved).map_err(host("PTRACE_SETREGS"))?;
        Ok(exit.rax as u32)
    }

    /// Injects a call and turns a Linux `-errno` result into an error.
    fn inject_checked(
        &mut self,
        call: &'static str,
        nr: u32,
        args: [u32; 6],
    ) -> Result<u32, Error> {
        let r = self.inject(nr, args)?;
        if r >= (-4095i32) as u32 {
            return Err(Error::Injected {
                call,
                errno: Errno::from_raw(-(r as i32)),
            });
        }
        Ok(r)
    }

    /// Maps anonymous memory in the tracee with `mmap2`; `fixed` asks for
    /// exactly `addr` and fails rather than replace an existing mapping.
    pub fn mmap(&mut self, addr: u32, len: u32, prot: u32, fixed: bool) -> Result<u32, Error> {
        let mut flags = MAP_PRIVATE | MAP_ANONYMOUS;
        if fixed {
            flags |= MAP_FIXED_NOREPLACE;
        }
        let got =
            self.inject_checked("mmap2", LINUX_MMAP2, [addr, len, prot, flags, u32::MAX, 0])?;
        if fixed && got != addr {
            // A kernel before 4.17 takes the flag as a hint only.
            self.munmap(got, len)?;
            return Err(Error::Injected {
                call: "mmap2",
                errno: Errno::EEXIST,
            });
        }
        Ok(got)
    }

    /// Changes protections in the tracee with `mprotect`.
    pub fn mprotect(&mut self, addr: u32, len: u32, prot: u32) -> Result<(), Error> {
        self.inject_checked("mprotect", LINUX_MPROTECT, [addr, len, prot, 0, 0, 0])
            .map(drop)
    }

    /// Unmaps tracee memory with `munmap`.
    pub fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Error> {
        self.inject_checked("munmap", LINUX_MUNMAP, [addr, len, 0, 0, 0, 0])
            .map(drop)
    }

    /// Maps the segments of `image` at their addresses: pages are mapped
    /// read-write, filled, then given the union of the protections of the
    /// segments that share them. Returns the entry point.
    fn load_image(&mut self, image: &ImageLayout) -> Result<u32, Error> {
        let mut pages: BTreeMap<u32, Prot> = BTreeMap::new();
        for s in image.segments.iter().filter(|s| s.mem_size > 0) {
            if s.data.len() > s.mem_size as usize {
                return Err(Error::Image(ImageError::BadSegment));
            }
            let end = s
                .vaddr
                .checked_add(s.mem_size - 1)
                .ok_or(Error::Image(ImageError::BadSegment))?;
            for page in s.vaddr / PAGE..=end / PAGE {
                let p = pages.entry(page).or_default();
                *p = p.union(s.prot);
            }
        }
        // Runs of consecutive pages, then runs of equal protection.
        let mut runs: Vec<(u32, u32, Prot)> = Vec::new();
        for (&page, &prot) in &pages {
            match runs.last_mut() {
                Some((start, n, p)) if *start + *n == page && *p == prot => *n += 1,
                _ => runs.push((page, 1, prot)),
            }
        }
        let mut maps: Vec<(u32, u32)> = Vec::new();
        for &(start, n, _) in &runs {
            match maps.last_mut() {
                Some((s, m)) if *s + *m == start => *m += n,
                _ => maps.push((start, n)),
            }
        }
        for &(start, n) in &maps {
            self.mmap(start * PAGE, n * PAGE, PROT_RW, true)?;
            self.mapped.push((start * PAGE, n * PAGE));
        }
        for s in &image.segments {
            self.mem.copy_out(s.vaddr, &s.data)?;
        }
        for &(start, n, prot) in &runs {
            if prot.linux_bits() != PROT_RW {
                self.mprotect(start * PAGE, n * PAGE, prot.linux_bits())?;
            }
        }
        Ok(image.entry)
    }

    /// Points the tracee's `%gs` at a flat 4 GiB data segment based at
    /// `base`: a TLS descriptor through `PTRACE_SET_THREAD_AREA`, then the
    /// selector and base in the register block.
    fn set_gs_base(&mut self, base: u32, regs: &mut user_regs_struct) -> Result<(), Error> {
        set_thread_area(self.pid, TLS_ENTRY, base).map_err(host("PTRACE_SET_THREAD_AREA"))?;
        regs.gs = TLS_SELECTOR;
        regs.gs_base = u64::from(base);
        Ok(())
    }

    /// Replaces whatever the tracee runs with `exec`: unmaps the previous
    /// image and stack, maps the new segments and a stack, lets the stack
    /// builder fill it, and sets `eip`, `esp` and `%gs`. The tracee stays
    /// stopped until [`Tracee::serve`].
    pub fn exec(&mut self, exec: Exec) -> Result<(), Error> {
        for (addr, len) in std::mem::take(&mut self.mapped) {
            self.munmap(addr, len)?;
        }
        let entry = self.load_image(&exec.image)?;
        let size = exec
            .stack_size
            .max(PAGE)
            .checked_next_multiple_of(PAGE)
            .ok_or(Error::Image(ImageError::BadSegment))?;
        let base = self.mmap(0, size, PROT_RW, false)?;
        self.mapped.push((base, size));
        let start = (exec.build_stack)(&mut self.mem, StackRegion { base, size })?;

        let mut regs = ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))?;
        let init = I386Regs {
            esp: start.esp,
            eip: entry,
            // Reserved bit 1 and interrupts enabled, as after execve.
            eflags: 0x202,
            ..I386Regs::default()
        };
        init.store(&mut regs);
        self.set_gs_base(start.gs_base, &mut regs)?;
        ptrace::setregs(self.pid, regs).map_err(host("PTRACE_SETREGS"))?;
        Ok(())
    }

    /// Runs the tracee with `PTRACE_SYSEMU` so that each system call stops
    /// here instead of reaching Linux, and hands each one to `handler`,
    /// until the handler ends the program or a signal does.
    pub fn serve<H: SyscallHandler + ?Sized>(
        &mut self,
        handler: &mut H,
    ) -> Result<Termination, Error> {
        loop {
            ptrace::sysemu(self.pid, None).map_err(host("PTRACE_SYSEMU"))?;
            let status = waitpid(self.pid, None).map_err(host("waitpid"))?;
            match status {
                WaitStatus::PtraceSyscall(_) => {}
                WaitStatus::Stopped(_, sig) => {
                    self.kill();
                    return Ok(Termination::Signaled(sig));
                }
                WaitStatus::Signaled(_, sig, _) => {
                    self.alive = false;
                    return Ok(Termination::Signaled(sig));
                }
                other => {
                    self.alive = !matches!(other, WaitStatus::Exited(..));
                    return Err(Error::Unexpected(format!("while serving: {other:?}")));
                }
            }
            self.stop = Stop::SysemuEntry;
            let mut raw = ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))?;
            let mut regs = I386Regs::from_user(&raw, true);
            match handler.syscall(&mut regs, &mut self.mem) {
                Action::Continue => {
                    regs.store(&mut raw);
                    ptrace::setregs(self.pid, raw).map_err(host("PTRACE_SETREGS"))?;
                }
                Action::Exit(code) => {
                    self.kill();
                    return Ok(Termination::Exited(code));
                }
                Action::ReplaceImage(exec) => {
                    if let Err(e) = self.exec(exec) {
                        // Past the point of no return: the program dies.
                        self.kill();
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Kills the tracee and reaps it.
    fn kill(&mut self) {
        if self.alive {
            let _ = signal::kill(self.pid, Signal::SIGKILL);
            while let Ok(status) = waitpid(self.pid, None) {
                if matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
                    break;
                }
            }
            self.alive = false;
        }
    }
}

impl Drop for Tracee {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Installs a flat 32-bit data segment based at `base` in GDT TLS slot
/// `entry` of a stopped 32-bit tracee.
///
/// nix has no wrapper for `PTRACE_SET_THREAD_AREA` (request 26), so this is
/// the one raw `libc::ptrace` call of the crate (decision 25). The request
/// takes the GDT index in `addr` and a `struct user_desc` in the tracer's
/// memory in `data`.
fn set_thread_area(pid: Pid, entry: u32, base: u32) -> Result<(), Errno> {
    const PTRACE_SET_THREAD_AREA: libc::c_uint = 26;
    // struct user_desc: entry_number, base_addr, limit, then flag bits
    // seg_32bit (0), contents (1-2), read_exec_only (3),
    // limit_in_pages (4), seg_not_present (5), useable (6).
    let desc: [u32; 4] = [entry, base, 0xf_ffff, 1 | 1 << 4 | 1 << 6];
    // SAFETY: `desc` is a live, correctly laid out user_desc for the whole
    // call; the kernel only reads it. The request has no other pointers.
    let r = unsafe {
        libc::ptrace(
            PTRACE_SET_THREAD_AREA,
            pid.as_raw(),
            entry as usize as *mut libc::c_void,
            desc.as_ptr() as *mut libc::c_void,
        )
    };
    if r == -1 { Err(Errno::last()) } else { Ok(()) }
}

/// Tries to trace a child: runs this very executable with
/// `PTRACE_TRACEME` and kills it at its post-exec stop, before it executes
/// a single instruction.
pub(crate) fn probe() -> bool {
    let Ok(exe) = std::env::current_exe() else {
        return false;
    };
    let mut cmd = Command::new(exe);
    cmd.env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: as in `Tracee::spawn`, the child only calls PTRACE_TRACEME.
    unsafe {
        cmd.pre_exec(|| ptrace::traceme().map_err(std::io::Error::from));
    }
    let Ok(child) = cmd.spawn() else {
        return false;
    };
    let pid = Pid::from_raw(child.id() as i32);
    let stopped = matches!(
        waitpid(pid, None),
        Ok(WaitStatus::Stopped(_, Signal::SIGTRAP))
    );
    let _ = signal::kill(pid, Signal::SIGKILL);
    let _ = waitpid(pid, None);
    stopped
}
