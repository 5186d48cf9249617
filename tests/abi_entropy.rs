//! The kernel's one entropy source: the activator given to `syscall32` serves both the
//! new image's canary and process id and `random_get`; a fill that fails is the errno of
//! `random_get` (nothing written) and fails an exec before its point of no return (the
//! caller unchanged).

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::{Cloudabi32Activator, Entropy, Layout32, SyscallAction, syscall32};
use capexec::exec::copyin;
use common::*;

/// A generator that gives `budget` bytes of `TestRng(seed)`, then fails with `EAGAIN`.
struct Failing {
    rng: TestRng,
    budget: usize,
}

impl Entropy for Failing {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.len() > self.budget {
            return Err(Errno::EAGAIN);
        }
        self.budget -= buf.len();
        self.rng.fill(buf)
    }
}

const BUF: u32 = CALLER_DATA + 0x100;

#[test]
fn random_get_comes_from_the_activator_generator() {
    let mut p = process_with(&[]);
    let mut rng = TestRng(7);
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    let mut regs = frame(&mut p, 42, &[BUF, 600]);
    assert_eq!(
        syscall32(&mut p, &mut act, &mut regs),
        SyscallAction::Resume
    );
    assert!(!regs.carry());
    let mut got = vec![0u8; 600];
    copyin(&p.mem, BUF, &mut got).unwrap();
    assert_eq!(got, rng_bytes(7, 600));
    // The same generator goes on: a second call gets the next bytes.
    let mut regs = frame(&mut p, 42, &[BUF, 16]);
    let _ = syscall32(&mut p, &mut act, &mut regs);
    let mut next = [0u8; 16];
    copyin(&p.mem, BUF, &mut next).unwrap();
    assert_eq!(next.to_vec(), rng_bytes(7, 616)[600..].to_vec());
}

#[test]
fn failing_fill_is_the_errno_of_random_get() {
    for (budget, len) in [(0usize, 1u32), (0, 16), (511, 512), (512, 513), (100, 4096)] {
        let mut p = process_with(&[]);
        let mut rng = Failing {
            rng: TestRng(3),
            budget,
        };
        let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
        let mut regs = frame(&mut p, 42, &[BUF, len]);
        let before = memory_image(&p);
        assert_eq!(
            syscall32(&mut p, &mut act, &mut regs),
            SyscallAction::Resume
        );
        assert!(regs.carry(), "budget {budget}, len {len}");
        assert_eq!(regs.eax, u32::from(Errno::EAGAIN.raw()));
        // A fill fails before its chunk is copied out: whole chunks that were filled may
        // have been written, but none past the first failing one.
        let written = budget / 512 * 512;
        assert_eq!(memory_image(&p).0, before.0, "no page mapped or unmapped");
        let mut got = vec![0u8; len as usize];
        copyin(&p.mem, BUF, &mut got).unwrap();
        assert_eq!(&got[..written], &rng_bytes(3, written)[..]);
        assert!(
            got[written..].iter().all(|&b| b == 0),
            "budget {budget}, len {len}"
        );
    }
}

#[test]
fn failing_fill_fails_exec_before_the_point_of_no_return() {
    let exe = TFile::regular("exe", test_elf());
    let out = TFile::stream("out");
    let files = [exe.clone(), out.clone()];
    // The stack needs 64 + 16 random bytes: fail at each point.
    for budget in [0usize, 63, 64, 79] {
        let mut p = process_with(&[
            Some((exe.clone(), exe_rights())),
            Some((out.clone(), stream_rights())),
        ]);
        let mut regs = exec_frame(&mut p, 0, b"\x01", &[1]);
        let before = proc_state(&p, &files);
        let regs_before = regs;
        let mut rng = Failing {
            rng: TestRng(3),
            budget,
        };
        let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
        assert_eq!(
            syscall32(&mut p, &mut act, &mut regs),
            SyscallAction::Resume
        );
        assert!(regs.carry());
        assert_eq!(regs.eax, u32::from(Errno::EAGAIN.raw()));
        assert_eq!(regs.esp, regs_before.esp);
        assert_eq!(proc_state(&p, &files), before, "budget {budget}");
    }
    // With enough randomness the same exec succeeds.
    let mut p = process_with(&[
        Some((exe.clone(), exe_rights())),
        Some((out.clone(), stream_rights())),
    ]);
    let mut regs = exec_frame(&mut p, 0, b"\x01", &[1]);
    let mut rng = Failing {
        rng: TestRng(3),
        budget: 80,
    };
    let mut act = Cloudabi32Activator::new(Layout32::default(), &mut rng);
    assert!(matches!(
        syscall32(&mut p, &mut act, &mut regs),
        SyscallAction::Exec(_)
    ));
    let t = p.table.lock();
    assert_eq!(t.len(), 1);
    assert!(Arc::ptr_eq(t.file(fd(0)).unwrap(), &out));
}
