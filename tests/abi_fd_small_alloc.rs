//! `fd_write` and `fd_read` with small iovecs make no heap request: the iovec array (up
//! to 8 entries) and each transfer of up to 256 bytes use the stack. A larger transfer
//! is exactly one request of its size. One test in this binary, so the counting
//! allocator sees no other test's requests.

mod fd_io_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use capexec::Errno;
use capexec::fdtable::{File, FileIo, FileType};
use fd_io_common::*;

static ARMED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static LAST: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: forwards every call to `System` unchanged; it only counts requests.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::SeqCst) {
            COUNT.fetch_add(1, Ordering::SeqCst);
            LAST.store(layout.size(), Ordering::SeqCst);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static HEAP: Counting = Counting;

/// Heap requests made while `f` runs, and the size of the last one.
fn requests<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    COUNT.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    let r = f();
    ARMED.store(false, Ordering::SeqCst);
    (r, COUNT.load(Ordering::SeqCst), LAST.load(Ordering::SeqCst))
}

/// A file that counts bytes and allocates nothing.
#[derive(Default)]
struct Sink {
    written: AtomicUsize,
}

impl File for Sink {
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }
}

impl FileIo for Sink {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        buf.fill(b'r');
        Ok(buf.len())
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        self.written.fetch_add(data.len(), Ordering::SeqCst);
        Ok(data.len())
    }
}

#[test]
fn small_transfers_make_no_heap_request() {
    let file = Arc::new(Sink::default());
    let mut p = IoProc::new(file.clone());
    let list: Vec<(u32, u32)> = (0..8).map(|i| (BUF + i * 0x1000, 256)).collect();
    p.iovecs(&list);
    let (r, n, _) = {
        let mut regs = stage(&mut p, FD_WRITE_NR, &[0, IOVS, 8]);
        requests(|| dispatch(&mut p, &mut regs))
    };
    assert_eq!((r, n), (Ok(2048), 0));
    let (r, n, _) = {
        let mut regs = stage(&mut p, FD_READ_NR, &[0, IOVS, 8]);
        requests(|| dispatch(&mut p, &mut regs))
    };
    assert_eq!((r, n), (Ok(2048), 0));
    assert_eq!(p.mem.peek(BUF + 0x7000, 256), vec![b'r'; 256]);

    // 257 bytes: one request of exactly that size, for each call.
    p.iovecs(&[(BUF, 257)]);
    let (r, n, last) = {
        let mut regs = stage(&mut p, FD_WRITE_NR, &[0, IOVS, 1]);
        requests(|| dispatch(&mut p, &mut regs))
    };
    assert_eq!((r, n, last), (Ok(257), 1, 257));
    let (r, n, last) = {
        let mut regs = stage(&mut p, FD_READ_NR, &[0, IOVS, 1]);
        requests(|| dispatch(&mut p, &mut regs))
    };
    assert_eq!((r, n, last), (Ok(257), 1, 257));
    assert_eq!(file.written.load(Ordering::SeqCst), 2048 + 257);
}
