//! A whole `proc_exec` through the i386 shim with several descriptors, then the new
//! program making system calls of its own through the same shim.

mod common;

use std::sync::Arc;

use capexec::abi::{SyscallAction, read_argdata, read_start_info};
use capexec::exec::{copyin, copyout};
use common::*;

#[test]
fn new_program_sees_exactly_its_descriptors_and_writes_to_the_old_stdout() {
    let stdin = stream_with_input("stdin", b"typed");
    let stdout = TFile::stream("stdout");
    let log = TFile::stream("log");
    let dir = TFile::directory("home");
    let exe = TFile::regular("prog", test_elf());
    let mut p = process_with(&[
        Some((stdin.clone(), stream_rights())),
        Some((stdout.clone(), stream_rights())),
        Some((TFile::stream("stderr"), stream_rights())),
        Some((exe.clone(), exe_rights())),
        None,
        Some((log.clone(), stream_rights())),
        Some((dir.clone(), exe_rights())),
    ]);
    // New 0 = old stdout, 1 = old stdin, 2 = the directory, 3 = old stdout again,
    // 4 = the log.
    let data = b"\x06argdata bytes";
    let mut regs = exec_frame(&mut p, 3, data, &[1, 0, 6, 1, 5]);
    let action = run(&mut p, &mut regs);
    assert!(matches!(action, SyscallAction::Exec(_)), "{action:?}");
    assert_eq!(Arc::strong_count(&exe), 1, "executable not passed on");

    // The program's side: its argdata.
    let info = read_start_info(&p.mem, regs.esp).unwrap();
    assert_eq!(read_argdata(&p.mem, &info).unwrap(), data);

    // The new program makes system calls from its own stack, just below its esp.
    let new_esp = regs.esp;
    let scratch = regs.esp - 0x1000;
    let call = |p: &mut Proc, nr: u32, args: &[u32]| {
        let esp = new_esp - 0x200;
        let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
        copyout(&mut p.mem, esp + 4, &words).unwrap();
        let mut r = capexec::abi::Regs32 {
            eax: nr,
            esp,
            eip: 0x0804_8054,
            ..Default::default()
        };
        let act = run(p, &mut r);
        assert_eq!(act, SyscallAction::Resume);
        r
    };

    // fd_stat_get on 0, 1, ... until EBADF: exactly 0..5 are open.
    let mut open = Vec::new();
    let mut types = Vec::new();
    for n in 0..64u32 {
        let r = call(&mut p, 13, &[n, scratch]);
        if r.carry() {
            assert_eq!(r.eax, 8, "EBADF");
            // And every higher number is closed too.
            for m in [n + 1, n + 10, 1000] {
                assert!(call(&mut p, 13, &[m, scratch]).carry());
            }
            break;
        }
        let mut st = [0u8; 24];
        copyin(&p.mem, scratch, &mut st).unwrap();
        open.push(n);
        types.push(st[0]);
    }
    assert_eq!(open, vec![0, 1, 2, 3, 4]);
    assert_eq!(types, vec![17, 17, 32, 17, 17]);

    // fd_write to descriptor 0 reaches the old stdout; to 4 the log.
    copyout(&mut p.mem, scratch, b"hello from the new image\n").unwrap();
    let iov = scratch + 0x100;
    copyout(
        &mut p.mem,
        iov,
        &[scratch.to_le_bytes(), 25u32.to_le_bytes()].concat(),
    )
    .unwrap();
    let r = call(&mut p, 16, &[0, iov, 1]);
    assert!(!r.carry());
    assert_eq!(r.eax, 25);
    assert_eq!(stdout.output(), b"hello from the new image\n");
    let r = call(&mut p, 16, &[3, iov, 1]);
    assert_eq!((r.carry(), r.eax), (false, 25));
    assert_eq!(stdout.output().len(), 50, "descriptor 3 is stdout too");
    let r = call(&mut p, 16, &[4, iov, 1]);
    assert_eq!((r.carry(), r.eax), (false, 25));
    assert_eq!(log.output(), b"hello from the new image\n");

    // fd_read from descriptor 1 reads the old stdin.
    copyout(
        &mut p.mem,
        iov,
        &[scratch.to_le_bytes(), 16u32.to_le_bytes()].concat(),
    )
    .unwrap();
    let r = call(&mut p, 10, &[1, iov, 1]);
    assert_eq!((r.carry(), r.eax), (false, 5));
    let mut got = [0u8; 5];
    copyin(&p.mem, scratch, &mut got).unwrap();
    assert_eq!(&got, b"typed");

    // Closing the program's descriptors releases the old files.
    for n in 0..5 {
        assert!(!call(&mut p, 3, &[n, 0]).carry());
    }
    assert_eq!(Arc::strong_count(&stdout), 1);
    assert_eq!(Arc::strong_count(&stdin), 1);
    assert_eq!(Arc::strong_count(&dir), 1);
    assert_eq!(Arc::strong_count(&log), 1);
    assert!(call(&mut p, 13, &[0, scratch]).carry());

    // proc_exit ends it.
    let esp = new_esp - 0x200;
    copyout(&mut p.mem, esp + 4, &7u32.to_le_bytes()).unwrap();
    let mut r = capexec::abi::Regs32 {
        eax: 39,
        esp,
        ..Default::default()
    };
    assert_eq!(run(&mut p, &mut r), SyscallAction::Exit(7));
}
