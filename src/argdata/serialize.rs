//! Serialisation of a [`Value`] tree, with or without descriptor extraction.
//!
//! Two passes over the tree, both iterative with fallibly grown stacks: the first computes
//! every container's exact length (kept in a side table, so the second pass never
//! recomputes) and the upper bound of the descriptor list; the second writes the bytes
//! front to back. With extraction, descriptors are renumbered in serialization order
//! (depth first, map key before value): the first sighting of a descriptor appends it to the
//! list, later sightings reuse its index (a hash map makes this linear), and a descriptor
//! that cannot be converted is written as `03 FF FF FF FF` and not listed. Without
//! extraction, descriptors are written as their literal numbers and encoded subtrees are
//! copied verbatim.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_serialize`,
//!   `argdata_serialized_length`; the C library searches the list linearly per descriptor).

use alloc::vec::Vec;

use hashbrown::HashMap;

use super::encoded::for_each_fd;
use super::int::encode_minimal;
use super::reader::{
    TAG_BINARY, TAG_BOOL, TAG_FD, TAG_FLOAT, TAG_INT, TAG_MAP, TAG_SEQ, TAG_STR, TAG_TIMESTAMP,
};
use super::subfield;
use super::value::{Children, Value};
use crate::Errno;
use crate::work::DedupHasher;

/// The stored number written for a descriptor that cannot be converted.
const INVALID_FD: u32 = u32::MAX;

/// A tree measured for serialisation: its exact length and descriptor bound, ready to be
/// written without measuring again. Obtained from [`Value::serializer`].
pub struct Serializer<'v, 'a> {
    root: &'v Value<'a>,
    len: usize,
    fds_upper: usize,
    containers: Vec<usize>,
}

impl core::fmt::Debug for Serializer<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Serializer")
            .field("len", &self.len)
            .field("fds_upper", &self.fds_upper)
            .finish()
    }
}

fn checked(a: usize, b: usize) -> Result<usize, Errno> {
    a.checked_add(b).ok_or(Errno::E2BIG)
}

/// Exact encoded length of a scalar (or an `Encoded` subtree).
fn leaf_len(v: &Value<'_>) -> Result<usize, Errno> {
    Ok(match v {
        Value::Null => 0,
        Value::Binary(b) => checked(b.len(), 1)?,
        Value::Bool(b) => 1 + usize::from(*b),
        Value::Fd(_) => 5,
        Value::Float(_) => 9,
        Value::Int(i) => 17 - encode_minimal(*i).1,
        Value::Str(s) => checked(s.len(), 2)?,
        Value::Timestamp(t) => 17 - encode_minimal(t.as_nanos()).1,
        Value::Encoded(e) => e.bytes.len(),
        Value::Map(_) | Value::Seq(_) => return Err(Errno::EINVAL),
    })
}

/// Descriptor nodes in a scalar (or an `Encoded` subtree).
fn leaf_fds(v: &Value<'_>) -> Result<usize, Errno> {
    match v {
        Value::Fd(_) => Ok(1),
        Value::Encoded(e) => {
            let mut n = 0usize;
            for_each_fd(&e.bytes, |_, _| {
                n += 1;
                Ok(())
            })?;
            Ok(n)
        }
        _ => Ok(0),
    }
}

fn push<T>(v: &mut Vec<T>, item: T) -> Result<(), Errno> {
    v.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    v.push(item);
    Ok(())
}

impl<'v, 'a> Serializer<'v, 'a> {
    fn new(root: &'v Value<'a>) -> Result<Self, Errno> {
        let mut containers: Vec<usize> = Vec::new();
        let mut fds_upper = 0usize;
        // Frame: children, index in `containers`, bytes accumulated so far (tag included).
        let mut stack: Vec<(Children<'v, 'a>, usize, usize)> = Vec::new();
        let len = match root.children() {
            None => {
                fds_upper = leaf_fds(root)?;
                leaf_len(root)?
            }
            Some(ch) => {
                push(&mut containers, 0)?;
                push(&mut stack, (ch, 0, 1))?;
                let mut total = 0;
                while let Some((ch, idx, acc)) = stack.last_mut() {
                    match ch.next() {
                        Some(child) => match child.children() {
                            Some(cc) => {
                                let i = containers.len();
                                push(&mut containers, 0)?;
                                push(&mut stack, (cc, i, 1))?;
                            }
                            None => {
                                fds_upper = checked(fds_upper, leaf_fds(child)?)?;
                                let framed = subfield::framed_len(leaf_len(child)?);
                                *acc = checked(*acc, framed.ok_or(Errno::E2BIG)?)?;
                            }
                        },
                        None => {
                            let (idx, acc) = (*idx, *acc);
                            stack.pop();
                            if let Some(slot) = containers.get_mut(idx) {
                                *slot = acc;
                            }
                            match stack.last_mut() {
                                Some((_, _, parent)) => {
                                    let framed = subfield::framed_len(acc).ok_or(Errno::E2BIG)?;
                                    *parent = checked(*parent, framed)?;
                                }
                                None => total = acc,
                            }
                        }
                    }
                }
                total
            }
        };
        Ok(Self {
            root,
            len,
            fds_upper,
            containers,
        })
    }

    /// The exact number of bytes the value serialises to.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the value serialises to no bytes (it is null).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Upper bound of the descriptor list: every well-formed fd node, duplicates and
    /// unconvertible ones included.
    pub fn fds_upper(&self) -> usize {
        self.fds_upper
    }

    /// Writes the bytes into `buf` (exactly [`Self::len`] long, else `EINVAL`) and the
    /// extracted descriptors into `fds`; returns how many descriptors were listed.
    ///
    /// `fds` needs room for the distinct convertible descriptors (at most
    /// [`Self::fds_upper`]); too little room gives `EINVAL`. `ENOMEM` when the dedup table
    /// or the walk stack cannot be allocated.
    pub fn write_with_fds(&self, buf: &mut [u8], fds: &mut [i32]) -> Result<usize, Errno> {
        let mut list = FdList::new(FdSink::Slice(fds, 0), self.fds_upper)?;
        self.write(buf, Some(&mut list))?;
        Ok(list.len())
    }

    /// Writes the bytes into `buf` and appends the extracted descriptors to `fds`
    /// (reserved fallibly, `ENOMEM`).
    pub fn write_with_fd_vec(&self, buf: &mut [u8], fds: &mut Vec<i32>) -> Result<(), Errno> {
        let mut list = FdList::new(FdSink::Vec(fds), self.fds_upper)?;
        self.write(buf, Some(&mut list))
    }

    /// Writes the bytes into `buf` (exactly [`Self::len`] long) with descriptors as their
    /// literal numbers and encoded subtrees verbatim.
    pub fn write_literal(&self, buf: &mut [u8]) -> Result<(), Errno> {
        self.write(buf, None)
    }

    fn write(&self, buf: &mut [u8], mut fds: Option<&mut FdList<'_>>) -> Result<(), Errno> {
        if buf.len() != self.len {
            return Err(Errno::EINVAL);
        }
        let mut out = Out { buf, pos: 0 };
        let mut next_container = 0usize;
        let mut stack: Vec<Children<'v, 'a>> = Vec::new();
        match self.root.children() {
            None => return out.leaf(self.root, fds.as_deref_mut()),
            Some(ch) => {
                out.put(&[container_tag(self.root)])?;
                next_container += 1;
                push(&mut stack, ch)?;
            }
        }
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some(child) => match child.children() {
                    Some(cc) => {
                        let len = *self.containers.get(next_container).ok_or(Errno::EINVAL)?;
                        next_container += 1;
                        out.prefix(len)?;
                        out.put(&[container_tag(child)])?;
                        push(&mut stack, cc)?;
                    }
                    None => {
                        out.prefix(leaf_len(child)?)?;
                        out.leaf(child, fds.as_deref_mut())?;
                    }
                },
                None => {
                    stack.pop();
                }
            }
        }
        if out.pos != self.len {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

fn container_tag(v: &Value<'_>) -> u8 {
    if matches!(v, Value::Map(_)) {
        TAG_MAP
    } else {
        TAG_SEQ
    }
}

/// Where extracted descriptors go.
enum FdSink<'o> {
    Slice(&'o mut [i32], usize),
    Vec(&'o mut Vec<i32>),
}

/// The descriptor list being built, with its linear-time dedup table.
struct FdList<'o> {
    seen: HashMap<i32, u32, DedupHasher>,
    sink: FdSink<'o>,
    count: usize,
}

impl<'o> FdList<'o> {
    fn new(sink: FdSink<'o>, upper: usize) -> Result<Self, Errno> {
        let mut seen = HashMap::with_hasher(DedupHasher::default());
        seen.try_reserve(upper).map_err(|_| Errno::ENOMEM)?;
        Ok(Self {
            seen,
            sink,
            count: 0,
        })
    }

    fn len(&self) -> usize {
        self.count
    }

    /// The index written for descriptor `fd` (appending it on first sight).
    fn index(&mut self, fd: i32) -> Result<u32, Errno> {
        if fd < 0 {
            return Ok(INVALID_FD);
        }
        if let Some(&i) = self.seen.get(&fd) {
            return Ok(i);
        }
        let i = u32::try_from(self.count)
            .ok()
            .filter(|&i| i != INVALID_FD)
            .ok_or(Errno::E2BIG)?;
        match &mut self.sink {
            FdSink::Slice(s, used) => {
                *s.get_mut(*used).ok_or(Errno::EINVAL)? = fd;
                *used += 1;
            }
            FdSink::Vec(v) => push(v, fd)?,
        }
        self.seen.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        self.seen.insert(fd, i);
        self.count += 1;
        Ok(i)
    }
}

/// The output cursor.
struct Out<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Out<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        let end = self.pos.checked_add(bytes.len()).ok_or(Errno::EINVAL)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Errno::EINVAL)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    #[inline]
    fn prefix(&mut self, len: usize) -> Result<(), Errno> {
        let dst = self.buf.get_mut(self.pos..).ok_or(Errno::EINVAL)?;
        self.pos += subfield::write_prefix(len, dst).ok_or(Errno::EINVAL)?;
        Ok(())
    }

    fn leaf(&mut self, v: &Value<'_>, fds: Option<&mut FdList<'_>>) -> Result<(), Errno> {
        match v {
            Value::Null => Ok(()),
            Value::Binary(b) => {
                self.put(&[TAG_BINARY])?;
                self.put(b)
            }
            Value::Bool(false) => self.put(&[TAG_BOOL]),
            Value::Bool(true) => self.put(&[TAG_BOOL, 1]),
            Value::Fd(n) => {
                let raw = match fds {
                    Some(list) => list.index(*n)?,
                    None => *n as u32,
                };
                self.put(&[TAG_FD])?;
                self.put(&raw.to_be_bytes())
            }
            Value::Float(x) => {
                self.put(&[TAG_FLOAT])?;
                self.put(&x.to_bits().to_be_bytes())
            }
            Value::Int(i) => {
                let (b, start) = encode_minimal(*i);
                self.put(&[TAG_INT])?;
                self.put(b.get(start..).unwrap_or(&[]))
            }
            Value::Str(s) => {
                self.put(&[TAG_STR])?;
                self.put(s.as_bytes())?;
                self.put(&[0])
            }
            Value::Timestamp(t) => {
                let (b, start) = encode_minimal(t.as_nanos());
                self.put(&[TAG_TIMESTAMP])?;
                self.put(b.get(start..).unwrap_or(&[]))
            }
            Value::Encoded(e) => {
                let base = self.pos;
                self.put(&e.bytes)?;
                let Some(list) = fds else {
                    return Ok(());
                };
                let buf = &mut *self.buf;
                for_each_fd(&e.bytes, |off, raw| {
                    let fd = match e.convert {
                        Some(c) => c.convert(raw).unwrap_or(-1),
                        None => -1,
                    };
                    let idx = list.index(fd)?;
                    let at = base + off;
                    buf.get_mut(at..at + 4)
                        .ok_or(Errno::EINVAL)?
                        .copy_from_slice(&idx.to_be_bytes());
                    Ok(())
                })
            }
            Value::Map(_) | Value::Seq(_) => Err(Errno::EINVAL),
        }
    }
}

fn alloc_zeroed(len: usize) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    v.resize(len, 0);
    Ok(v)
}

impl<'a> Value<'a> {
    /// Measures the tree once for serialisation (exact length, descriptor bound); the
    /// result writes without measuring again.
    ///
    /// Errors: `ENOMEM` (walk stack), `E2BIG` (length overflows `usize`).
    pub fn serializer(&self) -> Result<Serializer<'_, 'a>, Errno> {
        Serializer::new(self)
    }

    /// `(bytes, fds_upper)`: the exact serialised length, and the number of well-formed fd
    /// nodes (duplicates and unconvertible ones included), an upper bound of the list.
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_serialized_length`.
    pub fn serialized_length(&self) -> Result<(usize, usize), Errno> {
        let p = self.serializer()?;
        Ok((p.len(), p.fds_upper()))
    }

    /// Serialises into `buf` (exactly the serialised length, else `EINVAL`) with descriptor
    /// extraction into `fds`; returns how many descriptors were listed.
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_serialize` (with a descriptor array).
    pub fn serialize(&self, buf: &mut [u8], fds: &mut [i32]) -> Result<usize, Errno> {
        self.serializer()?.write_with_fds(buf, fds)
    }

    /// Serialises into `buf` writing descriptors as their literal numbers (no list).
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_serialize` (with no descriptor array).
    pub fn serialize_literal(&self, buf: &mut [u8]) -> Result<(), Errno> {
        self.serializer()?.write_literal(buf)
    }

    /// Serialises with descriptor extraction into fresh vectors: the bytes, and the list
    /// where `list[i]` is the descriptor that new descriptor `i` must be (what
    /// `proc_exec` needs). All allocation is fallible (`ENOMEM`).
    pub fn serialize_with_fds(&self) -> Result<(Vec<u8>, Vec<i32>), Errno> {
        let p = self.serializer()?;
        let mut bytes = alloc_zeroed(p.len())?;
        let mut fds = Vec::new();
        fds.try_reserve_exact(p.fds_upper())
            .map_err(|_| Errno::ENOMEM)?;
        p.write_with_fd_vec(&mut bytes, &mut fds)?;
        Ok((bytes, fds))
    }

    /// Serialises into a fresh vector with descriptors as their literal numbers.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Errno> {
        let p = self.serializer()?;
        let mut bytes = alloc_zeroed(p.len())?;
        p.write_literal(&mut bytes)?;
        Ok(bytes)
    }
}
