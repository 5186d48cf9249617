//! YAML to argdata: the `cloudabi-run(1)` configuration language.
//!
//! Plain scalars resolve by the YAML 1.2 core schema (null, bool, int, float, else str);
//! quoted scalars are strings; the explicit `!!null`, `!!bool`, `!!int`, `!!float`,
//! `!!str`, `!!binary` and `!!timestamp` tags are honoured. Sequences become seq and
//! mappings map, in document order. `!fd stdin|stdout|stderr|N`, `!file {path: P}` and
//! `!executable` become descriptors through a [`Descriptors`] resolver. Aliases are
//! rejected.

use std::borrow::Cow;

use base64::Engine;
use capexec::argdata::Value;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// The CloudABI tag prefix declared by `%TAG ! tag:nuxi.nl,2015:cloudabi/`.
pub const CLOUDABI_TAG_PREFIX: &str = "tag:nuxi.nl,2015:cloudabi/";
const CORE_PREFIX: &str = "tag:yaml.org,2002:";
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 10_000;

/// Turns the descriptor tags into descriptors of the launcher.
pub trait Descriptors {
    /// `!fd N` (or stdin 0, stdout 1, stderr 2): the launcher's own descriptor `n`.
    fn host_fd(&mut self, n: i32) -> Result<i32, String>;
    /// `!file {path: P}`: opens `P` read-only.
    fn open_file(&mut self, path: &str) -> Result<i32, String>;
    /// `!executable`: the program being started.
    fn executable(&mut self) -> Result<i32, String>;
}

/// A configuration error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn at(span: &Span, msg: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!(
        "line {}, column {}: {msg}",
        span.start.line(),
        span.start.col() + 1
    ))
}

/// How a tag reads: CloudABI (`!fd`), core (`!!int`), or something else.
enum TagKind<'t> {
    Cloudabi(&'t str),
    Core(&'t str),
    Other(String),
}

fn tag_kind(tag: &Tag) -> TagKind<'_> {
    if tag.handle == CLOUDABI_TAG_PREFIX || tag.handle == "!" {
        TagKind::Cloudabi(&tag.suffix)
    } else if tag.handle == CORE_PREFIX {
        TagKind::Core(&tag.suffix)
    } else {
        TagKind::Other(format!("{}{}", tag.handle, tag.suffix))
    }
}

/// Parses `text` into its events (one document), rejecting aliases and YAML errors.
pub fn events(text: &str) -> Result<Vec<(Event<'_>, Span)>, ConfigError> {
    let mut out = Vec::new();
    let mut docs = 0;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| {
            ConfigError(format!(
                "YAML syntax error at line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            ))
        })?;
        match ev {
            Event::Alias(_) => return Err(at(&span, "aliases are not supported")),
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(at(&span, "only one YAML document is allowed"));
                }
            }
            _ => {}
        }
        out.push((ev, span));
    }
    Ok(out)
}

/// The launcher descriptors named by `!fd` in document order (so they can be reserved
/// before `!file` opens anything).
pub fn named_host_fds(events: &[(Event<'_>, Span)]) -> Result<Vec<i32>, ConfigError> {
    let mut out = Vec::new();
    for (ev, span) in events {
        if let Event::Scalar(v, _, _, Some(tag)) = ev {
            if matches!(tag_kind(tag), TagKind::Cloudabi("fd")) {
                out.push(fd_number(v).map_err(|e| at(span, e))?);
            }
        }
    }
    Ok(out)
}

fn fd_number(v: &str) -> Result<i32, String> {
    match v {
        "stdin" => Ok(0),
        "stdout" => Ok(1),
        "stderr" => Ok(2),
        n => n.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            format!("!fd takes stdin, stdout, stderr or a descriptor number, not {v:?}")
        }),
    }
}

/// A container being built.
enum Open {
    Seq(Vec<Value<'static>>),
    Map(
        Vec<(Value<'static>, Value<'static>)>,
        Option<Value<'static>>,
    ),
    File(Vec<String>, Span),
}

/// Builds the argdata tree of the document.
pub fn to_argdata(
    events: &[(Event<'_>, Span)],
    fds: &mut dyn Descriptors,
) -> Result<Value<'static>, ConfigError> {
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Value<'static>> = None;
    for (ev, span) in events {
        let done: Option<Value<'static>> = match ev {
            Event::Scalar(v, style, _, tag) => {
                if let Some(Open::File(items, _)) = stack.last_mut() {
                    items.push(v.to_string());
                    continue;
                }
                Some(scalar(v, *style, tag.as_deref(), span, fds)?)
            }
            Event::SequenceStart(_, tag) => {
                check_container_tag(tag.as_deref(), "seq", span)?;
                if matches!(stack.last(), Some(Open::File(..))) {
                    return Err(at(span, "!file takes a mapping of scalars"));
                }
                push_depth(&mut stack, Open::Seq(Vec::new()), span)?;
                None
            }
            Event::MappingStart(_, tag) => {
                if matches!(stack.last(), Some(Open::File(..))) {
                    return Err(at(span, "!file takes a mapping of scalars"));
                }
                let open = match tag.as_deref().map(tag_kind) {
                    Some(TagKind::Cloudabi("file")) => Open::File(Vec::new(), *span),
                    _ => {
                        check_container_tag(tag.as_deref(), "map", span)?;
                        Open::Map(Vec::new(), None)
                    }
                };
                push_depth(&mut stack, open, span)?;
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(items)) => Some(Value::Seq(items)),
                _ => return Err(at(span, "unbalanced sequence")),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(items, _)) => Some(Value::Map(items)),
                Some(Open::File(items, fspan)) => Some(file(&items, &fspan, fds)?),
                _ => return Err(at(span, "unbalanced mapping")),
            },
            _ => None,
        };
        let Some(v) = done else { continue };
        match stack.last_mut() {
            Some(Open::Seq(items)) => items.push(v),
            Some(Open::Map(items, key)) => match key.take() {
                Some(k) => items.push((k, v)),
                None => *key = Some(v),
            },
            Some(Open::File(..)) => return Err(at(span, "!file takes a mapping of scalars")),
            None => root = Some(v),
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

fn push_depth(stack: &mut Vec<Open>, open: Open, span: &Span) -> Result<(), ConfigError> {
    if stack.len() >= MAX_DEPTH {
        return Err(at(span, format!("nesting deeper than {MAX_DEPTH} levels")));
    }
    stack.push(open);
    Ok(())
}

fn check_container_tag(tag: Option<&Tag>, want: &str, span: &Span) -> Result<(), ConfigError> {
    match tag.map(tag_kind) {
        None => Ok(()),
        Some(TagKind::Core(s)) if s == want => Ok(()),
        Some(TagKind::Core(s)) => Err(at(span, format!("tag !!{s} cannot be used on a {want}"))),
        Some(TagKind::Cloudabi(s)) => Err(at(span, format!("unknown tag !{s} on a {want}"))),
        Some(TagKind::Other(s)) => Err(at(span, format!("unknown tag {s}"))),
    }
}

fn file(
    items: &[String],
    span: &Span,
    fds: &mut dyn Descriptors,
) -> Result<Value<'static>, ConfigError> {
    let mut path = None;
    for pair in items.chunks(2) {
        match pair {
            [k, v] if k == "path" => path = Some(v.as_str()),
            [k, _] => {
                return Err(at(
                    span,
                    format!("!file has no attribute {k:?} (only path)"),
                ));
            }
            _ => return Err(at(span, "!file mapping has a key without a value")),
        }
    }
    let path = path.ok_or_else(|| at(span, "!file needs a path"))?;
    let fd = fds.open_file(path).map_err(|e| at(span, e))?;
    Ok(Value::Fd(fd))
}

fn scalar(
    v: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: &Span,
    fds: &mut dyn Descriptors,
) -> Result<Value<'static>, ConfigError> {
    let bad = |what: &str| at(span, format!("{v:?} is not a valid {what}"));
    match tag.map(tag_kind) {
        None if style == ScalarStyle::Plain => Ok(plain(v)),
        None => Ok(Value::Str(Cow::Owned(v.to_string()))),
        Some(TagKind::Cloudabi("fd")) => {
            let n = fd_number(v).map_err(|e| at(span, e))?;
            Ok(Value::Fd(fds.host_fd(n).map_err(|e| at(span, e))?))
        }
        Some(TagKind::Cloudabi("executable")) => {
            if !v.is_empty() {
                return Err(at(span, "!executable takes no value"));
            }
            Ok(Value::Fd(fds.executable().map_err(|e| at(span, e))?))
        }
        Some(TagKind::Cloudabi("file")) => Err(at(span, "!file takes a mapping {path: ...}")),
        Some(TagKind::Cloudabi(other)) => Err(at(span, format!("unknown tag !{other}"))),
        Some(TagKind::Core("str")) => Ok(Value::Str(Cow::Owned(v.to_string()))),
        Some(TagKind::Core("null")) => {
            if is_null(v) {
                Ok(Value::Null)
            } else {
                Err(bad("null"))
            }
        }
        Some(TagKind::Core("bool")) => parse_bool(v).map(Value::Bool).ok_or_else(|| bad("bool")),
        Some(TagKind::Core("int")) => parse_int(v).map(Value::Int).ok_or_else(|| bad("int")),
        Some(TagKind::Core("float")) => {
            parse_float(v).map(Value::Float).ok_or_else(|| bad("float"))
        }
        Some(TagKind::Core("binary")) => {
            let clean: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map(|b| Value::Binary(Cow::Owned(b)))
                .map_err(|_| bad("base64 binary"))
        }
        Some(TagKind::Core("timestamp")) => parse_timestamp(v)
            .and_then(|(s, ns)| Value::timestamp(s, ns).ok())
            .ok_or_else(|| bad("timestamp")),
        Some(TagKind::Core(other)) => Err(at(span, format!("unsupported tag !!{other}"))),
        Some(TagKind::Other(t)) => Err(at(span, format!("unknown tag {t}"))),
    }
}

fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Core-schema integers: decimal with optional sign, `0o` octal, `0x` hexadecimal.
pub fn parse_int(v: &str) -> Option<i128> {
    if let Some(oct) = v.strip_prefix("0o") {
        return (!oct.is_empty())
            .then(|| i128::from_str_radix(oct, 8).ok())
            .flatten();
    }
    if let Some(hex) = v.strip_prefix("0x") {
        return (!hex.is_empty())
            .then(|| i128::from_str_radix(hex, 16).ok())
            .flatten();
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i128>().ok()
}

/// Core-schema floats, including `.inf`, `-.inf` and `.nan`.
pub fn parse_float(v: &str) -> Option<f64> {
    let (sign, body) = match v.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, v.strip_prefix('+').unwrap_or(v)),
    };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if sign > 0.0 && !v.starts_with('+') => return Some(f64::NAN),
        _ => {}
    }
    // [0-9]* (. [0-9]*)? ([eE] [-+]? [0-9]+)? with at least one digit before the exponent.
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mant.find('.') {
        Some(i) => (&mant[..i], Some(&mant[i + 1..])),
        None => (mant, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) || int.len() + frac.map_or(0, str::len) == 0 {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    body.parse::<f64>().ok().map(|f| sign * f)
}

fn plain(v: &str) -> Value<'static> {
    if is_null(v) {
        Value::Null
    } else if let Some(b) = parse_bool(v) {
        Value::Bool(b)
    } else if let Some(i) = parse_int(v) {
        Value::Int(i)
    } else if let Some(f) = parse_float(v) {
        Value::Float(f)
    } else {
        Value::Str(Cow::Owned(v.to_string()))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// YAML timestamps: `YYYY-MM-DD`, or with `T`/`t`/space, `HH:MM:SS`, an optional
/// fraction, and `Z` or an offset `±HH[:MM]` (none means UTC). Returns seconds and
/// nanoseconds since the epoch.
pub fn parse_timestamp(v: &str) -> Option<(i64, i64)> {
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, rest) = match v.find(['T', 't', ' ']) {
        Some(i) => (&v[..i], Some(v[i + 1..].trim_start())),
        None => (v, None),
    };
    let mut dp = date.splitn(3, '-');
    let (y, m, d) = (num(dp.next()?)?, num(dp.next()?)?, num(dp.next()?)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d).checked_mul(86_400)?;
    let mut nanos = 0i64;
    if let Some(rest) = rest {
        let (time, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => (rest[..i].trim_end(), &rest[i..]),
            None => (rest, ""),
        };
        let (hms, frac) = match time.find('.') {
            Some(i) => (&time[..i], Some(&time[i + 1..])),
            None => (time, None),
        };
        let mut tp = hms.splitn(3, ':');
        let (h, mi, s) = (num(tp.next()?)?, num(tp.next()?)?, num(tp.next()?)?);
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + s;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 || num(f).is_none() {
                return None;
            }
            nanos = num(f)? * 10i64.pow(9 - f.len() as u32);
        }
        match zone {
            "" | "Z" | "z" => {}
            z => {
                let sign = if z.starts_with('-') { 1 } else { -1 };
                let z = &z[1..];
                let (zh, zm) = match z.split_once(':') {
                    Some((h, m)) => (num(h)?, num(m)?),
                    None if z.len() <= 2 => (num(z)?, 0),
                    None => (num(z.get(..2)?)?, num(z.get(2..)?)?),
                };
                secs += sign * (zh * 3600 + zm * 60);
            }
        }
    }
    Some((secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_by_the_core_schema() {
        let cases: &[(&str, Value<'static>)] = &[
            ("", Value::Null),
            ("~", Value::Null),
            ("NULL", Value::Null),
            ("True", Value::Bool(true)),
            ("FALSE", Value::Bool(false)),
            ("yes", Value::Str(Cow::Borrowed("yes"))),
            ("0", Value::Int(0)),
            ("-17", Value::Int(-17)),
            ("+5", Value::Int(5)),
            ("0o17", Value::Int(15)),
            ("0x1F", Value::Int(31)),
            ("0x", Value::Str(Cow::Borrowed("0x"))),
            (
                "18446744073709551615",
                Value::Int(18_446_744_073_709_551_615),
            ),
            ("1.5", Value::Float(1.5)),
            (".5", Value::Float(0.5)),
            ("-2e3", Value::Float(-2000.0)),
            ("-.inf", Value::Float(f64::NEG_INFINITY)),
            (".Inf", Value::Float(f64::INFINITY)),
            ("1.2.3", Value::Str(Cow::Borrowed("1.2.3"))),
            ("e5", Value::Str(Cow::Borrowed("e5"))),
            ("hello", Value::Str(Cow::Borrowed("hello"))),
        ];
        for (text, want) in cases {
            assert_eq!(&plain(text), want, "{text:?}");
        }
        assert!(matches!(plain(".nan"), Value::Float(f) if f.is_nan()));
        assert!(matches!(plain("-.nan"), Value::Str(_)));
    }

    #[test]
    fn timestamps() {
        let cases: &[(&str, Option<(i64, i64)>)] = &[
            ("1970-01-01", Some((0, 0))),
            (
                "2015-07-14T06:39:59.073238121Z",
                Some((1_436_855_999, 73_238_121)),
            ),
            (
                "2001-12-14t21:59:43.10-05:00",
                Some((1_008_385_183, 100_000_000)),
            ),
            (
                "2001-12-14 21:59:43.10 -5",
                Some((1_008_385_183, 100_000_000)),
            ),
            ("1969-12-31T23:59:59Z", Some((-1, 0))),
            ("2001-13-01", None),
            ("2001-12-14T25:00:00Z", None),
            ("2001-12-14T21:59:43.1234567890Z", None),
            ("yesterday", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timestamp(text), *want, "{text:?}");
        }
    }

    struct Nope;
    impl Descriptors for Nope {
        fn host_fd(&mut self, n: i32) -> Result<i32, String> {
            Ok(n + 100)
        }
        fn open_file(&mut self, path: &str) -> Result<i32, String> {
            Err(format!("no {path}"))
        }
        fn executable(&mut self) -> Result<i32, String> {
            Ok(7)
        }
    }

    #[test]
    fn descriptor_tags_with_and_without_the_tag_directive() {
        for doc in [
            "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n[!fd stdout, !executable, !fd 4]\n",
            "[!fd stdout, !executable, !fd 4]\n",
        ] {
            let ev = events(doc).unwrap();
            assert_eq!(named_host_fds(&ev).unwrap(), vec![1, 4]);
            let v = to_argdata(&ev, &mut Nope).unwrap();
            assert_eq!(
                v,
                Value::Seq(vec![Value::Fd(101), Value::Fd(7), Value::Fd(104)])
            );
        }
    }

    #[test]
    fn explicit_core_tags() {
        let ev = events(
            "[!!str 12, !!int \"12\", !!float 2, !!bool true, !!null '', !!binary 'AAE=']\n",
        )
        .unwrap();
        let v = to_argdata(&ev, &mut Nope).unwrap();
        assert_eq!(
            v,
            Value::Seq(vec![
                Value::Str(Cow::Borrowed("12")),
                Value::Int(12),
                Value::Float(2.0),
                Value::Bool(true),
                Value::Null,
                Value::Binary(Cow::Borrowed(&[0, 1])),
            ])
        );
        let ev = events("!!int twelve\n").unwrap();
        assert!(
            to_argdata(&ev, &mut Nope)
                .unwrap_err()
                .0
                .contains("not a valid int")
        );
        let ev = events("!fd -1\n").unwrap();
        assert!(named_host_fds(&ev).is_err());
    }
}
