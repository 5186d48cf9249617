//! What the benchmarks share: the table benchmarks' file type, deterministic random
//! numbers and the criterion settings.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use capexec::fdtable::{File, FileType};

pub mod baselines;
use criterion::{Bencher, Criterion};

/// A kernel's open file, as small as it gets: the table only ever touches the `Arc`.
pub struct MyFile {
    #[allow(dead_code)]
    id: u64,
}

impl File for MyFile {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

/// The rights of descriptor `i` of a table with four rights sets in turn.
pub fn mixed_rights(i: usize) -> capexec::fdtable::FdRights {
    use capexec::fdtable::{FdRights, Rights};
    let r = Rights::FD_READ | Rights::FD_WRITE | Rights::FD_SEEK | Rights::POLL_FD_READWRITE;
    match i % 4 {
        0 => FdRights::new(r, Rights::empty()),
        1 => FdRights::new(Rights::FD_READ, Rights::empty()),
        2 => FdRights::new(Rights::FD_WRITE, Rights::empty()),
        _ => FdRights::ALL,
    }
}

/// `n` distinct files.
pub fn files(n: usize) -> Vec<Arc<MyFile>> {
    (0..n as u64).map(|id| Arc::new(MyFile { id })).collect()
}

/// Deterministic pseudo-random numbers (xorshift64*), no extra dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() >> 32) as usize % n
    }
}

/// Criterion settings of the table benchmarks: warm-up 0.5 s, 2 s, 30 samples.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args()
}

/// Criterion settings of the longer-running benchmarks (argdata, exec): warm-up 0.5 s,
/// 3 s, 20 samples.
pub fn config_long() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args()
}

/// Outputs kept at once by [`iter_stored`] and [`iter_in_place`]: 1,024 tables of 256
/// bytes are 256 KiB.
const STORED: usize = 1024;

/// Times `routine`, each output moved into a slot of a buffer whose pages were touched
/// before the clock started, as a kernel stores a new table in a process it already has;
/// the outputs are dropped, untimed, every [`STORED`] iterations.
///
/// Criterion's `iter_with_large_drop` collects a batch of up to millions of outputs in a
/// `Vec` allocated for the batch, so every output is written to a page the batch's
/// `mmap` just made: a page fault per 4 KiB of output. That cost grows with the size of
/// the output's header, not with the work of the call (BENCHMARKS.md, "output
/// storage"); the `output_storage` group of `benches/remap.rs` measures both ways.
pub fn iter_stored<O>(b: &mut Bencher, mut routine: impl FnMut() -> O) {
    iter_in_place(b, || None, |slot| *slot = Some(routine()));
}

/// Times `routine` building its output in place, in one of [`STORED`] values made by
/// `fresh` before the clock started (as a kernel fills the table of a process structure
/// it has: `FdTable::new()` is a constant). The outputs are replaced by fresh values,
/// untimed, every [`STORED`] iterations.
pub fn iter_in_place<O>(b: &mut Bencher, fresh: impl Fn() -> O, mut routine: impl FnMut(&mut O)) {
    b.iter_custom(|iters| {
        let mut slots: Vec<O> = (0..STORED).map(|_| fresh()).collect();
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let k = left.min(STORED as u64) as usize;
            let start = Instant::now();
            for slot in &mut slots[..k] {
                routine(slot);
            }
            total += start.elapsed();
            for slot in &mut slots[..k] {
                *slot = fresh();
            }
            left -= k as u64;
        }
        total
    })
}
