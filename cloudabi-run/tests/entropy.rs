//! No fixed-seed fallback: on a host without randomness (the `getrandom` system call
//! refused, no `/dev/urandom`) the launcher fails with one line, exit 127, instead of
//! giving the program predictable canaries.
#![cfg(target_os = "linux")]

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::{BIN, assert_launcher_error, stderr, stdout};

/// Makes `getrandom(2)` fail with `EPERM` in this process and its children (a seccomp
/// filter; no privilege needed after `PR_SET_NO_NEW_PRIVS`).
fn refuse_getrandom() -> std::io::Result<()> {
    let nr = libc::SYS_getrandom as u32;
    let filter = [
        // A = seccomp_data.nr
        libc::sock_filter {
            code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt: 0,
            jf: 1,
            k: nr,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
        libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: libc::SECCOMP_RET_ALLOW,
        },
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl with valid arguments; `prog` points at `filter`, alive for the call.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            || libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &raw const prog,
            ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[test]
fn no_randomness_fails_the_launch() {
    // A private mount namespace with an empty /dev: no /dev/urandom to fall back on.
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c"])
        .arg("mount --make-rprivate / && mount -t tmpfs none /dev && exec \"$BIN\"")
        .env("BIN", BIN)
        .stdin(Stdio::null());
    // SAFETY: the filter is installed in the child between fork and exec; prctl is
    // async-signal-safe and the closure allocates nothing.
    unsafe {
        cmd.pre_exec(refuse_getrandom);
    }
    let o = cmd
        .output()
        .expect("unshare (util-linux) must be installed");
    assert_launcher_error(&o, "the host has no randomness");
    assert_eq!(stdout(&o), "", "{}", stderr(&o));
}

#[test]
fn with_randomness_the_same_launch_runs() {
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg("mount --make-rprivate / && mount -t tmpfs none /dev && exec \"$BIN\"")
        .env("BIN", BIN)
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) must be installed");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, world\n".repeat(3));
}
