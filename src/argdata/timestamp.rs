//! Timestamps: seconds and nanoseconds since 1970-01-01T00:00:00Z.
//!
//! Encoded as a minimal two's complement big-endian count of nanoseconds. Decoding floors,
//! so the nanoseconds are always in `[0, 10^9)`: `09 FF` is second -1 plus 999,999,999 ns.
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_get_timestamp.c`,
//!   `argdata_create_timestamp.c`).

use crate::Errno;

const NANOS: i128 = 1_000_000_000;

/// A point in time: whole seconds since the Unix epoch plus nanoseconds.
///
/// Values built through [`Timestamp::new`] or read from argdata have `nsec < 10^9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before it).
    pub sec: i64,
    /// Nanoseconds added to `sec`.
    pub nsec: u32,
}

impl Timestamp {
    /// Creates a timestamp, rejecting nanoseconds outside `[0, 10^9)` with `EINVAL`.
    ///
    /// # References
    /// - NuxiNL cloudlibc `argdata_create_timestamp` (the same check).
    pub fn new(sec: i64, nsec: i64) -> Result<Self, Errno> {
        match u32::try_from(nsec) {
            Ok(n) if i128::from(n) < NANOS => Ok(Self { sec, nsec: n }),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The total number of nanoseconds since the epoch (what the encoding stores).
    #[inline]
    pub fn as_nanos(&self) -> i128 {
        i128::from(self.sec) * NANOS + i128::from(self.nsec)
    }

    /// Decodes a timestamp payload (the bytes after the `09` tag).
    ///
    /// More than 12 bytes, or seconds that overflow `i64`, give `ERANGE`.
    pub(crate) fn from_payload(payload: &[u8]) -> Result<Self, Errno> {
        if payload.len() > 12 {
            return Err(Errno::ERANGE);
        }
        let mut total: i128 = match payload.first() {
            Some(&b) if b & 0x80 != 0 => -1,
            _ => 0,
        };
        for &b in payload {
            total = (total << 8) | i128::from(b);
        }
        let sec = i64::try_from(total.div_euclid(NANOS)).map_err(|_| Errno::ERANGE)?;
        // rem_euclid is in [0, 10^9), so it fits a u32.
        let nsec = total.rem_euclid(NANOS) as u32;
        Ok(Self { sec, nsec })
    }
}
