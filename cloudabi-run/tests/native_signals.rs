//! `cloudabi-run --native` as a terminal runs it: a window resize (`SIGWINCH`), `SIGCHLD`,
//! `SIGURG`, and Ctrl-Z then `fg` (`SIGTSTP`, then `SIGCONT`), each sent to the whole
//! foreground process group (the launcher and its traced program) while the program
//! runs, leave the program running to its normal end.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

#[path = "../../native-runner/tests/common/gate.rs"]
mod gate;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waits (at most two minutes: a hang guard, not a timing check) until `cond` holds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether process `pid` has a child that it traces.
fn traces_a_child(pid: u32) -> bool {
    let list =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace().any(|c| {
        std::fs::read_to_string(format!("/proc/{c}/status")).is_ok_and(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("TracerPid:"))
                .is_some_and(|t| t.trim() == pid.to_string())
        })
    })
}

/// The state letter of process `pid` (`T` when stopped).
fn state(pid: u32) -> char {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next())
        })
        .unwrap_or('?')
}

fn killpg(pgid: u32, sig: libc::c_int) {
    // SAFETY: killpg(2) on the process group this test created, with a valid signal.
    assert_eq!(unsafe { libc::killpg(pgid as libc::pid_t, sig) }, 0);
}

#[test]
fn terminal_signals_leave_the_native_program_running() {
    let name = "terminal_signals_leave_the_native_program_running";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudabi-run"))
        .args(["--native", "loop", "-"])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Enough calls that the program still runs when the signals come.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"out: !fd stdout\ncount: 300000\n")
        .unwrap();
    let pid = child.id();
    wait_until("the traced program", || traces_a_child(pid));
    for sig in [libc::SIGWINCH, libc::SIGCHLD, libc::SIGURG] {
        killpg(pid, sig);
    }
    // Ctrl-Z: the launcher stops; then fg.
    killpg(pid, libc::SIGTSTP);
    // (Or to end: a very fast machine may finish the calls first.)
    wait_until("the launcher to stop", || {
        matches!(state(pid), 'T' | 'Z' | '?')
    });
    killpg(pid, libc::SIGCONT);
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}
