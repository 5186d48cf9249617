//! A whole `proc_exec` through the i386 shim: from a register frame to the new program
//! reading its argdata and descriptors through the program's side of the ABI.

mod common;

use std::sync::Arc;

use capexec::abi::{STACK_HEADER, SyscallAction, read_argdata, read_start_info};
use capexec::fdtable::FileType;
use common::*;

#[test]
fn man_page_example_end_to_end() {
    let exe = TFile::regular("hello", test_elf());
    let out = TFile::stream("stdout");
    let err = TFile::stream("stderr");
    let mut p = process_with(&[
        Some((TFile::stream("stdin"), stream_rights())),
        Some((out.clone(), stream_rights())),
        Some((err.clone(), stream_rights())),
        Some((exe.clone(), exe_rights())),
    ]);
    // The argdata of the man page: three times descriptor 0, fd list [1].
    let data = [
        7, 0x85, 3, 0, 0, 0, 0, 0x85, 3, 0, 0, 0, 0, 0x85, 3, 0, 0, 0, 0,
    ];
    let mut regs = exec_frame(&mut p, 3, &data, &[1]);
    let action = run(&mut p, &mut regs);
    let SyscallAction::Exec(entry) = action else {
        panic!("exec failed: {action:?} {regs:?}")
    };
    assert_eq!(entry.eip, 0x0804_8000 + 52 + 32);
    assert_eq!(regs.eip, entry.eip);
    assert_eq!(regs.esp, entry.esp);
    assert_eq!(regs.gs_base, entry.esp);

    // Exactly one descriptor, the old stdout, rights kept, close-on-exec clear.
    let snap = snapshot(&p);
    assert_eq!(snap.len(), 1);
    assert_eq!(snap[0].0, 0);
    assert_eq!(snap[0].1, Arc::as_ptr(&out));
    assert_eq!(snap[0].2, stream_rights());
    assert!(!snap[0].3);
    assert_eq!(
        capexec::fdtable::File::file_type(&**p.table.lock().file(fd(0)).unwrap()),
        FileType::CharacterDevice
    );
    // The old table was released: stdin, stderr and the executable have no holder left
    // but the test (the activator's reference was dropped too).
    assert_eq!(Arc::strong_count(&exe), 1);
    assert_eq!(Arc::strong_count(&err), 1);
    assert_eq!(Arc::strong_count(&out), 2);

    // The program's side: the auxiliary vector leads to the same bytes.
    let info = read_start_info(&p.mem, regs.esp).unwrap();
    assert_eq!(info.tcb, regs.esp + 8);
    assert_eq!(info.auxv, regs.esp + 12);
    assert_eq!(info.argdata_len, data.len() as u32);
    assert_eq!(info.argdata, regs.esp + STACK_HEADER);
    assert_eq!(read_argdata(&p.mem, &info).unwrap(), data);
    assert_eq!(info.page_size, 4096);
    assert_eq!(info.phdr, (0x0804_8000 + 52, 1));
}
