//! `Value`'s equality, `Debug` and drop never abort on allocation failure: with every
//! allocation failing, they still answer (a deep tree's equality says `ENOMEM` through
//! `try_eq`, its `Debug` is depth-limited, its drop leaks rather than aborts), and for
//! trees up to 16 levels they do not allocate at all.
//!
//! One `#[test]`, and per-thread counters, so the harness's threads never interfere.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;

use capexec::Errno;
use capexec::argdata::Value;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static FAIL: Cell<bool> = const { Cell::new(false) };
}

fn note_alloc() -> bool {
    let fail = FAIL.try_with(Cell::get).unwrap_or(false);
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    !fail
}

// SAFETY: forwards to the system allocator, or returns null (a valid "out of memory"
// answer) when the current thread asked for failures.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !note_alloc() {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !note_alloc() {
            return std::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread, with every allocation failing if `fail`.
fn allocs<R>(fail: bool, f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCS.with(Cell::get);
    FAIL.with(|c| c.set(fail));
    let r = f();
    FAIL.with(|c| c.set(false));
    (r, ALLOCS.with(Cell::get) - before)
}

/// `depth` nested one-element seqs around an int, with a map at every third level.
fn nested(depth: usize) -> Value<'static> {
    let mut v = Value::Int(7);
    for i in 0..depth {
        v = if i % 3 == 0 {
            Value::Map(vec![(Value::from("k"), v)])
        } else {
            Value::Seq(vec![v, Value::Bool(true)])
        };
    }
    v
}

/// A `fmt::Write` that keeps the first 2,048 bytes in a fixed buffer (no allocation).
struct Sink {
    buf: [u8; 2048],
    len: usize,
    total: usize,
}

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &b in s.as_bytes() {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        self.total += s.len();
        Ok(())
    }
}

fn debug_into_sink(v: &Value<'_>) -> Sink {
    let mut sink = Sink {
        buf: [0; 2048],
        len: 0,
        total: 0,
    };
    write!(sink, "{v:?}").unwrap();
    sink
}

#[test]
fn equality_debug_and_drop_survive_failing_allocation() {
    // Shallow trees: no allocation at all, even when allocation would succeed.
    let (a, b) = (nested(15), nested(15));
    let (eq, n) = allocs(false, || a == b);
    assert!(eq);
    assert_eq!(n, 0, "equality of 16-level trees allocated");
    let c = nested(14);
    let (ne, n) = allocs(true, || (a == c, c.try_eq(&a)));
    assert_eq!(ne, (false, Ok(false)));
    assert_eq!(n, 0);
    let (sink, n) = allocs(false, || debug_into_sink(&a));
    assert_eq!(n, 0, "Debug allocated");
    let text = std::str::from_utf8(&sink.buf[..sink.len]).unwrap();
    assert!(
        text.starts_with("Seq([Seq([Map({Str(\"k\"): Seq([Seq(["),
        "{text}"
    );
    assert!(
        !text.contains(".."),
        "a 16-level tree printed in full: {text}"
    );
    assert_eq!(sink.total, format!("{a:?}").len());

    // Deep trees, every allocation failing: answers, no abort.
    let (a, b) = (nested(2_000), nested(2_000));
    assert_eq!(a.try_eq(&b), Ok(true));
    assert!(a == b);
    let (r, _) = allocs(true, || (a.try_eq(&b), a == b));
    assert_eq!(r, (Err(Errno::ENOMEM), false));
    let (sink, n) = allocs(true, || debug_into_sink(&a));
    assert_eq!(n, 0, "Debug allocated");
    // 16 levels printed, the 17th elided, every opened container closed.
    assert!(sink.total < 2048, "{} bytes: not depth-limited", sink.total);
    let text = std::str::from_utf8(&sink.buf[..sink.len]).unwrap();
    assert_eq!(text.matches("..").count(), 1, "{text}");
    let opens = text.matches("([").count() + text.matches("({").count();
    let closes = text.matches("])").count() + text.matches("})").count();
    assert_eq!(opens, closes, "{text}");
    assert_eq!(opens, 17, "{text}");

    // Drop of a deep tree with allocation failing leaks instead of aborting.
    let ((), _) = allocs(true, || drop(a));
    drop(b);
}
