//! Every vector of `create_objects.jsonl`: values built through the checked constructors,
//! their encoding, descriptor bound and list, and the constructor failures.

mod argdata_common;

use argdata_common::{Json, to_hex, vectors};
use capexec::Errno;
use capexec::argdata::{ArgdataRef, Value};

fn errno(name: &str) -> Errno {
    match name {
        "EBADF" => Errno::EBADF,
        "EILSEQ" => Errno::EILSEQ,
        "EINVAL" => Errno::EINVAL,
        "ERANGE" => Errno::ERANGE,
        other => panic!("unknown errno {other}"),
    }
}

/// The constructor call each `object` description names.
fn build(row: &Json) -> Result<Value<'static>, Errno> {
    let s125 = |row: &Json, key: &str| Value::from(row.str(key).to_string());
    Ok(match row.str("object") {
        "argdata_null" => Value::Null,
        "argdata_false" => Value::bool(false),
        "argdata_true" => Value::bool(true),
        "create_binary(\"Hello\",5)" => Value::binary(b"Hello"),
        "create_binary(NULL,0)" => Value::binary(b""),
        "create_fd(12)" => Value::fd(12)?,
        "create_fd(-1)" => Value::fd(-1)?,
        "create_str(\"Hello\\0world\",11)" => Value::str(b"Hello\0world")?,
        "create_str(\"\\xff\",1)" => Value::str(b"\xff")?,
        "create_str_c(\"Hello, world\")" => Value::from("Hello, world"),
        "create_map(empty)" => Value::Map(vec![]),
        "create_map({true:null,false:true,null:false})" => Value::Map(vec![
            (Value::bool(true), Value::Null),
            (Value::bool(false), Value::bool(true)),
            (Value::Null, Value::bool(false)),
        ]),
        "create_seq(empty)" => Value::Seq(vec![]),
        "create_seq([false,null,true])" => {
            Value::Seq(vec![Value::bool(false), Value::Null, Value::bool(true)])
        }
        "create_seq([fd7,fd3,fd7,null,fd3])" => Value::Seq(vec![
            Value::fd(7)?,
            Value::fd(3)?,
            Value::fd(7)?,
            Value::Null,
            Value::fd(3)?,
        ]),
        "create_timestamp({0,-1})" => Value::timestamp(0, -1)?,
        "create_timestamp({0,1000000000})" => Value::timestamp(0, 1_000_000_000)?,
        "create_timestamp({1436855999,73238121})" => Value::timestamp(1_436_855_999, 73_238_121)?,
        "create_float(1.5)" => Value::float(1.5),
        "create_int(0xdeadc0de)" => Value::int(0xdead_c0de_u32),
        "create_seq([null, create_str_c(S125), null])" => {
            Value::Seq(vec![Value::Null, s125(row, "S125"), Value::Null])
        }
        "create_seq([null, create_str_c(S126), null])" => {
            Value::Seq(vec![Value::Null, s125(row, "S126"), Value::Null])
        }
        other => panic!("no constructor for vector object {other}"),
    })
}

#[test]
fn create_objects_vectors() {
    let rows = vectors("create_objects.jsonl");
    let mut built = 0;
    for row in &rows {
        let name = row.str("object");
        let result = build(row);
        if row.get("result").is_some() {
            assert_eq!(row.str("result"), "NULL");
            assert_eq!(result.err(), Some(errno(row.str("errno"))), "{name}");
            continue;
        }
        let v = result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let want = row.hex("encoded");
        let want_fds: Vec<i32> = row
            .get("fds")
            .map(|_| row.ints("fds").into_iter().map(|x| x as i32).collect())
            .unwrap_or_default();
        let upper = row
            .get("n_fds_upper")
            .map_or(0, |_| row.int("n_fds_upper") as usize);

        assert_eq!(v.serialized_length(), Ok((want.len(), upper)), "{name}");
        let (bytes, fds) = v.serialize_with_fds().unwrap();
        assert_eq!(to_hex(&bytes), to_hex(&want), "{name}");
        assert_eq!(fds, want_fds, "{name}");

        // Read back through the extracted list: the same tree.
        let list = fds.clone();
        let convert = move |raw: u32| list.get(raw as usize).copied().ok_or(Errno::EBADF);
        let back = ArgdataRef::with_fds(&bytes, &convert).to_value().unwrap();
        assert_eq!(back, v, "{name}");
        built += 1;
    }
    assert!(built >= 15);
}
