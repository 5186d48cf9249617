//! Hostile argdata, beyond `tests/argdata_hostile.rs`: million-deep nesting walked by the
//! flat reader and iterators (to the bottom), million-deep *maps* through every
//! whole-tree walker, `usize::MAX` subfield lengths in every position, and a 256 KiB map
//! of empty keys, each with its memory measured by a per-thread peak-tracking allocator:
//! bounded time and memory, an error or a correct answer, never a crash.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;
use std::time::{Duration, Instant};

use capexec::Errno;
use capexec::argdata::{ArgdataRef, MAX_YAML_DEPTH, Value, print_yaml};

// ---------------------------------------------------------------------------------------
// Peak memory, per thread.

struct Peak;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn add(d: i64) {
    let _ = LIVE.try_with(|l| {
        l.set(l.get() + d);
        let _ = PEAK.try_with(|p| p.set(p.get().max(l.get())));
    });
}

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// Runs `f`; returns its result, the peak bytes it had allocated at once above the
/// starting point, and how long it took.
fn measure<R>(f: impl FnOnce() -> R) -> (R, u64, Duration) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let t = Instant::now();
    let r = f();
    let d = t.elapsed();
    let peak = PEAK.with(Cell::get) - start;
    (r, peak.max(0) as u64, d)
}

/// Generous wall-clock bound for one walk over a few MiB in a debug build on a loaded
/// machine: what it catches is a quadratic walk (minutes), not a slow one.
const SLOW: Duration = Duration::from_secs(20);

#[derive(Default)]
struct CountingSink(u64);

impl Write for CountingSink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len() as u64;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Builders.

fn prefix_len(len: usize) -> usize {
    let bits = usize::BITS - (len | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

fn push_prefix(out: &mut Vec<u8>, len: usize) {
    let n = prefix_len(len);
    for k in (0..n).rev() {
        let d = ((len >> (7 * k)) & 0x7f) as u8;
        out.push(if k == 0 { d | 0x80 } else { d });
    }
}

/// `depth` nested containers, alternating map (`{null: inner}`) and seq (`[inner]`)
/// from the outside in, around an innermost `leaf`; built front to back without
/// recursion.
fn nested(depth: usize, leaf: &[u8]) -> Vec<u8> {
    let is_map = |level: usize| level % 2 == 0;
    // Lengths from the inside out.
    let mut lens = Vec::with_capacity(depth);
    let mut len = leaf.len();
    for level in (0..depth).rev() {
        lens.push(len);
        len += 1 + prefix_len(len) + usize::from(is_map(level));
    }
    let mut out = Vec::with_capacity(len);
    for (level, &inner) in lens.iter().rev().enumerate() {
        if is_map(level) {
            out.extend_from_slice(&[0x06, 0x80]);
        } else {
            out.push(0x07);
        }
        push_prefix(&mut out, inner);
    }
    out.extend_from_slice(leaf);
    out
}

/// The prefix digits of `usize::MAX`.
fn usize_max_prefix() -> Vec<u8> {
    let mut b = Vec::new();
    let digits = (usize::BITS as usize).div_ceil(7);
    for k in (0..digits).rev() {
        let d = ((usize::MAX >> (7 * k)) & 0x7f) as u8;
        b.push(if k == 0 { d | 0x80 } else { d });
    }
    b
}

const DEEP: usize = 1_000_000;

// ---------------------------------------------------------------------------------------

#[test]
fn million_deep_walked_to_the_bottom_by_the_flat_reader() {
    let fd_leaf = [0x03, 0, 0, 0, 7];
    let bytes = nested(DEEP, &fd_leaf);
    let ((depth, leaf), peak, took) = measure(|| {
        let mut node = ArgdataRef::for_program(&bytes);
        let mut depth = 0usize;
        loop {
            if let Ok(mut it) = node.map() {
                let (k, v) = it.next().expect("one pair").expect("well formed");
                assert!(k.is_null());
                assert!(it.next().is_none());
                node = v;
            } else if let Ok(mut it) = node.seq() {
                node = it.next().expect("one element").expect("well formed");
                assert!(it.next().is_none());
            } else {
                break;
            }
            depth += 1;
        }
        (depth, node.read_fd())
    });
    assert_eq!(depth, DEEP);
    assert_eq!(leaf, Ok(7));
    assert_eq!(peak, 0, "the reader allocated");
    assert!(took < SLOW, "{took:?}");
}

#[test]
fn million_deep_maps_through_every_walker() {
    let bytes = nested(DEEP, &[0x03, 0, 0, 0, 7]);
    let n = bytes.len() as u64;
    let ad = ArgdataRef::for_program(&bytes);

    // Printer into a counting sink: the depth limit, in bounded memory.
    let (r, peak, took) = measure(|| print_yaml(ad, &mut CountingSink::default()));
    assert_eq!(r, Err(Errno::EOVERFLOW));
    // The walk stack is bounded by the depth limit, not by the input.
    assert!(peak <= 256 * MAX_YAML_DEPTH as u64, "printer peak {peak}");
    assert!(took < SLOW);

    // Re-serialising the encoded bytes: length-preserving, the descriptor listed.
    let (r, peak, took) = measure(|| Value::encoded(ad).serialize_with_fds());
    let (out, fds) = r.unwrap();
    assert_eq!(out.len(), bytes.len());
    assert_eq!(fds, [7]);
    assert!(peak <= 8 * n + 4096, "serialiser peak {peak} for {n} bytes");
    assert!(took < SLOW);

    // Decode, clone, compare, serialise, drop: linear memory, no recursion.
    let (tree, peak, took) = measure(|| ad.to_value().unwrap());
    assert!(peak <= 256 * n, "decoder peak {peak} for {n} bytes");
    assert!(took < SLOW);
    let (copy, _, took) = measure(|| tree.try_clone().unwrap());
    assert!(took < SLOW);
    assert!(copy == tree);
    let (bytes2, _, _) = measure(|| tree.to_bytes().unwrap());
    assert_eq!(bytes2, bytes);
    let other = nested(DEEP, &[0x03, 0, 0, 0, 8]);
    let other_tree = ArgdataRef::for_program(&other).to_value().unwrap();
    assert!(other_tree != tree);
    let ((), _, took) = measure(|| {
        drop(copy);
        drop(tree);
        drop(other_tree);
    });
    assert!(took < SLOW);
}

#[test]
fn subfield_length_of_usize_max_in_every_position() {
    let max = usize_max_prefix();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // A seq element, a map key, a map value after a good key, and deep inside.
    let mut seq = vec![0x07];
    seq.extend_from_slice(&max);
    seq.extend_from_slice(&[0x08, b'x', 0]);
    cases.push(seq.clone());
    let mut key = vec![0x06];
    key.extend_from_slice(&max);
    key.extend_from_slice(&[0x05, 1]);
    cases.push(key);
    let mut value = vec![0x06, 0x82, 0x05, 0x01];
    value.extend_from_slice(&max);
    value.extend_from_slice(&[0x03, 0, 0, 0, 0]);
    cases.push(value);
    cases.push(nested(1000, &seq));
    // One more digit than a machine word holds.
    let mut over = vec![0x07, 0x01];
    over.extend_from_slice(&max);
    cases.push(over);

    for b in &cases {
        let ad = ArgdataRef::for_program(b);
        let ((), peak, took) = measure(|| {
            // The walk reaches the bad subfield and reports it once.
            let mut node = ad;
            let mut errors = 0;
            for _ in 0..2000 {
                let next = if let Ok(mut it) = node.seq() {
                    let first = it.next();
                    if matches!(first, Some(Err(_))) {
                        errors += 1;
                        assert!(it.next().is_none());
                    }
                    first.and_then(Result::ok)
                } else if let Ok(mut it) = node.map() {
                    let first = it.next();
                    if matches!(first, Some(Err(_))) {
                        errors += 1;
                        assert!(it.next().is_none());
                    }
                    first.and_then(Result::ok).map(|(_, v)| v)
                } else {
                    None
                };
                match next {
                    Some(n) => node = n,
                    None => break,
                }
            }
            assert_eq!(errors, 1, "{b:02x?}");
        });
        assert_eq!(peak, 0);
        assert!(took < SLOW);
        let mut s = CountingSink::default();
        assert_eq!(print_yaml(ad, &mut s), Ok(()));
        let (out, fds) = Value::encoded(ad).serialize_with_fds().unwrap();
        assert_eq!(&out, b);
        assert!(fds.is_empty());
        let tree = ad.to_value().unwrap();
        assert_eq!(tree.to_bytes().unwrap().len(), b.len());
    }
}

#[test]
fn map_of_256_kib_of_empty_keys_in_bounded_memory() {
    let mut b = vec![0x06];
    b.resize(1 + 256 * 1024, 0x80);
    let n = b.len() as u64;
    let ad = ArgdataRef::for_program(&b);

    let (count, peak, took) = measure(|| ad.map().unwrap().filter(|r| r.is_ok()).count());
    assert_eq!(count, 128 * 1024);
    assert_eq!(peak, 0, "iterating allocated");
    assert!(took < SLOW);

    let (r, peak, took) = measure(|| {
        let mut s = CountingSink::default();
        print_yaml(ad, &mut s).map(|()| s.0)
    });
    assert!(r.unwrap() > 128 * 1024 * 10);
    assert!(peak <= 4096, "printer peak {peak}");
    assert!(took < SLOW);

    let (r, peak, took) = measure(|| Value::encoded(ad).serialize_with_fds());
    assert_eq!(r.unwrap().0, b);
    assert!(peak <= 2 * n + 4096, "serialiser peak {peak}");
    assert!(took < SLOW);

    let (tree, peak, took) = measure(|| ad.to_value().unwrap());
    // One pair of nulls per two input bytes.
    let pair = 2 * std::mem::size_of::<Value<'_>>() as u64;
    assert!(peak <= pair * n + 4096, "decoder peak {peak}");
    assert!(took < SLOW);
    let (bytes, _, took) = measure(|| tree.to_bytes().unwrap());
    assert_eq!(bytes, b);
    assert!(took < SLOW);
    let (copy, _, _) = measure(|| tree.try_clone().unwrap());
    assert!(copy == tree);
}
