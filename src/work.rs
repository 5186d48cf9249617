//! Work counters for the crate's own complexity tests.
//!
//! Cost claims in the documentation ("one bitmap word plus one summary word per 4,096
//! slots", "O(n) whatever the size of the old table", "one hash per descriptor") are
//! checked by unit tests that count the work done, not the time it took. The counters
//! exist only when this crate is compiled for its own unit tests (`cfg(test)`); in every
//! other build [`count`] is an empty inline function and the dedup hasher is hashbrown's
//! default, so the library pays nothing for them.

/// A unit of work the unit tests count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// One word of a descriptor bitmap read or written (level 0 or a summary).
    BitmapWord,
    /// One descriptor slot looked up by number.
    Slot,
    /// One hash computed by the serialiser's descriptor dedup.
    #[cfg_attr(any(not(test), not(feature = "argdata")), allow(dead_code))]
    DedupHash,
}

/// Records one unit of `work` (nothing outside the crate's unit tests).
#[inline(always)]
pub(crate) fn count(work: Work) {
    #[cfg(test)]
    counters::add(work);
    #[cfg(not(test))]
    let _ = work;
}

/// The hasher of the serialiser's descriptor dedup table.
#[cfg(all(not(test), feature = "argdata"))]
pub(crate) type DedupHasher = hashbrown::DefaultHashBuilder;

/// The hasher of the serialiser's descriptor dedup table, counting each hash.
#[cfg(all(test, feature = "argdata"))]
pub(crate) type DedupHasher = counters::CountingHasher;

#[cfg(test)]
pub(crate) mod counters {
    //! Per-thread counters, so that tests running in parallel do not see each other's work.

    extern crate std;

    use core::cell::Cell;
    #[cfg(feature = "argdata")]
    use core::hash::{BuildHasher, Hasher};

    use super::Work;

    std::thread_local! {
        static COUNTS: [Cell<u64>; 3] = const { [Cell::new(0), Cell::new(0), Cell::new(0)] };
    }

    fn index(work: Work) -> usize {
        match work {
            Work::BitmapWord => 0,
            Work::Slot => 1,
            Work::DedupHash => 2,
        }
    }

    pub(crate) fn add(work: Work) {
        COUNTS.with(|c| {
            let c = &c[index(work)];
            c.set(c.get() + 1);
        });
    }

    /// The work of each kind `f` did on this thread: (bitmap words, slots, dedup hashes).
    pub(crate) fn measure<R>(f: impl FnOnce() -> R) -> (R, [u64; 3]) {
        let read = || COUNTS.with(|c| [c[0].get(), c[1].get(), c[2].get()]);
        let before = read();
        let r = f();
        let after = read();
        (r, core::array::from_fn(|i| after[i] - before[i]))
    }

    /// hashbrown's default hasher, counting one [`Work::DedupHash`] per hash finished.
    #[cfg(feature = "argdata")]
    #[derive(Clone, Default)]
    pub(crate) struct CountingHasher(hashbrown::DefaultHashBuilder);

    #[cfg(feature = "argdata")]
    impl BuildHasher for CountingHasher {
        type Hasher = Counting<<hashbrown::DefaultHashBuilder as BuildHasher>::Hasher>;
        fn build_hasher(&self) -> Self::Hasher {
            Counting(self.0.build_hasher())
        }
    }

    #[cfg(feature = "argdata")]
    pub(crate) struct Counting<H>(H);

    #[cfg(feature = "argdata")]
    impl<H: Hasher> Hasher for Counting<H> {
        fn finish(&self) -> u64 {
            add(Work::DedupHash);
            self.0.finish()
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.write(bytes)
        }
        fn write_i32(&mut self, i: i32) {
            self.0.write_i32(i)
        }
    }
}
