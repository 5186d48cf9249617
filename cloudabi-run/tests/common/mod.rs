//! Running the built binary as users run it: shell pipelines, inherited descriptors,
//! and the launcher's one-line errors.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The built `cloudabi-run`.
pub const BIN: &str = env!("CARGO_BIN_EXE_cloudabi-run");

/// A command running the built binary.
pub fn bin() -> Command {
    Command::new(BIN)
}

/// Runs the binary with `args`, `stdin` as its standard input.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cloudabi-run");
    let mut input = child.stdin.take().unwrap();
    // The launcher may stop reading early (a limit): a broken pipe is fine.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

/// `sh -c script` with `$BIN` set to the built binary.
pub fn sh(script: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("BIN", BIN)
        .stdin(Stdio::null())
        .output()
        .expect("sh")
}

/// A file under the test's temporary directory holding `contents`.
pub fn tmp(name: &str, contents: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A launcher error: exit 127, one line on stderr starting `cloudabi-run: ` and holding
/// `needle`, nothing on stdout.
pub fn assert_launcher_error(o: &Output, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(127),
        "stdout: {} stderr: {}",
        stdout(o),
        stderr(o)
    );
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.ends_with('\n'), "{err:?}");
    assert!(
        err.starts_with("cloudabi-run: ") && err.contains(needle),
        "{needle:?} in {err:?}"
    );
    assert_eq!(stdout(o), "", "nothing runs on error");
}
