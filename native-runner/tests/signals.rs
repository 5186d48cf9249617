//! Signals sent to a traced program while it runs: the ones a program
//! ignores by default and the stop signals (a terminal resize, Ctrl-Z then
//! `fg`) leave it running; terminating signals end it.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::path::Path;

use capexec_native::{
    Action, HostFile, NativeProcess, Regs32, SyscallHandler, Termination, TraceeMemory, rights,
};
use common::{exe, fd, int, map, pipe, setup, table};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Serves `loop`'s calls (success, no work) and, at its k-th call, sends
/// `signals[k]` to the program: the signal is pending when the program
/// resumes, so it arrives mid-run, between two system calls.
struct Sender {
    pid: Pid,
    signals: Vec<Signal>,
    calls: usize,
}

impl SyscallHandler for Sender {
    fn syscall(&mut self, regs: &mut Regs32, mem: &mut TraceeMemory) -> Action {
        if regs.eax == 39 {
            return Action::Exit(mem.read_u32(regs.esp + 4).unwrap_or(u32::MAX));
        }
        if let Some(&sig) = self.signals.get(self.calls) {
            kill(self.pid, sig).expect("kill");
        }
        self.calls += 1;
        regs.return_ok(0, 0);
        Action::Continue
    }
}

/// `loop` making `count` calls, loaded and stopped at its entry.
fn start(dir: &Path, count: i64) -> NativeProcess<HostFile> {
    let (_r, out) = pipe();
    let launcher = table(&[
        (out, rights::STDOUT),
        (exe(dir, "loop"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(1, &map(&[("out", fd(0)), ("count", int(count))]), &[0])
        .unwrap();
    p
}

/// Runs `loop` with `count` calls, sending `signals` from its first call on.
fn run_with(dir: &Path, count: i64, signals: &[Signal]) -> (Termination, usize) {
    let mut p = start(dir, count);
    let tracee = p.address_space_mut().tracee_mut();
    let mut h = Sender {
        pid: tracee.pid(),
        signals: signals.to_vec(),
        calls: 0,
    };
    let end = tracee.serve(&mut h).unwrap();
    (end, h.calls)
}

#[test]
fn harmless_signals_do_not_end_the_program() {
    let Some(dir) = setup("harmless_signals_do_not_end_the_program") else {
        return;
    };
    let harmless = [
        Signal::SIGWINCH,
        Signal::SIGCHLD,
        Signal::SIGURG,
        // Ctrl-Z then fg.
        Signal::SIGTSTP,
        Signal::SIGCONT,
        Signal::SIGSTOP,
        Signal::SIGCONT,
        Signal::SIGTTIN,
        Signal::SIGTTOU,
    ];
    for sig in harmless {
        let (end, calls) = run_with(dir, 20, &[sig, sig]);
        assert_eq!(end, Termination::Exited(0), "{sig} ended the program");
        assert_eq!(calls, 20, "{sig}: every call was made");
    }
    let (end, calls) = run_with(dir, 40, &harmless);
    assert_eq!(end, Termination::Exited(0));
    assert_eq!(calls, 40);
}

#[test]
fn terminating_signals_and_faults_end_the_program() {
    let Some(dir) = setup("terminating_signals_and_faults_end_the_program") else {
        return;
    };
    for sig in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGSEGV,
        Signal::SIGKILL,
    ] {
        let (end, calls) = run_with(dir, 20, &[Signal::SIGWINCH, sig]);
        assert_eq!(end, Termination::Signaled(sig));
        assert!(calls < 20, "{sig}: the program ran to its end");
    }
}

#[test]
fn a_signal_during_the_launchers_exec_does_not_break_it() {
    let Some(dir) = setup("a_signal_during_the_launchers_exec_does_not_break_it") else {
        return;
    };
    let (out_r, out) = pipe();
    let launcher = table(&[
        (out.clone(), rights::STDOUT),
        (exe(dir, "hello"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    let pid = p.address_space().tracee().pid();
    // Pending when the runner first resumes the stub to inject mmap2.
    kill(pid, Signal::SIGWINCH).unwrap();
    kill(pid, Signal::SIGCHLD).unwrap();
    p.exec(1, &common::seq(&[fd(0)]), &[0]).unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    drop((p, out));
    assert_eq!(common::drain(out_r), "Hello, world\n");

    // A terminating one arriving then ends the program before it runs.
    let (_r, out) = pipe();
    let launcher = table(&[
        (out, rights::STDOUT),
        (exe(dir, "hello"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    kill(p.address_space().tracee().pid(), Signal::SIGTERM).unwrap();
    p.exec(1, &common::seq(&[fd(0)]), &[0]).unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Signaled(Signal::SIGTERM));
}
