//! Real CloudABI programs, linked against the unmodified upstream C library, run through
//! `cloudabi-run --native`: they link their system calls from capexec's vDSO and make
//! them through the shim exactly as on a CloudABI kernel.
//!
//! The programs are fixtures kept outside the repository, in `shared/realprog/bin` beside
//! the checkout (or beside one of its parent folders); `CAPEXEC_REALPROG_DIR` names
//! another folder. Where they are absent the tests fail, unless the run opted out of
//! native tests (`CAPEXEC_ALLOW_NATIVE_SKIP=1`, which CI never sets).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

#[path = "../../native-runner/tests/common/gate.rs"]
mod gate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The variable naming the fixtures folder.
const DIR_VAR: &str = "CAPEXEC_REALPROG_DIR";

/// The fixtures folder: `CAPEXEC_REALPROG_DIR`, else the first `shared/realprog/bin`
/// beside the repository or one of its parents.
fn fixtures_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(DIR_VAR) {
        let dir = PathBuf::from(dir);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!("{DIR_VAR}={} is not a folder", dir.display()))
        };
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let repo = repo.canonicalize().unwrap_or(repo);
    repo.ancestors()
        .skip(1)
        .map(|a| a.join("shared/realprog/bin"))
        .find(|d| d.is_dir())
        .ok_or_else(|| {
            format!(
                "no shared/realprog/bin beside {} or its parents (set {DIR_VAR})",
                repo.display()
            )
        })
}

/// The path of real program `program`, when the test `name` can run; `None` when the
/// run opted out (recorded). Fails the test otherwise.
fn real_program(name: &str, program: &str) -> Option<PathBuf> {
    if !gate::machine_ready(name) {
        return None;
    }
    match fixtures_dir() {
        Ok(dir) => {
            let path = dir.join(program);
            assert!(path.is_file(), "{} is missing", path.display());
            gate::ran(name);
            Some(path)
        }
        Err(why) => {
            gate::machine_lacks(name, &why);
            None
        }
    }
}

/// Runs `cloudabi-run --native PROGRAM -` with `config` on standard input.
fn run_native(program: &Path, config: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudabi-run"))
        .arg("--native")
        .arg(program)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts what a run printed on each stream and its exit status.
#[track_caller]
fn assert_output(out: &Output, stdout: &str, stderr: &str, code: i32) {
    assert_eq!(text(&out.stdout), stdout);
    assert_eq!(text(&out.stderr), stderr);
    assert_eq!(out.status.code(), Some(code));
}

#[test]
fn hello_real_prints_hello_world() {
    let name = "hello_real_prints_hello_world";
    let Some(hello) = real_program(name, "hello_real") else {
        return;
    };
    let out = run_native(&hello, "out: !fd stdout\n");
    assert_output(&out, "Hello, world\n", "", 0);
}

#[test]
fn hello_real_writes_to_the_descriptor_it_is_given() {
    // The same program, its `out` being standard error: nothing on standard output.
    let name = "hello_real_writes_to_the_descriptor_it_is_given";
    let Some(hello) = real_program(name, "hello_real") else {
        return;
    };
    let out = run_native(&hello, "out: !fd stderr\n");
    assert_output(&out, "", "Hello, world\n", 0);
}

#[test]
fn trace_shows_every_call_of_hello_real_decoded() {
    let name = "trace_shows_every_call_of_hello_real_decoded";
    let Some(hello) = real_program(name, "hello_real") else {
        return;
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloudabi-run"))
        .args(["--trace", "--native"])
        .arg(&hello)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"out: !fd stdout\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "Hello, world\n");
    let err = text(&out.stderr);
    let calls: Vec<&str> = err.lines().filter_map(|l| l.strip_prefix("  ")).collect();
    // `dprintf(out, "Hello, world\n")` is one fd_write of 13 bytes from one iovec on the
    // program's descriptor 0 (its only one), then `exit(0)`.
    assert_eq!(calls.len(), 2, "{err}");
    assert!(
        calls[0].starts_with("fd_write(fd=0, iovs=0x") && calls[0].ends_with(", iovs_len=1) -> 13"),
        "{err}"
    );
    assert_eq!(calls[1], "proc_exit(rval=0)", "{err}");
}

/// `procstat_real` (cloudlibc's `cap_rights_get_explicit`) sees the rights the
/// configuration narrowed, and the same host descriptor twice when asked for with
/// different rights; its `fstat` works on the standard streams (pipes here: CloudABI's
/// `SOCKET_STREAM`, which cloudlibc's `S_ISFIFO` accepts, as it does for a stream
/// socket) and on files, and is refused (`ENOTCAPABLE`) where `file_stat_fget` was
/// dropped.
#[test]
fn procstat_real_shows_the_narrowed_rights() {
    let name = "procstat_real_shows_the_narrowed_rights";
    let Some(procstat) = real_program(name, "procstat_real") else {
        return;
    };
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("procstat-real-rights.txt");
    std::fs::write(&data, b"data\n").unwrap();
    let config = format!(
        "out: !fd stdout
log: !fd {{fd: stderr, rights: [fd_write]}}
err: !fd stderr
data: !file {{path: {0}, rights: [fd_read, file_stat_fget]}}
plain: !file {{path: {0}}}
self: !executable {{rights: [proc_exec, fd_read]}}
",
        data.display()
    );
    let out = run_native(&procstat, &config);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "fd 0: fifo accmode 0x10000000 base write,fstat,event inheriting -
fd 1: Capabilities insufficient accmode 0x10000000 base write inheriting -
fd 2: fifo accmode 0x10000000 base write,fstat,event inheriting -
fd 3: regular accmode 0x4000000 base read,fstat inheriting -
fd 4: regular accmode 0x4000000 base read,seek,fstat,fexecve,mmap,event inheriting -
fd 5: Capabilities insufficient accmode 0x4000000 base read,fexecve inheriting -
"
    );
}

/// `procstat_real` (cloudlibc's `fcntl`, `cap_rights_get_explicit` and `fstat` on every
/// descriptor until `EBADF`) sees exactly the configuration's descriptors, renumbered
/// from 0 in the order the argument data lists them, each with the type and the rights
/// the launcher gave it: pipes are stream sockets, a `!file` and the `!executable`
/// regular files; no line reports an error.
#[test]
fn procstat_real_reports_exactly_the_configured_descriptors() {
    let name = "procstat_real_reports_exactly_the_configured_descriptors";
    let Some(procstat) = real_program(name, "procstat_real") else {
        return;
    };
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("procstat-real-types.txt");
    std::fs::write(&data, b"data\n").unwrap();
    // Standard input, output and error are pipes here (the config arrives on stdin).
    let config = format!(
        "out: !fd stdout\ndata: !file {{path: {}}}\nin: !fd stdin\nself: !executable\nerr: !fd stderr\n",
        data.display()
    );
    let out = run_native(&procstat, &config);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    let file = "regular accmode 0x4000000 base read,seek,fstat,fexecve,mmap,event inheriting -";
    // A pipe is a SOCKET_STREAM; cloudlibc gives S_IFIFO and S_IFSOCK the same value, so
    // the program's first test, S_ISFIFO, names it "fifo".
    let writer = "fifo accmode 0x10000000 base write,fstat,event inheriting -";
    let reader = "fifo accmode 0x4000000 base read,fstat,event inheriting -";
    let expected: String = [writer, file, reader, file, writer]
        .iter()
        .enumerate()
        .map(|(fd, line)| format!("fd {fd}: {line}\n"))
        .collect();
    assert_eq!(text(&out.stdout), expected);
}

/// `exec_real` (cloudlibc's `program_exec`: jemalloc's `mem_map`/`mem_unmap`, then
/// `proc_exec`) starts `child` with the argument data `{out: <out>}`, holding only that
/// descriptor though `exec_real` itself holds four.
fn exec_real_child(name: &str, child: &str) -> Option<Output> {
    let exec = real_program(name, "exec_real")?;
    let child = exec.with_file_name(child);
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exec-real-data.txt");
    std::fs::write(&data, b"data\n").unwrap();
    let config = format!(
        "program: !file {{path: {}}}\nout: !fd stdout\nerr: !fd stderr\ndata: !file {{path: {}}}\n",
        child.display(),
        data.display()
    );
    Some(run_native(&exec, &config))
}

#[test]
fn exec_real_starts_hello_real_with_one_descriptor() {
    let Some(out) = exec_real_child(
        "exec_real_starts_hello_real_with_one_descriptor",
        "hello_real",
    ) else {
        return;
    };
    assert_output(&out, "Hello, world\n", "", 0);
}

#[test]
fn exec_real_starts_procstat_real_holding_exactly_one_descriptor() {
    let name = "exec_real_starts_procstat_real_holding_exactly_one_descriptor";
    let Some(out) = exec_real_child(name, "procstat_real") else {
        return;
    };
    // One line: descriptor 0 is the pipe `out`; descriptor 1 is already EBADF.
    let line = "fd 0: fifo accmode 0x10000000 base write,fstat,event inheriting -\n";
    assert_output(&out, line, "", 0);
}

/// A `!file` whose configuration dropped `proc_exec` cannot be executed: the kernel
/// refuses `proc_exec` with `ENOTCAPABLE`, which cloudlibc's `program_exec` reports as
/// `EBADF` for a regular file. With `proc_exec` kept (and nothing else), it starts.
#[test]
fn exec_real_cannot_start_a_file_without_proc_exec() {
    let name = "exec_real_cannot_start_a_file_without_proc_exec";
    let Some(exec) = real_program(name, "exec_real") else {
        return;
    };
    let hello = exec.with_file_name("hello_real");
    let config = |rights: &str| {
        format!(
            "program: !file {{path: {}, rights: [{rights}]}}\nout: !fd stdout\n",
            hello.display()
        )
    };
    let out = run_native(&exec, &config("fd_read, mem_map, mem_map_exec"));
    let refused = "exec_real: program_exec: Bad file descriptor\n";
    assert_output(&out, refused, "", 1);
    let out = run_native(&exec, &config("proc_exec"));
    assert_output(&out, "Hello, world\n", "", 0);
}
