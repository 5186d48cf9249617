//! The traced stub process: starting it, injecting Linux system calls,
//! starting an image at its entry state, and stopping at each trapped
//! CloudABI system call.

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

use crate::memory::{Fault, TraceeMemory};
use capexec::abi::Regs32;

use crate::regs::{regs_from_user, store_regs};

/// Linux i386 system call numbers the runner injects.
const LINUX_MUNMAP: u32 = 91;
const LINUX_MPROTECT: u32 = 125;
const LINUX_MMAP2: u32 = 192;

const LINUX_PRCTL: u32 = 172;
const LINUX_SECCOMP: u32 = 354;

const PR_SET_NO_NEW_PRIVS: u32 = 38;
const SECCOMP_SET_MODE_FILTER: u32 = 1;

const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const PAGE: u32 = 4096;

const MAP_PRIVATE: u32 = 0x02;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;

/// The first TLS slot of the GDT for 32-bit tasks on an x86_64 kernel, and
/// its user-mode selector (index 12, GDT, RPL 3).
const TLS_ENTRY: u32 = 12;
const TLS_SELECTOR: u64 = (TLS_ENTRY as u64) << 3 | 3;

/// The 32-bit user code segment selector on x86_64 Linux.
const USER32_CS: u64 = 0x23;
/// The user data segment selector on x86_64 Linux (`ss`, `ds`, `es`).
const USER_DS: u64 = 0x2b;

/// `AUDIT_ARCH_I386`: the `arch` seccomp sees for an `int $0x80` call.
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// Offsets in `struct seccomp_data`.
const SECCOMP_DATA_NR: u32 = 0;
const SECCOMP_DATA_ARCH: u32 = 4;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;

/// Classic BPF instructions (`struct sock_filter`).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_RET_K: u16 = 0x06;

/// The seccomp filter the stub runs under from before its first image:
/// `(code, jt, jf, k)` rows of a classic BPF program.
///
/// Under `PTRACE_SYSEMU` no system call the program makes reaches Linux
/// (from 32-bit or 64-bit mode, through `int $0x80`, `sysenter` or
/// `syscall`): each stops in the runner and is skipped. What still reaches
/// seccomp is what the runner injects (i386 `mmap2`, `mprotect`, `munmap`,
/// which the filter allows) and the kernel's emulation of the legacy
/// vsyscall page, which a program can call from 64-bit mode and which
/// consults seccomp but not ptrace (an x86_64 `gettimeofday`, `time` or
/// `getcpu`). Everything but the three i386 calls kills the process with
/// `SIGSYS` before the host answers.
pub(crate) const SECCOMP_FILTER: [(u16, u8, u8, u32); 8] = [
    (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARCH),
    (BPF_JEQ_K, 0, 4, AUDIT_ARCH_I386),
    (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_NR),
    (BPF_JEQ_K, 3, 0, LINUX_MMAP2),
    (BPF_JEQ_K, 2, 0, LINUX_MPROTECT),
    (BPF_JEQ_K, 1, 0, LINUX_MUNMAP),
    (BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
    (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
];

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
    /// A tracee address could not be read or written by the runner itself.
    Memory(Fault),
    /// The launcher's `proc_exec` failed before its point of no return: the
    /// program never started (`EBADF` for a closed descriptor in the list,
    /// `ENOEXEC` for an image capexec does not run, ...).
    Exec(capexec::Errno),
    /// capexec killed the program: its `proc_exec` failed after the point of
    /// no return (`SyscallAction::Kill`). `cause` is the host error behind
    /// it, when the runner saw one (an injected `mmap2` that failed, ...).
    Killed {
        /// The errno capexec reported.
        errno: capexec::Errno,
        /// The host failure that produced it, if any.
        cause: Option<Box<Error>>,
    },
    /// The tracee stopped or ended in a way the runner did not expect.
    Unexpected(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host { what, errno } => write!(f, "{what}: {errno}"),
            Error::Spawn(e) => write!(f, "starting the stub: {e}"),
            Error::Injected { call, errno } => write!(f, "injected {call} failed: {errno}"),
            Error::Memory(e) => write!(f, "tracee memory: {e}"),
            Error::Exec(e) => write!(f, "proc_exec failed: {}", e.name()),
            Error::Killed { errno, cause } => {
                write!(f, "killed by a failed exec: {}", errno.name())?;
                if let Some(c) = cause {
                    write!(f, " ({c})")?;
                }
                Ok(())
            }
            Error::Unexpected(s) => write!(f, "unexpected tracee state: {s}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Fault> for Error {
    fn from(e: Fault) -> Self {
        Error::Memory(e)
    }
}

/// Tags a nix error with the operation that produced it.
fn host(what: &'static str) -> impl FnOnce(Errno) -> Error {
    move |errno| Error::Host { what, errno }
}

/// What the runner does after a [`SyscallHandler`] served a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write the (possibly changed) registers back and resume the program.
    Continue,
    /// End the program with this exit value (`proc_exit`).
    Exit(u32),
}

/// Serves trapped system calls without capexec: the raw runner, for
/// measuring the cost of a trap alone. [`crate::NativeProcess::serve`] is
/// the real kernel.
pub trait SyscallHandler {
    /// Handles one trapped system call: `regs.eax` is its number, its
    /// arguments are in `mem` from `regs.esp + 4`. Results go into `regs`
    /// (see [`Regs32::return_ok`] / [`Regs32::return_errno`]).
    fn syscall(&mut self, regs: &mut Regs32, mem: &mut TraceeMemory) -> Action;
}

/// How a served program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// The program called `proc_exit` with this value.
    Exited(u32),
    /// It stopped on a signal (a fault such as `SIGSEGV`, or one sent from
    /// outside) and was killed.
    Signaled(Signal),
}

/// What one `PTRACE_SYSEMU` run ended with.
// Returned by value once per trapped call and matched at once: boxing the
// register block would add an allocation to every system call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Trap {
    /// A trapped system call; the registers as Linux saved them.
    Syscall(user_regs_struct),
    /// The program ended (the tracee was killed and reaped).
    Ended(Termination),
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
    alive: bool,
    /// A signal that arrived during an injection and ends the program at
    /// the next [`next_syscall`](Self::next_syscall).
    ending: Option<Signal>,
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
            alive: true,
            ending: None,
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
        t.confine()?;
        Ok(t)
    }

    /// Takes from the stub, before any image is loaded, every way to a
    /// host result that does not stop in the runner: its vDSO (whose code
    /// reads the host's clock from data pages without a system call) is
    /// unmapped, and [`SECCOMP_FILTER`] is installed (with
    /// `PR_SET_NO_NEW_PRIVS`), so that only the runner's own `mmap2`,
    /// `mprotect` and `munmap` are served by Linux.
    fn confine(&mut self) -> Result<(), Error> {
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.pid))
            .map_err(|e| Error::Unexpected(format!("reading the stub's maps: {e}")))?;
        for (start, end) in vdso_ranges(&maps) {
            self.munmap(start, end - start)?;
        }
        self.inject_checked("prctl", LINUX_PRCTL, [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0])?;
        // struct sock_fprog (i386 layout: u16 len, 2 bytes padding, u32
        // filter), then the filter.
        let mut prog = Vec::with_capacity(8 + 8 * SECCOMP_FILTER.len());
        let page = self.mmap(0, PAGE, PROT_READ | PROT_WRITE, false)?;
        prog.extend_from_slice(&(SECCOMP_FILTER.len() as u16).to_le_bytes());
        prog.extend_from_slice(&[0, 0]);
        prog.extend_from_slice(&(page + 8).to_le_bytes());
        for (code, jt, jf, k) in SECCOMP_FILTER {
            prog.extend_from_slice(&code.to_le_bytes());
            prog.extend_from_slice(&[jt, jf]);
            prog.extend_from_slice(&k.to_le_bytes());
        }
        self.mem.copy_out(page, &prog)?;
        let installed = self.inject_checked(
            "seccomp",
            LINUX_SECCOMP,
            [SECCOMP_SET_MODE_FILTER, 0, page, 0, 0, 0],
        );
        self.munmap(page, PAGE)?;
        installed.map(drop)
    }

    /// The tracee's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The tracee's memory.
    pub fn memory(&self) -> &TraceeMemory {
        &self.mem
    }

    /// The tracee's memory, for writing.
    pub fn memory_mut(&mut self) -> &mut TraceeMemory {
        &mut self.mem
    }

    /// Resumes with `PTRACE_SYSCALL` and waits for the next system call
    /// stop (entry or exit: the caller knows which comes).
    ///
    /// A signal that arrives meanwhile is not delivered: the injection
    /// completes, and one that would end the program is kept and ends it at
    /// the next [`next_syscall`](Self::next_syscall).
    fn step_syscall(&mut self) -> Result<user_regs_struct, Error> {
        loop {
            ptrace::syscall(self.pid, None).map_err(host("PTRACE_SYSCALL"))?;
            match waitpid(self.pid, None).map_err(host("waitpid"))? {
                WaitStatus::PtraceSyscall(_) => break,
                WaitStatus::Stopped(_, sig) => match disposition(sig) {
                    Disposition::Discard => {}
                    Disposition::End => {
                        self.ending.get_or_insert(sig);
                    }
                    // Resuming would fault again at the same instruction.
                    Disposition::Fault => {
                        self.kill();
                        return Err(Error::Unexpected(format!(
                            "injecting a system call: the stub got {sig}"
                        )));
                    }
                },
                other => {
                    if matches!(other, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
                        self.alive = false;
                    }
                    return Err(Error::Unexpected(format!(
                        "injecting a system call: {other:?}"
                    )));
                }
            }
        }
        ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))
    }

    /// Makes Linux itself run an i386 system call in the stopped tracee and
    /// returns its raw result; registers are restored afterwards.
    pub fn inject(&mut self, nr: u32, args: [u32; 6]) -> Result<u32, Error> {
        // The call may unmap or protect memory the runner read.
        self.mem.forget();
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
        // The stub's instruction in 32-bit mode, whatever mode the program
        // was in.
        r.cs = USER32_CS;
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

    /// Maps anonymous memory in the tracee with `mmap2` (Linux `PROT_*` bits
    /// in `prot`); `fixed` asks for exactly `addr` and fails rather than
    /// replace an existing mapping (`MAP_FIXED_NOREPLACE`), so the stub's own
    /// mappings can never be overwritten.
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

    /// Sets the registers a new image starts with: `eip`, `esp`, the `%gs`
    /// base (a flat 4 GiB data segment through `PTRACE_SET_THREAD_AREA`),
    /// `eflags` as after `execve`, every other general register zero
    /// (`r8`-`r15` too), and every segment register explicitly: the 32-bit
    /// user code segment, the user data segment, `%fs` null, so an image
    /// always starts in 32-bit mode, even after a `proc_exec` made from
    /// 64-bit mode. The tracee stays stopped until it is served.
    pub fn start_image(&mut self, eip: u32, esp: u32, gs_base: u32) -> Result<(), Error> {
        let mut regs = ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))?;
        let init = Regs32 {
            esp,
            eip,
            // Reserved bit 1 and interrupts enabled, as after execve.
            eflags: 0x202,
            ..Regs32::default()
        };
        store_regs(&init, &mut regs);
        regs.r8 = 0;
        regs.r9 = 0;
        regs.r10 = 0;
        regs.r11 = 0;
        regs.r12 = 0;
        regs.r13 = 0;
        regs.r14 = 0;
        regs.r15 = 0;
        regs.cs = USER32_CS;
        regs.ss = USER_DS;
        regs.ds = USER_DS;
        regs.es = USER_DS;
        regs.fs = 0;
        regs.fs_base = 0;
        set_thread_area(self.pid, TLS_ENTRY, gs_base).map_err(host("PTRACE_SET_THREAD_AREA"))?;
        regs.gs = TLS_SELECTOR;
        regs.gs_base = u64::from(gs_base);
        ptrace::setregs(self.pid, regs).map_err(host("PTRACE_SETREGS"))?;
        Ok(())
    }

    /// Runs the tracee with `PTRACE_SYSEMU` until its next system call,
    /// which stops here instead of reaching Linux, or until a signal ends it.
    ///
    /// Signals are told apart by [`disposition`]: one that a program ignores
    /// by default, or a stop signal, is discarded and the program goes on;
    /// a fault or a terminating signal kills it and is its
    /// [`Termination::Signaled`].
    pub(crate) fn next_syscall(&mut self) -> Result<Trap, Error> {
        // The program is about to run and change its memory.
        self.mem.forget();
        if let Some(sig) = self.ending.take() {
            self.kill();
            return Ok(Trap::Ended(Termination::Signaled(sig)));
        }
        loop {
            match ptrace::sysemu(self.pid, None) {
                Ok(()) => {}
                // Killed from outside (SIGKILL) while stopped: reap it.
                Err(Errno::ESRCH) => return self.reap(),
                Err(e) => return Err(host("PTRACE_SYSEMU")(e)),
            }
            match waitpid(self.pid, None).map_err(host("waitpid"))? {
                WaitStatus::PtraceSyscall(_) => break,
                WaitStatus::Stopped(_, sig) => {
                    // A signal-delivery stop: resuming without the signal
                    // discards it.
                    if disposition(sig) != Disposition::Discard {
                        self.kill();
                        return Ok(Trap::Ended(Termination::Signaled(sig)));
                    }
                }
                WaitStatus::Signaled(_, sig, _) => {
                    self.alive = false;
                    return Ok(Trap::Ended(Termination::Signaled(sig)));
                }
                other => {
                    self.alive = !matches!(other, WaitStatus::Exited(..));
                    return Err(Error::Unexpected(format!("while serving: {other:?}")));
                }
            }
        }
        self.stop = Stop::SysemuEntry;
        let raw = ptrace::getregs(self.pid).map_err(host("PTRACE_GETREGS"))?;
        Ok(Trap::Syscall(raw))
    }

    /// Writes a served call's registers back (`raw` is the block
    /// [`next_syscall`](Self::next_syscall) returned, updated).
    /// A tracee killed from outside meanwhile (`ESRCH`) is not an error
    /// here: the next [`next_syscall`](Self::next_syscall) reports its end.
    pub(crate) fn set_regs(&mut self, raw: user_regs_struct) -> Result<(), Error> {
        match ptrace::setregs(self.pid, raw) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(host("PTRACE_SETREGS")(e)),
        }
    }

    /// Waits for a tracee that is going away (killed from outside) and
    /// reports how it ended.
    fn reap(&mut self) -> Result<Trap, Error> {
        loop {
            match waitpid(self.pid, None).map_err(host("waitpid"))? {
                WaitStatus::Signaled(_, sig, _) => {
                    self.alive = false;
                    return Ok(Trap::Ended(Termination::Signaled(sig)));
                }
                WaitStatus::Exited(_, code) => {
                    self.alive = false;
                    return Err(Error::Unexpected(format!("the stub exited with {code}")));
                }
                _ => {}
            }
        }
    }

    /// Serves the program with `handler` instead of capexec (no image
    /// replacement), until the handler ends it or a signal does.
    pub fn serve<H: SyscallHandler + ?Sized>(
        &mut self,
        handler: &mut H,
    ) -> Result<Termination, Error> {
        loop {
            let mut raw = match self.next_syscall()? {
                Trap::Syscall(raw) => raw,
                Trap::Ended(t) => return Ok(t),
            };
            let mut regs = regs_from_user(&raw, true);
            match handler.syscall(&mut regs, &mut self.mem) {
                Action::Continue => {
                    store_regs(&regs, &mut raw);
                    self.set_regs(raw)?;
                }
                Action::Exit(code) => {
                    self.kill();
                    return Ok(Termination::Exited(code));
                }
            }
        }
    }

    /// Kills the tracee and reaps it.
    pub fn kill(&mut self) {
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

    /// Whether the tracee still exists (not yet killed or reaped).
    pub fn is_alive(&self) -> bool {
        self.alive
    }
}

impl Drop for Tracee {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address ranges of the vDSO's code and data mappings (`[vdso]`,
/// `[vvar]`, `[vvar_vclock]`) in a `/proc/PID/maps` listing.
fn vdso_ranges(maps: &str) -> Vec<(u32, u32)> {
    maps.lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(5)
                .is_some_and(|n| matches!(n, "[vdso]" | "[vvar]" | "[vvar_vclock]"))
        })
        .filter_map(|l| {
            let (start, end) = l.split_whitespace().next()?.split_once('-')?;
            Some((
                u32::from_str_radix(start, 16).ok()?,
                u32::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

/// What a signal sent to (or raised by) the traced program does to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Discarded; the program goes on.
    Discard,
    /// A fault (or a fault's signal sent from outside): the program is
    /// killed and ends with it.
    Fault,
    /// A terminating signal: the program is killed and ends with it.
    End,
}

/// How the runner treats `sig` at a signal-delivery stop.
///
/// The program has no signal handlers (CloudABI has none), so each signal
/// takes its default action, except that stopping is left to the runner:
/// signals whose default action is to do nothing (`SIGCHLD`, `SIGWINCH`,
/// `SIGURG`, `SIGCONT`) and the stop signals (`SIGSTOP`, `SIGTSTP`,
/// `SIGTTIN`, `SIGTTOU`) are discarded, so a terminal resize or Ctrl-Z
/// then `fg` leaves the program running (it does not run while the runner
/// is stopped: every system call waits for the runner). Faults (`SIGSEGV`,
/// `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGTRAP`, `SIGSYS`) and every
/// terminating signal end it.
///
/// # References
/// - Linux `signal(7)` (standard signals and their default actions),
///   `ptrace(2)` (signal-delivery stop).
pub(crate) fn disposition(sig: Signal) -> Disposition {
    match sig {
        Signal::SIGCHLD
        | Signal::SIGWINCH
        | Signal::SIGURG
        | Signal::SIGCONT
        | Signal::SIGSTOP
        | Signal::SIGTSTP
        | Signal::SIGTTIN
        | Signal::SIGTTOU => Disposition::Discard,
        Signal::SIGSEGV
        | Signal::SIGBUS
        | Signal::SIGILL
        | Signal::SIGFPE
        | Signal::SIGTRAP
        | Signal::SIGSYS => Disposition::Fault,
        _ => Disposition::End,
    }
}

/// Installs a flat 32-bit data segment based at `base` in GDT TLS slot
/// `entry` of a stopped 32-bit tracee.
///
/// nix has no wrapper for `PTRACE_SET_THREAD_AREA` (request 26), so this is
/// the one raw `libc::ptrace` call of the crate. The request
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the classic BPF subset the filter uses on one `seccomp_data`.
    fn filter(arch: u32, nr: u32) -> u32 {
        let mut pc = 0;
        let mut acc = 0;
        loop {
            let (code, jt, jf, k) = SECCOMP_FILTER[pc];
            match code {
                BPF_LD_W_ABS => acc = if k == SECCOMP_DATA_ARCH { arch } else { nr },
                BPF_JEQ_K => {
                    pc += usize::from(if acc == k { jt } else { jf });
                }
                BPF_RET_K => return k,
                _ => panic!("unexpected instruction {code:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn the_filter_allows_only_the_runners_i386_calls() {
        const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
        for nr in [LINUX_MMAP2, LINUX_MPROTECT, LINUX_MUNMAP] {
            assert_eq!(filter(AUDIT_ARCH_I386, nr), SECCOMP_RET_ALLOW, "{nr}");
            assert_eq!(filter(AUDIT_ARCH_X86_64, nr), SECCOMP_RET_KILL_PROCESS);
        }
        // i386 exit, read, write, execve, prctl, seccomp; x86_64 vsyscall
        // gettimeofday, time, getcpu, and mmap, mprotect, munmap, execve.
        for nr in [1, 3, 4, 11, 172, 354, 96, 201, 309, 0, 0xffff_ffff] {
            assert_eq!(
                filter(AUDIT_ARCH_I386, nr),
                SECCOMP_RET_KILL_PROCESS,
                "{nr}"
            );
        }
        for nr in [96, 201, 309, 9, 10, 11, 59, 192, 125, 91] {
            assert_eq!(
                filter(AUDIT_ARCH_X86_64, nr),
                SECCOMP_RET_KILL_PROCESS,
                "{nr}"
            );
        }
    }

    #[test]
    fn vdso_mappings_are_found_by_name() {
        let maps = "\
08048000-08049000 r-xp 00000000 00:20 12 /tmp/stub
f7f50000-f7f54000 r--p 00000000 00:00 0                                  [vvar]
f7f54000-f7f55000 r--p 00000000 00:00 0                                  [vvar_vclock]
f7f55000-f7f57000 r-xp 00000000 00:00 0                                  [vdso]
ff9d0000-ff9f1000 rw-p 00000000 00:00 0                                  [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
";
        assert_eq!(
            vdso_ranges(maps),
            [
                (0xf7f5_0000, 0xf7f5_4000),
                (0xf7f5_4000, 0xf7f5_5000),
                (0xf7f5_5000, 0xf7f5_7000)
            ]
        );
    }
}
