//! The calls whose meaning is the kernel's, outside the file system: clocks, futexes,
//! `poll`, sockets, `thread_create`, `proc_fork`. The library decodes and checks; the
//! hook sees typed values; results come back in `eax` / `edx` or through the caller's
//! structures.

#![allow(clippy::type_complexity)] // the tables of rows spell out their columns

mod calls_common;

use calls_common::*;
use capexec::Errno;
use capexec::abi::cloudabi32::{EventType, Syscall};
use capexec::abi::wire::{Event, RecvOut32};
use capexec::fdtable::{FileType, Rights};

#[test]
fn clocks_return_64_bit_values_in_eax_edx() {
    use Syscall::*;
    // (call, args, expected, hook log)
    let rows: [(Syscall, Vec<u32>, Result<(u32, u32), Errno>, Option<&str>); 6] = [
        (
            clock_res_get,
            vec![1],
            Ok((2, 1)),
            Some("clock_res_get CLOCK_MONOTONIC"),
        ),
        (
            clock_time_get,
            vec![3, 0x10, 0x20],
            Ok((0xe0f0_0102, 0xa0b0_c0d0)),
            Some("clock_time_get CLOCK_REALTIME 0x2000000010"),
        ),
        (
            clock_time_get,
            vec![4, 0, 0],
            Ok((0xe0f0_0102, 0xa0b0_c0d0)),
            Some("clock_time_get CLOCK_THREAD_CPUTIME_ID 0x0"),
        ),
        (clock_res_get, vec![0], Err(Errno::EINVAL), None),
        (clock_res_get, vec![5], Err(Errno::EINVAL), None),
        (
            clock_time_get,
            vec![0x1_0000u32 + 1, 0, 0],
            Err(Errno::EINVAL),
            None,
        ),
    ];
    for (i, (call, args, want, log)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[]);
        assert_eq!(result(&mut p, call, &args), want, "row {i}");
        assert_eq!(p.take_log().first().map(String::as_str), log, "row {i}");
    }
}

#[test]
fn futex_calls_check_scope_alignment_and_memory() {
    use Syscall::*;
    let at = DATA + 0x40;
    let rows: [(Syscall, Vec<u32>, Result<(u32, u32), Errno>, Option<String>); 7] = [
        (
            condvar_signal,
            vec![at, 4, 3],
            Ok((0, 0)),
            Some(format!("condvar_signal {at:#x} SCOPE_PRIVATE 3")),
        ),
        (
            lock_unlock,
            vec![at, 8],
            Ok((0, 0)),
            Some(format!("lock_unlock {at:#x} SCOPE_SHARED")),
        ),
        (lock_unlock, vec![at, 5], Err(Errno::EINVAL), None),
        (lock_unlock, vec![at + 2, 4], Err(Errno::EINVAL), None),
        (lock_unlock, vec![HOLE, 4], Err(Errno::EFAULT), None),
        (condvar_signal, vec![at, 0, 1], Err(Errno::EINVAL), None),
        (condvar_signal, vec![HOLE, 8, 1], Err(Errno::EFAULT), None),
    ];
    for (i, (call, args, want, log)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[]);
        assert_eq!(result(&mut p, call, &args), want, "row {i}");
        assert_eq!(p.take_log().first().cloned(), log, "row {i}");
    }
}

#[test]
fn thread_create_and_proc_fork() {
    let mut p = KProc::new(&[]);
    let attr: Vec<u8> = [0x40_1000u32, 0x5000_0000, 0x8000, 0x1234]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    p.put(DATA, &attr);
    assert_eq!(
        result(&mut p, Syscall::thread_create, &[DATA]),
        Ok((0x77, 0))
    );
    assert_eq!(
        p.take_log(),
        [
            "thread_create ThreadAttr32 { entry_point: 4198400, stack: 1342177280, stack_len: 32768, argument: 4660 }"
        ]
    );
    assert_eq!(
        result(&mut p, Syscall::thread_create, &[HOLE]),
        Err(Errno::EFAULT)
    );
    assert!(p.take_log().is_empty());
    assert_eq!(result(&mut p, Syscall::proc_fork, &[]), Ok((9, 0x4242)));
    assert_eq!(p.take_log(), ["proc_fork"]);
}

fn sub_bytes(userdata: u64, ty: u8, fd: u32) -> Vec<u8> {
    let mut b = vec![0u8; 56];
    b[..8].copy_from_slice(&userdata.to_le_bytes());
    b[10] = ty;
    b[16..20].copy_from_slice(&fd.to_le_bytes());
    if ty == 1 {
        b[24..28].copy_from_slice(&1u32.to_le_bytes()); // monotonic
    }
    b
}

#[test]
fn poll_decodes_checks_descriptors_and_writes_the_events() {
    const IN: u32 = DATA;
    const OUT: u32 = DATA + 0x1000;
    let read_rights = Rights::FD_READ | Rights::POLL_FD_READWRITE;
    // (subscriptions (userdata, type, fd), fd 0 rights, ready, expected count, expected events (userdata, type, error))
    type Ev = (u64, u8, u16);
    let rows: Vec<(
        Vec<(u64, u8, u32)>,
        Rights,
        Vec<usize>,
        Result<u32, Errno>,
        Vec<Ev>,
    )> = vec![
        // The kernel reports the second one ready.
        (
            vec![(10, 1, 0), (11, 3, 0)],
            read_rights,
            vec![1],
            Ok(1),
            vec![(11, 3, 0)],
        ),
        // fd_write without FD_WRITE: an error event at once, the kernel not asked.
        (
            vec![(10, 1, 0), (12, 4, 0)],
            read_rights,
            vec![0],
            Ok(1),
            vec![(12, 4, 76)],
        ),
        (
            vec![(13, 3, 5)],
            read_rights,
            vec![],
            Ok(1),
            vec![(13, 3, 8)],
        ),
        (
            vec![(14, 7, 0)],
            Rights::all(),
            vec![0],
            Ok(1),
            vec![(14, 7, 0)],
        ),
        (
            vec![(14, 7, 0)],
            read_rights,
            vec![],
            Ok(1),
            vec![(14, 7, 76)],
        ),
        // A malformed subscription fails the call.
        (
            vec![(10, 1, 0), (15, 9, 0)],
            read_rights,
            vec![],
            Err(Errno::EINVAL),
            vec![],
        ),
        (vec![], read_rights, vec![], Ok(0), vec![]),
    ];
    for (i, (subs, rights, ready, want, events)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[Some((KFile::plain(FileType::SocketStream), only(rights)))]);
        p.poll_ready = ready;
        let bytes: Vec<u8> = subs
            .iter()
            .flat_map(|&(u, t, fd)| sub_bytes(u, t, fd))
            .collect();
        p.put(IN, &bytes);
        p.put(OUT, &[0xcc; 128]);
        let got = result(&mut p, Syscall::poll, &[IN, OUT, subs.len() as u32]);
        assert_eq!(got.map(|r| r.0), want, "row {i}");
        for (k, (u, t, e)) in events.iter().enumerate() {
            let mut ev = Event::new(*u, EventType::from_raw(*t).unwrap());
            ev.error = Errno::from_raw(*e);
            if *e == 0 {
                ev.nbytes = 5;
            }
            assert_eq!(
                p.get(OUT + 32 * k as u32, 32),
                ev.encode(),
                "row {i} event {k}"
            );
        }
        // Nothing written past the reported events.
        let past = OUT + 32 * events.len() as u32;
        assert_eq!(p.get(past, 32), [0xcc; 32], "row {i}");
    }
    // Arrays that are not there.
    let mut p = KProc::new(&[]);
    assert_eq!(
        result(&mut p, Syscall::poll, &[HOLE, OUT, 1]),
        Err(Errno::EFAULT)
    );
    p.put(IN, &sub_bytes(1, 1, 0));
    assert_eq!(
        result(&mut p, Syscall::poll, &[IN, HOLE, 1]),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        result(&mut p, Syscall::poll, &[IN, OUT, 0x0800_0000]),
        Err(Errno::EFAULT)
    );
    assert!(p.take_log().is_empty());
}

#[test]
fn sockets() {
    const IN: u32 = DATA;
    const OUT: u32 = DATA + 0x100;
    const IOVS: u32 = DATA + 0x200;
    const FDS: u32 = DATA + 0x300;
    const BUF: u32 = DATA + 0x1000;
    let words = |ws: &[u32]| -> Vec<u8> { ws.iter().flat_map(|w| w.to_le_bytes()).collect() };
    // recv_in / send_in: data, data_len, fds, fds_len, flags
    let ri = |flags: u32, fds_len: u32| words(&[IOVS, 2, FDS, fds_len, flags]);
    let rows: [(
        Syscall,
        Vec<u8>,
        Rights,
        Result<(u32, u32), Errno>,
        Option<&str>,
    ); 10] = [
        (
            Syscall::sock_recv,
            ri(0x4, 2),
            Rights::FD_READ,
            Ok((0, 0)),
            Some(
                "sock_recv SocketStream [Iovec32 { buf: 1610616832, buf_len: 4 }, Iovec32 { buf: 1610616848, buf_len: 0 }] 0x60000300 2 0x4",
            ),
        ),
        (
            Syscall::sock_recv,
            ri(0, 2),
            Rights::FD_WRITE,
            Err(Errno::ENOTCAPABLE),
            None,
        ),
        (
            Syscall::sock_recv,
            ri(0x1, 2),
            Rights::FD_READ,
            Err(Errno::EINVAL),
            None,
        ),
        (
            Syscall::sock_recv,
            ri(0, 0x4000_0000),
            Rights::FD_READ,
            Err(Errno::EFAULT),
            None,
        ),
        (
            Syscall::sock_send,
            words(&[IOVS, 2, FDS, 2, 0]),
            Rights::FD_WRITE,
            Ok((0, 0)),
            Some(
                "sock_send SocketStream [Iovec32 { buf: 1610616832, buf_len: 4 }, Iovec32 { buf: 1610616848, buf_len: 0 }] [0, 0] 0x0",
            ),
        ),
        (
            Syscall::sock_send,
            words(&[IOVS, 2, FDS, 2, 0]),
            Rights::FD_READ,
            Err(Errno::ENOTCAPABLE),
            None,
        ),
        (
            Syscall::sock_send,
            words(&[IOVS, 2, FDS, 2, 1]),
            Rights::FD_WRITE,
            Err(Errno::EINVAL),
            None,
        ),
        // A descriptor to pass that is not open.
        (
            Syscall::sock_send,
            words(&[IOVS, 2, FDS + 8, 1, 0]),
            Rights::FD_WRITE,
            Err(Errno::EBADF),
            None,
        ),
        (
            Syscall::sock_send,
            words(&[IOVS, 2, FDS, 1025, 0]),
            Rights::FD_WRITE,
            Err(Errno::EINVAL),
            None,
        ),
        (
            Syscall::sock_send,
            words(&[HOLE, 1, FDS, 0, 0]),
            Rights::FD_WRITE,
            Err(Errno::EFAULT),
            None,
        ),
    ];
    for (i, (call, inb, rights, want, log)) in rows.into_iter().enumerate() {
        let mut p = KProc::new(&[Some((KFile::plain(FileType::SocketStream), only(rights)))]);
        p.put(IN, &inb);
        p.put(IOVS, &words(&[BUF, 4, BUF + 0x10, 0]));
        p.put(FDS, &words(&[0, 0, 7]));
        p.put(OUT, &[0xcc; 52]);
        assert_eq!(result(&mut p, call, &[0, IN, OUT]), want, "row {i}");
        assert_eq!(p.take_log().first().map(String::as_str), log, "row {i}");
        match (call, want) {
            (Syscall::sock_recv, Ok(_)) => {
                // The kernel's fds count is capped at the caller's array.
                let ro = RecvOut32 {
                    datalen: 3,
                    fdslen: 2,
                    flags: 8,
                };
                assert_eq!(p.get(OUT, 52), ro.encode(), "row {i}");
            }
            // The kernel's count is capped at the bytes offered.
            (Syscall::sock_send, Ok(_)) => assert_eq!(p.get(OUT, 4), 4u32.to_le_bytes(), "row {i}"),
            _ => assert_eq!(p.get(OUT, 52), [0xcc; 52], "row {i}"),
        }
    }
    // shutdown: how is RD, WR or both; the right is SOCK_SHUTDOWN.
    for (how, rights, want) in [
        (1, Rights::SOCK_SHUTDOWN, Ok((0, 0))),
        (3, Rights::SOCK_SHUTDOWN, Ok((0, 0))),
        (0, Rights::SOCK_SHUTDOWN, Err(Errno::EINVAL)),
        (4, Rights::SOCK_SHUTDOWN, Err(Errno::EINVAL)),
        (2, Rights::FD_WRITE, Err(Errno::ENOTCAPABLE)),
    ] {
        let mut p = KProc::new(&[Some((KFile::plain(FileType::SocketStream), only(rights)))]);
        assert_eq!(
            result(&mut p, Syscall::sock_shutdown, &[0, how]),
            want,
            "how {how}"
        );
    }
}
