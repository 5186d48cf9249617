//! Timestamps: seconds and nanoseconds since 1970-01-01T00:00:00Z.
//!
//! Encoded as a minimal two's complement big-endian count of nanoseconds. Decoding floors,
//! so the nanoseconds are always in `[0, 10^9)`: `09 FF` is second -1 plus 999,999,999 ns.
//!
//! The calendar arithmetic every part of capexec uses lives here too: the proleptic
//! Gregorian date of a day count ([`civil_from_days`]) and back ([`days_from_civil`]).
//!
//! # References
//! - NuxiNL cloudlibc `src/libc/argdata` (`argdata_get_timestamp.c`,
//!   `argdata_create_timestamp.c`).
//! - Howard Hinnant, *chrono-Compatible Low-Level Date Algorithms* (the day-count
//!   conversions).

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

/// Days in `month` (1 to 12) of `year` (proleptic Gregorian, counted astronomically),
/// or `None` for a month out of range.
pub fn days_in_month(year: i64, month: u32) -> Option<u32> {
    let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    })
}

/// Days since 1970-01-01 of the proleptic Gregorian date `year`-`month`-`day` (years
/// counted astronomically: 0 is 1 BC). `None` when the month or day does not exist
/// (February 30) or the count does not fit an `i64`.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if day == 0 || day > days_in_month(year, month)? {
        return None;
    }
    // Count from 0000-03-01, so a leap day falls at the end of a 400-year era.
    let y = i128::from(year) - i128::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i128::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i128::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::try_from(era * 146_097 + doe - 719_468).ok()
}

/// The proleptic Gregorian date (`year`, `month`, `day`; years counted astronomically)
/// of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a 400-year era.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // In range by construction: day 1..=31, month 1..=12, and the year of an i64 day
    // count fits an i64.
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i128::from(month <= 2)) as i64;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_of_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
    }

    #[test]
    fn day_counts_of_civil_dates_round_trip() {
        for days in (-800_000..800_000)
            .step_by(997)
            .chain([i64::MIN / 2, i64::MAX / 2])
        {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), Some(days), "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 2, 29), Some(11_016));
    }

    #[test]
    fn dates_that_do_not_exist() {
        assert_eq!(days_from_civil(2001, 2, 29), None);
        assert_eq!(days_from_civil(2000, 2, 30), None);
        assert_eq!(days_from_civil(1900, 2, 29), None);
        assert_eq!(days_from_civil(2024, 4, 31), None);
        assert_eq!(days_from_civil(2024, 13, 1), None);
        assert_eq!(days_from_civil(2024, 0, 1), None);
        assert_eq!(days_from_civil(2024, 1, 0), None);
        assert_eq!(days_from_civil(i64::MAX, 12, 31), None);
        assert_eq!(days_in_month(2024, 2), Some(29));
    }
}
