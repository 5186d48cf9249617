//! The launcher run as users run it: the built binary, real files, real exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloudabi-run"))
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cloudabi-run");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn tmp(name: &str, contents: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn man_page_example_prints_three_lines() {
    let o = run(&[], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, world\nHello, world\nHello, world\n");
    assert_eq!(stderr(&o), "");
}

#[test]
fn hello_writes_through_every_descriptor_in_its_sequence() {
    let o = run(
        &["hello", "-"],
        "- !fd stdout\n- !fd stderr\n- 12\n- !fd stdout\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "Hello, world\nHello, world\n");
    assert_eq!(stderr(&o), "Hello, world\n");
}

#[test]
fn procstat_shows_exactly_the_named_descriptors_in_first_appearance_order() {
    let file = tmp("procstat-input.txt", b"data\n");
    let yaml = format!(
        "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\nerr: !fd stderr\nfile: !file {{path: {}}}\nout: !fd stdout\nagain: !fd stderr\n",
        file.display()
    );
    let o = run(&["procstat", "-"], &yaml);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("  FD") && !l.trim_start().starts_with("rights:"))
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[0].starts_with("   0 SOCKET_STREAM") && rows[0].ends_with("stderr"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("   1 REGULAR_FILE") && rows[1].ends_with(&file.display().to_string()),
        "{out}"
    );
    assert!(
        rows[2].starts_with("   2 SOCKET_STREAM") && rows[2].ends_with("stdout"),
        "{out}"
    );
    // The launcher's rights: stderr (a pipe here, so a stream socket)
    // FD_WRITE|FD_STAT_PUT_FLAGS|FILE_STAT_FGET|POLL_FD_READWRITE.
    assert!(rows[0].contains("0x0000000010080048"), "{out}");
    // A read-only regular file: FD_READ|FD_SEEK|FD_TELL|FILE_ADVISE|FILE_STAT_FGET|
    // MEM_MAP|MEM_MAP_EXEC|POLL_FD_READWRITE|PROC_EXEC.
    assert!(rows[1].contains("0x000000011c0800a6"), "{out}");
}

#[test]
fn procstat_with_no_descriptors_shows_none() {
    let o = run(&["procstat", "-"], "{}\n");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
}

#[test]
fn argdata_prints_every_type_byte_exact() {
    let yaml = "%TAG ! tag:nuxi.nl,2015:cloudabi/
---
n: ~
t: true
i: -42
x: 0x10
o: 0o17
f: 1.5
e: 5e-1
inf: -.inf
s: \"quoted 123\"
b: !!binary SGVsbG8=
ts: !!timestamp 2015-07-14T06:39:59.073238121Z
fd: !fd stdout
seq: [1, two, {}]
";
    let o = run(&["argdata", "-"], yaml);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want = "%TAG ! tag:nuxi.nl,2015:cloudabi/
---
!!map {
  ? !!str \"n\"
  : !!null \"null\",
  ? !!str \"t\"
  : !!bool \"true\",
  ? !!str \"i\"
  : !!int \"-42\",
  ? !!str \"x\"
  : !!int \"16\",
  ? !!str \"o\"
  : !!int \"15\",
  ? !!str \"f\"
  : !!float \"1.5\",
  ? !!str \"e\"
  : !!float \"5e-1\",
  ? !!str \"inf\"
  : !!float \"-.inf\",
  ? !!str \"s\"
  : !!str \"quoted 123\",
  ? !!str \"b\"
  : !!binary \"SGVsbG8=\",
  ? !!str \"ts\"
  : !!timestamp \"2015-07-14T06:39:59.073238121Z\",
  ? !!str \"fd\"
  : !fd \"0\",
  ? !!str \"seq\"
  : !!seq [
    !!int \"1\",
    !!str \"two\",
    !!map {},
  ],
}
";
    assert_eq!(stdout(&o), want);
}

#[test]
fn raw_prints_exactly_print_yaml_for_the_reference_vectors() {
    // A few rows of the reference library's print_yaml vectors, through --raw.
    let cases: &[(&[u8], &str)] = &[
        (&[0x01, 0x48, 0x65], "!!binary \"SGU=\""),
        (&[0x03, 0xca, 0xfe, 0xba, 0xbe], "!fd \"invalid\""),
        (
            &[0x04, 0x11, 0xb6, 0x10, 0xcf, 0xc6, 0x59, 0x40, 0x9e],
            "!!float \"2.384516613265578e-223\"",
        ),
        (
            &[0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            "!!int \"18446744073709551615\"",
        ),
        (&[0x02, 0x02], "!!null \"null\""),
        (&[], "!!null \"null\""),
    ];
    for (i, (bytes, yaml)) in cases.iter().enumerate() {
        let f = tmp(&format!("raw{i}.bin"), bytes);
        let o = run(&["--raw", f.to_str().unwrap(), "argdata"], "");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(
            stdout(&o),
            format!("%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n{yaml}\n")
        );
    }
}

#[test]
fn trace_reports_the_syscall_boundary() {
    let o = run(&["--trace"], "");
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("proc_exec(") && err.contains("data_len=19") && err.contains("[1]"),
        "{err}"
    );
    assert!(err.contains("fd_write("), "{err}");
}

fn assert_launcher_error(o: &Output, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(127),
        "stdout: {} stderr: {}",
        stdout(o),
        stderr(o)
    );
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("cloudabi-run: ") && err.contains(needle),
        "{needle:?} in {err}"
    );
    assert_eq!(stdout(o), "", "nothing runs on error");
}

#[test]
fn missing_file_is_an_error() {
    let o = run(&["hello", "-"], "- !file {path: /nonexistent/capexec}\n");
    assert_launcher_error(&o, "cannot open /nonexistent/capexec");
}

#[test]
fn unknown_tag_is_an_error() {
    let o = run(&["hello", "-"], "- !socket {bind: /tmp/x}\n");
    assert_launcher_error(&o, "unknown tag !socket");
}

#[test]
fn bad_yaml_is_an_error_with_line_and_column() {
    let o = run(&["hello", "-"], "- a\n- [b\n");
    assert_launcher_error(&o, "YAML syntax error at line 3");
}

#[test]
fn descriptor_the_launcher_does_not_have_is_an_error() {
    let o = run(&["hello", "-"], "- !fd 97\n");
    assert_launcher_error(&o, "descriptor 97 is not open in the launcher");
}

#[test]
fn file_attributes_are_checked() {
    let o = run(&["hello", "-"], "- !file {path: /etc/hostname, mode: rw}\n");
    assert_launcher_error(&o, "no attribute \"mode\"");
    let o = run(&["hello", "-"], "- !file {}\n");
    assert_launcher_error(&o, "!file needs a path");
}

#[test]
fn aliases_are_rejected() {
    let o = run(&["argdata", "-"], "a: &x 1\nb: *x\n");
    assert_launcher_error(&o, "aliases are not supported");
}

#[test]
fn unknown_program_is_an_error() {
    let o = run(&["nosuch"], "");
    assert_launcher_error(&o, "unknown program");
}

#[test]
fn inherited_descriptor_reaches_the_host_file() {
    // `!fd 1` with the launcher's stdout redirected to a file: the program's writes land there.
    let out = tmp("inherited.txt", b"");
    let f = std::fs::File::create(&out).unwrap();
    let o = bin()
        .args(["hello", "-"])
        .stdin(Stdio::piped())
        .stdout(f)
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"- !fd 1\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "Hello, world\n");
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "../../native-runner/tests/common/gate.rs"]
mod gate;

/// `--native` runs compiled i386 code. A machine without ptrace or
/// `gcc -m32` fails the test unless the run opted out (`gate`); a launcher
/// that cannot build the programs on a machine that has both fails it too.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn native_or_skip(name: &str, args: &[&str], stdin: &str) -> Option<Output> {
    if !gate::machine_ready(name) {
        return None;
    }
    gate::ran(name);
    Some(run(args, stdin))
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_man_page_example_prints_three_lines() {
    let Some(o) = native_or_skip(
        "native_man_page_example_prints_three_lines",
        &["--native"],
        "",
    ) else {
        return;
    };
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, world\nHello, world\nHello, world\n");
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_procstat_shows_exactly_the_named_descriptors() {
    let yaml = "out: !fd stdout\nlog: !fd stderr\nagain: !fd stdout\n";
    let Some(o) = native_or_skip(
        "native_procstat_shows_exactly_the_named_descriptors",
        &["--native", "procstat", "-"],
        yaml,
    ) else {
        return;
    };
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        // Standard output is a pipe here: a stream socket, as in the simulated mode.
        "fd 0: type 130 flags 0x0 base 0x10080048 inheriting 0x0\nfd 1: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n"
    );
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_exec_error_is_reported_by_name() {
    // A file that is not an image: the exec fails before its point of no return.
    let junk = tmp("not-an-elf", b"#!/bin/sh\necho hi\n");
    let Some(o) = native_or_skip(
        "native_exec_error_is_reported_by_name",
        &["--native", junk.to_str().unwrap()],
        "",
    ) else {
        return;
    };
    assert_launcher_error(&o, "proc_exec failed: ENOEXEC");
}
