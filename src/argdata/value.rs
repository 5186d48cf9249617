//! The owned (or partly borrowed) argdata tree, [`Value`], and its checked constructors.
//!
//! A `Value<'a>` may borrow byte strings and already-encoded subtrees for `'a`; a tree built
//! only from owned parts is a `Value<'static>`. Drop, clone, equality and `Debug` walk the
//! tree with explicit stacks, so a million-deep nesting is handled without recursion.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_create_*`, `argdata_null`,
//!   `argdata_true`, `argdata_false`).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use arrayvec::ArrayVec;

use super::fdconv::FdConvert;
use super::reader::ArgdataRef;
use super::timestamp::Timestamp;
use crate::Errno;

/// An argdata value as a tree in memory, ready to be serialised.
///
/// `Fd(n)` holds a descriptor of the serialising process; serialisation with descriptor
/// extraction rewrites it to an index into the extracted list. A negative `Fd` cannot be
/// converted and is written as the invalid descriptor `03 FF FF FF FF`. `Int` holds any
/// `i128` and is written minimally (values outside `i64`/`u64` are valid encodings that the
/// C library cannot read). `Encoded` wraps bytes that are already argdata.
///
/// `Value` implements `Drop` (iteratively), so a container's children cannot be moved out
/// by pattern matching on a `Value` by value; use [`Value::take`] or match on `&mut`.
/// Equality compares floats by their bits and `Encoded` nodes by their bytes.
#[derive(Default)]
pub enum Value<'a> {
    /// The empty value.
    #[default]
    Null,
    /// Arbitrary bytes.
    Binary(Cow<'a, [u8]>),
    /// A boolean.
    Bool(bool),
    /// A descriptor of the serialising process.
    Fd(i32),
    /// An IEEE-754 binary64 float (written bit for bit).
    Float(f64),
    /// An integer (written in minimal two's complement).
    Int(i128),
    /// Key-value pairs, order and duplicates kept.
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// A sequence.
    Seq(Vec<Value<'a>>),
    /// A string (may contain NUL; the terminating NUL is added on output).
    Str(Cow<'a, str>),
    /// A point in time.
    Timestamp(Timestamp),
    /// Already-encoded argdata, copied on output with its descriptors rewritten.
    Encoded(Encoded<'a>),
}

/// Already-encoded argdata inside a [`Value`] tree.
///
/// When serialised with descriptor extraction, every well-formed fd node reached through
/// well-formed subfields goes through `convert` (no conversion: written as invalid); all
/// other bytes are copied verbatim, so the length never changes.
#[derive(Clone)]
pub struct Encoded<'a> {
    /// The encoded bytes of one value.
    pub bytes: Cow<'a, [u8]>,
    /// How stored descriptor numbers map to descriptors of the serialising process.
    pub convert: Option<&'a dyn FdConvert>,
}

impl fmt::Debug for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoded")
            .field("bytes", &&*self.bytes)
            .field("fd_access", &self.convert.is_some())
            .finish()
    }
}

impl<'a> Value<'a> {
    /// A binary value borrowing `bytes`.
    pub fn binary(bytes: &'a [u8]) -> Self {
        Value::Binary(Cow::Borrowed(bytes))
    }

    /// A bool.
    pub fn bool(b: bool) -> Self {
        Value::Bool(b)
    }

    /// A descriptor; a negative number gives `EBADF`.
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_create_fd`.
    pub fn fd(fd: i32) -> Result<Self, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        Ok(Value::Fd(fd))
    }

    /// A float.
    pub fn float(f: f64) -> Self {
        Value::Float(f)
    }

    /// An integer of any Rust integer type up to 64 bits (or an `i128`).
    pub fn int(i: impl Into<i128>) -> Self {
        Value::Int(i.into())
    }

    /// A string from bytes, borrowed; invalid UTF-8 gives `EILSEQ`.
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_create_str`.
    pub fn str(bytes: &'a [u8]) -> Result<Self, Errno> {
        core::str::from_utf8(bytes)
            .map(|s| Value::Str(Cow::Borrowed(s)))
            .map_err(|_| Errno::EILSEQ)
    }

    /// A timestamp; nanoseconds outside `[0, 10^9)` give `EINVAL`.
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_create_timestamp`.
    pub fn timestamp(sec: i64, nsec: i64) -> Result<Self, Errno> {
        Timestamp::new(sec, nsec).map(Value::Timestamp)
    }

    /// Already-encoded argdata (borrowed), re-serialised with its own descriptor conversion.
    pub fn encoded(ad: ArgdataRef<'a>) -> Self {
        Value::Encoded(Encoded {
            bytes: Cow::Borrowed(ad.bytes()),
            convert: ad.fd_convert(),
        })
    }

    /// Replaces `self` with `Null` and returns the old value (children and all).
    pub fn take(&mut self) -> Self {
        core::mem::take(self)
    }

    /// Clones the tree, failing with `ENOMEM` instead of aborting when memory runs out.
    pub fn try_clone(&self) -> Result<Self, Errno> {
        let mut stack: Vec<(Children<'_, 'a>, Partial<'a>)> = Vec::new();
        let mut node = self;
        loop {
            let mut done = match node.children() {
                Some(ch) => {
                    let part = Partial::for_node(node)?;
                    stack.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                    stack.push((ch, part));
                    None
                }
                None => Some(clone_leaf(node)?),
            };
            // Deliver finished values upwards until a frame has another child to visit.
            loop {
                let Some(top) = stack.last_mut() else {
                    return done.ok_or(Errno::EINVAL);
                };
                if let Some(v) = done.take() {
                    top.1.push(v)?;
                }
                match top.0.next() {
                    Some(child) => {
                        node = child;
                        break;
                    }
                    None => {
                        if let Some((_, part)) = stack.pop() {
                            done = Some(part.finish());
                        }
                    }
                }
            }
        }
    }

    /// The children of a container, keys before values; `None` for scalars.
    pub(crate) fn children(&self) -> Option<Children<'_, 'a>> {
        match self {
            Value::Seq(items) => Some(Children {
                seq: items.iter(),
                map: [].iter(),
                pending: None,
            }),
            Value::Map(pairs) => Some(Children {
                seq: [].iter(),
                map: pairs.iter(),
                pending: None,
            }),
            _ => None,
        }
    }

    /// Whether this container holds a non-empty container (dropping it needs the stack).
    fn has_nested(&self) -> bool {
        let nonempty = |v: &Value<'_>| match v {
            Value::Seq(s) => !s.is_empty(),
            Value::Map(m) => !m.is_empty(),
            _ => false,
        };
        match self {
            Value::Seq(items) => items.iter().any(nonempty),
            Value::Map(pairs) => pairs.iter().any(|(k, v)| nonempty(k) || nonempty(v)),
            _ => false,
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Str(Cow::Owned(s))
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value<'_> {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<Timestamp> for Value<'_> {
    fn from(t: Timestamp) -> Self {
        Value::Timestamp(t)
    }
}

macro_rules! from_ints {
    ($($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(i: $t) -> Self {
                Value::Int(i.into())
            }
        }
    )*};
}
from_ints!(i8, i16, i32, i64, i128, u8, u16, u32, u64);

/// Iterator over a container's children in serialization order (map key before value).
pub(crate) struct Children<'v, 'a> {
    seq: core::slice::Iter<'v, Value<'a>>,
    map: core::slice::Iter<'v, (Value<'a>, Value<'a>)>,
    pending: Option<&'v Value<'a>>,
}

impl<'v, 'a> Iterator for Children<'v, 'a> {
    type Item = &'v Value<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(v) = self.pending.take() {
            return Some(v);
        }
        if let Some((k, v)) = self.map.next() {
            self.pending = Some(v);
            return Some(k);
        }
        self.seq.next()
    }
}

/// A container being built child by child (used by clone and decoding).
pub(crate) enum Partial<'a> {
    /// A seq under construction.
    Seq(Vec<Value<'a>>),
    /// A map under construction, with a key waiting for its value.
    Map(Vec<(Value<'a>, Value<'a>)>, Option<Value<'a>>),
}

impl<'a> Partial<'a> {
    fn for_node(node: &Value<'_>) -> Result<Self, Errno> {
        match node {
            Value::Map(m) => Partial::map(m.len()),
            Value::Seq(s) => Partial::seq(s.len()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// An empty seq with room for `n` elements.
    pub(crate) fn seq(n: usize) -> Result<Self, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        Ok(Partial::Seq(v))
    }

    /// An empty map with room for `n` pairs.
    pub(crate) fn map(n: usize) -> Result<Self, Errno> {
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
        Ok(Partial::Map(v, None))
    }

    /// Appends the next child (a key, then its value, for maps). Stays within the
    /// reserved capacity when the caller announced the right count; past it the vector
    /// grows fallibly (`ENOMEM`).
    pub(crate) fn push(&mut self, v: Value<'a>) -> Result<(), Errno> {
        match self {
            Partial::Seq(items) => {
                items.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                items.push(v);
            }
            Partial::Map(pairs, key) => match key.take() {
                Some(k) => {
                    pairs.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                    pairs.push((k, v));
                }
                None => *key = Some(v),
            },
        }
        Ok(())
    }

    /// The finished container (a dangling key is dropped).
    pub(crate) fn finish(self) -> Value<'a> {
        match self {
            Partial::Seq(items) => Value::Seq(items),
            Partial::Map(pairs, _) => Value::Map(pairs),
        }
    }
}

fn clone_bytes<'a>(b: &Cow<'a, [u8]>) -> Result<Cow<'a, [u8]>, Errno> {
    Ok(match b {
        Cow::Borrowed(s) => Cow::Borrowed(s),
        Cow::Owned(v) => {
            let mut out = Vec::new();
            out.try_reserve_exact(v.len()).map_err(|_| Errno::ENOMEM)?;
            out.extend_from_slice(v);
            Cow::Owned(out)
        }
    })
}

fn clone_leaf<'a>(v: &Value<'a>) -> Result<Value<'a>, Errno> {
    Ok(match v {
        Value::Null => Value::Null,
        Value::Binary(b) => Value::Binary(clone_bytes(b)?),
        Value::Bool(b) => Value::Bool(*b),
        Value::Fd(n) => Value::Fd(*n),
        Value::Float(f) => Value::Float(*f),
        Value::Int(i) => Value::Int(*i),
        Value::Str(Cow::Borrowed(s)) => Value::Str(Cow::Borrowed(s)),
        Value::Str(Cow::Owned(s)) => {
            let mut out = String::new();
            out.try_reserve_exact(s.len()).map_err(|_| Errno::ENOMEM)?;
            out.push_str(s);
            Value::Str(Cow::Owned(out))
        }
        Value::Timestamp(t) => Value::Timestamp(*t),
        Value::Encoded(e) => Value::Encoded(Encoded {
            bytes: clone_bytes(&e.bytes)?,
            convert: e.convert,
        }),
        Value::Map(_) | Value::Seq(_) => return Err(Errno::EINVAL),
    })
}

impl Clone for Value<'_> {
    /// Clones iteratively; on memory exhaustion this aborts like `Vec::clone` (use
    /// [`Value::try_clone`] to get `ENOMEM` instead).
    fn clone(&self) -> Self {
        match self.try_clone() {
            Ok(v) => v,
            Err(_) => alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<Self>()),
        }
    }
}

impl Drop for Value<'_> {
    /// Drops the tree with an explicit stack. Should the stack itself fail to grow, the
    /// subtree that could not be scheduled is leaked rather than risking stack overflow.
    fn drop(&mut self) {
        if !self.has_nested() {
            return;
        }
        let mut stack: Vec<Value<'_>> = Vec::new();
        if move_children(self, &mut stack).is_err() {
            core::mem::forget(core::mem::take(self));
            return;
        }
        while let Some(mut v) = stack.pop() {
            if v.has_nested() && move_children(&mut v, &mut stack).is_err() {
                core::mem::forget(v);
            }
        }
    }
}

/// Moves the children of `v` onto `stack` (reserving first, so nothing moves on failure).
fn move_children<'a>(v: &mut Value<'a>, stack: &mut Vec<Value<'a>>) -> Result<(), Errno> {
    match v {
        Value::Seq(items) => {
            stack.try_reserve(items.len()).map_err(|_| Errno::ENOMEM)?;
            stack.append(items);
        }
        Value::Map(pairs) => {
            let n = pairs.len().checked_mul(2).ok_or(Errno::ENOMEM)?;
            stack.try_reserve(n).map_err(|_| Errno::ENOMEM)?;
            for (k, val) in core::mem::take(pairs) {
                stack.push(k);
                stack.push(val);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Compares two nodes without looking at children (containers: same kind and length).
fn shallow_eq(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Binary(x), Value::Binary(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Fd(x), Value::Fd(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Map(x), Value::Map(y)) => x.len() == y.len(),
        (Value::Seq(x), Value::Seq(y)) => x.len() == y.len(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Timestamp(x), Value::Timestamp(y)) => x == y,
        (Value::Encoded(x), Value::Encoded(y)) => x.bytes == y.bytes,
        _ => false,
    }
}

/// Levels of nesting that equality walks and `Debug` prints without the heap.
const INLINE_DEPTH: usize = 16;

/// A stack of walk frames: the first [`INLINE_DEPTH`] inline, deeper ones on the heap,
/// grown fallibly.
struct Frames<T> {
    inline: ArrayVec<T, INLINE_DEPTH>,
    heap: Vec<T>,
}

impl<T> Frames<T> {
    fn new() -> Self {
        Frames {
            inline: ArrayVec::new(),
            heap: Vec::new(),
        }
    }

    fn push(&mut self, frame: T) -> Result<(), Errno> {
        let frame = if self.heap.is_empty() {
            match self.inline.try_push(frame) {
                Ok(()) => return Ok(()),
                Err(full) => full.element(),
            }
        } else {
            frame
        };
        self.heap.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.heap.push(frame);
        Ok(())
    }

    fn last_mut(&mut self) -> Option<&mut T> {
        if self.heap.is_empty() {
            self.inline.last_mut()
        } else {
            self.heap.last_mut()
        }
    }

    fn pop(&mut self) -> Option<T> {
        self.heap.pop().or_else(|| self.inline.pop())
    }
}

impl Value<'_> {
    /// Structural equality (as `==`) that says when it could not decide: comparing trees
    /// nested deeper than 16 levels needs a heap stack, and `ENOMEM` is returned if it
    /// cannot grow. Shallower trees are compared without allocating.
    pub fn try_eq(&self, other: &Value<'_>) -> Result<bool, Errno> {
        if !shallow_eq(self, other) {
            return Ok(false);
        }
        let (Some(a), Some(b)) = (self.children(), other.children()) else {
            return Ok(true);
        };
        let mut stack = Frames::new();
        stack.push((a, b))?;
        while let Some((a, b)) = stack.last_mut() {
            match (a.next(), b.next()) {
                (Some(x), Some(y)) => {
                    if !shallow_eq(x, y) {
                        return Ok(false);
                    }
                    if let (Some(cx), Some(cy)) = (x.children(), y.children()) {
                        stack.push((cx, cy))?;
                    }
                }
                (None, None) => {
                    stack.pop();
                }
                _ => return Ok(false),
            }
        }
        Ok(true)
    }
}

impl PartialEq for Value<'_> {
    /// Structural equality, walked with an explicit stack; never aborts. Trees up to 16
    /// levels deep are compared without allocating; deeper ones need a heap stack, and
    /// should it fail to grow the trees compare unequal ([`Value::try_eq`] reports that
    /// case as `ENOMEM`).
    fn eq(&self, other: &Self) -> bool {
        self.try_eq(other).unwrap_or(false)
    }
}

impl Eq for Value<'_> {}

fn debug_leaf(v: &Value<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v {
        Value::Null => f.write_str("Null"),
        Value::Binary(b) => write!(f, "Binary({:?})", &**b),
        Value::Bool(b) => write!(f, "Bool({b})"),
        Value::Fd(n) => write!(f, "Fd({n})"),
        Value::Float(x) => write!(f, "Float({x:?})"),
        Value::Int(i) => write!(f, "Int({i})"),
        Value::Str(s) => write!(f, "Str({:?})", &**s),
        Value::Timestamp(t) => write!(f, "Timestamp({}, {})", t.sec, t.nsec),
        Value::Encoded(e) => write!(f, "{e:?}"),
        Value::Map(_) => f.write_str("Map({"),
        Value::Seq(_) => f.write_str("Seq(["),
    }
}

impl fmt::Debug for Value<'_> {
    /// A compact one-line rendering, produced without recursion and without allocating:
    /// containers nested deeper than 16 levels are printed as `Seq([..])` / `Map({..})`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each frame: children, is-map, number of children written so far.
        let mut stack: ArrayVec<(Children<'_, '_>, bool, usize), INLINE_DEPTH> = ArrayVec::new();
        debug_node(self, &mut stack, f)?;
        while let Some((ch, is_map, n)) = stack.last_mut() {
            match ch.next() {
                Some(child) => {
                    if *n > 0 {
                        f.write_str(if *is_map && *n % 2 == 1 { ": " } else { ", " })?;
                    }
                    *n += 1;
                    debug_node(child, &mut stack, f)?;
                }
                None => {
                    f.write_str(if *is_map { "})" } else { "])" })?;
                    stack.pop();
                }
            }
        }
        Ok(())
    }
}

/// Writes `v` (a container's opening, or `..` and its closing past the depth limit) and
/// pushes its children to print next.
fn debug_node<'v, 'a>(
    v: &'v Value<'a>,
    stack: &mut ArrayVec<(Children<'v, 'a>, bool, usize), INLINE_DEPTH>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    debug_leaf(v, f)?;
    if let Some(ch) = v.children() {
        let is_map = matches!(v, Value::Map(_));
        if stack.try_push((ch, is_map, 0)).is_err() {
            f.write_str(if is_map { "..})" } else { "..])" })?;
        }
    }
    Ok(())
}
