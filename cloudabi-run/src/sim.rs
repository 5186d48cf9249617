//! The simulated kernel: a launcher process built from capexec, its exec, and
//! a "CPU" that runs the built-in programs against what the shim built.

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, Layout32, Regs32, SyscallAction};
use capexec::exec::{ExecOutcome, copyin, exec_sysspace_data_fds, kern_execve};
use capexec::fdtable::{Fd, FdTable};
use capexec_sim::{SimProcess, minimal_cloudabi_elf};

use crate::programs;
use capexec_host::{HostEntropy, HostFile};
use cloudabi_run::trace::Outcome;

/// Where the simulated images are linked.
pub const IMAGE_BASE: u32 = 0x0804_8000;
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
    /// A launcher with an empty table and nothing mapped.
    pub fn new(trace: bool) -> Launcher {
        let proc = SimProcess::new(FdTable::new());
        Launcher { proc, trace }
    }

    /// Starts the program behind launcher descriptor `exe` with argument data `data` and
    /// descriptor list `fds`, through capexec's kernel-space exec entry
    /// (`exec_sysspace_data_fds`, then `kern_execve`: the checks of the i386 `proc_exec`,
    /// without laying the arguments out in the launcher's memory), and runs it.
    pub fn exec_and_run(&mut self, exe: i32, data: &[u8], fds: &[i32]) -> Result<Ended, String> {
        let exe_fd = Fd::from_raw(exe).map_err(|_| "bad executable descriptor".to_string())?;
        let mut exec_rng = HostEntropy;
        let mut act = Cloudabi32Activator::new(Layout32::default(), &mut exec_rng);
        let outcome = match exec_sysspace_data_fds::<Cloudabi32, _, _>(&self.proc.table, data, fds)
        {
            Ok(args) => kern_execve(&mut self.proc, &mut act, exe_fd, args),
            Err(e) => ExecOutcome::Failed(e),
        };
        if self.trace {
            let result = match &outcome {
                ExecOutcome::Replaced(e) => format!("ok: eip={:#x} esp={:#x}", e.eip, e.esp),
                ExecOutcome::Failed(e) => format!("error {e}"),
                ExecOutcome::Killed(e) => format!("killed: {e}"),
                ExecOutcome::Restart => "restart".to_string(),
            };
            eprintln!(
                "proc_exec(fd={exe}, data_len={}, fds={fds:?}, fds_len={}) -> {result}",
                data.len(),
                fds.len()
            );
        }
        match outcome {
            ExecOutcome::Replaced(entry) => self.run_image(Regs32 {
                eip: entry.eip,
                esp: entry.esp,
                gs_base: entry.gs_base,
                ..Regs32::default()
            }),
            ExecOutcome::Failed(e) => Ok(Ended::ExecFailed(e)),
            ExecOutcome::Killed(e) => Ok(Ended::Killed(format!("killed during exec: {e}"))),
            // The launcher has one thread: nothing else single-threads it.
            ExecOutcome::Restart => Err("proc_exec asked for a restart".to_string()),
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
