//! The kernel-space exec entry: `exec_sysspace_data_fds` then `kern_execve`, against the
//! user-space one (`proc_exec`, which copies the same bytes in from user memory). For the
//! same input both give the same outcome, the same new table and the same new memory;
//! every error is the user path's error, and leaves the process exactly as it was.

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::cloudabi32::ARG_MAX;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, EntryState32, Layout32};
use capexec::exec::{
    ExecOutcome, copyout, exec_copyin_data_fds, exec_sysspace_data_fds, kern_execve, proc_exec,
};
use capexec::fdtable::{Fd, FdRights, FileType};
use common::*;
use proptest::prelude::*;

/// The user path: `data` and `fds` written into the caller's memory, then `proc_exec`.
fn user_exec(p: &mut Proc, exe: u32, data: &[u8], fds: &[i32]) -> ExecOutcome<EntryState32> {
    copyout(&mut p.mem, CALLER_DATA, data).unwrap();
    let list: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
    copyout(&mut p.mem, CALLER_FDS, &list).unwrap();
    let mut rng = TestRng(0x9e37_79b9_7f4a_7c15);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    proc_exec(
        p,
        &mut act,
        exe,
        CALLER_DATA,
        data.len() as u32,
        CALLER_FDS,
        fds.len() as u32,
    )
}

/// The kernel path: the arguments straight from kernel slices, then `kern_execve`.
fn kernel_exec(p: &mut Proc, exe: i32, data: &[u8], fds: &[i32]) -> ExecOutcome<EntryState32> {
    let args = match exec_sysspace_data_fds::<Cloudabi32, _, _>(&p.table, data, fds) {
        Ok(a) => a,
        Err(e) => return ExecOutcome::Failed(e),
    };
    let mut rng = TestRng(0x9e37_79b9_7f4a_7c15);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    kern_execve(p, &mut act, Fd::from_raw(exe).unwrap(), args)
}

/// The new image's memory as the tests can see it: mapped pages, the whole stack
/// region, the image's first page and the vDSO page (`None` where unmapped).
fn new_memory(p: &Proc) -> (usize, Vec<Option<Vec<u8>>>) {
    let l = Layout32::default();
    let regions = [
        (l.stack_top - l.stack_size, l.stack_size as usize),
        (0x0804_8000, 0x1000),
        (l.sysinfo_ehdr, 0x1000),
    ];
    let pages = regions
        .iter()
        .map(|&(addr, len)| {
            let mut b = vec![0u8; len];
            p.mem.peek(addr, &mut b).ok().map(|_| b)
        })
        .collect();
    (p.mem.mapped_pages(), pages)
}

/// Descriptor 0 the executable, then `streams` passable streams.
fn files_with_streams(streams: usize) -> Vec<Option<(Arc<TFile>, FdRights)>> {
    let mut files = vec![Some((TFile::regular("exe", test_elf()), exe_rights()))];
    for _ in 0..streams {
        files.push(Some((TFile::stream("s"), stream_rights())));
    }
    files
}

/// A name, how many streams the table holds, the data, the descriptor list.
type SameCase = (&'static str, usize, Vec<u8>, Vec<i32>);

/// A name, the executable, the data, the descriptor list, the error both entries give.
type ErrorCase<'a> = (&'static str, i32, &'a [u8], Vec<i32>, Errno);

#[test]
fn both_entries_build_the_same_table_and_stack() {
    let long: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let many: Vec<i32> = (0..100).map(|i| 1 + (i * 13) % 100).collect();
    let cases: [SameCase; 5] = [
        ("no data, no descriptors", 3, vec![], vec![]),
        (
            "small data, a repeated descriptor",
            3,
            b"hello".to_vec(),
            vec![1, 1, 2],
        ),
        ("the executable passed on", 3, b"x".to_vec(), vec![0, 3]),
        ("3000 bytes, 100 descriptors (a heap list)", 100, long, many),
        (
            "the longest data",
            1,
            vec![0xa5; ARG_MAX as usize - 1],
            vec![1],
        ),
    ];
    for (name, streams, data, fds) in cases {
        let files = files_with_streams(streams);
        let all: Vec<Arc<TFile>> = files.iter().flatten().map(|(f, _)| f.clone()).collect();
        let mut by_user = process_with(&files);
        let mut by_kernel = process_with(&files);
        let u = user_exec(&mut by_user, 0, &data, &fds);
        let k = kernel_exec(&mut by_kernel, 0, &data, &fds);
        assert!(matches!(u, ExecOutcome::Replaced(_)), "{name}: {u:?}");
        assert_eq!(k, u, "{name}: outcome");
        assert_eq!(
            snapshot(&by_kernel),
            snapshot(&by_user),
            "{name}: new table"
        );
        assert_eq!(snapshot(&by_kernel).len(), fds.len(), "{name}: table size");
        assert!(
            new_memory(&by_kernel) == new_memory(&by_user),
            "{name}: new memory differs"
        );
        drop(by_user);
        // One process left holding the files: the references of one table plus ours.
        let counts = strong_counts(&all);
        let expected: Vec<usize> = (0..all.len())
            .map(|i| 1 + 1 + fds.iter().filter(|&&f| f == i as i32).count())
            .collect();
        assert_eq!(counts, expected, "{name}: reference counts");
    }
}

#[test]
fn the_arguments_are_those_given() {
    let files = files_with_streams(2);
    let p = process_with(&files);
    let args =
        exec_sysspace_data_fds::<Cloudabi32, _, _>(&p.table, b"argdata", &[2, 1, 2]).unwrap();
    assert_eq!(args.data(), b"argdata");
    assert_eq!(args.data_with_nul(), b"argdata\0");
    assert_eq!(args.data_len(), 7);
    let t = args.fd_table().unwrap();
    let files_of: Vec<*const TFile> = t.iter().map(|(_, e)| Arc::as_ptr(e.file())).collect();
    let f = |i: usize| Arc::as_ptr(&files[i].as_ref().unwrap().0);
    assert_eq!(files_of, vec![f(2), f(1), f(2)]);
    let empty = exec_sysspace_data_fds::<Cloudabi32, _, _>(&p.table, b"", &[]).unwrap();
    assert_eq!(empty.data_with_nul(), b"");
    assert_eq!(empty.fd_table().unwrap().len(), 0);
    drop((args, empty));
    assert_eq!(
        strong_counts(
            &files
                .iter()
                .flatten()
                .map(|(f, _)| f.clone())
                .collect::<Vec<_>>()
        ),
        vec![3, 3, 3],
        "the dropped arguments released their references"
    );
}

/// 0 exe, 1 stream, 2 hole, 3 unpassable, 4 directory, 5 regular but no image,
/// 6 an image without `PROC_EXEC`.
fn error_files() -> Vec<Option<(Arc<TFile>, FdRights)>> {
    vec![
        Some((TFile::regular("exe", test_elf()), exe_rights())),
        Some((TFile::stream("out"), stream_rights())),
        None,
        Some((TFile::unpassable("kq"), stream_rights())),
        Some((typed("dir", FileType::Directory), exe_rights())),
        Some((
            TFile::regular("text", b"#!/bin/sh\n".to_vec()),
            exe_rights(),
        )),
        Some((TFile::regular("exe2", test_elf()), stream_rights())),
    ]
}

#[test]
fn every_error_is_the_user_paths_and_changes_nothing() {
    let too_long = vec![0u8; ARG_MAX as usize];
    let cases: [ErrorCase<'_>; 12] = [
        ("data of ARG_MAX bytes", 0, &too_long, vec![], Errno::E2BIG),
        (
            "more descriptors than the table",
            0,
            b"x",
            vec![1; 8],
            Errno::E2BIG,
        ),
        ("a closed descriptor", 0, b"x", vec![1, 2], Errno::EBADF),
        ("a negative descriptor", 0, b"x", vec![-1], Errno::EBADF),
        (
            "a descriptor past the table",
            0,
            b"x",
            vec![1, 99],
            Errno::EBADF,
        ),
        ("an unpassable descriptor", 0, b"x", vec![3], Errno::EINVAL),
        ("a closed executable", 2, b"x", vec![1], Errno::EBADF),
        ("a directory", 4, b"x", vec![1], Errno::EACCES),
        (
            "a stream without PROC_EXEC",
            1,
            b"x",
            vec![1],
            Errno::ENOTCAPABLE,
        ),
        ("a file that is no image", 5, b"x", vec![1], Errno::ENOEXEC),
        (
            "an image without PROC_EXEC",
            6,
            b"x",
            vec![1],
            Errno::ENOTCAPABLE,
        ),
        // The arguments are built first: their error wins over the executable's.
        (
            "a directory and a closed descriptor",
            4,
            b"",
            vec![2],
            Errno::EBADF,
        ),
    ];
    for (name, exe, data, fds, expected) in cases {
        let files = error_files();
        let all: Vec<Arc<TFile>> = files.iter().flatten().map(|(f, _)| f.clone()).collect();

        let mut by_kernel = process_with(&files);
        let before = proc_state(&by_kernel, &all);
        let k = kernel_exec(&mut by_kernel, exe, data, &fds);
        assert_eq!(k, ExecOutcome::Failed(expected), "{name}: kernel entry");
        assert!(
            proc_state(&by_kernel, &all) == before,
            "{name}: the failed kernel entry changed the process"
        );
        drop(by_kernel);

        let mut by_user = process_with(&files);
        let u = user_exec(&mut by_user, exe as u32, data, &fds);
        assert_eq!(u, k, "{name}: the user entry disagrees");
        drop(by_user);

        assert_eq!(
            strong_counts(&all),
            vec![2; all.len()],
            "{name}: a reference leaked"
        );
    }
}

#[test]
fn the_arguments_alone_fail_without_touching_the_table() {
    let files = error_files();
    let all: Vec<Arc<TFile>> = files.iter().flatten().map(|(f, _)| f.clone()).collect();
    let p = process_with(&files);
    let before = proc_state(&p, &all);
    for (data, fds, expected) in [
        (&[0u8; ARG_MAX as usize][..], vec![], Errno::E2BIG),
        (&b""[..], vec![0; 8], Errno::E2BIG),
        (&b"x"[..], vec![0, 1, i32::MIN], Errno::EBADF),
        (&b"x"[..], vec![0, 3], Errno::EINVAL),
    ] {
        let r = exec_sysspace_data_fds::<Cloudabi32, _, _>(&p.table, data, &fds);
        assert_eq!(r.unwrap_err(), expected, "{fds:?}");
        // The user entry's copy-in agrees.
        let mut q = process_with(&files);
        copyout(&mut q.mem, CALLER_DATA, data).unwrap();
        let list: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
        copyout(&mut q.mem, CALLER_FDS, &list).unwrap();
        let c = exec_copyin_data_fds(
            &q.table,
            &q.mem,
            CALLER_DATA,
            data.len() as u32,
            CALLER_FDS,
            fds.len() as u32,
        );
        assert_eq!(c.unwrap_err(), expected, "user entry, {fds:?}");
    }
    assert!(proc_state(&p, &all) == before);
}

/// A descriptor slot of a generated table: a hole, a passable stream, or an unpassable
/// one.
fn slot() -> impl Strategy<Value = u8> {
    0u8..3
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// For any table, data and list, the kernel-space entry and the user-space copy-in
    /// agree: the same error, or the same data and the same new table; and the caller's
    /// table is untouched either way.
    #[test]
    fn both_entries_agree(
        slots in proptest::collection::vec(slot(), 0..10),
        data in proptest::collection::vec(any::<u8>(), 0..300),
        fds in proptest::collection::vec(-2i32..12, 0..12),
    ) {
        let files: Vec<Option<(Arc<TFile>, FdRights)>> = slots
            .iter()
            .map(|&s| match s {
                0 => None,
                1 => Some((TFile::stream("s"), stream_rights())),
                _ => Some((TFile::unpassable("kq"), stream_rights())),
            })
            .collect();
        let all: Vec<Arc<TFile>> = files.iter().flatten().map(|(f, _)| f.clone()).collect();
        let mut p = process_with(&files);
        copyout(&mut p.mem, CALLER_DATA, &data).unwrap();
        let list: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
        copyout(&mut p.mem, CALLER_FDS, &list).unwrap();
        let before = proc_state(&p, &all);

        let k = exec_sysspace_data_fds::<Cloudabi32, _, _>(&p.table, &data, &fds);
        let u = exec_copyin_data_fds(
            &p.table,
            &p.mem,
            CALLER_DATA,
            data.len() as u32,
            CALLER_FDS,
            fds.len() as u32,
        );
        let rows = |a: &capexec::exec::ImageArgs<Arc<TFile>>| -> Vec<(*const TFile, FdRights)> {
            a.fd_table()
                .unwrap()
                .iter()
                .map(|(_, e)| (Arc::as_ptr(e.file()), e.rights()))
                .collect()
        };
        match (&k, &u) {
            (Ok(k), Ok(u)) => {
                prop_assert_eq!(k.data_with_nul(), u.data_with_nul());
                prop_assert_eq!(rows(k), rows(u));
                prop_assert_eq!(k.data(), &data[..]);
            }
            (Err(k), Err(u)) => prop_assert_eq!(k, u),
            _ => prop_assert!(false, "kernel {:?}, user {:?}", k, u),
        }
        drop((k, u));
        prop_assert!(proc_state(&p, &all) == before);
    }
}
