//! The YAML printer, byte-exact to the C library's `argdata_print_yaml`.
//!
//! Output is the `%TAG` line, `---`, the node, and a newline. Scalars are tried in the C
//! library's order (binary, bool, fd, float, signed int, unsigned int, map, seq, str,
//! timestamp) and anything unreadable prints as `!!null "null"`. A container that turns
//! malformed after some entries prints those entries; one malformed at its first entry
//! prints as null.
//!
//! The walk is iterative with a fallibly grown stack. Because the output of a nesting of
//! depth `d` grows with `d²` (indentation), nesting deeper than [`MAX_YAML_DEPTH`] stops
//! the printer with `EOVERFLOW` (output written so far stays written).
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata/argdata_print_yaml.c`.

use alloc::vec::Vec;
use core::fmt::Write;

use arrayvec::ArrayString;

use super::map_iter::MapIter;
use super::reader::ArgdataRef;
use super::seq_iter::SeqIter;
use crate::Errno;

/// The deepest container nesting [`print_yaml`] prints (deeper gives `EOVERFLOW`).
pub const MAX_YAML_DEPTH: usize = 4096;

const HEADER: &str = "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n";
const NULL: &str = "!!null \"null\"";

/// Prints `ad` as YAML to `out`, exactly as the C library's `argdata_print_yaml`.
///
/// Descriptors print through `ad`'s conversion (`!fd "invalid"` when it fails or there is
/// none). Errors: `EIO` when `out` fails, `EOVERFLOW` beyond [`MAX_YAML_DEPTH`] levels of
/// nesting, `ENOMEM` when the walk stack cannot grow.
///
/// # References
/// - NuxiNL cloudlibc `argdata_print_yaml`.
pub fn print_yaml<W: Write + ?Sized>(ad: ArgdataRef<'_>, out: &mut W) -> Result<(), Errno> {
    put(out, HEADER)?;
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut next = Some(ad);
    loop {
        if let Some(node) = next.take() {
            if let Some(frame) = open_or_print(node, out)? {
                if stack.len() >= MAX_YAML_DEPTH {
                    return Err(Errno::EOVERFLOW);
                }
                stack.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                stack.push(frame);
            }
        }
        let depth = stack.len();
        let Some(top) = stack.last_mut() else {
            break;
        };
        match top.advance() {
            Action::Entry(node, prefix) => {
                newline(out, 2 * depth)?;
                put(out, prefix)?;
                next = Some(node);
            }
            Action::Value(node) => {
                newline(out, 2 * depth)?;
                put(out, ": ")?;
                next = Some(node);
            }
            Action::Comma => put(out, ",")?,
            Action::Close(closer) => {
                newline(out, 2 * (depth - 1))?;
                put(out, closer)?;
                stack.pop();
            }
        }
    }
    put(out, "\n")
}

/// Where a container's printing stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Next: an entry (or the closing bracket).
    Entry,
    /// A map key was printed; next its value.
    Value,
    /// An entry was printed; next its comma.
    Comma,
}

enum Frame<'a> {
    Map {
        it: MapIter<'a>,
        first: Option<(ArgdataRef<'a>, ArgdataRef<'a>)>,
        value: Option<ArgdataRef<'a>>,
        phase: Phase,
    },
    Seq {
        it: SeqIter<'a>,
        first: Option<ArgdataRef<'a>>,
        phase: Phase,
    },
}

enum Action<'a> {
    Entry(ArgdataRef<'a>, &'static str),
    Value(ArgdataRef<'a>),
    Comma,
    Close(&'static str),
}

impl<'a> Frame<'a> {
    fn advance(&mut self) -> Action<'a> {
        match self {
            Frame::Map {
                it,
                first,
                value,
                phase,
            } => match *phase {
                Phase::Entry => match first.take().or_else(|| it.next().and_then(Result::ok)) {
                    Some((k, v)) => {
                        *value = Some(v);
                        *phase = Phase::Value;
                        Action::Entry(k, "? ")
                    }
                    None => Action::Close("}"),
                },
                Phase::Value => {
                    *phase = Phase::Comma;
                    match value.take() {
                        Some(v) => Action::Value(v),
                        None => Action::Comma,
                    }
                }
                Phase::Comma => {
                    *phase = Phase::Entry;
                    Action::Comma
                }
            },
            Frame::Seq { it, first, phase } => match *phase {
                Phase::Entry => match first.take().or_else(|| it.next().and_then(Result::ok)) {
                    Some(e) => {
                        *phase = Phase::Comma;
                        Action::Entry(e, "")
                    }
                    None => Action::Close("]"),
                },
                Phase::Value | Phase::Comma => {
                    *phase = Phase::Entry;
                    Action::Comma
                }
            },
        }
    }
}

#[inline]
fn put<W: Write + ?Sized>(out: &mut W, s: &str) -> Result<(), Errno> {
    out.write_str(s).map_err(|_| Errno::EIO)
}

fn newline<W: Write + ?Sized>(out: &mut W, indent: usize) -> Result<(), Errno> {
    const SPACES: &str = "                                                                ";
    put(out, "\n")?;
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        put(out, SPACES.get(..n).unwrap_or(""))?;
        left -= n;
    }
    Ok(())
}

/// Prints a scalar (or an empty or null-looking container) completely, or prints a
/// non-empty container's opening and returns its frame.
fn open_or_print<'a, W: Write + ?Sized>(
    ad: ArgdataRef<'a>,
    out: &mut W,
) -> Result<Option<Frame<'a>>, Errno> {
    if let Ok(b) = ad.read_binary() {
        put(out, "!!binary \"")?;
        base64(b, out)?;
        put(out, "\"")?;
    } else if let Ok(b) = ad.read_bool() {
        put(
            out,
            if b {
                "!!bool \"true\""
            } else {
                "!!bool \"false\""
            },
        )?;
    } else if ad.read_raw_fd().is_ok() {
        match ad.read_fd() {
            Ok(fd) => write!(out, "!fd \"{fd}\"").map_err(|_| Errno::EIO)?,
            Err(_) => put(out, "!fd \"invalid\"")?,
        }
    } else if let Ok(x) = ad.read_float() {
        float(x, out)?;
    } else if let Ok(i) = ad.read_int::<i64>() {
        write!(out, "!!int \"{i}\"").map_err(|_| Errno::EIO)?;
    } else if let Ok(u) = ad.read_int::<u64>() {
        write!(out, "!!int \"{u}\"").map_err(|_| Errno::EIO)?;
    } else if let Ok(mut it) = ad.map() {
        return Ok(match it.next() {
            None => {
                put(out, "!!map {}")?;
                None
            }
            Some(Err(_)) => {
                put(out, NULL)?;
                None
            }
            Some(Ok(entry)) => {
                put(out, "!!map {")?;
                Some(Frame::Map {
                    it,
                    first: Some(entry),
                    value: None,
                    phase: Phase::Entry,
                })
            }
        });
    } else if let Ok(mut it) = ad.seq() {
        return Ok(match it.next() {
            None => {
                put(out, "!!seq []")?;
                None
            }
            Some(Err(_)) => {
                put(out, NULL)?;
                None
            }
            Some(Ok(e)) => {
                put(out, "!!seq [")?;
                Some(Frame::Seq {
                    it,
                    first: Some(e),
                    phase: Phase::Entry,
                })
            }
        });
    } else if let Ok(s) = ad.read_str() {
        put(out, "!!str \"")?;
        escaped(s, out)?;
        put(out, "\"")?;
    } else if !timestamp(ad, out)? {
        put(out, NULL)?;
    }
    Ok(None)
}

/// Writes `data` in standard, padded base64, 48 input bytes at a time: a multiple of
/// three encodes without padding, so the pieces join into the encoding of the whole.
fn base64<W: Write + ?Sized>(data: &[u8], out: &mut W) -> Result<(), Errno> {
    use base64::Engine;
    let mut buf = [0u8; 64];
    for chunk in data.chunks(48) {
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(chunk, &mut buf)
            .map_err(|_| Errno::EIO)?;
        let text = buf
            .get(..n)
            .and_then(|b| core::str::from_utf8(b).ok())
            .ok_or(Errno::EIO)?;
        put(out, text)?;
    }
    Ok(())
}

/// Floats: `.nan`, `.inf`, `-.inf`, `0` for either zero, else the shortest round-trip
/// digits in C's `%e` shape with the exponent signed and omitted when zero.
fn float<W: Write + ?Sized>(x: f64, out: &mut W) -> Result<(), Errno> {
    if x.is_nan() {
        return put(out, "!!float \".nan\"");
    }
    if x.is_infinite() {
        return put(
            out,
            if x < 0.0 {
                "!!float \"-.inf\""
            } else {
                "!!float \".inf\""
            },
        );
    }
    if x == 0.0 {
        return put(out, "!!float \"0\"");
    }
    let mut digits = ArrayString::<64>::new();
    write!(digits, "{x:e}").map_err(|_| Errno::EIO)?;
    let (mantissa, exp) = digits.split_once('e').unwrap_or((&digits, "0"));
    put(out, "!!float \"")?;
    put(out, mantissa)?;
    match exp {
        "0" => {}
        e if e.starts_with('-') => {
            put(out, "e")?;
            put(out, e)?;
        }
        e => {
            put(out, "e+")?;
            put(out, e)?;
        }
    }
    put(out, "\"")
}

/// The YAML double-quoted escape of `c`, if it needs one.
fn named_escape(c: char) -> Option<&'static str> {
    Some(match c {
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '"' => "\\\"",
        '\\' => "\\\\",
        '\u{85}' => "\\N",
        '\u{a0}' => "\\_",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        _ => return None,
    })
}

fn escaped<W: Write + ?Sized>(s: &str, out: &mut W) -> Result<(), Errno> {
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let named = named_escape(c);
        if named.is_none() && !c.is_control() {
            continue;
        }
        put(out, s.get(run_start..i).unwrap_or(""))?;
        run_start = i + c.len_utf8();
        let r = match named {
            Some(e) => out.write_str(e),
            None => {
                let v = u32::from(c);
                if v <= 0xff {
                    write!(out, "\\x{v:02x}")
                } else if v <= 0xffff {
                    write!(out, "\\u{v:04x}")
                } else {
                    write!(out, "\\U{v:08x}")
                }
            }
        };
        r.map_err(|_| Errno::EIO)?;
    }
    put(out, s.get(run_start..).unwrap_or(""))
}

/// Prints a timestamp as `gmtime` would break it down; `Ok(false)` when it is not a
/// readable timestamp or its year does not fit C's `int` after subtracting 1900.
fn timestamp<W: Write + ?Sized>(ad: ArgdataRef<'_>, out: &mut W) -> Result<bool, Errno> {
    let Ok(t) = ad.read_timestamp() else {
        return Ok(false);
    };
    let days = t.sec.div_euclid(86_400);
    let secs = t.sec.rem_euclid(86_400);
    let (year, month, day) = super::timestamp::civil_from_days(days);
    if i32::try_from(year - 1900).is_err() {
        return Ok(false);
    }
    // The year is a signed decimal of at least four digits (year -1 is
    // `-0001`; the sign does not count as a digit).
    let sign = if year < 0 { "-" } else { "" };
    write!(
        out,
        "!!timestamp \"{sign}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z\"",
        year.unsigned_abs(),
        month,
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        t.nsec
    )
    .map_err(|_| Errno::EIO)?;
    Ok(true)
}
