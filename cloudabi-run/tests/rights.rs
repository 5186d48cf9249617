//! Per-descriptor rights in the configuration, through the built launcher: a mixed
//! configuration gets exactly the expected table (simulated and native), the same host
//! descriptor with different rights is two descriptors, widening and unknown names are
//! launcher errors, `--trace` shows the narrowing, and a program cannot use a right it
//! was not given (`ENOTCAPABLE`).

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};

use common::{assert_launcher_error, bin, run, stderr, stdout, tmp};

/// Puts the parent's descriptor `raw` at `target` in the child, inheritable.
fn put_at(cmd: &mut Command, raw: i32, target: i32) {
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

/// A pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned by no one else.
    unsafe {
        use std::os::fd::FromRawFd;
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    }
}

/// Runs the launcher with `args` and `config` on standard input, one end of a stream
/// socket pair at descriptor 5 and the write end of a pipe at descriptor 6. Returns its
/// output, what arrived on the socket, and what arrived on the pipe.
fn run_with_socket(args: &[&str], config: &str) -> (Output, Vec<u8>, Vec<u8>) {
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    let (pipe_r, pipe_w) = pipe();
    let mut cmd = bin();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    put_at(&mut cmd, theirs.as_raw_fd(), 5);
    put_at(&mut cmd, pipe_w.as_raw_fd(), 6);
    let mut child = cmd.spawn().unwrap();
    drop((theirs, pipe_w));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    ours.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    ours.set_nonblocking(true).unwrap();
    let _ = ours.read_to_end(&mut got);
    let mut piped = Vec::new();
    std::fs::File::from(pipe_r).read_to_end(&mut piped).unwrap();
    (o, got, piped)
}

/// The mixed configuration: plain and narrowed forms of the same host descriptors.
fn mixed_config(data: &str) -> String {
    format!(
        "%TAG ! tag:nuxi.nl,2015:cloudabi/
---
out: !fd stdout
log: !fd {{fd: stderr, rights: [fd_write]}}
err: !fd stderr
again: !fd {{fd: 2, rights: [fd_write]}}
data: !file {{path: {data}, rights: [fd_read, fd_seek], inheriting: []}}
plain: !file {{path: {data}}}
sock: !fd {{fd: 5, rights: [fd_read, poll_fd_readwrite]}}
sockrw: !fd 5
pipe: !fd 6
self: !executable {{rights: [proc_exec]}}
"
    )
}

/// The simulated `procstat`'s table, without the `rights:` lines.
fn rows(out: &str) -> Vec<String> {
    out.lines()
        .skip(1)
        .filter(|l| !l.trim_start().starts_with("rights:"))
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn a_mixed_configuration_gets_exactly_the_expected_table() {
    let data = tmp("rights-data.txt", b"data\n");
    let data = data.to_str().unwrap();
    let (o, _, _) = run_with_socket(&["procstat", "-"], &mixed_config(data));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let rows = rows(&out);
    // Standard output and error are pipes here: stream sockets.
    let want = [
        "   0 SOCKET_STREAM    0x0000000010080048 0x0000000000000000 stdout".to_string(),
        "   1 SOCKET_STREAM    0x0000000000000040 0x0000000000000000 stderr".to_string(),
        "   2 SOCKET_STREAM    0x0000000010080048 0x0000000000000000 stderr".to_string(),
        format!("   3 REGULAR_FILE     0x0000000000000006 0x0000000000000000 {data}"),
        format!("   4 REGULAR_FILE     0x000000011c0800a6 0x0000000000000000 {data}"),
        "   5 SOCKET_STREAM    0x0000000010000002 0x0000000000000000 socket:".to_string(),
        "   6 SOCKET_STREAM    0x000000001008004a 0x0000000000000000 socket:".to_string(),
        "   7 SOCKET_STREAM    0x0000000010080048 0x0000000000000000 pipe:".to_string(),
        "   8 REGULAR_FILE     0x0000000100000000 0x0000000000000000 builtin:procstat".to_string(),
    ];
    assert_eq!(rows.len(), want.len(), "{out}");
    for (row, want) in rows.iter().zip(&want) {
        assert!(row.starts_with(want.as_str()), "{want:?} in\n{out}");
    }
    // The rights by name.
    assert!(out.contains("     rights: FD_WRITE\n"), "{out}");
    assert!(out.contains("     rights: FD_READ|FD_SEEK\n"), "{out}");
    assert!(
        out.contains("     rights: FD_READ|POLL_FD_READWRITE\n"),
        "{out}"
    );
    assert!(out.contains("     rights: PROC_EXEC\n"), "{out}");

    // The argument data references the right descriptor: `log` and `again` are one
    // (identical descriptor and rights), `err` another, `sock` and `sockrw` two.
    let (o, _, _) = run_with_socket(&["argdata", "-"], &mixed_config(data));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fds: Vec<(String, String)> = stdout(&o)
        .split("? !!str \"")
        .skip(1)
        .map(|pair| {
            let key = pair.split('"').next().unwrap().to_string();
            let value = pair.split(": ").nth(1).unwrap();
            let value = value.lines().next().unwrap().trim_end_matches(',');
            (key, value.to_string())
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("out", 0),
        ("log", 1),
        ("err", 2),
        ("again", 1),
        ("data", 3),
        ("plain", 4),
        ("sock", 5),
        ("sockrw", 6),
        ("pipe", 7),
        ("self", 8),
    ]
    .iter()
    .map(|(k, n)| (k.to_string(), format!("!fd \"{n}\"")))
    .collect();
    assert_eq!(fds, want, "{}", stdout(&o));
}

#[test]
fn widening_and_unknown_names_are_launcher_errors() {
    let cases = [
        (
            "a: 1\nlog: !fd {fd: stderr, rights: [fd_read]}\n",
            "line 2, column 6: stderr: the launcher does not hold rights fd_read (rights can \
             only be narrowed)",
        ),
        (
            "- !fd {fd: stdout, inheriting: [fd_write]}\n",
            "line 1, column 3: stdout: the launcher does not hold inheriting rights fd_write",
        ),
        (
            "- !file {path: /dev/null, rights: [fd_write]}\n",
            "line 1, column 3: /dev/null: the launcher does not hold rights fd_write",
        ),
        (
            "- !executable {rights: [proc_exec, sock_shutdown]}\n",
            "the executable: the launcher does not hold rights sock_shutdown",
        ),
        (
            "- !fd {fd: stdout, rights: [fd_write, fd_wirte]}\n",
            "line 1, column 39: unknown right \"fd_wirte\"",
        ),
        (
            "- !fd {fd: stdout, rights: [FD_WRITE]}\n",
            "unknown right \"FD_WRITE\"",
        ),
    ];
    for (config, want) in cases {
        let o = run(&["hello", "-"], config.as_bytes());
        assert_launcher_error(&o, want);
    }
}

#[test]
fn trace_shows_the_narrowing() {
    let data = tmp("rights-trace.txt", b"x");
    let config = format!(
        "- !fd {{fd: stderr, rights: [fd_write]}}\n- !file {{path: {}, rights: [fd_read]}}\n",
        data.display()
    );
    let o = run(&["--trace", "procstat", "-"], config.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "narrow stderr: launcher fd 4 (a duplicate of 2): base 0x10080048 -> 0x40 \
             [fd_write], inheriting 0x0 -> 0x0 [-]\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "narrow {}: launcher fd 5: base 0x11c0800a6 -> 0x2 [fd_read], inheriting 0x0 -> 0x0 [-]\n",
            data.display()
        )),
        "{err}"
    );
    // The narrowing comes before the exec, which passes the narrowed descriptors.
    let narrow = err.find("narrow ").unwrap();
    let exec = err.find("proc_exec(").unwrap();
    assert!(narrow < exec, "{err}");
    assert!(err.contains("fds=[4, 5], fds_len=2)"), "{err}");
}

/// The simulated kernel refuses a write on a descriptor without `FD_WRITE`; the same
/// host descriptor passed plainly still writes.
#[test]
fn a_dropped_right_is_enotcapable_in_the_simulation() {
    let o = run(
        &["--trace", "hello", "-"],
        b"[!fd {fd: stdout, rights: [file_stat_fget]}, !fd stdout]\n",
    );
    assert_eq!(o.status.code(), Some(1), "one write failed: {}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, world\n");
    let err = stderr(&o);
    let writes: Vec<&str> = err
        .lines()
        .filter(|l| l.trim_start().starts_with("fd_write("))
        .collect();
    assert_eq!(writes.len(), 2, "{err}");
    assert!(
        writes[0].starts_with("  fd_write(fd=0, ") && writes[0].ends_with("-> ENOTCAPABLE"),
        "{err}"
    );
    assert!(
        writes[1].starts_with("  fd_write(fd=1, ") && writes[1].ends_with("-> 13"),
        "{err}"
    );
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[path = "../../native-runner/tests/common/gate.rs"]
mod gate;

/// Native tests fail, never skip, on a machine that cannot run them (see `gate`).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn native_ready(name: &str) -> bool {
    if !gate::machine_ready(name) {
        return false;
    }
    gate::ran(name);
    true
}

/// The same configuration natively: the real `procstat` sees the narrowed rights.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_procstat_shows_the_narrowed_rights() {
    if !native_ready("native_procstat_shows_the_narrowed_rights") {
        return;
    }
    let data = tmp("rights-native-data.txt", b"data\n");
    let (o, _, _) = run_with_socket(
        &["--native", "procstat", "-"],
        &mixed_config(data.to_str().unwrap()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "fd 0: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n\
         fd 1: type 130 flags 0x0 base 0x40 inheriting 0x0\n\
         fd 2: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n\
         fd 3: type 96 flags 0x0 base 0x6 inheriting 0x0\n\
         fd 4: type 96 flags 0x0 base 0x11c0800a6 inheriting 0x0\n\
         fd 5: type 130 flags 0x0 base 0x10000002 inheriting 0x0\n\
         fd 6: type 130 flags 0x0 base 0x1008004a inheriting 0x0\n\
         fd 7: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n\
         fd 8: type 96 flags 0x0 base 0x100000000 inheriting 0x0\n"
    );
}

/// A real program's `fd_write` on a read-only descriptor gets `ENOTCAPABLE` (76): the
/// socket narrowed to `fd_read` cannot write, the same socket passed plainly can, and
/// standard output narrowed to `file_stat_fget` cannot either.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_write_on_a_read_only_descriptor_is_enotcapable() {
    if !native_ready("native_write_on_a_read_only_descriptor_is_enotcapable") {
        return;
    }
    let config = "out: !fd stdout
write:
  - !fd {fd: 5, rights: [fd_read]}
  - !fd 5
  - !fd {fd: stdout, rights: [fd_write]}
  - !fd {fd: stdout, rights: [file_stat_fget]}
";
    let (o, sock, _) = run_with_socket(&["--native", "tryio", "-"], config);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "tryio\nwrite 0 errno 76\nwrite 1 errno 0\nwrite 2 errno 0\nwrite 3 errno 76\n"
    );
    assert_eq!(sock, b"tryio\n", "one write reached the socket");
}

/// The bundled programs built into a folder of the test's own, for a configuration
/// that names one by path.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn built_programs(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("rights-programs")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    capexec_native::build_programs(&dir).unwrap()
}

/// A `!file` can be executed by the program it is passed to (it holds `PROC_EXEC`),
/// unless the configuration drops that right: then `proc_exec` is `ENOTCAPABLE`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_a_file_can_be_executed_unless_proc_exec_is_dropped() {
    if !native_ready("native_a_file_can_be_executed_unless_proc_exec_is_dropped") {
        return;
    }
    let dir = built_programs("exec-file");
    let procstat = dir.join("procstat");
    let config = |rights: &str| {
        format!(
            "program: !file {{path: {}{rights}}}\npass: [!fd stdout]\nargs: {{out: !fd stdout}}\nerr: !fd stderr\n",
            procstat.display()
        )
    };
    let o = run(&["--native", "spawn", "-"], config("").as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "fd 0: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n"
    );
    let o = run(
        &["--native", "spawn", "-"],
        config(", rights: [fd_read, mem_map, mem_map_exec]").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "spawn: proc_exec: errno 76\n");
}

/// `--help` documents the syntax and names every CloudABI right (from the `cloudabi`
/// crate, not from the launcher's own table).
#[test]
fn help_documents_the_rights_syntax() {
    let o = run(&["--help"], b"");
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for needle in [
        "\nRIGHTS\n",
        "log: !fd {fd: stderr, rights: [fd_write]}",
        "!file {path: /etc/hosts, rights: [fd_read, fd_seek], inheriting: []}",
        "!executable {rights: [proc_exec]}",
        "Rights can only be narrowed",
    ] {
        assert!(help.contains(needle), "{needle:?} in\n{help}");
    }
    let words: Vec<&str> = help.split_whitespace().collect();
    let all = cloudabi::rights::all().bits();
    for bit in (0..64).map(|i| 1u64 << i).filter(|b| all & b != 0) {
        let name = format!("{:?}", cloudabi::rights::from_bits_truncate(bit)).to_ascii_lowercase();
        assert!(words.contains(&name.as_str()), "{name} in\n{help}");
    }
    assert!(help.lines().all(|l| l.len() <= 88), "{help}");
}
