//! Walking already-encoded bytes to find the descriptor nodes a serialiser must rewrite.
//!
//! The walk visits, in serialization order (depth first, map key before value), every
//! well-formed fd node (`03` plus exactly 4 bytes) reached through well-formed subfields.
//! Maps are walked one subfield at a time, so an fd in a dangling odd key is reached; a
//! container stops at its first malformed subfield, and everything after it is left alone.
//! Nesting is followed with an explicit, fallibly grown stack (one `usize` per level), so
//! arbitrarily deep input cannot overflow the call stack.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (serialisation of buffer-backed values).

use alloc::vec::Vec;

use super::reader::{TAG_FD, TAG_MAP, TAG_SEQ};
use super::subfield;
use crate::Errno;

/// Calls `visit(offset, raw)` for every fd node reached in `bytes`, where `offset` is the
/// position of the node's 4-byte payload within `bytes` and `raw` the stored number.
///
/// Fails with `ENOMEM` when the nesting stack cannot grow, or with the first error `visit`
/// returns.
pub(crate) fn for_each_fd(
    bytes: &[u8],
    mut visit: impl FnMut(usize, u32) -> Result<(), Errno>,
) -> Result<(), Errno> {
    // The current container's payload is bytes[pos..end]; `ends` holds the ends of the
    // enclosing containers. A child container always ends where its parent resumes.
    let mut ends: Vec<usize> = Vec::new();
    let (mut pos, mut end) = match node(bytes, 0, bytes.len(), &mut visit)? {
        Some(inner) => inner,
        None => return Ok(()),
    };
    loop {
        let rest = bytes.get(pos..end).unwrap_or(&[]);
        let step = if rest.is_empty() {
            None
        } else {
            subfield::split(rest)
        };
        match step {
            Some((field, tail)) => {
                let child_end = end - tail.len();
                let child_start = child_end - field.len();
                pos = child_end;
                if let Some((inner_pos, inner_end)) =
                    node(bytes, child_start, child_end, &mut visit)?
                {
                    ends.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                    ends.push(end);
                    pos = inner_pos;
                    end = inner_end;
                }
            }
            None => {
                // Exhausted or malformed: resume the parent right after this container.
                pos = end;
                match ends.pop() {
                    Some(e) => end = e,
                    None => return Ok(()),
                }
            }
        }
    }
}

/// Looks at the node `bytes[start..end]`: reports an fd node, or returns the payload range
/// of a container to descend into.
#[inline]
fn node(
    bytes: &[u8],
    start: usize,
    end: usize,
    visit: &mut impl FnMut(usize, u32) -> Result<(), Errno>,
) -> Result<Option<(usize, usize)>, Errno> {
    match bytes.get(start..end) {
        Some([TAG_FD, a, b, c, d]) => {
            visit(start + 1, u32::from_be_bytes([*a, *b, *c, *d]))?;
            Ok(None)
        }
        Some([TAG_MAP | TAG_SEQ, ..]) => Ok(Some((start + 1, end))),
        _ => Ok(None),
    }
}
