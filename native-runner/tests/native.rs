//! Real compiled i386 CloudABI programs run under the ptrace runner. Each
//! test prints "SKIPPED <name>" and passes where ptrace is not permitted.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::io::Write;
use std::path::Path;

use capexec_native::{Action, I386Regs, SyscallHandler, Termination, Tracee, TraceeMemory};
use common::{Desc, MiniKernel, exec_file, fd, int, map, seq, setup};

/// Only fd_write (to a captured buffer and the host's stdout) and
/// proc_exit: the least a handler needs for `hello`.
struct HelloHandler {
    written: Vec<u8>,
    calls: usize,
}

impl SyscallHandler for HelloHandler {
    fn syscall(&mut self, regs: &mut I386Regs, mem: &mut TraceeMemory) -> Action {
        self.calls += 1;
        let arg = |i: u32| mem.read_u32(regs.esp + 4 + 4 * i).unwrap();
        match regs.eax {
            16 => {
                let (iov, n) = (arg(1), arg(2));
                let mut total = 0;
                for i in 0..n {
                    let buf = mem.read_u32(iov + 8 * i).unwrap();
                    let len = mem.read_u32(iov + 8 * i + 4).unwrap();
                    let mut data = vec![0u8; len as usize];
                    mem.copy_in(buf, &mut data).unwrap();
                    std::io::stdout().write_all(&data).unwrap();
                    self.written.extend_from_slice(&data);
                    total += len;
                }
                regs.return_ok(total, 0);
                Action::Continue
            }
            39 => Action::Exit(arg(0)),
            _ => {
                regs.return_errno(52);
                Action::Continue
            }
        }
    }
}

fn start(dir: &Path, program: &str, argdata: Vec<u8>) -> Tracee {
    let mut t = Tracee::spawn(&dir.join("stub")).expect("spawn stub");
    t.exec(exec_file(&dir.join(program), argdata))
        .expect("load program");
    t
}

#[test]
fn hello_man_page_example() {
    let Some(dir) = setup("hello_man_page_example") else {
        return;
    };
    // The man page's argdata: descriptor 0 three times.
    let argdata = vec![
        0x07, 0x85, 0x03, 0, 0, 0, 0, 0x85, 0x03, 0, 0, 0, 0, 0x85, 0x03, 0, 0, 0, 0,
    ];
    assert_eq!(argdata, seq(&[fd(0), fd(0), fd(0)]));
    let mut t = start(dir, "hello", argdata);
    let mut h = HelloHandler {
        written: Vec::new(),
        calls: 0,
    };
    assert_eq!(t.serve(&mut h).unwrap(), Termination::Exited(0));
    assert_eq!(
        String::from_utf8(h.written).unwrap(),
        "Hello, world\n".repeat(3)
    );
    assert_eq!(h.calls, 4);
}

#[test]
fn procstat_lists_its_table() {
    let Some(dir) = setup("procstat_lists_its_table") else {
        return;
    };
    let table = vec![
        Some(Desc::sink(0)),
        Some(Desc::exe(dir.join("hello"))),
        Some(Desc::sink(1)),
    ];
    let mut k = MiniKernel::new(table, 2);
    let mut t = start(dir, "procstat", map(&[("out", fd(2))]));
    assert_eq!(t.serve(&mut k).unwrap(), Termination::Exited(0));
    assert_eq!(
        k.output(1),
        "fd 0: type 17 flags 0x0 base 0x10000048 inheriting 0x0\n\
         fd 1: type 96 flags 0x0 base 0x11c0800a6 inheriting 0x0\n\
         fd 2: type 17 flags 0x0 base 0x10000048 inheriting 0x0\n"
    );
    assert!(k.outputs[0].is_empty());
}

#[test]
fn spawn_passes_a_strict_subset() {
    let Some(dir) = setup("spawn_passes_a_strict_subset") else {
        return;
    };
    let mut narrow = Desc::sink(2);
    narrow.base = common::FD_WRITE;
    let table = vec![
        Some(Desc::sink(0)),
        Some(Desc::sink(1)),
        Some(Desc::exe(dir.join("procstat"))),
        Some(narrow),
        Some(Desc::sink(3)),
    ];
    let mut k = MiniKernel::new(table, 4);
    // procstat gets [old 3, old 1] and reports to old 1, now descriptor 1.
    let argdata = map(&[
        ("program", fd(2)),
        ("pass", seq(&[fd(3), fd(1)])),
        ("args", map(&[("out", fd(1))])),
        ("err", fd(4)),
    ]);
    let mut t = start(dir, "spawn", argdata);
    assert_eq!(t.serve(&mut k).unwrap(), Termination::Exited(0));
    assert_eq!(k.execs, 1);
    assert_eq!(k.output(3), "");
    assert_eq!(
        k.output(1),
        "fd 0: type 17 flags 0x0 base 0x40 inheriting 0x0\n\
         fd 1: type 17 flags 0x0 base 0x10000048 inheriting 0x0\n"
    );
}

#[test]
fn spawn_reports_a_failed_exec_and_keeps_running() {
    let Some(dir) = setup("spawn_reports_a_failed_exec_and_keeps_running") else {
        return;
    };
    let table = vec![Some(Desc::sink(0)), Some(Desc::exe(dir.join("procstat")))];
    let mut k = MiniKernel::new(table, 1);
    let argdata = map(&[
        ("program", fd(1)),
        ("pass", seq(&[fd(0), fd(7)])),
        ("err", fd(0)),
    ]);
    let mut t = start(dir, "spawn", argdata);
    assert_eq!(t.serve(&mut k).unwrap(), Termination::Exited(1));
    assert_eq!(k.output(0), "spawn: proc_exec: errno 8\n");
}

#[test]
fn errors_from_real_code() {
    let Some(dir) = setup("errors_from_real_code") else {
        return;
    };
    let table = vec![Some(Desc::sink(0)), Some(Desc::exe(dir.join("hello")))];
    let mut k = MiniKernel::new(table, 1);
    let mut t = start(dir, "errors", map(&[("out", fd(0)), ("program", fd(1))]));
    assert_eq!(t.serve(&mut k).unwrap(), Termination::Exited(0));
    assert_eq!(
        k.output(0),
        "dup 0\nclose 0\nclose_again 8\nstat_closed 8\nreplace_closed 8\n\
         stat_put_narrow 0\nstat_put_widen 76\nwrite_narrowed 76\n\
         write_bad_buf 21\nwrite_bad_iov 21\nstat_bad_ptr 21\n\
         exec_closed 8\nafter_exec 0\ntable_intact 0\nrandom 0\ngs_tcb 0\n"
    );
    assert_eq!(k.execs, 0);
}

#[test]
fn loop_program_counts_its_calls() {
    let Some(dir) = setup("loop_program_counts_its_calls") else {
        return;
    };
    let mut h = HelloHandler {
        written: Vec::new(),
        calls: 0,
    };
    let mut t = start(dir, "loop", map(&[("out", fd(0)), ("count", int(1000))]));
    assert_eq!(t.serve(&mut h).unwrap(), Termination::Exited(0));
    assert_eq!(h.calls, 1001);
    assert!(h.written.is_empty());
}

#[test]
fn a_fault_ends_the_program_with_its_signal() {
    let Some(dir) = setup("a_fault_ends_the_program_with_its_signal") else {
        return;
    };
    let mut bytes = std::fs::read(dir.join("hello")).unwrap();
    // Point the entry at address 0: the first instruction fetch faults.
    bytes[24..28].copy_from_slice(&0u32.to_le_bytes());
    let mut t = Tracee::spawn(&dir.join("stub")).unwrap();
    t.exec(capexec_native::Exec {
        image: capexec_native::ImageLayout::from_elf(&bytes).unwrap(),
        stack_size: 4096,
        build_stack: common::cloudabi_stack(Vec::new()),
    })
    .unwrap();
    let mut h = HelloHandler {
        written: Vec::new(),
        calls: 0,
    };
    assert_eq!(
        t.serve(&mut h).unwrap(),
        Termination::Signaled(nix::sys::signal::Signal::SIGSEGV)
    );
}
