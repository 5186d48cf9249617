use super::*;

fn conv(doc: &str) -> Result<Value<'static>, ConfigError> {
    to_argdata(doc, &mut Fake)
}

fn s(v: &str) -> Value<'static> {
    Value::Str(Cow::Owned(v.to_string()))
}

#[test]
fn plain_scalars_resolve_by_the_core_schema() {
    let cases: &[(&str, Value<'static>)] = &[
        ("", Value::Null),
        ("~", Value::Null),
        ("NULL", Value::Null),
        ("nULL", s("nULL")),
        ("True", Value::Bool(true)),
        ("FALSE", Value::Bool(false)),
        ("yes", s("yes")),
        ("0", Value::Int(0)),
        ("-17", Value::Int(-17)),
        ("+5", Value::Int(5)),
        ("007", Value::Int(7)),
        ("0o17", Value::Int(15)),
        ("0x1F", Value::Int(31)),
        ("0x", s("0x")),
        ("0o", s("0o")),
        ("0o8", s("0o8")),
        // Signs belong to decimal integers only.
        ("0x-10", s("0x-10")),
        ("0x+10", s("0x+10")),
        ("0o-7", s("0o-7")),
        ("-0x10", s("-0x10")),
        ("+0o7", s("+0o7")),
        ("0X10", s("0X10")),
        ("1_000", s("1_000")),
        (
            "18446744073709551615",
            Value::Int(18_446_744_073_709_551_615),
        ),
        ("1.5", Value::Float(1.5)),
        ("1.", Value::Float(1.0)),
        (".5", Value::Float(0.5)),
        ("-2e3", Value::Float(-2000.0)),
        ("1.e2", Value::Float(100.0)),
        ("+.inf", Value::Float(f64::INFINITY)),
        ("-.inf", Value::Float(f64::NEG_INFINITY)),
        (".Inf", Value::Float(f64::INFINITY)),
        (".", s(".")),
        (".e5", s(".e5")),
        ("1e", s("1e")),
        ("1.2.3", s("1.2.3")),
        ("e5", s("e5")),
        ("inf", s("inf")),
        ("nan", s("nan")),
        ("hello", s("hello")),
    ];
    for (text, want) in cases {
        assert_eq!(&plain(text).unwrap(), want, "{text:?}");
    }
    assert!(matches!(plain(".nan"), Ok(Value::Float(f)) if f.is_nan()));
    assert!(matches!(plain(".NaN"), Ok(Value::Float(f)) if f.is_nan()));
    assert_eq!(plain("-.nan").unwrap(), s("-.nan"));
    assert_eq!(plain("+.nan").unwrap(), s("+.nan"));
}

#[test]
fn an_integer_too_large_is_an_error_not_a_float() {
    let big = "9".repeat(60);
    let e = conv(&format!("[1, {big}]\n")).unwrap_err().0;
    assert!(e.starts_with("line 1, column 5: integer"), "{e}");
    assert!(e.contains("out of range"), "{e}");
    let e = conv(&format!("!!int 0x{}\n", "f".repeat(40)))
        .unwrap_err()
        .0;
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn timestamps() {
    let ok: &[(&str, (i64, u32))] = &[
        ("1970-01-01", (0, 0)),
        (
            "2015-07-14T06:39:59.073238121Z",
            (1_436_855_999, 73_238_121),
        ),
        ("2001-12-14t21:59:43.10-05:00", (1_008_385_183, 100_000_000)),
        ("2001-12-14 21:59:43.10 -5", (1_008_385_183, 100_000_000)),
        ("2001-12-15 2:59:43.10", (1_008_385_183, 100_000_000)),
        ("2001-12-14T21:59:43.10+23:59", (1_008_280_843, 100_000_000)),
        ("2001-1-2T00:00:00Z", (978_393_600, 0)),
        ("1969-12-31T23:59:59Z", (-1, 0)),
        ("2000-02-29", (951_782_400, 0)),
        ("0000-01-01", (-62_167_219_200, 0)),
        (
            "9999-12-31T23:59:59.9999999999Z",
            (253_402_300_799, 999_999_999),
        ),
        ("2001-12-14T21:59:43.Z", (1_008_367_183, 0)),
        ("2016-12-31T23:59:60Z", (1_483_228_800, 0)),
    ];
    for (text, want) in ok {
        assert_eq!(parse_timestamp(text), Ok(*want), "{text:?}");
    }
    let bad: &[(&str, &str)] = &[
        ("2001-02-30", "no such date"),
        ("2001-02-29", "no such date"),
        ("2001-13-01", "no such date"),
        ("2001-00-01", "no such date"),
        ("2001-12-14T25:00:00Z", "no such time"),
        ("2001-12-14T21:60:00Z", "no such time"),
        ("2001-12-14T21:59:43+99:99", "zone offset"),
        ("2001-12-14T21:59:43+24", "zone offset"),
        ("2001-12-14T21:59:43-00:60", "zone offset"),
        ("99999999999-01-01", "not YYYY"),
        ("+2001-01-01", "not YYYY"),
        ("2001-1-1", "not YYYY"),
        ("2001-12-14T21:59", "not YYYY"),
        ("2001-12-14T21:59:43z", "not YYYY"),
        ("2001-12-14T21:59:43+0500", "not YYYY"),
        ("2001-12-14T21:59:43Zjunk", "not YYYY"),
        ("2001-12-14T21:59:43.1x", "not YYYY"),
        ("yesterday", "not YYYY"),
        ("", "not YYYY"),
    ];
    for (text, why) in bad {
        let e = parse_timestamp(text).unwrap_err();
        assert!(e.contains(why), "{text:?}: {e}");
    }
}

#[test]
fn bad_values_are_one_line_with_their_position() {
    let cases: &[(&str, &str)] = &[
        (
            "- !!timestamp 2001-02-30\n",
            "line 1, column 3: \"2001-02-30\" is not a valid timestamp: no such date",
        ),
        (
            "a:\n  - !!timestamp 2001-12-14T21:59:43+99:99\n",
            "line 2, column 5: ",
        ),
        (
            "- !!int 0x-10\n",
            "line 1, column 3: \"0x-10\" is not a valid int",
        ),
        ("- !!int \"1\\n2\"\n", "\"1\\n2\" is not a valid int"),
        ("- !!bool yes\n", "\"yes\" is not a valid bool"),
        ("- !!null 0\n", "\"0\" is not a valid null"),
        ("- !!float 0x10\n", "\"0x10\" is not a valid float"),
        ("- !!binary '!!'\n", "is not a valid base64 binary"),
        ("- !<tag:yaml.org,2002:int> x\n", "\"x\" is not a valid int"),
        (
            "- !<tag:example.com,2000:x> 1\n",
            "unknown tag tag:example.com,2000:x",
        ),
        (
            "- !<tag:nuxi.nl,2015:cloudabi/socket> x\n",
            "unknown tag !socket",
        ),
        ("- !fd \"3\\u0007\"\n", "not \"3\\u{7}\""),
        ("- !fd 99999999999\n", "out of range"),
    ];
    for (doc, want) in cases {
        let e = conv(doc).unwrap_err().0;
        assert!(e.contains(want), "{doc:?}: {e:?} lacks {want:?}");
        assert!(!e.chars().any(char::is_control), "{e:?}");
    }
    let long = format!("- !!int {}\n", "z".repeat(5000));
    let e = conv(&long).unwrap_err().0;
    assert!(e.len() < 200 && e.contains("\"..."), "{e}");
}

#[test]
fn verbatim_tags_are_the_tags_they_name() {
    let v = conv(
        "[!<tag:yaml.org,2002:int> \"12\", !<tag:yaml.org,2002:str> 12, \
         !<tag:nuxi.nl,2015:cloudabi/fd> 4, !<tag:nuxi.nl,2015:cloudabi/executable> '', \
         !<tag:yaml.org,2002:timestamp> 1970-01-02, ! 12]\n",
    )
    .unwrap();
    assert_eq!(
        v,
        Value::Seq(vec![
            Value::Int(12),
            s("12"),
            Value::Fd(104),
            Value::Fd(7),
            Value::timestamp(86_400, 0).unwrap(),
            s("12"),
        ])
    );
    let v = conv("!<tag:yaml.org,2002:map> {a: !<tag:yaml.org,2002:seq> []}\n").unwrap();
    assert_eq!(v, Value::Map(vec![(s("a"), Value::Seq(vec![]))]));
    let v = conv("!<tag:nuxi.nl,2015:cloudabi/file> {path: /x}\n").unwrap_err();
    assert!(v.0.contains("no /x"), "{v}");
}

struct Fake;
impl Descriptors for Fake {
    fn host_fd(&mut self, n: i32, _: RightsRequest) -> Result<i32, String> {
        Ok(n + 100)
    }
    fn open_file(&mut self, path: &str, _: RightsRequest) -> Result<i32, String> {
        Err(format!("no {path}"))
    }
    fn executable(&mut self, _: RightsRequest) -> Result<i32, String> {
        Ok(7)
    }
}

#[test]
fn descriptor_tags_with_and_without_the_tag_directive() {
    for doc in [
        "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n[!fd stdout, !executable, !fd 4]\n",
        "[!fd stdout, !executable, !fd 4]\n",
    ] {
        let v = conv(doc).unwrap();
        assert_eq!(
            v,
            Value::Seq(vec![Value::Fd(101), Value::Fd(7), Value::Fd(104)])
        );
    }
}

#[test]
fn explicit_core_tags() {
    let v = conv("[!!str 12, !!int \"12\", !!float 2, !!bool true, !!null '', !!binary 'AAE=']\n")
        .unwrap();
    assert_eq!(
        v,
        Value::Seq(vec![
            s("12"),
            Value::Int(12),
            Value::Float(2.0),
            Value::Bool(true),
            Value::Null,
            Value::Binary(Cow::Borrowed(&[0, 1])),
        ])
    );
    assert!(
        conv("!!int twelve\n")
            .unwrap_err()
            .0
            .contains("not a valid int")
    );
    assert!(conv("!fd -1\n").is_err());
}

/// Records the order in which descriptors are asked for.
struct Order(Vec<String>);
impl Descriptors for Order {
    fn host_fd(&mut self, n: i32, _: RightsRequest) -> Result<i32, String> {
        self.0.push(format!("fd {n}"));
        Ok(n)
    }
    fn open_file(&mut self, path: &str, _: RightsRequest) -> Result<i32, String> {
        self.0.push(format!("file {path}"));
        Ok(50)
    }
    fn executable(&mut self, _: RightsRequest) -> Result<i32, String> {
        Ok(7)
    }
}

#[test]
fn limits_stop_at_the_first_event_past_them() {
    // Depth: the parser's own limit (256 flow levels) or ours, whichever comes first,
    // at the first container too deep; nothing after it is opened.
    let doc = format!(
        "{}!file {{path: /late}}{}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let mut o = Order(Vec::new());
    let e = to_argdata(&doc, &mut o).unwrap_err().0;
    assert!(
        e.contains("line 1, column 256: recursion limit exceeded"),
        "{e}"
    );
    assert!(o.0.is_empty());
    let doc = format!("{}!fd 9\n", "- ".repeat(20_000));
    let mut o = Order(Vec::new());
    let e = to_argdata(&doc, &mut o).unwrap_err().0;
    assert!(e.contains("nesting deeper than 10000 levels"), "{e}");
    assert!(e.starts_with("line 1, column 20001:"), "{e}");
    assert!(o.0.is_empty());
    // Size: a sequence of nulls costs one byte each; the error comes at the element
    // past the limit, before the descriptor after it is resolved.
    let n = MAX_ARGDATA_SIZE;
    let doc = format!("[{}!fd 9]\n", "~,".repeat(n));
    let mut o = Order(Vec::new());
    let e = to_argdata(&doc, &mut o).unwrap_err().0;
    assert!(e.contains("larger than 262143 bytes"), "{e}");
    assert!(
        e.starts_with(&format!("line 1, column {}:", 2 + 2 * (n - 1))),
        "{e}"
    );
    assert!(o.0.is_empty());
    // Just under: fine.
    let doc = format!("[{}]\n", "~,".repeat(n - 2));
    assert!(to_argdata(&doc, &mut Order(Vec::new())).is_ok());
}

#[test]
fn only_one_document_and_no_aliases() {
    assert!(
        conv("1\n---\n2\n")
            .unwrap_err()
            .0
            .contains("only one YAML document")
    );
    assert!(conv("a: &x 1\nb: *x\n").unwrap_err().0.contains("aliases"));
    assert_eq!(conv("").unwrap(), Value::Null);
}

#[test]
fn a_budget_stops_the_scanner_with_a_position() {
    let doc = format!("[{}~]\n", "~,".repeat(100_000));
    let mut checks = 0;
    let e = to_argdata_within(&doc, &mut Fake, &mut || {
        checks += 1;
        checks > 3
    })
    .unwrap_err()
    .0;
    assert_eq!(
        e,
        "line 1, column 16384: the configuration needs more memory than the launcher \
         allows to convert (a flow collection is held whole until it ends)"
    );
    // Never over budget: the same as to_argdata.
    let doc = "a: [1, 2]\nb: !fd 3\n";
    assert_eq!(
        to_argdata_within(doc, &mut Fake, &mut || false).unwrap(),
        conv(doc).unwrap()
    );
}
