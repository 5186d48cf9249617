//! `cloudabi-run --native` builds the bundled programs in a private folder of its own
//! (random name, mode 0700, never one that existed before) and leaves nothing behind:
//! after a normal exit, a failed build, a failed exec, and `SIGTERM` during the build or
//! while the program runs. A folder prepared by someone else is never used.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

#[path = "../../native-runner/tests/common/gate.rs"]
mod gate;

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh, empty folder to use as the launcher's `TMPDIR`.
fn fresh_tmpdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("native-build-dir")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn launcher(tmpdir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cloudabi-run"));
    c.args(args)
        .env("TMPDIR", tmpdir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn start(mut cmd: Command, stdin: &str) -> Child {
    let mut child = cmd.spawn().expect("spawn cloudabi-run");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child
}

/// Waits (at most two minutes: a hang guard, not a timing check) until `cond` holds.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The children of process `pid`, with the pid of their tracer (0 if none).
fn children(pid: u32) -> Vec<(u32, u32)> {
    let list =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace()
        .filter_map(|c| {
            let c: u32 = c.parse().ok()?;
            let status = std::fs::read_to_string(format!("/proc/{c}/status")).ok()?;
            let tracer = status
                .lines()
                .find_map(|l| l.strip_prefix("TracerPid:"))?
                .trim()
                .parse()
                .ok()?;
            Some((c, tracer))
        })
        .collect()
}

/// Whether process `pid` is gone or a zombie.
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| matches!(rest.trim_start().chars().next(), Some('Z' | 'X'))),
    }
}

fn sigterm(pid: u32) {
    // SAFETY: kill(2) with a pid this test spawned and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
}

#[test]
fn nothing_is_left_after_a_normal_exit_or_a_launch_error() {
    let name = "nothing_is_left_after_a_normal_exit_or_a_launch_error";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let tmp = fresh_tmpdir("exit");
    let o = start(launcher(&tmp, &["--native"]), "")
        .wait_with_output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(entries(&tmp), Vec::<String>::new());

    let junk = tmp.join("not-an-elf");
    std::fs::write(&junk, b"#!/bin/sh\necho hi\n").unwrap();
    let o = start(launcher(&tmp, &["--native", junk.to_str().unwrap()]), "")
        .wait_with_output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ENOEXEC"));
    assert_eq!(entries(&tmp), ["not-an-elf"]);

    // A launch error between the build and the exec: a descriptor the launcher lacks.
    let o = start(launcher(&tmp, &["--native", "hello", "-"]), "- !fd 9\n")
        .wait_with_output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(entries(&tmp), ["not-an-elf"]);
}

#[test]
fn nothing_is_left_after_a_failed_build() {
    let name = "nothing_is_left_after_a_failed_build";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let tmp = fresh_tmpdir("failed-build");
    let mut cmd = launcher(&tmp, &["--native"]);
    cmd.env("CC", "false");
    let o = start(cmd, "").wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(entries(&tmp), Vec::<String>::new());
}

#[test]
fn nothing_is_left_after_sigterm_while_the_program_runs() {
    let name = "nothing_is_left_after_sigterm_while_the_program_runs";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let tmp = fresh_tmpdir("sigterm-run");
    let mut child = start(
        launcher(&tmp, &["--native", "loop", "-"]),
        "out: !fd stdout\ncount: 4000000000\n",
    );
    let pid = child.id();
    let mut tracee = 0;
    wait_until("the traced program", || {
        tracee = children(pid)
            .iter()
            .find(|(_, tracer)| *tracer == pid)
            .map_or(0, |c| c.0);
        tracee != 0
    });
    sigterm(pid);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_eq!(entries(&tmp), Vec::<String>::new());
    // The program does not outlive its launcher.
    wait_until("the traced program to end", || ended(tracee));
}

#[test]
fn nothing_is_left_after_sigterm_during_the_build() {
    let name = "nothing_is_left_after_sigterm_during_the_build";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let tmp = fresh_tmpdir("sigterm-build");
    let mut child = start(launcher(&tmp, &["--native", "loop", "-"]), "out: 1\n");
    let pid = child.id();
    // The build folder exists and a child that is not traced (the build script) runs.
    wait_until("the build", || {
        !entries(&tmp).is_empty() && children(pid).iter().any(|c| c.1 == 0)
    });
    sigterm(pid);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert_eq!(entries(&tmp), Vec::<String>::new());
}

#[test]
fn a_folder_prepared_by_someone_else_is_never_used() {
    let name = "a_folder_prepared_by_someone_else_is_never_used";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let tmp = fresh_tmpdir("prepared");
    // Another user's trap: `$TMPDIR/capexec-programs-<pid>`, world-writable, made in
    // the launcher's own process just before it starts (so with its pid).
    let mut prefix = tmp
        .join("capexec-programs-")
        .into_os_string()
        .into_encoded_bytes();
    assert!(prefix.len() < 4000);
    prefix.shrink_to_fit();
    let mut cmd = launcher(&tmp, &["--native"]);
    // SAFETY: the closure runs between fork and exec and only calls getpid(2),
    // mkdir(2) and chmod(2) on a stack buffer: no allocation, no locks.
    unsafe {
        cmd.pre_exec(move || {
            let mut path = [0u8; 4096];
            path[..prefix.len()].copy_from_slice(&prefix);
            let mut n = prefix.len();
            let pid = libc::getpid() as u32;
            let mut digits = [0u8; 10];
            let mut d = 0;
            let mut v = pid;
            loop {
                digits[d] = b'0' + (v % 10) as u8;
                d += 1;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            while d > 0 {
                d -= 1;
                path[n] = digits[d];
                n += 1;
            }
            path[n] = 0;
            let p = path.as_ptr().cast::<libc::c_char>();
            if libc::mkdir(p, 0o777) != 0 || libc::chmod(p, 0o777) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = start(cmd, "");
    let planted = format!("capexec-programs-{}", child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Hello, world\nHello, world\nHello, world\n"
    );
    assert_eq!(entries(&tmp), std::slice::from_ref(&planted));
    assert_eq!(
        entries(&tmp.join(&planted)),
        Vec::<String>::new(),
        "the prepared folder was used"
    );
}
