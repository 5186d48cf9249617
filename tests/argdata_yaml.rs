//! The YAML printer beyond the shared vectors: float shapes, timestamps, string escapes,
//! descriptors without access, and containers that break midway (table-driven).

mod argdata_common;

use argdata_common::{hex, push_field, yaml_document};
use capexec::argdata::{ArgdataRef, Value, print_yaml};

fn print(ad: ArgdataRef<'_>) -> String {
    let mut s = String::new();
    print_yaml(ad, &mut s).unwrap();
    s
}

fn check(table: &[(&str, &str)]) {
    for (h, want) in table {
        let b = hex(h);
        assert_eq!(
            print(ArgdataRef::for_program(&b)),
            yaml_document(want),
            "{h}"
        );
    }
}

#[test]
fn floats_in_c_exponent_shape() {
    check(&[
        ("044059000000000000", "!!float \"1e+2\""),
        ("043fe0000000000000", "!!float \"5e-1\""),
        ("043ff8000000000000", "!!float \"1.5\""),
        ("04bff8000000000000", "!!float \"-1.5\""),
        ("04405ec00000000000", "!!float \"1.23e+2\""),
        ("040000000000000001", "!!float \"5e-324\""),
        ("047fefffffffffffff", "!!float \"1.7976931348623157e+308\""),
        ("043fb999999999999a", "!!float \"1e-1\""),
        ("047ff0000000000000", "!!float \".inf\""),
        ("048000000000000000", "!!float \"0\""),
        ("04fff8000000000000", "!!float \".nan\""),
    ]);
}

#[test]
fn timestamps() {
    let ts = |sec: i64, nsec: i64| Value::timestamp(sec, nsec).unwrap().to_bytes().unwrap();
    let table: &[(Vec<u8>, &str)] = &[
        (ts(0, 0), "!!timestamp \"1970-01-01T00:00:00.000000000Z\""),
        (
            ts(1_436_855_999, 73_238_121),
            "!!timestamp \"2015-07-14T06:39:59.073238121Z\"",
        ),
        (
            ts(-1, 999_999_999),
            "!!timestamp \"1969-12-31T23:59:59.999999999Z\"",
        ),
        (
            ts(951_782_400, 5),
            "!!timestamp \"2000-02-29T00:00:00.000000005Z\"",
        ),
        // Year 0 and year -1: at least four digits after the sign (decision 20).
        (
            ts(-719_528 * 86_400, 0),
            "!!timestamp \"0000-01-01T00:00:00.000000000Z\"",
        ),
        (
            ts(-719_529 * 86_400, 0),
            "!!timestamp \"-0001-12-31T00:00:00.000000000Z\"",
        ),
        (
            ts(253_402_300_800, 0),
            "!!timestamp \"10000-01-01T00:00:00.000000000Z\"",
        ),
        // Years whose tm_year does not fit C's int.
        (ts(i64::MAX, 0), "!!null \"null\""),
        (ts(i64::MIN, 0), "!!null \"null\""),
        // Seconds overflowing i64.
        (hex("097fffffffffffffffffffffff"), "!!null \"null\""),
    ];
    for (b, want) in table {
        assert_eq!(print(ArgdataRef::new(b)), yaml_document(want), "{b:02x?}");
    }
}

#[test]
fn string_escapes() {
    let text = "a\u{85}b\u{a0}\u{2028}\u{2029}\u{7f}\"\\\t\u{b}\u{c}\u{9f} \u{e9}\u{1F600}/";
    let b = Value::from(text).to_bytes().unwrap();
    assert_eq!(
        print(ArgdataRef::new(&b)),
        yaml_document("!!str \"a\\Nb\\_\\L\\P\\x7f\\\"\\\\\\t\\v\\f\\x9f \u{e9}\u{1F600}/\"")
    );
    check(&[
        ("0800", "!!str \"\""),
        ("08010200", "!!str \"\\x01\\x02\""),
        ("08610062000000", "!!str \"a\\0b\\0\\0\""),
        ("08ff00", "!!null \"null\""),
    ]);
}

#[test]
fn scalars_and_broken_nodes() {
    check(&[
        ("", "!!null \"null\""),
        ("02", "!!bool \"false\""),
        ("0200", "!!null \"null\""),
        ("0a", "!!null \"null\""),
        ("00", "!!null \"null\""),
        ("05ff", "!!int \"-1\""),
        ("0500000000000000000001", "!!null \"null\""),
        ("05000000000000000001", "!!int \"1\""),
        ("0380000000", "!fd \"invalid\""),
        ("037fffffff", "!fd \"2147483647\""),
        ("0301", "!!null \"null\""),
    ]);
    // No descriptor access at all.
    let b = hex("0300000001");
    assert_eq!(print(ArgdataRef::new(&b)), yaml_document("!fd \"invalid\""));
}

#[test]
fn containers_that_break() {
    check(&[
        ("0680", "!!null \"null\""),
        ("0700", "!!null \"null\""),
        ("0783", "!!null \"null\""),
        (
            "0781058205018305",
            "!!seq [\n  !!int \"0\",\n  !!int \"1\",\n]",
        ),
        (
            "0681058205018105",
            "!!map {\n  ? !!int \"0\"\n  : !!int \"1\",\n}",
        ),
        (
            "068080",
            "!!map {\n  ? !!null \"null\"\n  : !!null \"null\",\n}",
        ),
    ]);
    // A broken container nested inside a good one prints as far as it is readable.
    let mut inner = vec![0x07];
    push_field(&mut inner, &[0x02, 0x01]);
    inner.push(0x00);
    let mut outer = vec![0x06];
    push_field(&mut outer, &[0x08, b'k', 0x00]);
    push_field(&mut outer, &inner);
    assert_eq!(
        print(ArgdataRef::new(&outer)),
        yaml_document("!!map {\n  ? !!str \"k\"\n  : !!seq [\n    !!bool \"true\",\n  ],\n}")
    );
}

#[test]
fn sink_errors_are_reported() {
    struct Failing;
    impl core::fmt::Write for Failing {
        fn write_str(&mut self, _: &str) -> core::fmt::Result {
            Err(core::fmt::Error)
        }
    }
    assert_eq!(
        print_yaml(ArgdataRef::new(&[]), &mut Failing),
        Err(capexec::Errno::EIO)
    );
}

#[test]
fn binaries_print_as_standard_padded_base64() {
    // RFC 4648 section 10.
    for (raw, want) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let bytes = Value::binary(raw.as_bytes()).to_bytes().unwrap();
        assert_eq!(
            print(ArgdataRef::for_program(&bytes)),
            yaml_document(&format!("!!binary \"{want}\"")),
            "{raw}"
        );
    }
    // Every length across the printer's 48-byte pieces decodes back to the input.
    use base64::Engine;
    for len in 0..=200usize {
        let data: Vec<u8> = (0..len).map(|i| (i * 131 + 7) as u8).collect();
        let bytes = Value::binary(&data).to_bytes().unwrap();
        let text = print(ArgdataRef::for_program(&bytes));
        let quoted = text
            .split("!!binary \"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .unwrap();
        let back = base64::engine::general_purpose::STANDARD
            .decode(quoted)
            .unwrap();
        assert_eq!(back, data, "length {len}");
    }
}
