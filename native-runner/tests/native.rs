//! Real compiled i386 CloudABI programs, every system call served by
//! capexec's i386 shim (`syscall32`) through the ptrace runner. A test that
//! cannot run fails (see `common/gate.rs` for the one explicit opt-out).
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::exec::{ElfImage, Process};
use capexec::fdtable::{FdRights, Rights};
use capexec_native::{
    Error, HostFile, NATIVE_LAYOUT, NativeProcess, PAGE_SIZE, Termination, rights, run_program,
};
use common::{drain, exe, fd, int, map, null, pipe, seq, setup, table};
use nix::sys::signal::Signal;

/// The descriptors of `p`'s table: number, file, rights.
fn entries(p: &NativeProcess<HostFile>) -> Vec<(i32, Arc<HostFile>, FdRights)> {
    let t = p.fd_table().lock();
    t.iter()
        .map(|(fd, e)| (fd.raw(), e.file().clone(), e.rights()))
        .collect()
}

#[test]
fn man_page_example_prints_three_lines() {
    let Some(dir) = setup("man_page_example_prints_three_lines") else {
        return;
    };
    let (out_r, out) = pipe();
    let (err_r, err) = pipe();
    let launcher = table(&[
        null(),
        (out, rights::STDOUT),
        (err, rights::STDOUT),
        (exe(dir, "hello"), rights::EXECUTABLE),
    ]);
    // The man page's argdata and descriptor list (shared/spec/cloudabi-run.md).
    let argdata = [
        0x07, 0x85, 0x03, 0, 0, 0, 0, 0x85, 0x03, 0, 0, 0, 0, 0x85, 0x03, 0, 0, 0, 0,
    ];
    assert_eq!(argdata.to_vec(), seq(&[fd(0), fd(0), fd(0)]));
    let end = run_program(&dir.join("stub"), launcher, 3, &argdata, &[1]).unwrap();
    assert_eq!(end, Termination::Exited(0));
    assert_eq!(drain(out_r), "Hello, world\n".repeat(3));
    assert_eq!(drain(err_r), "");
}

#[test]
fn the_exec_installs_exactly_the_listed_descriptors() {
    let Some(dir) = setup("the_exec_installs_exactly_the_listed_descriptors") else {
        return;
    };
    let (out_r, out) = pipe();
    let launcher = table(&[
        null(),
        (out.clone(), rights::STDOUT),
        (exe(dir, "hello"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(2, &seq(&[fd(0), fd(0), fd(0)]), &[1]).unwrap();
    let e = entries(&p);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, 0);
    assert!(Arc::ptr_eq(&e[0].1, &out));
    assert_eq!(e[0].2, rights::STDOUT);
    drop(e);
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    assert_eq!(p.syscalls(), 4, "three fd_write and proc_exit");
    drop((p, out));
    assert_eq!(drain(out_r), "Hello, world\n".repeat(3));
}

#[test]
fn procstat_lists_its_table() {
    let Some(dir) = setup("procstat_lists_its_table") else {
        return;
    };
    let (out_r, out) = pipe();
    let file = HostFile::open_read_only(std::path::Path::new("/dev/null")).unwrap();
    let launcher = table(&[
        null(),
        (out, rights::STDOUT),
        (exe(dir, "procstat"), rights::EXECUTABLE),
        (Arc::new(file), rights::FILE),
    ]);
    let end = run_program(
        &dir.join("stub"),
        launcher,
        2,
        &map(&[("out", fd(0))]),
        &[1, 2, 3],
    )
    .unwrap();
    assert_eq!(end, Termination::Exited(0));
    assert_eq!(
        drain(out_r),
        "fd 0: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n\
         fd 1: type 96 flags 0x0 base 0x11c0800a6 inheriting 0x0\n\
         fd 2: type 17 flags 0x0 base 0x11c0800a6 inheriting 0x0\n"
    );
}

#[test]
fn spawn_passes_a_strict_subset() {
    let Some(dir) = setup("spawn_passes_a_strict_subset") else {
        return;
    };
    let (out_r, out) = pipe();
    let (err_r, err) = pipe();
    let (narrow_r, narrow) = pipe();
    let narrow_rights = FdRights::new(Rights::FD_WRITE, Rights::empty());
    let (extra, extra_rights) = null();
    let launcher = table(&[
        null(),
        (out.clone(), rights::STDOUT),
        (err, rights::STDOUT),
        (exe(dir, "spawn"), rights::EXECUTABLE),
        (exe(dir, "procstat"), rights::EXECUTABLE),
        (narrow.clone(), narrow_rights),
        (extra.clone(), extra_rights),
    ]);
    // spawn's table: 0 out, 1 procstat, 2 narrow, 3 err, 4 extra. It passes
    // [2, 0] on: procstat gets narrow as 0 and out as 1, reports to 1, and
    // sees neither the executables, nor err, nor extra.
    let argdata = map(&[
        ("program", fd(1)),
        ("pass", seq(&[fd(2), fd(0)])),
        ("args", map(&[("out", fd(0))])),
        ("err", fd(3)),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(3, &argdata, &[1, 4, 5, 2, 6]).unwrap();
    assert_eq!(entries(&p).len(), 5);
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));

    let e = entries(&p);
    assert_eq!(e.len(), 2, "exactly the subset, nothing else");
    assert_eq!((e[0].0, e[1].0), (0, 1));
    assert!(Arc::ptr_eq(&e[0].1, &narrow));
    assert_eq!(e[0].2, narrow_rights);
    assert!(Arc::ptr_eq(&e[1].1, &out));
    assert_eq!(e[1].2, rights::STDOUT);
    // Nothing else holds extra: the tables it was in are gone.
    assert_eq!(Arc::strong_count(&extra), 1);
    drop((e, p, out, narrow));

    assert_eq!(
        drain(out_r),
        "fd 0: type 130 flags 0x0 base 0x40 inheriting 0x0\n\
         fd 1: type 130 flags 0x0 base 0x10080048 inheriting 0x0\n"
    );
    assert_eq!(drain(err_r), "");
    assert_eq!(drain(narrow_r), "");
}

#[test]
fn spawn_reports_a_failed_exec_and_keeps_running() {
    let Some(dir) = setup("spawn_reports_a_failed_exec_and_keeps_running") else {
        return;
    };
    let (out_r, out) = pipe();
    let procstat = exe(dir, "procstat");
    let launcher = table(&[
        (out.clone(), rights::STDOUT),
        (procstat.clone(), rights::EXECUTABLE),
        (exe(dir, "spawn"), rights::EXECUTABLE),
    ]);
    let argdata = map(&[
        ("program", fd(1)),
        ("pass", seq(&[fd(0), fd(7)])),
        ("err", fd(0)),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(2, &argdata, &[0, 1]).unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(1));
    let e = entries(&p);
    assert_eq!(e.len(), 2, "the table is intact");
    assert!(Arc::ptr_eq(&e[0].1, &out));
    assert!(Arc::ptr_eq(&e[1].1, &procstat));
    drop((e, p, out));
    assert_eq!(drain(out_r), "spawn: proc_exec: errno 8\n");
}

#[test]
fn errors_from_real_code() {
    let Some(dir) = setup("errors_from_real_code") else {
        return;
    };
    let (out_r, out) = pipe();
    let hello = exe(dir, "hello");
    let launcher = table(&[
        (out.clone(), rights::STDOUT),
        (hello.clone(), rights::EXECUTABLE),
        (exe(dir, "errors"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(2, &map(&[("out", fd(0)), ("program", fd(1))]), &[0, 1])
        .unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));

    // After the failed exec the table is the one the program built: out,
    // the executable, and the narrowed duplicate at 3 (2 was closed).
    let e = entries(&p);
    let fds: Vec<i32> = e.iter().map(|x| x.0).collect();
    assert_eq!(fds, [0, 1, 3]);
    assert!(Arc::ptr_eq(&e[0].1, &out));
    assert!(Arc::ptr_eq(&e[1].1, &hello));
    assert!(Arc::ptr_eq(&e[2].1, &out));
    assert_eq!(
        e[2].2,
        FdRights::new(
            rights::STDOUT.base.difference(Rights::FD_WRITE),
            Rights::empty()
        )
    );
    drop((e, p, out));
    assert_eq!(
        drain(out_r),
        "dup 0\nclose 0\nclose_again 8\nstat_closed 8\nreplace_closed 8\n\
         stat_put_narrow 0\nstat_put_widen 76\nwrite_narrowed 76\n\
         write_bad_buf 21\nwrite_bad_iov 21\nstat_bad_ptr 21\n\
         exec_closed 8\nafter_exec 0\ntable_intact 0\nrandom 0\ngs_tcb 0\n"
    );
}

#[test]
fn loop_program_counts_its_calls() {
    let Some(dir) = setup("loop_program_counts_its_calls") else {
        return;
    };
    let (out_r, out) = pipe();
    let launcher = table(&[
        (out, rights::STDOUT),
        (exe(dir, "loop"), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(1, &map(&[("out", fd(0)), ("count", int(1000))]), &[0])
        .unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    assert_eq!(p.syscalls(), 1001);
    drop(p);
    assert_eq!(drain(out_r), "");
}

#[test]
fn a_fault_ends_the_program_with_its_signal() {
    let Some(dir) = setup("a_fault_ends_the_program_with_its_signal") else {
        return;
    };
    let mut bytes = std::fs::read(dir.join("hello")).unwrap();
    // Point the entry at address 0: the first instruction fetch faults.
    bytes[24..28].copy_from_slice(&0u32.to_le_bytes());
    let launcher = table(&[(Arc::new(HostFile::from_bytes(bytes)), rights::EXECUTABLE)]);
    let end = run_program(&dir.join("stub"), launcher, 0, &[], &[]).unwrap();
    assert_eq!(end, Termination::Signaled(Signal::SIGSEGV));
}

#[test]
fn launcher_exec_errors_leave_the_launcher_intact() {
    let Some(dir) = setup("launcher_exec_errors_leave_the_launcher_intact") else {
        return;
    };
    let (out_r, out) = pipe();
    let launcher = table(&[
        (out.clone(), rights::STDOUT),
        (exe(dir, "hello"), rights::EXECUTABLE),
        // A Linux executable, not a CloudABI one.
        (exe(dir, "stub"), rights::EXECUTABLE),
        // hello without PROC_EXEC.
        (
            exe(dir, "hello"),
            FdRights::new(
                rights::FILE.base.difference(Rights::PROC_EXEC),
                Rights::empty(),
            ),
        ),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    let data = seq(&[fd(0)]);
    let errno = |r: Result<(), Error>| match r {
        Err(Error::Exec(e)) => e,
        other => panic!("expected Error::Exec, got {other:?}"),
    };
    assert_eq!(errno(p.exec(2, &data, &[0])), Errno::ENOEXEC);
    assert_eq!(errno(p.exec(3, &data, &[0])), Errno::ENOTCAPABLE);
    assert_eq!(errno(p.exec(1, &data, &[0, 9])), Errno::EBADF);
    assert_eq!(errno(p.exec(9, &data, &[0])), Errno::EBADF);
    assert_eq!(entries(&p).len(), 4);
    // The same launcher still execs.
    p.exec(1, &data, &[0]).unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    drop((p, out));
    assert_eq!(drain(out_r), "Hello, world\n");
}

#[test]
fn an_image_replaces_only_what_the_runner_mapped() {
    let Some(dir) = setup("an_image_replaces_only_what_the_runner_mapped") else {
        return;
    };
    let bytes = std::fs::read(dir.join("hello")).unwrap();
    let launcher = table(&[(
        Arc::new(HostFile::from_bytes(bytes.clone())),
        rights::EXECUTABLE,
    )]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    p.exec(0, &seq(&[]), &[]).unwrap();

    // Tracked: the image's pages, the stack and the vDSO's page, not the launcher's
    // scratch.
    let image = ElfImage::parse(&capexec_sim::MemImage(bytes.as_slice()), 0).unwrap();
    let mut pages: Vec<u32> = image
        .segments
        .iter()
        .flat_map(|s| s.vaddr / PAGE_SIZE..=(s.vaddr + s.memsz - 1) / PAGE_SIZE)
        .collect();
    pages.sort();
    pages.dedup();
    let stack_pages = (NATIVE_LAYOUT.stack_size / PAGE_SIZE) as usize;
    let space = p.address_space();
    assert_eq!(space.mapped_pages(), pages.len() + stack_pages + 1);
    assert!(space.is_mapped(0x0804_8000));
    assert!(space.is_mapped(NATIVE_LAYOUT.sysinfo_ehdr));
    assert!(space.is_mapped(NATIVE_LAYOUT.stack_top - 1));

    // The stub's own text is still mapped where it was linked.
    let pid = space.tracee().pid();
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(
        maps.lines().any(|l| l.starts_with("60000000-")),
        "stub mapping gone:\n{maps}"
    );
    assert!(maps.lines().any(|l| l.starts_with("08048000-")), "{maps}");
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
}

#[test]
fn a_segment_at_address_zero_is_refused_before_the_point_of_no_return() {
    let Some(dir) = setup("a_segment_at_address_zero_is_refused_before_the_point_of_no_return")
    else {
        return;
    };
    let good = std::fs::read(dir.join("hello")).unwrap();
    let mut bad = good.clone();
    // The first PT_LOAD's p_vaddr becomes 0 (root could map it: mmap_min_addr
    // does not hold for CAP_SYS_RAWIO).
    let phoff = u32::from_le_bytes(bad[28..32].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(bad[44..46].try_into().unwrap()) as usize;
    let load = (0..phnum)
        .map(|i| phoff + 32 * i)
        .find(|&ph| bad[ph..ph + 4] == 1u32.to_le_bytes())
        .expect("a PT_LOAD");
    bad[load + 8..load + 12].copy_from_slice(&0u32.to_le_bytes());
    let (out_r, out) = pipe();
    let launcher = table(&[
        (out.clone(), rights::STDOUT),
        (Arc::new(HostFile::from_bytes(bad)), rights::EXECUTABLE),
        (Arc::new(HostFile::from_bytes(good)), rights::EXECUTABLE),
    ]);
    let mut p = NativeProcess::spawn(&dir.join("stub"), launcher).unwrap();
    match p.exec(1, &seq(&[fd(0)]), &[0]) {
        Err(Error::Exec(e)) => assert_eq!(e, Errno::ENOEXEC),
        other => panic!("expected ENOEXEC, got {other:?}"),
    }
    assert!(!p.address_space().is_mapped(0));
    let pid = p.address_space().tracee().pid();
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(!maps.lines().any(|l| l.starts_with("00000000-")), "{maps}");
    // The launcher keeps running and execs the good image.
    assert_eq!(entries(&p).len(), 3);
    p.exec(2, &seq(&[fd(0)]), &[0]).unwrap();
    assert_eq!(p.serve().unwrap(), Termination::Exited(0));
    drop((p, out));
    assert_eq!(drain(out_r), "Hello, world\n");
}
