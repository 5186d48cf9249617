//! Host descriptors as the program gets them: standard input read without buffering,
//! `!fd N` as a duplicate of the launcher's own descriptor N, and one table of host
//! file types and rights shared with the native runner.

mod common;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use common::{assert_launcher_error, bin, sh, stderr, stdout, tmp};

/// Puts the parent's descriptor `raw` at `target` in the child, inheritable.
fn put_at(cmd: &mut std::process::Command, raw: i32, target: i32) {
    // SAFETY: dup2 and fcntl are async-signal-safe and touch only the child's table.
    unsafe {
        cmd.pre_exec(move || {
            let r = if raw == target {
                libc::fcntl(raw, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, target)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A program reading 6 bytes takes 6 bytes from a shared standard input: the rest is
/// there for the next reader.
#[test]
fn stdin_is_read_no_further_than_asked() {
    let cfg = tmp(
        "copy6.yaml",
        b"{from: !fd stdin, to: !fd stdout, bytes: 6}\n",
    );
    let o = sh(&format!(
        "printf 'abcdef123' | {{ \"$BIN\" copy {}; echo \" exit $?\"; cat; }}",
        cfg.display()
    ));
    assert_eq!(stdout(&o), "abcdef exit 0\n123", "{}", stderr(&o));
}

/// With 3 closed and 5 open, `!fd 3` is refused: the launcher's own files are never
/// taken for inherited ones.
#[test]
fn a_descriptor_closed_at_startup_is_refused() {
    let data = tmp("fd5.txt", b"five\n");
    let cfg = tmp("fd5-fd3.yaml", b"[!fd 5, !fd 3]\n");
    let o = sh(&format!(
        "exec 3<&- 5<{}; exec \"$BIN\" procstat {}",
        data.display(),
        cfg.display()
    ));
    assert_launcher_error(&o, "descriptor 3 is not open in the launcher");
    // 5 alone is fine and names the file.
    let cfg = tmp("fd5.yaml", b"[!fd 5]\n");
    let o = sh(&format!(
        "exec 3<&- 5<{}; exec \"$BIN\" procstat {}",
        data.display(),
        cfg.display()
    ));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("   0 REGULAR_FILE"), "{}", stdout(&o));
    assert!(stdout(&o).contains("fd5.txt"), "{}", stdout(&o));
}

/// A socket passed as `!fd 5` reaches the program (reopening it by path cannot work).
#[test]
fn a_socket_passed_as_fd_n_works() {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let raw = theirs.as_raw_fd();
    let mut cmd = bin();
    cmd.args(["hello", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    put_at(&mut cmd, raw, 5);
    let mut child = cmd.spawn().unwrap();
    drop(theirs);
    child.stdin.take().unwrap().write_all(b"[!fd 5]\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut got = [0u8; 13];
    ours.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"Hello, world\n");
}

/// The program's reads move the offset of the parent's descriptor: it is the same
/// open file, not a reopened copy.
#[test]
fn the_offset_is_shared_with_the_parent() {
    let data = tmp("digits.txt", b"0123456789");
    let cfg = tmp("copy4.yaml", b"{from: !fd 5, to: !fd stdout, bytes: 4}\n");
    let o = sh(&format!(
        "exec 5<{}; \"$BIN\" copy {} && echo && cat <&5",
        data.display(),
        cfg.display()
    ));
    assert_eq!(stdout(&o), "0123\n456789", "{}", stderr(&o));
}

/// One table of types for both launchers: a pipe and a stream socket are
/// `SOCKET_STREAM`, a character device `CHARACTER_DEVICE`, with the standard rights.
#[test]
fn host_types_and_rights_are_those_of_the_shared_table() {
    let (_ours, theirs) = UnixStream::pair().unwrap();
    let raw = theirs.as_raw_fd();
    let mut cmd = bin();
    cmd.args(["procstat", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    put_at(&mut cmd, raw, 7);
    let mut child = cmd.spawn().unwrap();
    drop(theirs);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"[!fd stdout, !file {path: /dev/null}, !fd 7, !fd stdin]\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("   ") && !l.contains("rights:"))
        .collect();
    let want = [
        // stdout (a pipe here): FD_WRITE|FD_STAT_PUT_FLAGS|FILE_STAT_FGET|POLL.
        "   0 SOCKET_STREAM    0x0000000010080048",
        // /dev/null read-only: a character device with stdin's rights.
        "   1 CHARACTER_DEVICE 0x000000001008000a",
        // A stream socket opened read-write.
        "   2 SOCKET_STREAM    0x000000001008004a",
        // stdin (a pipe here): FD_READ|FD_STAT_PUT_FLAGS|FILE_STAT_FGET|POLL.
        "   3 SOCKET_STREAM    0x000000001008000a",
    ];
    assert_eq!(rows.len(), want.len(), "{out}");
    for (row, want) in rows.iter().zip(want) {
        assert!(row.starts_with(want), "{want:?} in {out}");
    }
}
