//! Decoding encoded argdata into a borrowing [`Value`] tree.
//!
//! The decode is lossless: well-formed scalars and containers become typed nodes (byte
//! strings borrowed), and anything else (an undefined tag, a malformed scalar, an int wider
//! than 128 bits, a descriptor the conversion rejects, a container with any malformed
//! subfield) is kept as an [`Encoded`] node with the reader's conversion, so serialising the
//! result behaves like serialising the original bytes (ints become minimal).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::int::decode_wide;
use super::map_iter::MapIter;
use super::reader::{ArgdataRef, Type};
use super::seq_iter::SeqIter;
use super::value::{Encoded, Partial, Value};
use crate::Errno;

/// The children of an encoded container still to decode (validated beforehand).
enum Source<'a> {
    Seq(SeqIter<'a>),
    Map(MapIter<'a>, Option<ArgdataRef<'a>>),
}

impl<'a> Source<'a> {
    fn next(&mut self) -> Option<ArgdataRef<'a>> {
        match self {
            Source::Seq(it) => it.next().and_then(Result::ok),
            Source::Map(it, pending) => {
                if let Some(v) = pending.take() {
                    return Some(v);
                }
                let (k, v) = it.next().and_then(Result::ok)?;
                *pending = Some(v);
                Some(k)
            }
        }
    }
}

enum Step<'a> {
    Leaf(Value<'a>),
    Open(Source<'a>, Partial<'a>),
}

fn keep_encoded(ad: ArgdataRef<'_>) -> Value<'_> {
    Value::Encoded(Encoded {
        bytes: Cow::Borrowed(ad.bytes()),
        convert: ad.fd_convert(),
    })
}

fn step(ad: ArgdataRef<'_>) -> Result<Step<'_>, Errno> {
    let leaf = match ad.kind() {
        Ok(Type::Null) => Value::Null,
        Ok(Type::Binary) => ad
            .read_binary()
            .map(Value::binary)
            .unwrap_or_else(|_| keep_encoded(ad)),
        Ok(Type::Bool) => ad
            .read_bool()
            .map(Value::Bool)
            .unwrap_or_else(|_| keep_encoded(ad)),
        Ok(Type::Fd) => match ad.read_fd() {
            Ok(fd) if fd >= 0 => Value::Fd(fd),
            _ => keep_encoded(ad),
        },
        Ok(Type::Float) => ad
            .read_float()
            .map(Value::Float)
            .unwrap_or_else(|_| keep_encoded(ad)),
        Ok(Type::Int) => match ad.read_int_bytes().ok().and_then(decode_wide) {
            Some(i) => Value::Int(i),
            None => keep_encoded(ad),
        },
        Ok(Type::Str) => match ad.read_str() {
            Ok(s) => Value::Str(Cow::Borrowed(s)),
            Err(_) => keep_encoded(ad),
        },
        Ok(Type::Timestamp) => ad
            .read_timestamp()
            .map(Value::Timestamp)
            .unwrap_or_else(|_| keep_encoded(ad)),
        Ok(Type::Seq) => {
            let it = ad.seq()?;
            let mut n = 0usize;
            for item in it.clone() {
                if item.is_err() {
                    return Ok(Step::Leaf(keep_encoded(ad)));
                }
                n += 1;
            }
            return Ok(Step::Open(Source::Seq(it), Partial::seq(n)?));
        }
        Ok(Type::Map) => {
            let it = ad.map()?;
            let mut n = 0usize;
            for item in it.clone() {
                if item.is_err() {
                    return Ok(Step::Leaf(keep_encoded(ad)));
                }
                n += 1;
            }
            return Ok(Step::Open(Source::Map(it, None), Partial::map(n)?));
        }
        Err(_) => keep_encoded(ad),
    };
    Ok(Step::Leaf(leaf))
}

impl<'a> ArgdataRef<'a> {
    /// Decodes the value into a [`Value`] tree borrowing from the encoded bytes.
    ///
    /// Descriptors are converted with this reader's conversion. The walk is iterative;
    /// the only error is `ENOMEM`. See the module notes on what stays encoded.
    pub fn to_value(&self) -> Result<Value<'a>, Errno> {
        let mut stack: Vec<(Source<'a>, Partial<'a>)> = Vec::new();
        let mut node = *self;
        loop {
            let mut done = match step(node)? {
                Step::Leaf(v) => Some(v),
                Step::Open(src, part) => {
                    stack.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                    stack.push((src, part));
                    None
                }
            };
            loop {
                let Some((src, part)) = stack.last_mut() else {
                    return done.ok_or(Errno::EINVAL);
                };
                if let Some(v) = done.take() {
                    part.push(v)?;
                }
                match src.next() {
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
}
