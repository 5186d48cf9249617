//! The process calls: `proc_exec`, `proc_exit`, `proc_fork`, `proc_raise`.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_proc.c`.

use super::super::activator::EntryState32;
use super::super::cloudabi32::{Cloudabi32, Signal, SignalAction, Syscall};
use super::super::hooks::KernelCalls;
use super::super::stack::Entropy;
use super::super::syscall::SyscallAction;
use super::{Args, Served};
use crate::Errno;
use crate::exec::{ExecOutcome, ImageActivator, UserMemory, proc_exec};

/// Serves the `proc_*` call `call`.
pub(super) fn serve<P, A>(
    process: &mut P,
    activator: &mut A,
    call: Syscall,
    a: &Args,
) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
    A: ImageActivator<P, Entry = EntryState32> + Entropy + ?Sized,
{
    match call {
        Syscall::proc_exec => {
            let (fd, data, data_len, fds, fds_len) =
                (a.word(0), a.word(1), a.word(2), a.word(3), a.word(4));
            match proc_exec(process, activator, fd, data, data_len, fds, fds_len) {
                ExecOutcome::Failed(e) => Err(e),
                ExecOutcome::Replaced(entry) => Ok(Served::Action(SyscallAction::Exec(entry))),
                ExecOutcome::Killed(e) => Ok(Served::Action(SyscallAction::Kill(e))),
                ExecOutcome::Restart => Ok(Served::Action(SyscallAction::Restart)),
            }
        }
        Syscall::proc_exit => Ok(Served::Action(SyscallAction::Exit(a.word(0)))),
        Syscall::proc_fork => {
            let f = process.proc_fork()?;
            Ok(Served::Return(f.fd, f.tid))
        }
        Syscall::proc_raise => proc_raise(a.byte(0)),
        _ => Err(Errno::ENOSYS),
    }
}

/// `proc_raise(sig)` with every signal at its default action (CloudABI has no signal
/// handlers): 0 is the null signal (success, nothing sent); an unknown number is
/// `EINVAL`; an ignored signal or `SIGCONT` returns success; a stop signal stops the
/// process ([`SyscallAction::Stop`], the call returning success once it continues);
/// every other signal ends the process ([`SyscallAction::Terminate`]).
fn proc_raise(raw: u8) -> Result<Served, Errno> {
    if raw == 0 {
        return Ok(Served::NONE);
    }
    let sig = Signal::from_raw(raw).ok_or(Errno::EINVAL)?;
    Ok(match sig.default_action() {
        SignalAction::Ignore | SignalAction::Continue => Served::NONE,
        SignalAction::Stop => Served::Action(SyscallAction::Stop(sig)),
        SignalAction::Terminate => Served::Action(SyscallAction::Terminate(sig)),
    })
}
