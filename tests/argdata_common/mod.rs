//! Shared helpers for the argdata tests: a tiny JSON-lines reader and hex decoding.
#![allow(dead_code)]

use std::path::PathBuf;

/// A parsed JSON value (numbers kept as their source text).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value of member `key` (panics when absent: test data is trusted).
    pub fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Some(Json::Str(s)) => s,
            other => panic!("{key}: expected a string, got {other:?}"),
        }
    }

    /// The integer value of member `key`.
    pub fn int(&self, key: &str) -> i128 {
        match self.get(key) {
            Some(Json::Num(n)) => n.parse().expect("integer"),
            other => panic!("{key}: expected a number, got {other:?}"),
        }
    }

    /// The integer array of member `key`.
    pub fn ints(&self, key: &str) -> Vec<i128> {
        match self.get(key) {
            Some(Json::Arr(a)) => a
                .iter()
                .map(|v| match v {
                    Json::Num(n) => n.parse().expect("integer"),
                    other => panic!("{key}: expected numbers, got {other:?}"),
                })
                .collect(),
            other => panic!("{key}: expected an array, got {other:?}"),
        }
    }

    /// The hex-decoded bytes of member `key`.
    pub fn hex(&self, key: &str) -> Vec<u8> {
        hex(self.str(key))
    }
}

struct Parser<'s> {
    s: &'s [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s.get(self.i),
            Some(&c),
            "expected {:?} at {}",
            c as char,
            self.i
        );
        self.i += 1;
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(m);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    let v = self.value();
                    m.push((k, v));
                    self.ws();
                    let c = self.s[self.i];
                    self.i += 1;
                    if c == b'}' {
                        return Json::Obj(m);
                    }
                    assert_eq!(c, b',');
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(a);
                }
                loop {
                    a.push(self.value());
                    self.ws();
                    let c = self.s[self.i];
                    self.i += 1;
                    if c == b']' {
                        return Json::Arr(a);
                    }
                    assert_eq!(c, b',');
                }
            }
            b'"' => Json::Str(self.string()),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                Json::Num(String::from_utf8(self.s[start..self.i].to_vec()).unwrap())
            }
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Json {
        assert!(self.s[self.i..].starts_with(w.as_bytes()));
        self.i += w.len();
        v
    }

    fn hex4(&mut self) -> u32 {
        let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
        self.i += 4;
        u32::from_str_radix(h, 16).unwrap()
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return out,
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4();
                            if (0xd800..0xdc00).contains(&cp) {
                                assert_eq!(&self.s[self.i..self.i + 2], b"\\u");
                                self.i += 2;
                                let lo = self.hex4();
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            }
                            out.push(char::from_u32(cp).unwrap());
                        }
                        other => panic!("bad escape {other}"),
                    }
                }
                _ => {
                    // Copy one UTF-8 sequence.
                    let start = self.i - 1;
                    let mut end = self.i;
                    while end < self.s.len() && (self.s[end] & 0xc0) == 0x80 {
                        end += 1;
                    }
                    out.push_str(std::str::from_utf8(&self.s[start..end]).unwrap());
                    self.i = end;
                }
            }
        }
    }
}

/// Parses one JSON document.
pub fn parse(text: &str) -> Json {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value();
    p.ws();
    assert_eq!(p.i, text.len(), "trailing characters");
    v
}

/// Reads `tests/data/argdata/<name>` as JSON lines.
pub fn vectors(name: &str) -> Vec<Json> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "argdata", name]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let rows: Vec<Json> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse)
        .collect();
    assert!(!rows.is_empty(), "{name} has no vectors");
    rows
}

/// Decodes a lowercase or uppercase hex string.
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Renders bytes as lowercase hex.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The YAML document `argdata_print_yaml` produces around `node`.
pub fn yaml_document(node: &str) -> String {
    format!("%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n{node}\n")
}

/// A `fmt::Write` sink that only counts bytes.
#[derive(Default)]
pub struct CountingSink {
    pub bytes: u64,
}

impl std::fmt::Write for CountingSink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.bytes += s.len() as u64;
        Ok(())
    }
}

/// Builds `depth` nested seqs (`07 <len> 07 <len> ... 07`) without recursion.
pub fn nested_seq_bytes(depth: usize) -> Vec<u8> {
    // Build from the inside out: the innermost is `07`, each wrapper adds a tag and prefix.
    let mut lens = Vec::with_capacity(depth);
    let mut len = 1usize;
    for _ in 1..depth {
        lens.push(len);
        len = 1 + prefix_len(len) + len;
    }
    let mut out = Vec::with_capacity(len);
    for &inner in lens.iter().rev() {
        out.push(0x07);
        push_prefix(&mut out, inner);
    }
    out.push(0x07);
    out
}

/// Length of a subfield prefix for `len` bytes.
pub fn prefix_len(len: usize) -> usize {
    let bits = usize::BITS - (len | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Appends the subfield prefix for `len` bytes.
pub fn push_prefix(out: &mut Vec<u8>, len: usize) {
    let n = prefix_len(len);
    for k in (0..n).rev() {
        let d = ((len >> (7 * k)) & 0x7f) as u8;
        out.push(if k == 0 { d | 0x80 } else { d });
    }
}

/// Appends `field` as a subfield.
pub fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    push_prefix(out, field.len());
    out.extend_from_slice(field);
}
