//! Functional checks on inputs big enough that an accidentally quadratic reader or
//! serialiser would be noticed (no timing assertions): a 1 MiB map of 10,000 entries, and
//! trees naming 10,000 and 100,000 distinct descriptors.

mod argdata_common;

use argdata_common::push_field;
use capexec::argdata::{ArgdataRef, Value};

#[test]
fn one_mib_map_of_ten_thousand_entries() {
    let mut b = vec![0x06];
    for i in 0..10_000u32 {
        let mut key = vec![0x08];
        key.extend_from_slice(format!("key{i:05}").as_bytes());
        key.push(0);
        push_field(&mut b, &key);
        let mut val = vec![0x01];
        val.resize(90, (i % 251) as u8);
        push_field(&mut b, &val);
    }
    assert!(b.len() > 1_000_000 && b.len() < 1_100_000);
    let ad = ArgdataRef::for_program(&b);
    let mut n = 0u32;
    let mut sum = 0u64;
    for entry in ad.map().unwrap() {
        let (k, v) = entry.unwrap();
        assert_eq!(k.read_str().unwrap(), format!("key{n:05}"));
        let data = v.read_binary().unwrap();
        sum += data.iter().map(|&x| u64::from(x)).sum::<u64>();
        n += 1;
    }
    assert_eq!(n, 10_000);
    assert!(sum > 0);
}

fn many_fds(n: i32) {
    // Each descriptor appears twice, interleaved, so dedup is exercised on every node.
    let items: Vec<Value<'static>> = (0..n)
        .flat_map(|i| [Value::Fd(i * 3 + 1), Value::Fd((i / 2) * 3 + 1)])
        .collect();
    let tree = Value::Seq(items);
    let (_, upper) = tree.serialized_length().unwrap();
    assert_eq!(upper, 2 * n as usize);
    let (bytes, fds) = tree.serialize_with_fds().unwrap();
    assert_eq!(fds, (0..n).map(|i| i * 3 + 1).collect::<Vec<_>>());
    let got: Vec<i32> = ArgdataRef::for_program(&bytes)
        .seq()
        .unwrap()
        .map(|e| e.unwrap().read_fd().unwrap())
        .collect();
    let want: Vec<i32> = (0..n).flat_map(|i| [i, i / 2]).collect();
    assert_eq!(got, want);
}

#[test]
fn ten_thousand_distinct_descriptors() {
    many_fds(10_000);
}

#[test]
fn hundred_thousand_distinct_descriptors() {
    many_fds(100_000);
}
