//! YAML to argdata: the `cloudabi-run(1)` configuration language.
//!
//! Plain scalars resolve by the YAML 1.2 core schema (null, bool, int, float, else str);
//! quoted scalars are strings; the explicit `!!null`, `!!bool`, `!!int`, `!!float`,
//! `!!str`, `!!binary` and `!!timestamp` tags are honoured, written as shorthands or
//! verbatim (`!<tag:yaml.org,2002:int>`). Sequences become seq and mappings map, in
//! document order. `!fd stdin|stdout|stderr|N`, `!file {path: P}` and `!executable`
//! (or their verbatim forms `!<tag:nuxi.nl,2015:cloudabi/fd>` ...) become descriptors
//! through a [`Descriptors`] resolver. Each may ask for fewer rights than the launcher
//! holds, in its mapping form: `!fd {fd: stderr, rights: [fd_write]}`,
//! `!file {path: P, rights: [fd_read, fd_seek], inheriting: []}`,
//! `!executable {rights: [proc_exec]}`; the names are CloudABI's right names in lower case
//! ([`right_from_name`]). Aliases are rejected.
//!
//! The document is converted in one pass over the parser's events, and every limit is
//! checked at the event that crosses it: nesting deeper than [`MAX_DEPTH`], or argument
//! data that would certainly not fit in [`MAX_ARGDATA_SIZE`] bytes, is an error before
//! the rest of the document is read. A launcher reads at most [`MAX_CONFIG_SIZE`] bytes
//! of configuration. Block-style documents are converted in memory proportional to the
//! argument data; a flow collection (`[...]`, `{...}`) is tokenised whole by the YAML
//! scanner before its first event (it could be a mapping key), about 100 bytes per
//! token; [`to_argdata_within`] stops at a memory budget the caller checks.
//!
//! Every error is one line: `line L, column C: what`, with the offending value quoted
//! (control characters escaped, long values cut).
//!
//! # References
//! - YAML 1.2.2, section 10.3 (core schema) and the YAML 1.1 timestamp type
//!   (<https://yaml.org/type/timestamp.html>).

use std::borrow::Cow;

use base64::Engine;
use capexec::abi::cloudabi32::ARG_MAX;
use capexec::argdata::{Value, days_from_civil};
use capexec::fdtable::{FdRights, Rights};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// The CloudABI tag prefix declared by `%TAG ! tag:nuxi.nl,2015:cloudabi/`.
pub const CLOUDABI_TAG_PREFIX: &str = "tag:nuxi.nl,2015:cloudabi/";
/// The prefix of the YAML core tags (`!!int` is `tag:yaml.org,2002:int`).
pub const CORE_PREFIX: &str = "tag:yaml.org,2002:";
/// Deepest nesting of sequences and mappings accepted.
pub const MAX_DEPTH: usize = 10_000;
/// The most configuration text a launcher reads: 512 KiB, twice `ARG_MAX` (an error
/// past it).
pub const MAX_CONFIG_SIZE: u64 = 512 << 10;
/// The largest argument data `proc_exec` accepts: one byte less than `ARG_MAX`.
pub const MAX_ARGDATA_SIZE: usize = ARG_MAX as usize - 1;

/// The rights a configuration asks for one descriptor (`rights:` and `inheriting:`);
/// a set left out keeps what the launcher holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RightsRequest {
    /// The base rights asked for (`rights: [...]`), if given.
    pub base: Option<Rights>,
    /// The inheriting rights asked for (`inheriting: [...]`), if given.
    pub inheriting: Option<Rights>,
}

impl RightsRequest {
    /// The plain form: the launcher's rights, unchanged.
    pub const KEEP: RightsRequest = RightsRequest {
        base: None,
        inheriting: None,
    };

    /// Whether nothing is asked for (the plain `!fd stdout` form).
    pub fn is_keep(&self) -> bool {
        self.base.is_none() && self.inheriting.is_none()
    }

    /// The rights a descriptor holding `held` gets: each set asked for replaces the one
    /// held, the others stay. Whether that narrows is the resolver's check
    /// ([`FdRights::check_narrowing`]).
    pub fn apply(&self, held: FdRights) -> FdRights {
        FdRights::new(
            self.base.unwrap_or(held.base),
            self.inheriting.unwrap_or(held.inheriting),
        )
    }

    /// Why `want` is not a narrowing of `held`: the rights asked for that the launcher
    /// does not hold, by name (`None` when `want` only narrows).
    pub fn widening(held: FdRights, want: FdRights) -> Option<String> {
        let base = want.base.difference(held.base);
        let inh = want.inheriting.difference(held.inheriting);
        let mut parts = Vec::new();
        if !base.is_empty() {
            parts.push(format!("rights {}", right_names(base)));
        }
        if !inh.is_empty() {
            parts.push(format!("inheriting rights {}", right_names(inh)));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "the launcher does not hold {} (rights can only be narrowed)",
                parts.join(" or ")
            )
        })
    }
}

/// The right called `name`: CloudABI's name without its `CLOUDABI_RIGHT_` prefix, in
/// lower case (`fd_read`, `proc_exec`, `sock_shutdown`).
pub fn right_from_name(name: &str) -> Option<Rights> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    Rights::from_name(&name.to_ascii_uppercase())
}

/// The names of the rights in `r`, lower case, joined by `, ` (`-` for none).
pub fn right_names(r: Rights) -> String {
    let names: Vec<String> = r
        .iter_names()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

/// Turns the descriptor tags into descriptors of the launcher.
///
/// Each method gets the rights the configuration asks for; a resolver narrows the
/// descriptor to them (never widens: asking for a right the launcher does not hold is
/// an error) and gives the same host descriptor with different rights a descriptor of
/// its own, so that the program gets one descriptor per distinct pair.
pub trait Descriptors {
    /// `!fd N` (or stdin 0, stdout 1, stderr 2): the launcher's own descriptor `n`.
    fn host_fd(&mut self, n: i32, rights: RightsRequest) -> Result<i32, String>;
    /// `!file {path: P}`: opens `P` read-only.
    fn open_file(&mut self, path: &str, rights: RightsRequest) -> Result<i32, String>;
    /// `!executable`: the program being started.
    fn executable(&mut self, rights: RightsRequest) -> Result<i32, String>;
}

/// A configuration error: one line, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn at(span: &Span, msg: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!(
        "line {}, column {}: {msg}",
        span.start.line(),
        span.start.col() + 1
    ))
}

/// `v` quoted for an error message: control characters escaped, at most 60 characters.
pub fn quote(v: &str) -> String {
    const MAX: usize = 60;
    match v.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}...", &v[..i]),
        None => format!("{v:?}"),
    }
}

/// A tag for an error message: control characters escaped, at most 60 characters.
fn tag_text(t: &str) -> String {
    let q = quote(t);
    let inner = q.strip_prefix('"').unwrap_or(&q);
    match inner.strip_suffix("\"...") {
        Some(cut) => format!("{cut}..."),
        None => inner.strip_suffix('"').unwrap_or(inner).to_string(),
    }
}

/// How a tag reads: CloudABI (`!fd`), core (`!!int`), the non-specific `!`, or
/// something else.
enum TagKind<'t> {
    Cloudabi(&'t str),
    Core(&'t str),
    NonSpecific,
    Other(String),
}

fn tag_kind(tag: &Tag) -> TagKind<'_> {
    if tag.handle.is_empty() && tag.suffix == "!" {
        return TagKind::NonSpecific;
    }
    // A shorthand's handle is its prefix; a verbatim tag has an empty handle and the
    // whole tag as its suffix.
    let (handle, suffix) = (tag.handle.as_str(), tag.suffix.as_str());
    if handle == CLOUDABI_TAG_PREFIX || handle == "!" {
        TagKind::Cloudabi(suffix)
    } else if handle == CORE_PREFIX {
        TagKind::Core(suffix)
    } else if let Some(s) = handle.is_empty().then_some(suffix).and_then(|s| {
        s.strip_prefix(CLOUDABI_TAG_PREFIX)
            .or_else(|| s.strip_prefix('!'))
    }) {
        TagKind::Cloudabi(s)
    } else if let Some(s) = handle
        .is_empty()
        .then_some(suffix)
        .and_then(|s| s.strip_prefix(CORE_PREFIX))
    {
        TagKind::Core(s)
    } else {
        TagKind::Other(format!("{handle}{suffix}"))
    }
}

fn fd_number(v: &str) -> Result<i32, String> {
    match v {
        "stdin" => Ok(0),
        "stdout" => Ok(1),
        "stderr" => Ok(2),
        n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n
            .parse::<i32>()
            .map_err(|_| format!("descriptor number {} is out of range", quote(v))),
        _ => Err(format!(
            "!fd takes stdin, stdout, stderr or a descriptor number, not {}",
            quote(v)
        )),
    }
}

/// A descriptor tag in its mapping form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DescTag {
    Fd,
    File,
    Executable,
}

impl DescTag {
    fn of(tag: Option<&Tag>) -> Option<DescTag> {
        match tag.map(tag_kind) {
            Some(TagKind::Cloudabi("fd")) => Some(DescTag::Fd),
            Some(TagKind::Cloudabi("file")) => Some(DescTag::File),
            Some(TagKind::Cloudabi("executable")) => Some(DescTag::Executable),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DescTag::Fd => "!fd",
            DescTag::File => "!file",
            DescTag::Executable => "!executable",
        }
    }

    /// The attributes its mapping takes.
    fn keys(self) -> &'static str {
        match self {
            DescTag::Fd => "fd, rights, inheriting",
            DescTag::File => "path, rights, inheriting",
            DescTag::Executable => "rights, inheriting",
        }
    }

    /// The attribute naming what to pass (`fd`, `path`), if any.
    fn subject(self) -> Option<&'static str> {
        match self {
            DescTag::Fd => Some("fd"),
            DescTag::File => Some("path"),
            DescTag::Executable => None,
        }
    }
}

/// A descriptor mapping being read: `{fd: stderr, rights: [fd_write]}`.
struct DescMap {
    tag: DescTag,
    span: Span,
    /// A key read, waiting for its value.
    key: Option<String>,
    /// The `fd` or `path` value.
    subject: Option<String>,
    rights: RightsRequest,
}

impl DescMap {
    fn err(&self, span: &Span, msg: impl std::fmt::Display) -> ConfigError {
        at(span, format!("{} {msg}", self.tag.name()))
    }

    /// The key waiting for a list of rights: `rights` or `inheriting`.
    fn list_key(&mut self, span: &Span) -> Result<String, ConfigError> {
        match self.key.take() {
            Some(k) if k == "rights" || k == "inheriting" => Ok(k),
            Some(k) => Err(self.err(span, format!("attribute {} takes a scalar", quote(&k)))),
            None => Err(self.err(span, "mapping keys are scalars")),
        }
    }

    fn scalar(&mut self, v: &str, span: &Span) -> Result<(), ConfigError> {
        let Some(key) = self.key.take() else {
            if !["rights", "inheriting"].contains(&v) && self.tag.subject() != Some(v) {
                return Err(self.err(
                    span,
                    format!("has no attribute {} (only {})", quote(v), self.tag.keys()),
                ));
            }
            let seen = match v {
                "rights" => self.rights.base.is_some(),
                "inheriting" => self.rights.inheriting.is_some(),
                _ => self.subject.is_some(),
            };
            if seen {
                return Err(self.err(span, format!("has {} twice", quote(v))));
            }
            self.key = Some(v.to_string());
            return Ok(());
        };
        if key == "rights" || key == "inheriting" {
            return Err(self.err(
                span,
                format!("{key} takes a list of right names, such as [fd_read]"),
            ));
        }
        self.subject = Some(v.to_string());
        Ok(())
    }

    fn set_list(&mut self, key: &str, rights: Rights) {
        if key == "rights" {
            self.rights.base = Some(rights);
        } else {
            self.rights.inheriting = Some(rights);
        }
    }

    /// The descriptor, once the mapping ends.
    fn resolve(
        self,
        span: &Span,
        fds: &mut dyn Descriptors,
    ) -> Result<Value<'static>, ConfigError> {
        if self.key.is_some() {
            return Err(self.err(span, "mapping has a key without a value"));
        }
        let pos = self.span;
        let fd = match (self.tag, self.subject.as_deref()) {
            (DescTag::Fd, Some(v)) => {
                let n = fd_number(v).map_err(|e| at(&pos, e))?;
                fds.host_fd(n, self.rights)
            }
            (DescTag::File, Some(path)) => fds.open_file(path, self.rights),
            (DescTag::Executable, _) => fds.executable(self.rights),
            (DescTag::Fd, None) => return Err(at(&pos, "!fd needs fd")),
            (DescTag::File, None) => return Err(at(&pos, "!file needs a path")),
        };
        Ok(Value::Fd(fd.map_err(|e| at(&pos, e))?))
    }
}

/// A container being built.
enum Open {
    Seq(Vec<Value<'static>>),
    Map(
        Vec<(Value<'static>, Value<'static>)>,
        Option<Value<'static>>,
    ),
    /// A descriptor tag's mapping.
    Desc(Box<DescMap>),
    /// A list of right names in a descriptor mapping, under `rights` or `inheriting`.
    Rights(String, Rights),
}

/// The fewest bytes `v` takes in encoded argument data, its subfield length not
/// counted (a container counts its tag byte only; its elements are added as they come).
fn encoded_floor(v: &Value<'_>) -> usize {
    match v {
        Value::Null => 0,
        Value::Float(_) => 9,
        Value::Str(s) => s.len() + 2,
        Value::Binary(b) => b.len() + 1,
        Value::Fd(_) => 5,
        _ => 1,
    }
}

/// The one-pass converter: the open containers, the finished root, and the running
/// lower bound of the encoded size.
struct Builder<'f> {
    stack: Vec<Open>,
    root: Option<Value<'static>>,
    size: usize,
    docs: usize,
    fds: &'f mut dyn Descriptors,
}

impl Builder<'_> {
    /// Counts `bytes` more of argument data (plus a subfield length inside a container).
    fn grow(&mut self, bytes: usize, span: &Span) -> Result<(), ConfigError> {
        let prefix = usize::from(!self.stack.is_empty());
        self.grow_exactly(bytes.saturating_add(prefix), span)
    }

    /// Counts exactly `bytes` more of argument data.
    fn grow_exactly(&mut self, bytes: usize, span: &Span) -> Result<(), ConfigError> {
        self.size = self.size.saturating_add(bytes);
        if self.size > MAX_ARGDATA_SIZE {
            return Err(at(
                span,
                format!("the argument data would be larger than {MAX_ARGDATA_SIZE} bytes"),
            ));
        }
        Ok(())
    }

    fn open(&mut self, open: Open, span: &Span) -> Result<(), ConfigError> {
        match self.stack.last_mut() {
            Some(Open::Desc(d)) => {
                if matches!(open, Open::Seq(_)) {
                    let key = d.list_key(span)?;
                    self.stack.push(Open::Rights(key, Rights::empty()));
                    return Ok(());
                }
                return Err(d.err(span, "takes a mapping of scalars and lists of right names"));
            }
            Some(Open::Rights(..)) => return Err(at(span, "a right name is a scalar")),
            _ => {}
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(at(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.grow(1, span)?;
        self.stack.push(open);
        Ok(())
    }

    /// Puts a finished value in its container (or makes it the root).
    fn done(&mut self, v: Value<'static>, span: &Span) -> Result<(), ConfigError> {
        match self.stack.last_mut() {
            Some(Open::Seq(items)) => items.push(v),
            Some(Open::Map(items, key)) => match key.take() {
                Some(k) => items.push((k, v)),
                None => *key = Some(v),
            },
            Some(Open::Desc(_) | Open::Rights(..)) => {
                return Err(at(span, "a descriptor mapping holds only scalars"));
            }
            None => self.root = Some(v),
        }
        Ok(())
    }

    fn event(&mut self, ev: Event<'_>, span: &Span) -> Result<(), ConfigError> {
        match ev {
            Event::Alias(_) => Err(at(span, "aliases are not supported")),
            Event::DocumentStart(_) => {
                self.docs += 1;
                if self.docs > 1 {
                    return Err(at(span, "only one YAML document is allowed"));
                }
                Ok(())
            }
            Event::Scalar(v, style, _, tag) => {
                match self.stack.last_mut() {
                    Some(Open::Desc(d)) => {
                        check_plain_tag(tag.as_deref(), d.tag, span)?;
                        return d.scalar(&v, span);
                    }
                    Some(Open::Rights(_, set)) => {
                        check_plain_tag(tag.as_deref(), DescTag::Fd, span)?;
                        *set |= right_from_name(&v).ok_or_else(|| {
                            at(span, format!("unknown right {} (CloudABI right names in lower case, such as fd_read)", quote(&v)))
                        })?;
                        return Ok(());
                    }
                    _ => {}
                }
                let value = scalar(&v, style, tag.as_deref(), span, self.fds)?;
                self.grow(encoded_floor(&value), span)?;
                self.done(value, span)
            }
            Event::SequenceStart(_, tag) => {
                check_container_tag(tag.as_deref(), "seq", span)?;
                self.open(Open::Seq(Vec::new()), span)
            }
            Event::MappingStart(_, tag) => {
                let open = match DescTag::of(tag.as_deref()) {
                    Some(tag) => Open::Desc(Box::new(DescMap {
                        tag,
                        span: *span,
                        key: None,
                        subject: None,
                        rights: RightsRequest::KEEP,
                    })),
                    None => {
                        check_container_tag(tag.as_deref(), "map", span)?;
                        Open::Map(Vec::new(), None)
                    }
                };
                self.open(open, span)
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Open::Seq(items)) => self.done(Value::Seq(items), span),
                Some(Open::Rights(key, set)) => match self.stack.last_mut() {
                    Some(Open::Desc(d)) => {
                        d.set_list(&key, set);
                        Ok(())
                    }
                    _ => Err(at(span, "unbalanced sequence")),
                },
                _ => Err(at(span, "unbalanced sequence")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Open::Map(items, _)) => self.done(Value::Map(items), span),
                Some(Open::Desc(d)) => {
                    let fd = d.resolve(span, self.fds)?;
                    // The descriptor node: its tag byte (and subfield length) were
                    // counted when the mapping started.
                    self.grow_exactly(encoded_floor(&fd) - 1, span)?;
                    self.done(fd, span)
                }
                _ => Err(at(span, "unbalanced mapping")),
            },
            _ => Ok(()),
        }
    }
}

/// Converts the YAML document `text` into argument data, resolving descriptor tags
/// through `fds` as they come (so a descriptor is opened only once the document up to
/// it is valid). An empty document is null.
pub fn to_argdata(text: &str, fds: &mut dyn Descriptors) -> Result<Value<'static>, ConfigError> {
    to_argdata_within(text, fds, &mut || false)
}

/// How often (in characters read) the memory budget is checked.
const BUDGET_INTERVAL: usize = 4096;

/// The input as the YAML scanner reads it, ending early once `over_budget` says so.
struct Budgeted<'t, 'b> {
    chars: std::str::Chars<'t>,
    over_budget: &'b mut dyn FnMut() -> bool,
    /// Where the input was cut (line, column), shared with the caller.
    cut: std::rc::Rc<std::cell::Cell<Option<(usize, usize)>>>,
    line: usize,
    col: usize,
    read: usize,
}

impl Iterator for Budgeted<'_, '_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if self.cut.get().is_some() {
            return None;
        }
        self.read += 1;
        if self.read % BUDGET_INTERVAL == 0 && (self.over_budget)() {
            self.cut.set(Some((self.line, self.col)));
            return None;
        }
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }
}

/// [`to_argdata`], also stopping with an error as soon as `over_budget` returns true
/// (asked every few thousand characters the YAML scanner reads). A launcher passes a
/// check of its heap: the scanner holds a whole flow collection (`[...]`) as tokens
/// before it emits its first event, about 100 bytes per token, and this bounds that.
pub fn to_argdata_within(
    text: &str,
    fds: &mut dyn Descriptors,
    over_budget: &mut dyn FnMut() -> bool,
) -> Result<Value<'static>, ConfigError> {
    let cut = std::rc::Rc::new(std::cell::Cell::new(None));
    let input = Budgeted {
        chars: text.chars(),
        over_budget,
        cut: cut.clone(),
        line: 1,
        col: 1,
        read: 0,
    };
    let over = |(line, col): (usize, usize)| {
        ConfigError(format!(
            "line {line}, column {col}: the configuration needs more memory than the \
             launcher allows to convert (a flow collection is held whole until it ends)"
        ))
    };
    let mut b = Builder {
        stack: Vec::new(),
        root: None,
        size: 0,
        docs: 0,
        fds,
    };
    for ev in Parser::new_from_iter(input) {
        let (ev, span) = match ev {
            Ok(ev) => ev,
            Err(_) if cut.get().is_some() => return Err(over(cut.get().unwrap_or((0, 0)))),
            Err(e) => {
                return Err(ConfigError(format!(
                    "YAML syntax error at line {}, column {}: {}",
                    e.marker().line(),
                    e.marker().col() + 1,
                    escape_controls(e.info())
                )));
            }
        };
        if let Some(at) = cut.get() {
            return Err(over(at));
        }
        b.event(ev, &span)?;
    }
    if let Some(at) = cut.get() {
        return Err(over(at));
    }
    Ok(b.root.unwrap_or(Value::Null))
}

/// `s` with its control characters escaped.
fn escape_controls(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let esc: Vec<char> = if c.is_control() {
                c.escape_debug().collect()
            } else {
                vec![c]
            };
            esc
        })
        .collect()
}

fn check_container_tag(tag: Option<&Tag>, want: &str, span: &Span) -> Result<(), ConfigError> {
    match tag.map(tag_kind) {
        None | Some(TagKind::NonSpecific) => Ok(()),
        Some(TagKind::Core(s)) if s == want => Ok(()),
        Some(TagKind::Core(s)) => Err(at(
            span,
            format!("tag !!{} cannot be used on a {want}", tag_text(s)),
        )),
        Some(TagKind::Cloudabi(s)) => Err(at(
            span,
            format!("unknown tag !{} on a {want}", tag_text(s)),
        )),
        Some(TagKind::Other(s)) => Err(at(span, format!("unknown tag {}", tag_text(&s)))),
    }
}

/// Inside a descriptor mapping, scalars are plain, or tagged `!` or `!!str`.
fn check_plain_tag(tag: Option<&Tag>, desc: DescTag, span: &Span) -> Result<(), ConfigError> {
    match tag.map(tag_kind) {
        None | Some(TagKind::NonSpecific) => Ok(()),
        Some(TagKind::Core("str")) => Ok(()),
        Some(_) => Err(at(
            span,
            format!("{} takes untagged scalars in its mapping", desc.name()),
        )),
    }
}

fn scalar(
    v: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: &Span,
    fds: &mut dyn Descriptors,
) -> Result<Value<'static>, ConfigError> {
    let bad = |what: &str| at(span, format!("{} is not a valid {what}", quote(v)));
    let str = || Value::Str(Cow::Owned(v.to_string()));
    match tag.map(tag_kind) {
        None if style == ScalarStyle::Plain => plain(v).map_err(|e| at(span, e)),
        None | Some(TagKind::NonSpecific) => Ok(str()),
        Some(TagKind::Cloudabi("fd")) => {
            let n = fd_number(v).map_err(|e| at(span, e))?;
            let fd = fds.host_fd(n, RightsRequest::KEEP);
            Ok(Value::Fd(fd.map_err(|e| at(span, e))?))
        }
        Some(TagKind::Cloudabi("executable")) => {
            if !v.is_empty() {
                return Err(at(span, "!executable takes no value"));
            }
            let fd = fds.executable(RightsRequest::KEEP);
            Ok(Value::Fd(fd.map_err(|e| at(span, e))?))
        }
        Some(TagKind::Cloudabi("file")) => Err(at(span, "!file takes a mapping {path: ...}")),
        Some(TagKind::Cloudabi(other)) => {
            Err(at(span, format!("unknown tag !{}", tag_text(other))))
        }
        Some(TagKind::Core("str")) => Ok(str()),
        Some(TagKind::Core("null")) => is_null(v).then_some(Value::Null).ok_or_else(|| bad("null")),
        Some(TagKind::Core("bool")) => parse_bool(v).map(Value::Bool).ok_or_else(|| bad("bool")),
        Some(TagKind::Core("int")) => match parse_int(v) {
            Some(Ok(i)) => Ok(Value::Int(i)),
            Some(Err(e)) => Err(at(span, e)),
            None => Err(bad("int")),
        },
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
            .and_then(|(s, ns)| {
                Value::timestamp(s, i64::from(ns)).map_err(|_| "it is out of range")
            })
            .map_err(|why| {
                at(
                    span,
                    format!("{} is not a valid timestamp: {why}", quote(v)),
                )
            }),
        Some(TagKind::Core(other)) => {
            Err(at(span, format!("unsupported tag !!{}", tag_text(other))))
        }
        Some(TagKind::Other(t)) => Err(at(span, format!("unknown tag {}", tag_text(&t)))),
    }
}

/// Core schema null: `null | Null | NULL | ~` or empty.
fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

/// Core schema bool: `true | True | TRUE | false | False | FALSE`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Core schema integers: `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+` (no sign on the
/// octal and hexadecimal forms). `None` when `v` is not written as an int; `Some(Err)`
/// when it is one outside `-2^63 ..= 2^64 - 1`, the integers a program can read.
pub fn parse_int(v: &str) -> Option<Result<i128, String>> {
    let all = |s: &str, ok: fn(&u8) -> bool| !s.is_empty() && s.bytes().all(|b| ok(&b));
    let (digits, radix) = if let Some(oct) = v.strip_prefix("0o") {
        (oct, 8)
    } else if let Some(hex) = v.strip_prefix("0x") {
        (hex, 16)
    } else {
        (v, 10)
    };
    let well_formed = match radix {
        8 => all(digits, |b| (b'0'..=b'7').contains(b)),
        16 => all(digits, u8::is_ascii_hexdigit),
        _ => all(v.strip_prefix(['-', '+']).unwrap_or(v), u8::is_ascii_digit),
    };
    if !well_formed {
        return None;
    }
    Some(
        i128::from_str_radix(digits, radix)
            .ok()
            .filter(|i| (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(i))
            .ok_or_else(|| {
                format!(
                    "integer {} is out of range (a program reads integers from -2^63 to 2^64 - 1)",
                    quote(v)
                )
            }),
    )
}

/// Core schema floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`,
/// `[-+]?\.(inf|Inf|INF)` and `\.nan|\.NaN|\.NAN`.
pub fn parse_float(v: &str) -> Option<f64> {
    let (sign, body) = match v.strip_prefix('-') {
        Some(b) => (-1.0, b),
        None => (1.0, v.strip_prefix('+').unwrap_or(v)),
    };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if body.len() == v.len() => return Some(f64::NAN),
        _ => {}
    }
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mant.find('.') {
        Some(i) => (&mant[..i], Some(&mant[i + 1..])),
        None => (mant, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let shape_ok = match (int.is_empty(), frac) {
        // `.5`: digits after the point required.
        (true, Some(f)) => !f.is_empty() && digits(f),
        (true, None) => false,
        // `1`, `1.`, `1.5`.
        (false, f) => digits(int) && f.is_none_or(digits),
    };
    if !shape_ok {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    // Rust's parser takes every string of this shape.
    body.parse::<f64>().ok().map(|f| sign * f)
}

/// A plain scalar by the core schema: null, bool, int, float, else str. An int out of
/// range is an error, not a float or a string.
fn plain(v: &str) -> Result<Value<'static>, String> {
    Ok(if is_null(v) {
        Value::Null
    } else if let Some(b) = parse_bool(v) {
        Value::Bool(b)
    } else if let Some(i) = parse_int(v) {
        Value::Int(i?)
    } else if let Some(f) = parse_float(v) {
        Value::Float(f)
    } else {
        Value::Str(Cow::Owned(v.to_string()))
    })
}

/// A cursor over a timestamp's text.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    /// Between `min` and `max` ASCII digits, as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let n = self
            .0
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        let (d, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(d.iter().fold(0, |a, b| a * 10 + u32::from(b - b'0')))
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.0.first() == Some(&c);
        if hit {
            self.0 = &self.0[1..];
        }
        hit
    }

    fn blanks(&mut self) -> usize {
        let n = self
            .0
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        self.0 = &self.0[n..];
        n
    }
}

/// A YAML timestamp: `YYYY-MM-DD`, or `YYYY-M-D` followed by `T`, `t` or blanks,
/// `H:MM:SS`, an optional fraction (digits past nanoseconds are dropped), and optional
/// blanks and `Z` or an offset `±H[:MM]` (none means UTC). The date must exist, the
/// time be at most 23:59:60 and the offset at most 23:59. Returns the seconds and
/// nanoseconds since the epoch, or why the text is not a timestamp.
pub fn parse_timestamp(v: &str) -> Result<(i64, u32), &'static str> {
    const SHAPE: &str = "it is not YYYY-MM-DD or YYYY-M-D[Tt ]H:MM:SS[.F][Z|±H[:MM]]";
    let mut c = Cursor(v.as_bytes());
    let year = c.digits(4, 4).ok_or(SHAPE)?;
    if !c.eat(b'-') {
        return Err(SHAPE);
    }
    let month = c.digits(1, 2).ok_or(SHAPE)?;
    if !c.eat(b'-') {
        return Err(SHAPE);
    }
    let day = c.digits(1, 2).ok_or(SHAPE)?;
    // A date alone has two-digit months and days.
    if c.0.is_empty() && v.len() != 10 {
        return Err(SHAPE);
    }
    let days = days_from_civil(i64::from(year), month, day).ok_or("no such date")?;
    let mut secs = i128::from(days) * 86_400;
    let mut nanos = 0u32;
    if !c.0.is_empty() {
        if !(c.eat(b'T') || c.eat(b't') || c.blanks() > 0) {
            return Err(SHAPE);
        }
        let h = c.digits(1, 2).ok_or(SHAPE)?;
        let mi = c.eat(b':').then(|| c.digits(2, 2)).flatten().ok_or(SHAPE)?;
        let s = c.eat(b':').then(|| c.digits(2, 2)).flatten().ok_or(SHAPE)?;
        if h > 23 || mi > 59 || s > 60 {
            return Err("no such time of day");
        }
        secs += i128::from(h * 3600 + mi * 60 + s);
        if c.eat(b'.') {
            let n = c.0.iter().take_while(|b| b.is_ascii_digit()).count();
            let (frac, rest) = c.0.split_at(n);
            for (i, d) in frac.iter().take(9).enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
            c.0 = rest;
        }
        c.blanks();
        if c.eat(b'Z') {
        } else if let Some(&sign @ (b'+' | b'-')) = c.0.first() {
            c.0 = &c.0[1..];
            let zh = c.digits(1, 2).ok_or(SHAPE)?;
            let zm = if c.eat(b':') {
                c.digits(2, 2).ok_or(SHAPE)?
            } else {
                0
            };
            if zh > 23 || zm > 59 {
                return Err("the zone offset is more than 23:59");
            }
            let offset = i128::from(zh * 3600 + zm * 60);
            secs += if sign == b'-' { offset } else { -offset };
        }
    }
    if !c.0.is_empty() {
        return Err(SHAPE);
    }
    let secs = i64::try_from(secs).map_err(|_| "it is out of range")?;
    Ok((secs, nanos))
}

#[cfg(test)]
mod rights_tests;
#[cfg(test)]
mod tests;
