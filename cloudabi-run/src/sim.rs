//! The simulated kernel: a launcher process built from capexec, the `proc_exec` trap, and
//! a "CPU" that runs the built-in programs against what the shim built.

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Layout32, Regs32, SyscallAction, syscall32};
use capexec::exec::{copyin, copyout};
use capexec::fdtable::FdTable;
use capexec_sim::{SimProcess, minimal_cloudabi_elf};

use crate::programs;
use capexec_host::{HostEntropy, HostFile};
use cloudabi_run::trace::Outcome;

/// Where the simulated images are linked.
pub const IMAGE_BASE: u32 = 0x0804_8000;
/// The launcher's scratch memory: the trap frame, the argument data and the fd list.
const SCRATCH: u32 = 0x1000_0000;
const SCRATCH_LEN: u32 = 0x0010_0000;
/// First instruction of a built-in image: `hlt`, then the marker and the program name.
pub const BUILTIN_MARKER: &[u8] = b"\xf4CAPEXEC-BUILTIN:";

/// The image of a built-in program: a valid CloudABI ELF32 whose code is the marker.
pub fn builtin_image(name: &str) -> Vec<u8> {
    let mut code = BUILTIN_MARKER.to_vec();
    code.extend_from_slice(name.as_bytes());
    code.push(0);
    minimal_cloudabi_elf(IMAGE_BASE, &code)
}

/// The launcher: a simulated process holding the host's descriptors.
pub struct Launcher {
    /// The process (its table and its 32-bit memory).
    pub proc: SimProcess<HostFile>,
    /// Print what crosses the system call boundary to stderr.
    pub trace: bool,
}

/// A shim decision as a trace outcome, with `regs` the registers after the call.
pub fn outcome(action: &SyscallAction, regs: &Regs32) -> Outcome {
    match action {
        SyscallAction::Resume if regs.carry() => Outcome::Err(regs.eax),
        SyscallAction::Resume | SyscallAction::Yield | SyscallAction::Stop(_) => Outcome::Ok {
            eax: regs.eax,
            edx: regs.edx,
        },
        SyscallAction::Exec(e) => Outcome::Exec {
            eip: e.eip,
            esp: e.esp,
        },
        SyscallAction::Exit(_) => Outcome::Exit,
        SyscallAction::Kill(e) => Outcome::Killed(*e),
        SyscallAction::Restart => Outcome::Restart,
        SyscallAction::Terminate(sig) => Outcome::Terminated(sig.name()),
        SyscallAction::ThreadExit => Outcome::Exit,
    }
}

/// How a run ended.
pub enum Ended {
    /// The program exited with this value.
    Exit(u32),
    /// `proc_exec` failed before its point of no return.
    ExecFailed(Errno),
    /// The process was killed.
    Killed(String),
}

impl Launcher {
    /// A launcher with an empty table and its scratch memory mapped.
    pub fn new(trace: bool) -> Launcher {
        let mut proc = SimProcess::new(FdTable::new());
        proc.mem.map(SCRATCH, SCRATCH_LEN);
        Launcher { proc, trace }
    }

    /// Starts the program behind launcher descriptor `exe` with argument data `data` and
    /// descriptor list `fds`, through the i386 `proc_exec` trap, and runs it.
    pub fn exec_and_run(&mut self, exe: i32, data: &[u8], fds: &[i32]) -> Result<Ended, String> {
        let data_len =
            u32::try_from(data.len()).map_err(|_| "argument data too large".to_string())?;
        let fds_len = u32::try_from(fds.len()).map_err(|_| "too many descriptors".to_string())?;
        let exe = u32::try_from(exe).map_err(|_| "bad executable descriptor".to_string())?;
        // Lay the arguments out in the launcher's memory as a C caller would.
        let esp = SCRATCH + 0x100;
        let data_addr = SCRATCH + 0x1000;
        let fds_addr = data_addr
            .checked_add(data_len.next_multiple_of(16))
            .filter(|a| u64::from(*a) + 4 * u64::from(fds_len) <= u64::from(SCRATCH + SCRATCH_LEN))
            .ok_or("argument data and descriptor list do not fit the launcher's memory")?;
        let list: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
        let args: Vec<u8> = [exe, data_addr, data_len, fds_addr, fds_len]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let mem = &mut self.proc.mem;
        copyout(mem, data_addr, data).map_err(|e| format!("copying argument data: {e}"))?;
        copyout(mem, fds_addr, &list).map_err(|e| format!("copying descriptor list: {e}"))?;
        copyout(mem, esp + 4, &args).map_err(|e| format!("copying arguments: {e}"))?;
        let mut regs = Regs32 {
            eax: 38,
            esp,
            eip: 0x1000_0000,
            ..Regs32::default()
        };

        let mut exec_rng = HostEntropy;
        let mut act = Cloudabi32Activator::new(Layout32::default(), &mut exec_rng);
        let action = syscall32(&mut self.proc, &mut act, &mut regs);
        if self.trace {
            let outcome = match &action {
                SyscallAction::Exec(e) => format!("ok: eip={:#x} esp={:#x}", e.eip, e.esp),
                SyscallAction::Resume => format!("error {}", errno_text(regs.eax)),
                SyscallAction::Kill(e) => format!("killed: {e}"),
                SyscallAction::Exit(c) => format!("exit {c}"),
                SyscallAction::Restart => "restart".to_string(),
                other => format!("{other:?}"),
            };
            eprintln!(
                "proc_exec(fd={exe}, data={data_addr:#x}, data_len={data_len}, fds={fds_addr:#x} {fds:?}, fds_len={fds_len}) -> {outcome}"
            );
        }
        match action {
            SyscallAction::Exec(_) => self.run_image(regs),
            SyscallAction::Resume => Ok(Ended::ExecFailed(
                u16::try_from(regs.eax)
                    .ok()
                    .and_then(Errno::from_raw)
                    .unwrap_or(Errno::EIO),
            )),
            SyscallAction::Kill(e) => Ok(Ended::Killed(format!("killed during exec: {e}"))),
            SyscallAction::Exit(c) => Ok(Ended::Exit(c)),
            // The launcher has one thread: nothing else single-threads it.
            SyscallAction::Restart => Err("proc_exec asked for a restart".to_string()),
            other => Err(format!("proc_exec returned {other:?}")),
        }
    }

    /// The simulated CPU: reads the instruction bytes at `eip` and runs the built-in
    /// program they name.
    fn run_image(&mut self, regs: Regs32) -> Result<Ended, String> {
        let mut code = [0u8; 64];
        copyin(&self.proc.mem, regs.eip, &mut code)
            .map_err(|e| format!("fetching code at {:#x}: {e}", regs.eip))?;
        let name = code
            .strip_prefix(BUILTIN_MARKER)
            .and_then(|rest| rest.split(|b| *b == 0).next())
            .and_then(|n| std::str::from_utf8(n).ok())
            .ok_or("the image is not a built-in program; run real i386 code with --native")?;
        let mut user = programs::User::new(&mut self.proc, regs, self.trace);
        let end = match name {
            "hello" => programs::hello(&mut user),
            "argdata" => programs::argdata(&mut user),
            "procstat" => programs::procstat(&mut user),
            "copy" => programs::copy(&mut user),
            other => return Err(format!("unknown built-in program {other:?}")),
        };
        Ok(match end {
            programs::Exit::Code(c) => Ended::Exit(c),
            programs::Exit::Killed(why) => Ended::Killed(why),
        })
    }

    /// Inserts `file` at descriptor `fd` exactly.
    pub fn insert_at(&mut self, fd: i32, file: HostFile) -> Result<(), String> {
        let rights = file.rights();
        let want =
            capexec::fdtable::Fd::from_raw(fd).map_err(|e| format!("descriptor {fd}: {e}"))?;
        let mut t = self.proc.table.lock();
        if t.is_open(want) {
            return Ok(());
        }
        match t.alloc(want, Arc::new(file), rights, false) {
            Ok(got) if got == want => Ok(()),
            Ok(got) => {
                drop(t.close(got));
                Err(format!("descriptor {fd} is not free in the launcher"))
            }
            Err(r) => Err(format!("descriptor {fd}: {}", r.errno)),
        }
    }

    /// Inserts `file` at the lowest free descriptor from 3 up.
    pub fn insert(&mut self, file: HostFile) -> Result<i32, String> {
        let rights = file.rights();
        let mut t = self.proc.table.lock();
        t.alloc(
            capexec::fdtable::Fd::from_raw(3).map_err(|e| e.to_string())?,
            Arc::new(file),
            rights,
            false,
        )
        .map(|fd| fd.raw())
        .map_err(|r| format!("launcher table: {}", r.errno))
    }
}

/// An errno number as `NAME (message)`.
pub fn errno_text(raw: u32) -> String {
    match u16::try_from(raw).ok().and_then(Errno::from_raw) {
        Some(e) => e.to_string(),
        None => format!("errno {raw}"),
    }
}
