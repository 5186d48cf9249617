//! The serialiser's cost claim, checked by counting work (see `crate::work`): the
//! descriptor dedup computes at most two hashes per descriptor node (one lookup per node,
//! one insertion per distinct descriptor), never a search of the list.

use alloc::vec::Vec;

use super::Value;
use crate::work::counters::measure;

/// Hashes computed by serialising `tree` with extraction, and the extracted list.
fn hashes(tree: &Value<'_>) -> (Vec<i32>, u64) {
    let (r, [_, _, hashes]) = measure(|| tree.serialize_with_fds());
    (r.unwrap().1, hashes)
}

#[test]
fn dedup_hashes_once_per_node_plus_once_per_distinct_descriptor() {
    let sizes = [
        (1usize, 1usize),
        (10, 10),
        (1000, 10),
        (1000, 1000),
        (50_000, 25_000),
    ];
    // Miri interprets every hash: the large case only runs natively.
    for (nodes, distinct) in sizes.into_iter().filter(|&(n, _)| !cfg!(miri) || n <= 1000) {
        let tree = Value::Seq(
            (0..nodes)
                .map(|i| Value::Fd((i % distinct) as i32 * 3))
                .collect(),
        );
        let (fds, h) = hashes(&tree);
        let want: Vec<i32> = (0..distinct).map(|i| i as i32 * 3).collect();
        assert_eq!(fds, want);
        let (nodes, distinct) = (nodes as u64, distinct as u64);
        // The very first lookup finds an empty map without hashing.
        assert!(
            (nodes + distinct - 1..=nodes + distinct).contains(&h),
            "{nodes} nodes, {distinct} distinct: {h} hashes"
        );
    }
}

#[test]
fn serialising_without_extraction_hashes_nothing() {
    let tree = Value::Seq((0..100).map(Value::Fd).collect());
    let (r, [_, _, hashes]) = measure(|| tree.to_bytes());
    assert!(r.is_ok());
    assert_eq!(hashes, 0);
}
