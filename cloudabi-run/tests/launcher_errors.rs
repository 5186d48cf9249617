//! The launcher's failures a user meets: a FIFO named by `!file`, hostile bytes in
//! error messages, and a program whose every write fails.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, assert_launcher_error, run, sh, stderr, tmp};

/// `!file` on a FIFO with no writer is refused at once (it used to wait forever for
/// a writer).
#[test]
fn file_on_a_fifo_is_refused_without_waiting() {
    let dir = tmp("fifo-dir-marker", b"");
    let fifo = dir.with_file_name("no-writer.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let cfg = tmp(
        "fifo.yaml",
        format!("- !file {{path: {}}}\n", fifo.display()).as_bytes(),
    );
    let mut child = Command::new(BIN)
        .args(["hello", cfg.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("cloudabi-run still waits on a FIFO without a writer");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert_launcher_error(&o, "is a FIFO (pass an open pipe with !fd N instead)");
}

/// Control bytes from the configuration are escaped: the error stays one line and
/// sends no escape sequence to the terminal.
#[test]
fn control_bytes_in_errors_are_escaped() {
    let o = run(
        &["hello", "-"],
        b"- !file {path: \"/nonexistent/\\e[31mred\\nsecond line\\r\"}\n",
    );
    assert_launcher_error(
        &o,
        "cannot open /nonexistent/\\u{1b}[31mred\\nsecond line\\r",
    );
    assert!(
        !stderr(&o)
            .trim_end_matches('\n')
            .chars()
            .any(char::is_control)
    );
    let o = run(&["hello", "-"], b"- !fd \"1\\x1b]0;title\\x07\"\n");
    assert_launcher_error(&o, "not \"1\\u{1b}]0;title\\u{7}\"");
}

/// `hello` whose every write fails exits non-zero.
#[test]
fn hello_fails_when_its_writes_fail() {
    // Standard output is /dev/full: every write is ENOSPC.
    let o = sh("exec \"$BIN\" >/dev/full; ");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A descriptor without FD_WRITE: ENOTCAPABLE.
    let f = tmp("read-only.txt", b"x");
    let o = run(
        &["hello", "-"],
        format!("- !file {{path: {}}}\n", f.display()).as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // One good write among failures is still a failure; all good is 0.
    let o = sh("exec \"$BIN\" hello - 2>/dev/full <<EOF\n[!fd stdout, !fd stderr]\nEOF");
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["hello", "-"], b"[!fd stdout, !fd stderr]\n");
    assert_eq!(o.status.code(), Some(0));
}
