//! Every vector of `int.jsonl`: minimal encoding, decoding, and the range checks of every
//! Rust integer type on the same values.

mod argdata_common;

use argdata_common::{to_hex, vectors};
use capexec::Errno;
use capexec::argdata::{ArgdataInt, ArgdataRef, Value};

/// What a read into `T` must give for `value`, following the C library's paths: signed
/// reads cover `i64`, unsigned reads `u64`, then the type's own range.
fn expect<T: TryFrom<i128> + ArgdataInt>(value: i128, signed: bool) -> Option<T> {
    let domain = if signed {
        i64::try_from(value).is_ok()
    } else {
        u64::try_from(value).is_ok()
    };
    if domain {
        T::try_from(value).ok()
    } else {
        None
    }
}

fn check<T>(ad: ArgdataRef<'_>, value: i128, signed: bool, name: &str)
where
    T: TryFrom<i128> + ArgdataInt + PartialEq + core::fmt::Debug,
{
    let got = ad.read_int::<T>();
    match expect::<T>(value, signed) {
        Some(v) => assert_eq!(got, Ok(v), "{name} as {}", core::any::type_name::<T>()),
        None => assert_eq!(
            got,
            Err(Errno::ERANGE),
            "{name} as {}",
            core::any::type_name::<T>()
        ),
    }
}

#[test]
fn int_vectors() {
    for row in &vectors("int.jsonl") {
        let value = row.int("value");
        let want = row.hex("encoded");
        let name = format!("{value}");

        let bytes = Value::int(value).to_bytes().unwrap();
        assert_eq!(to_hex(&bytes), to_hex(&want), "{name}");

        let ad = ArgdataRef::new(&want);
        if value < 0 {
            assert_eq!(ad.read_int::<i64>().map(i128::from), Ok(value), "{name}");
        } else {
            assert_eq!(ad.read_int::<u64>().map(i128::from), Ok(value), "{name}");
        }
        check::<i8>(ad, value, true, &name);
        check::<i16>(ad, value, true, &name);
        check::<i32>(ad, value, true, &name);
        check::<i64>(ad, value, true, &name);
        check::<i128>(ad, value, true, &name);
        check::<isize>(ad, value, true, &name);
        check::<u8>(ad, value, false, &name);
        check::<u16>(ad, value, false, &name);
        check::<u32>(ad, value, false, &name);
        check::<u64>(ad, value, false, &name);
        check::<u128>(ad, value, false, &name);
        check::<usize>(ad, value, false, &name);
    }
}
