//! Times as exports write them, and calendar months in a brand's time zone.
//!
//! An export's time carries its own offset (Shopify: `2025-12-07 19:08:25 -0500`) or is in UTC by its column's name
//! (Stripe: `Created date (UTC)`); either way it becomes an instant (Unix seconds). A month is then a range of
//! instants computed in the brand's time zone, so an order placed at 2025-12-01T01:00+00:00 is November's in
//! New York. Time zones come from the IANA database bundled into the binary: no file is read, and a month is
//! the same on every machine.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone, TimeZoneDatabase};
use serde::Serialize;

/// An instant read from an export: Unix seconds, and the offset it was written with (seconds east of UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub unix: i64,
    pub offset_seconds: i32,
}

/// Reads `2025-12-07 19:08:25 -0500`, `2025-12-07T19:08:25-05:00`, `2025-12-07 19:08:25Z` or, when `default_utc`,
/// a time without an offset (`2024-09-20 17:40:57`, taken as UTC). Seconds may be left out.
pub fn parse_instant(text: &str, default_utc: bool) -> Option<Instant> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() < 16 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = bytes.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b' ' | b'T') || bytes[13] != b':' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute) = (number(11..13)?, number(14..16)?);
    let mut rest = &text[16..];
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let digits = after.get(..2)?;
        second = digits.parse::<i64>().ok().filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))?;
        rest = &after[2..];
        // Fractions of a second are dropped.
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            rest = &fraction[len..];
        }
    }
    let rest = rest.trim_start();
    let offset_seconds: i32 = if rest.is_empty() {
        if !default_utc {
            return None;
        }
        0
    } else if rest == "Z" || rest == "UTC" {
        0
    } else {
        parse_offset(rest)?
    };
    let civil = DateTime::new(
        i16::try_from(year).ok()?,
        month as i8,
        day as i8,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    let unix = Offset::from_seconds(offset_seconds).ok()?.to_timestamp(civil).ok()?.as_second();
    Some(Instant { unix, offset_seconds })
}

/// `-0500`, `+05:30`, `+00`.
fn parse_offset(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// A calendar date as written `YYYY-MM-DD` (an inventory snapshot's `--as-of`).
pub fn parse_date(text: &str) -> Option<jiff::civil::Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &text[range];
        if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    jiff::civil::Date::new(digits(0..4)? as i16, digits(5..7)? as i8, digits(8..10)? as i8).ok()
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    pub year: i16,
    pub month: i8,
}

impl Month {
    /// `2025-11`.
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.trim().split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let year: i16 = year.parse().ok().filter(|_| year.bytes().all(|b| b.is_ascii_digit()))?;
        let month: i8 = month.parse().ok().filter(|_| month.bytes().all(|b| b.is_ascii_digit()))?;
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    /// The month of a `YYYY-MM-DD` date.
    pub fn of_date(date: jiff::civil::Date) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    /// The month an instant falls in, in `zone`.
    pub fn of_instant(unix: i64, zone: &TimeZone) -> Month {
        let timestamp = jiff::Timestamp::from_second(unix).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let civil = zone.to_datetime(timestamp);
        Month { year: civil.year(), month: civil.month() }
    }

    /// The first instant of the month in `zone` (its first day's midnight, or the first time after it that exists).
    pub fn start(self, zone: &TimeZone) -> i64 {
        let midnight = DateTime::new(self.year, self.month, 1, 0, 0, 0, 0).unwrap_or_default();
        zone.to_timestamp(midnight).map(jiff::Timestamp::as_second).unwrap_or_default()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A brand's time zone, by its IANA name (`America/New_York`, `UTC`), from the bundled database.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZoneDatabase::bundled().get(name.trim()).map_err(|_| {
        format!("{name:?} is not a time zone Seam knows; use an IANA name such as America/New_York, Europe/London or UTC")
    })
}

/// Consecutive months and the instants that bound them: month `i` is `[bounds[i], bounds[i + 1])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Months {
    pub months: Vec<Month>,
    pub bounds: Vec<i64>,
}

impl Months {
    /// Every month from `first` to `last` (inclusive), in `zone`.
    pub fn between(first: Month, last: Month, zone: &TimeZone) -> Months {
        let mut months = Vec::new();
        let mut month = first;
        while month <= last {
            months.push(month);
            month = month.next();
        }
        let mut bounds: Vec<i64> = months.iter().map(|month| month.start(zone)).collect();
        bounds.push(month.start(zone));
        Months { months, bounds }
    }

    /// Which month `unix` falls in, if any.
    pub fn index_of(&self, unix: i64) -> Option<usize> {
        let after = self.bounds.partition_point(|bound| *bound <= unix);
        (after >= 1 && after < self.bounds.len()).then(|| after - 1)
    }
}

/// `2026-12-01T09:30:00Z`.
pub fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map(|t| t.to_string()).unwrap_or_else(|_| unix.to_string())
}

/// The UTC date of an instant, `YYYY-MM-DD` (an import's default `--as-of`).
pub fn utc_date(unix: i64) -> String {
    let timestamp = jiff::Timestamp::from_second(unix).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    TimeZone::UTC.to_datetime(timestamp).date().to_string()
}
