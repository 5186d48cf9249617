//! `fd_read` through `syscall32`: every destination checked before the file is read, one
//! file call per iovec reading at most what fits, input that cannot be delivered never
//! consumed, and a count that is never thrown away.

mod fd_io_common;

use capexec::Errno;
use fd_io_common::*;

const INPUT: usize = 712;

#[test]
fn a_partly_invalid_buffer_is_efault_and_consumes_nothing() {
    // 712 bytes of input; the second iovec is in a hole. Today all 712 were consumed.
    let lists: [&[(u32, u32)]; 4] = [
        &[(BUF, 512), (HOLE, 200)],
        &[(BUF, 512), (BUF + 600, 100), (HOLE + 100, 100)],
        &[(HOLE - 512, 712)],
        // A read-only page cannot take the input either.
        &[(BUF, 100), (RO, 612)],
    ];
    for list in lists {
        let file = RecFile::with_input(&pattern(1, INPUT));
        let mut p = IoProc::new(file.clone());
        p.iovecs(list);
        assert_eq!(
            fd_read(&mut p, list.len() as u32),
            Err(Errno::EFAULT),
            "{list:x?}"
        );
        assert_eq!(file.calls(), vec![], "{list:x?}");
        assert_eq!(file.input_left(), INPUT, "{list:x?}");
        assert_eq!(p.mem.peek(BUF, 512), vec![0; 512], "{list:x?}");
    }
}

#[test]
fn a_read_reads_at_most_what_fits() {
    let input = pattern(3, INPUT);
    let file = RecFile::with_input(&input);
    let mut p = IoProc::new(file.clone());
    p.iovecs(&[(BUF, 100), (BUF + 5000, 12)]);
    assert_eq!(fd_read(&mut p, 2), Ok(112));
    assert_eq!(file.calls(), vec![Call::Read(100), Call::Read(12)]);
    assert_eq!(file.input_left(), INPUT - 112);
    assert_eq!(p.mem.peek(BUF, 100), input[..100]);
    assert_eq!(p.mem.peek(BUF + 5000, 12), input[100..112]);
}

#[test]
fn an_error_after_bytes_moved_returns_the_count_moved() {
    for e in [Errno::EAGAIN, Errno::EINTR, Errno::EFAULT, Errno::EIO] {
        let input = pattern(5, INPUT);
        let file = RecFile::with_input(&input);
        *file.script.lock().unwrap() = [Step::All, Step::Fail(e)].into_iter().collect();
        let mut p = IoProc::new(file.clone());
        p.iovecs(&[(BUF, 300), (BUF + 4096, 300), (BUF + 8192, 300)]);
        assert_eq!(fd_read(&mut p, 3), Ok(300), "{e:?}");
        assert_eq!(file.calls(), vec![Call::Read(300), Call::Read(300)]);
        assert_eq!(file.input_left(), INPUT - 300);
        assert_eq!(p.mem.peek(BUF, 300), input[..300]);
    }
}

#[test]
fn an_error_before_any_byte_moved_is_returned() {
    let file = RecFile::with_input(&pattern(5, INPUT));
    *file.script.lock().unwrap() = [Step::Fail(Errno::EAGAIN)].into_iter().collect();
    let mut p = IoProc::new(file.clone());
    p.iovecs(&[(BUF, 300), (BUF + 4096, 300)]);
    assert_eq!(fd_read(&mut p, 2), Err(Errno::EAGAIN));
    assert_eq!(file.calls(), vec![Call::Read(300)]);
    assert_eq!(file.input_left(), INPUT);
}

#[test]
fn a_single_large_iovec_is_exactly_one_read_call() {
    let input = pattern(9, BUF_LEN as usize + 1000);
    let file = RecFile::with_input(&input);
    let mut p = IoProc::new(file.clone());
    p.iovecs(&[(BUF, BUF_LEN)]);
    assert_eq!(fd_read(&mut p, 1), Ok(BUF_LEN));
    assert_eq!(file.calls(), vec![Call::Read(BUF_LEN as usize)]);
    assert_eq!(file.input_left(), 1000);
    assert_eq!(p.mem.peek(BUF, BUF_LEN as usize), input[..BUF_LEN as usize]);
}

#[test]
fn a_short_read_ends_the_call() {
    let input = pattern(11, 150);
    let file = RecFile::with_input(&input);
    let mut p = IoProc::new(file.clone());
    p.iovecs(&[
        (BUF, 100),
        (BUF + 200, 0),
        (BUF + 400, 100),
        (BUF + 800, 100),
    ]);
    assert_eq!(fd_read(&mut p, 4), Ok(150));
    assert_eq!(file.calls(), vec![Call::Read(100), Call::Read(100)]);
    assert_eq!(p.mem.peek(BUF + 400, 50), input[100..]);
    // End of file: one call, zero.
    assert_eq!(fd_read(&mut p, 1), Ok(0));
    assert_eq!(file.calls().len(), 3);
}

#[test]
fn bad_arrays_and_lengths_fail_before_the_file() {
    let file = RecFile::with_input(&pattern(1, INPUT));
    let mut p = IoProc::new(file.clone());
    assert_eq!(fd_read(&mut p, 1025), Err(Errno::EINVAL));
    assert_eq!(call(&mut p, FD_READ_NR, &[0, HOLE, 1]), Err(Errno::EFAULT));
    p.iovecs(&[(BUF, 0x7fff_ffff), (BUF, 1)]);
    assert_eq!(fd_read(&mut p, 2), Err(Errno::EINVAL));
    p.iovecs(&[(0xffff_fff0, 0x20)]);
    assert_eq!(fd_read(&mut p, 1), Err(Errno::EFAULT));
    assert_eq!(file.calls(), vec![]);
    assert_eq!(file.input_left(), INPUT);
}

#[test]
fn a_file_that_copies_to_user_memory_itself_keeps_what_it_could_not_deliver() {
    // The pipe puts 100 bytes at a time; the check up front makes a fault unlikely, and
    // if one happens anyway the pipe keeps the bytes that were not delivered.
    let file = std::sync::Arc::new(PipeFile::default());
    let data = pattern(13, 250);
    file.buffer.lock().unwrap().extend(&data);
    let mut p = IoProc::new(file.clone());
    p.iovecs(&[(BUF, 120), (BUF + 4096, 1000)]);
    assert_eq!(fd_read(&mut p, 2), Ok(250));
    assert_eq!(p.mem.peek(BUF, 120), data[..120]);
    assert_eq!(p.mem.peek(BUF + 4096, 130), data[120..]);
    assert!(file.buffer.lock().unwrap().is_empty());
}
