//! `fd_write` through `syscall32`: every iovec checked before the file sees a byte, one
//! file call per iovec, and a count that is never thrown away.

mod fd_io_common;

use capexec::Errno;
use fd_io_common::*;

/// Stores `len` pattern bytes at each iovec's buffer (those that are mapped) and the
/// iovec array; returns the bytes in order.
fn setup(p: &mut IoProc<RecFile>, list: &[(u32, u32)]) -> Vec<u8> {
    let mut all = Vec::new();
    for (i, &(b, l)) in list.iter().enumerate() {
        let data = pattern((i as u8).wrapping_mul(31), l as usize);
        if b >= BUF && b + l <= BUF + BUF_LEN {
            p.mem.poke(b, &data);
        }
        all.extend(data);
    }
    p.iovecs(list);
    all
}

#[test]
fn a_later_unmapped_iovec_is_efault_before_any_byte_moves() {
    // Five good 512-byte iovecs, then one in a hole: today 2,560 bytes reached the file.
    let mut list: Vec<(u32, u32)> = (0..5).map(|i| (BUF + i * 512, 512)).collect();
    list.push((HOLE, 512));
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    setup(&mut p, &list);
    assert_eq!(fd_write(&mut p, 6), Err(Errno::EFAULT));
    assert_eq!(file.calls(), vec![]);
    assert!(file.output().is_empty());
}

#[test]
fn an_iovec_running_into_a_hole_is_efault_before_any_byte_moves() {
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    setup(&mut p, &[(BUF, 100), (HOLE - 10, 20)]);
    assert_eq!(fd_write(&mut p, 2), Err(Errno::EFAULT));
    assert_eq!(file.calls(), vec![]);
}

#[test]
fn a_read_only_buffer_can_be_written_from() {
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    p.mem.poke(RO, b"from a read-only page");
    p.iovecs(&[(RO, 21)]);
    assert_eq!(fd_write(&mut p, 1), Ok(21));
    assert_eq!(file.output(), b"from a read-only page");
}

#[test]
fn an_error_after_bytes_moved_returns_the_count_moved() {
    for e in [
        Errno::EAGAIN,
        Errno::EINTR,
        Errno::EFAULT,
        Errno::EPIPE,
        Errno::EIO,
    ] {
        let file = RecFile::scripted(&[Step::All, Step::Fail(e)]);
        let mut p = IoProc::new(file.clone());
        let list = [(BUF, 100), (BUF + 1000, 200), (BUF + 2000, 300)];
        let all = setup(&mut p, &list);
        assert_eq!(fd_write(&mut p, 3), Ok(100), "{e:?}");
        assert_eq!(
            file.calls(),
            vec![
                Call::Write(all[..100].to_vec()),
                Call::Write(all[100..300].to_vec())
            ],
            "{e:?}"
        );
        assert_eq!(file.output(), all[..100]);
    }
}

#[test]
fn an_error_before_any_byte_moved_is_returned() {
    for e in [Errno::EAGAIN, Errno::EINTR, Errno::EPIPE, Errno::ENOSPC] {
        let file = RecFile::scripted(&[Step::Fail(e)]);
        let mut p = IoProc::new(file.clone());
        setup(&mut p, &[(BUF, 100), (BUF + 1000, 200)]);
        assert_eq!(fd_write(&mut p, 2), Err(e));
        assert_eq!(file.calls().len(), 1);
    }
}

#[test]
fn a_single_large_iovec_is_exactly_one_write_call() {
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    let all = setup(&mut p, &[(BUF, BUF_LEN)]);
    assert_eq!(fd_write(&mut p, 1), Ok(BUF_LEN));
    assert_eq!(file.calls(), vec![Call::Write(all.clone())]);
    assert_eq!(file.output(), all);
}

#[test]
fn each_iovec_is_one_write_call_of_its_whole_length() {
    // A write of up to PIPE_BUF (512 on FreeBSD, 4,096 on Linux) bytes must reach the
    // file in one call to stay atomic.
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    let list = [
        (BUF, 4096),
        (BUF + 8192, 1),
        (BUF + 9000, 0),
        (BUF + 10_000, 700),
    ];
    let all = setup(&mut p, &list);
    assert_eq!(fd_write(&mut p, 4), Ok(4797));
    assert_eq!(
        file.calls(),
        vec![
            Call::Write(all[..4096].to_vec()),
            Call::Write(all[4096..4097].to_vec()),
            Call::Write(all[4097..].to_vec()),
        ]
    );
}

#[test]
fn a_short_write_ends_the_call() {
    let file = RecFile::scripted(&[Step::Short(50)]);
    let mut p = IoProc::new(file.clone());
    let all = setup(&mut p, &[(BUF, 100), (BUF + 1000, 100)]);
    assert_eq!(fd_write(&mut p, 2), Ok(50));
    assert_eq!(file.calls(), vec![Call::Write(all[..100].to_vec())]);
    assert_eq!(file.output(), all[..50]);
}

#[test]
fn a_total_length_above_ssize_max_is_einval_before_any_byte_moves() {
    for list in [
        vec![(BUF, 0x8000_0000)],
        vec![(BUF, 0x7fff_ffff), (BUF, 1)],
        vec![(BUF, 10), (BUF, u32::MAX)],
        vec![(BUF, u32::MAX), (BUF, u32::MAX)],
    ] {
        let file = RecFile::scripted(&[]);
        let mut p = IoProc::new(file.clone());
        p.iovecs(&list);
        assert_eq!(
            fd_write(&mut p, list.len() as u32),
            Err(Errno::EINVAL),
            "{list:x?}"
        );
        assert_eq!(file.calls(), vec![]);
    }
}

#[test]
fn the_iovec_array_is_copied_in_once() {
    // IOV_MAX iovecs of 4 bytes each: one copy-in of the whole array, one call each.
    let list: Vec<(u32, u32)> = (0..1024).map(|i| (BUF + i * 4, 4)).collect();
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    let all = setup(&mut p, &list);
    p.mem.iovec_reads.set(0);
    assert_eq!(fd_write(&mut p, 1024), Ok(4096));
    assert_eq!(p.mem.iovec_reads.get(), 1);
    assert_eq!(file.calls().len(), 1024);
    assert_eq!(file.output(), all);
}

#[test]
fn bad_arrays_and_counts_fail_before_the_file() {
    let file = RecFile::scripted(&[]);
    let mut p = IoProc::new(file.clone());
    setup(&mut p, &[(BUF, 4)]);
    assert_eq!(fd_write(&mut p, 1025), Err(Errno::EINVAL));
    assert_eq!(call(&mut p, FD_WRITE_NR, &[0, HOLE, 1]), Err(Errno::EFAULT));
    assert_eq!(
        call(&mut p, FD_WRITE_NR, &[0, HOLE - 4, 1]),
        Err(Errno::EFAULT)
    );
    // The iovec array is read before the descriptor is looked up (FreeBSD copyinuio,
    // then fget); the buffers are checked after it.
    assert_eq!(call(&mut p, FD_WRITE_NR, &[7, HOLE, 1]), Err(Errno::EFAULT));
    p.iovecs(&[(HOLE, 4)]);
    assert_eq!(call(&mut p, FD_WRITE_NR, &[7, IOVS, 1]), Err(Errno::EBADF));
    assert_eq!(file.calls(), vec![]);
    // Nothing to write: no call, zero.
    assert_eq!(fd_write(&mut p, 0), Ok(0));
    p.iovecs(&[(HOLE, 0), (0xffff_ffff, 0)]);
    assert_eq!(fd_write(&mut p, 2), Ok(0));
    assert_eq!(file.calls(), vec![]);
}

#[test]
fn a_file_that_copies_from_user_memory_itself_gets_the_user_buffer() {
    let file = std::sync::Arc::new(PipeFile::default());
    let mut p = IoProc::new(file.clone());
    let data = pattern(7, 1234);
    p.mem.poke(BUF, &data);
    p.iovecs(&[(BUF, 1234)]);
    assert_eq!(fd_write(&mut p, 1), Ok(1234));
    assert_eq!(
        file.buffer
            .lock()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        data
    );
}
