//! What a hostile program cannot do to escape the runner: from 64-bit mode
//! (a far jump to the 64-bit code segment, selector 0x33) it gets no host
//! kernel result through the legacy vsyscall page, and a `proc_exec` made
//! from there starts the new image in 32-bit mode. The stub holds no vDSO
//! (whose data pages would give the host's time without a trap) and runs
//! under a seccomp filter before any image is loaded.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::sync::Arc;

use capexec_native::{NativeProcess, Termination, rights};
use common::{drain, exe, fd, int, map, pipe, setup, table};
use nix::sys::signal::Signal;

#[test]
fn the_vsyscall_page_gives_no_host_result() {
    let Some(dir) = setup("the_vsyscall_page_gives_no_host_result") else {
        return;
    };
    // Where the host has the page (vsyscall=xonly or emulate, the defaults), its
    // emulation consults seccomp: SIGSYS. With vsyscall=none the call just faults.
    let page = std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .contains("[vsyscall]");
    let expected = if page {
        Signal::SIGSYS
    } else {
        Signal::SIGSEGV
    };
    // gettimeofday, time, getcpu.
    for call in 0..3 {
        let (out_r, out) = pipe();
        let launcher = table(&[
            (out.clone(), rights::STDOUT),
            (exe(dir, "mode64"), rights::EXECUTABLE),
        ]);
        let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
        p.exec(1, &map(&[("out", fd(0)), ("do", int(call))]), &[0])
            .unwrap();
        let end = p.serve().unwrap();
        drop((p, out));
        let printed = drain(out_r);
        assert_eq!(
            printed, "",
            "vsyscall {call}: the program got a host result"
        );
        assert_eq!(end, Termination::Signaled(expected), "vsyscall {call}");
    }
}

#[test]
fn an_exec_from_64_bit_mode_starts_the_image_in_32_bit_mode() {
    let Some(dir) = setup("an_exec_from_64_bit_mode_starts_the_image_in_32_bit_mode") else {
        return;
    };
    let (out_r, out) = pipe();
    let mode64 = exe(dir, "mode64");
    let launcher = table(&[
        (out.clone(), rights::STDOUT),
        (mode64.clone(), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(
        1,
        &map(&[("out", fd(0)), ("do", int(3)), ("program", fd(1))]),
        &[0, 1],
    )
    .unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    drop((p, out));
    assert_eq!(Arc::strong_count(&mode64), 1);
    // 0x23: the 32-bit user code segment.
    assert_eq!(drain(out_r), "cs 35\n");
}

#[test]
fn the_stub_is_confined_before_any_image_runs() {
    let Some(dir) = setup("the_stub_is_confined_before_any_image_runs") else {
        return;
    };
    let p = NativeProcess::spawn(&dir.join("stub"), table(&[])).unwrap();
    let pid = p.address_space().tracee().pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.split_whitespace().eq(["Seccomp:", "2"])),
        "no seccomp filter:\n{status}"
    );
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(
        !maps.contains("[vdso]") && !maps.contains("[vvar"),
        "the vDSO is still mapped:\n{maps}"
    );
}
