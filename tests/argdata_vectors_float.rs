//! Every vector of `float.jsonl`: bit-exact encoding and decoding.

mod argdata_common;

use argdata_common::{to_hex, vectors};
use capexec::argdata::{ArgdataRef, Value};

#[test]
fn float_vectors() {
    for row in &vectors("float.jsonl") {
        let bits = u64::from_str_radix(row.str("bits"), 16).unwrap();
        let want = row.hex("encoded");
        let name = row.str("value");

        let bytes = Value::float(f64::from_bits(bits)).to_bytes().unwrap();
        assert_eq!(to_hex(&bytes), to_hex(&want), "{name}");
        let back = ArgdataRef::new(&want).read_float().unwrap();
        assert_eq!(back.to_bits(), bits, "{name}");
    }
}
