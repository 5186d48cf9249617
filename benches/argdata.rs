//! Argdata benchmarks, each with its baseline in the same criterion
//! group.
//!
//! - `argdata_read`: iterate a 1 MiB (exactly), 10,000-entry map (string keys; values cycle
//!   through binary, str and int) and read every key and value: capexec's
//!   [`ArgdataRef`] vs the `argdata` crate 0.1.2 doing the same reads (type of the
//!   value, then the typed read; UTF-8 checked on every string in both).
//! - `argdata_serialize`: [`Value::serialize_with_fds`] of a seq referencing 100 / 1,000 /
//!   10,000 / 100,000 distinct descriptors (throughput in descriptors, so criterion's
//!   "elem/s" shows linearity), vs a serialiser of the same tree that deduplicates
//!   descriptors by linear search in a `Vec`, as the C library's `argdata_serialize`
//!   does (quadratic; run up to 10,000).
//! - `argdata_yaml`: [`print_yaml`] of the same 1 MiB map into a `String` with its
//!   capacity reserved, and into a sink that only counts bytes (throughput: input bytes).
//!
//! Run: `cargo bench --bench argdata`. Results: `target/criterion/<group>/<impl>/<param>`.

mod support;

use std::borrow::Cow;
use std::fmt;
use std::hint::black_box;

use argdata::{Argdata, ArgdataExt};
use capexec::argdata::{ArgdataRef, Type, Value, print_yaml};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use support::Rng;

// ---------------------------------------------------------------------------------------
// The 1 MiB map.
// ---------------------------------------------------------------------------------------

const ENTRIES: usize = 10_000;

/// Size of the encoded map.
const MAP_BYTES: usize = 1 << 20;

/// A map of [`ENTRIES`] pairs, `"key-NNNNN"` to a binary of 178 bytes, an
/// 84-character string or an integer (in turn), exactly [`MAP_BYTES`] encoded (the first
/// binary is resized to hit the size).
fn big_map() -> Vec<u8> {
    let mut first_binary = 178usize;
    for _ in 0..8 {
        let bytes = map_with(first_binary);
        if bytes.len() == MAP_BYTES {
            return bytes;
        }
        first_binary = (first_binary as isize + MAP_BYTES as isize - bytes.len() as isize)
            .try_into()
            .expect("size");
    }
    panic!("could not size the map to {MAP_BYTES} bytes")
}

fn map_with(first_binary: usize) -> Vec<u8> {
    let mut r = Rng(0xa5a5_5a5a_1234_5678);
    let pairs: Vec<(Value<'static>, Value<'static>)> = (0..ENTRIES)
        .map(|i| {
            let key = Value::Str(Cow::Owned(format!("key-{i:05}")));
            let value = match i % 3 {
                0 => {
                    // The first binary does not draw from `r`, so that resizing it
                    // leaves every other value as it was.
                    Value::Binary(Cow::Owned(if i == 0 {
                        (0..first_binary).map(|j| j as u8).collect()
                    } else {
                        (0..178).map(|_| r.next() as u8).collect()
                    }))
                }
                1 => Value::Str(Cow::Owned(
                    (0..84)
                        .map(|_| char::from(b' ' + (r.next() % 95) as u8))
                        .collect(),
                )),
                _ => Value::Int(i128::from(r.next() as i64)),
            };
            (key, value)
        })
        .collect();
    Value::Map(pairs).to_bytes().expect("serialise")
}

/// What a reader gets out of the map: a checksum over everything read, so that no read
/// can be optimised away and both readers can be checked to agree.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Sums {
    entries: usize,
    key_bytes: usize,
    binary_bytes: usize,
    str_bytes: usize,
    ints: i64,
}

fn read_capexec(bytes: &[u8]) -> Sums {
    let mut s = Sums::default();
    for pair in ArgdataRef::new(bytes).map().expect("map") {
        let (k, v) = pair.expect("pair");
        s.entries += 1;
        s.key_bytes += k.read_str().expect("key").len();
        match v.kind().expect("kind") {
            Type::Binary => s.binary_bytes += v.read_binary().expect("binary").len(),
            Type::Str => s.str_bytes += v.read_str().expect("str").len(),
            Type::Int => s.ints = s.ints.wrapping_add(v.read_int::<i64>().expect("int")),
            t => panic!("unexpected {t:?}"),
        }
    }
    s
}

fn read_crate(bytes: &[u8]) -> Sums {
    let mut s = Sums::default();
    let ad = argdata::encoded(bytes);
    for pair in ad.read_map().expect("map") {
        let (k, v) = pair.expect("pair");
        s.entries += 1;
        s.key_bytes += k.read_str().expect("key").len();
        match v.get_type().expect("kind") {
            argdata::Type::Binary => s.binary_bytes += v.read_binary().expect("binary").len(),
            argdata::Type::Str => s.str_bytes += v.read_str().expect("str").len(),
            argdata::Type::Int => {
                s.ints = s.ints.wrapping_add(v.read_int::<i64>().expect("int"));
            }
            t => panic!("unexpected {t:?}"),
        }
    }
    s
}

fn read(c: &mut Criterion) {
    let bytes = big_map();
    let want = read_capexec(&bytes);
    assert_eq!(want.entries, ENTRIES);
    assert_eq!(read_crate(&bytes), want, "the two readers disagree");
    println!(
        "argdata_read: map of {} entries, {} bytes encoded",
        ENTRIES,
        bytes.len()
    );

    let mut g = c.benchmark_group("argdata_read");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function(BenchmarkId::new("capexec", ENTRIES), |b| {
        b.iter(|| read_capexec(black_box(&bytes)))
    });
    g.bench_function(BenchmarkId::new("argdata_crate", ENTRIES), |b| {
        b.iter(|| read_crate(black_box(&bytes)))
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------
// Serialising with descriptor extraction.
// ---------------------------------------------------------------------------------------

/// A seq of `n` fd nodes naming `n` distinct descriptors in a scattered order.
fn fd_tree(n: usize) -> Value<'static> {
    // 7919 is prime and does not divide any n used here, so i -> i * 7919 mod n is a
    // permutation of 0..n.
    Value::Seq(
        (0..n)
            .map(|i| Value::Fd(((i * 7919) % n) as i32 + 3))
            .collect(),
    )
}

/// Bytes a `len`-byte subfield's length prefix takes (base 128, most significant first,
/// the last byte with bit 7 set).
fn push_prefix(out: &mut Vec<u8>, len: usize) {
    let digits = (usize::BITS - (len | 1).leading_zeros()).div_ceil(7);
    for d in (0..digits).rev() {
        let mut byte = ((len >> (7 * d)) & 0x7f) as u8;
        if d == 0 {
            byte |= 0x80;
        }
        out.push(byte);
    }
}

/// The C library's approach for the same tree: walk it, and give each descriptor the
/// index of its first occurrence in the list, found by linear search (quadratic in the
/// number of distinct descriptors). Handles seqs of fd nodes only (what `fd_tree` makes).
fn serialize_linear_dedup(tree: &Value<'_>) -> (Vec<u8>, Vec<i32>) {
    let Value::Seq(items) = tree else {
        unreachable!("fd_tree makes a seq")
    };
    let mut bytes = Vec::with_capacity(1 + items.len() * 6);
    let mut fds: Vec<i32> = Vec::with_capacity(items.len());
    bytes.push(0x07);
    for item in items {
        let Value::Fd(fd) = item else {
            unreachable!("fd_tree makes fd nodes")
        };
        let index = match fds.iter().position(|f| f == fd) {
            Some(i) => i,
            None => {
                fds.push(*fd);
                fds.len() - 1
            }
        };
        push_prefix(&mut bytes, 5);
        bytes.push(0x03);
        bytes.extend_from_slice(&(index as u32).to_be_bytes());
    }
    (bytes, fds)
}

fn serialize(c: &mut Criterion) {
    let mut g = c.benchmark_group("argdata_serialize");
    for n in [100usize, 1_000, 10_000, 100_000] {
        let tree = fd_tree(n);
        let (bytes, fds) = tree.serialize_with_fds().expect("serialise");
        assert_eq!(fds.len(), n);
        if n <= 10_000 {
            assert_eq!(
                serialize_linear_dedup(&tree),
                (bytes, fds),
                "baseline differs"
            );
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("capexec", n), &tree, |b, tree| {
            b.iter_with_large_drop(|| tree.serialize_with_fds().expect("serialise"))
        });
        if n <= 10_000 {
            g.bench_with_input(BenchmarkId::new("linear_dedup", n), &tree, |b, tree| {
                b.iter_with_large_drop(|| serialize_linear_dedup(tree))
            });
        }
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------
// The YAML printer.
// ---------------------------------------------------------------------------------------

/// A `fmt::Write` that only counts what it is given.
struct Count(usize);

impl fmt::Write for Count {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

fn yaml(c: &mut Criterion) {
    let bytes = big_map();
    let mut count = Count(0);
    print_yaml(ArgdataRef::new(&bytes), &mut count).expect("yaml");
    let out_len = count.0;
    println!(
        "argdata_yaml: {} bytes of argdata print as {} bytes of YAML",
        bytes.len(),
        out_len
    );

    let mut g = c.benchmark_group("argdata_yaml");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = String::with_capacity(out_len);
    g.bench_function(BenchmarkId::new("string", ENTRIES), |b| {
        b.iter(|| {
            out.clear();
            print_yaml(ArgdataRef::new(black_box(&bytes)), &mut out).expect("yaml");
            black_box(out.len())
        })
    });
    assert_eq!(out.len(), out_len);
    assert_eq!(out.capacity(), out_len, "the string grew");
    g.bench_function(BenchmarkId::new("count", ENTRIES), |b| {
        b.iter(|| {
            let mut sink = Count(0);
            print_yaml(ArgdataRef::new(black_box(&bytes)), &mut sink).expect("yaml");
            black_box(sink.0)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::config_long();
    targets = read, serialize, yaml
}
criterion_main!(benches);
