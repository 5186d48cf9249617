//! `proc_raise` (default signal actions), `thread_yield`, `thread_exit` and `random_get`.

mod calls_common;

use calls_common::*;
use capexec::Errno;
use capexec::abi::SyscallAction;
use capexec::abi::cloudabi32::{Signal, Syscall};

#[test]
fn proc_raise_applies_each_signals_default_action() {
    // cloudabi.txt's "Action" of every signal: T terminate, I ignore, S stop, C continue.
    let actions = "TTTICTTTTTITTSTTTSSSITTTTT";
    assert_eq!(actions.len(), 26);
    for (i, a) in actions.chars().enumerate() {
        let raw = i as u32 + 1;
        let sig = Signal::from_raw(raw as u8).unwrap();
        let mut p = KProc::new(&[]);
        let (act, regs) = call(&mut p, Syscall::proc_raise, &[raw]);
        let want = match a {
            'T' => SyscallAction::Terminate(sig),
            'S' => SyscallAction::Stop(sig),
            _ => SyscallAction::Resume,
        };
        assert_eq!(act, want, "{}", sig.name());
        if a != 'T' {
            assert!(!regs.carry(), "{}", sig.name());
            assert_eq!(regs.eax, 0);
        }
    }
    // The null signal, and numbers with no signal.
    let mut p = KProc::new(&[]);
    assert_eq!(result(&mut p, Syscall::proc_raise, &[0]), Ok((0, 0)));
    assert_eq!(
        result(&mut p, Syscall::proc_raise, &[27]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        result(&mut p, Syscall::proc_raise, &[255]),
        Err(Errno::EINVAL)
    );
}

#[test]
fn thread_yield_and_thread_exit() {
    let mut p = KProc::new(&[]);
    let (act, regs) = call(&mut p, Syscall::thread_yield, &[]);
    assert_eq!(act, SyscallAction::Yield);
    assert!(!regs.carry());
    // The last thread: the process exits with 0; the kernel's hook is not called.
    let (act, _) = call(&mut p, Syscall::thread_exit, &[DATA, 4]);
    assert_eq!(act, SyscallAction::Exit(0));
    assert!(p.take_log().is_empty());
    assert_eq!(
        result(&mut p, Syscall::thread_exit, &[DATA, 3]),
        Err(Errno::EINVAL)
    );
    // Another thread: the hook releases the lock and the thread ends.
    p.last_thread = false;
    let (act, _) = call(&mut p, Syscall::thread_exit, &[DATA + 8, 8]);
    assert_eq!(act, SyscallAction::ThreadExit);
    assert_eq!(
        p.take_log(),
        [format!("thread_exit {:#x} SCOPE_SHARED", DATA + 8)]
    );
    assert_eq!(
        result(&mut p, Syscall::thread_exit, &[DATA + 2, 4]),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        result(&mut p, Syscall::thread_exit, &[HOLE, 4]),
        Err(Errno::EFAULT)
    );
}

#[test]
fn random_get_fills_all_or_nothing() {
    // (buffer, length, expected)
    let end = DATA + DATA_LEN;
    let rows = [
        (DATA, 1000u32, Ok((0, 0))),
        (DATA, 0, Ok((0, 0))),
        (HOLE, 0, Ok((0, 0))),
        // Runs past the mapping: nothing is written.
        (end - 600, 1000, Err(Errno::EFAULT)),
        (end - 1, 2, Err(Errno::EFAULT)),
        (u32::MAX, 2, Err(Errno::EFAULT)),
    ];
    for (i, (buf, len, want)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[]);
        p.put(DATA, &vec![0xcc; DATA_LEN as usize]);
        assert_eq!(
            result(&mut p, Syscall::random_get, &[buf, len]),
            want,
            "row {i}"
        );
        let image = p.get(DATA, DATA_LEN as usize);
        let written = image.iter().filter(|&&b| b != 0xcc).count();
        match want {
            // The counter generator: 1, 2, 3, ... (mod 256).
            Ok(_) if buf == DATA => {
                let expect: Vec<u8> = (1..=len).map(|k| k as u8).collect();
                assert_eq!(&image[..len as usize], &expect[..], "row {i}");
            }
            _ => assert_eq!(written, 0, "row {i}: a failed call wrote"),
        }
    }
}
