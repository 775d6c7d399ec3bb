//! Time as a value: instants, durations and the clock that reads them.
//!
//! The run state machine never asks what time it is; the caller passes `now`. That is what lets a five-day retry
//! schedule be tested in milliseconds and a run be replayed exactly. The one place that reads the operating
//! system's clock is [`SystemClock`], which the runtime uses and the tests replace with [`ManualClock`].
//!
//! Timers are durable "to the second", so an instant is whole seconds since the Unix epoch, in UTC.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

/// An instant, in whole seconds since 1970-01-01T00:00:00Z. Serialized as RFC 3339 text, so stored runs, audit
/// entries and inbox context read as dates, not as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Timestamp(i64);

/// A non-negative span of time in whole seconds, written in workflow files as `"3d"`, `"90m"` or `"1h30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(u64);

/// Why a text is not a [`Duration`] or a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("{0:?} is not a duration; use a number followed by s, m, h, d or w, such as \"3d\" or \"1h30m\"")]
    BadDuration(String),
    #[error("{0:?} is too long a duration; the longest accepted is 10 years")]
    DurationTooLong(String),
    #[error("{0:?} is not a timestamp; use RFC 3339 such as \"2026-01-31T09:00:00Z\", or Unix seconds")]
    BadTimestamp(String),
}

/// Where the current time comes from. The runtime reads it once per transition and passes it to `apply`.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The operating system's clock. The only code in this crate that reads real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// A clock that only moves when told to, for tests and accelerated demos.
#[derive(Debug)]
pub struct ManualClock {
    seconds: AtomicI64,
}

impl Timestamp {
    pub const fn from_unix_seconds(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2026-01-31T09:00:00Z`, `2026-01-31T10:00:00+01:00`, fractions of a second dropped) or a
    /// plain date (`2026-01-31`, midnight UTC).
    ///
    /// The text is untrusted (webhook payloads, command-line flags), so anything outside RFC 3339's ranges is an
    /// error, never an overflow: years 0000 to 9999, offsets up to ±23:59, ASCII digits only. A leap second is
    /// accepted only as 23:59:60 UTC and reads as the midnight after it, since Unix time has no leap seconds.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
        parse_rfc3339(text, Years::Rfc3339).ok_or_else(|| TimeError::BadTimestamp(text.to_owned()))
    }

    /// The instant `duration` after this one, saturating at the far future rather than overflowing.
    pub fn plus(self, duration: Duration) -> Timestamp {
        let seconds = i64::try_from(duration.0).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(seconds))
    }

    /// The day of the month (1-31) in UTC.
    pub fn day_of_month(self) -> u32 {
        civil_from_days(self.0.div_euclid(86_400)).2
    }

    /// The day of the week in UTC, 0 for Monday through 6 for Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday, day 3 when Monday is 0.
        (self.0.div_euclid(86_400) + 3).rem_euclid(7) as u32
    }
}

impl fmt::Display for Timestamp {
    /// Formats as RFC 3339 in UTC, such as `2026-01-31T09:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let second_of_day = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )
    }
}

impl From<Timestamp> for String {
    fn from(at: Timestamp) -> String {
        at.to_string()
    }
}

impl TryFrom<String> for Timestamp {
    type Error = TimeError;

    /// Reads back what [`Display`](fmt::Display) wrote, for every instant: a stored run may hold one far outside
    /// 0000..=9999 (a template can give any Unix seconds), and loading it must not fail.
    fn try_from(text: String) -> Result<Timestamp, TimeError> {
        parse_rfc3339(&text, Years::Stored).ok_or(TimeError::BadTimestamp(text))
    }
}

impl Duration {
    /// The longest duration a workflow may ask for. Ten years is far beyond any sensible wait and keeps every
    /// sum of durations far from overflowing.
    pub const MAX: Duration = Duration(10 * 366 * 86_400);

    pub const fn from_seconds(seconds: u64) -> Duration {
        Duration(seconds)
    }

    pub const fn seconds(self) -> u64 {
        self.0
    }

    /// Parses `"3d"`, `"90m"`, `"1h30m"`, `"2w"`, `"45s"`: one or more numbers each followed by a unit.
    pub fn parse(text: &str) -> Result<Duration, TimeError> {
        let bad = || TimeError::BadDuration(text.to_owned());
        let mut total: u64 = 0;
        let mut digits = String::new();
        for character in text.trim().chars() {
            if character.is_ascii_digit() {
                digits.push(character);
                continue;
            }
            let unit: u64 = match character {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                _ => return Err(bad()),
            };
            if digits.is_empty() {
                return Err(bad());
            }
            let amount: u64 = digits.parse().map_err(|_| TimeError::DurationTooLong(text.to_owned()))?;
            total = amount
                .checked_mul(unit)
                .and_then(|part| total.checked_add(part))
                .ok_or_else(|| TimeError::DurationTooLong(text.to_owned()))?;
            digits.clear();
        }
        if !digits.is_empty() || text.trim().is_empty() {
            return Err(bad());
        }
        if total > Duration::MAX.0 {
            return Err(TimeError::DurationTooLong(text.to_owned()));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// Formats in the same notation the parser reads, largest units first: `1d2h`, `90s` becomes `1m30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let seconds = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
        };
        Timestamp(seconds)
    }
}

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock { seconds: AtomicI64::new(start.0) }
    }

    pub fn set(&self, to: Timestamp) {
        self.seconds.store(to.0, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        let now = self.now().plus(by);
        self.set(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.seconds.load(Ordering::SeqCst))
    }
}

/// Which years [`parse_rfc3339`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Years {
    /// RFC 3339's four digits, 0000 to 9999: what text from outside may name.
    Rfc3339,
    /// Any year [`Timestamp`]'s `Display` writes (a leading `-` for years before 0000), as long as the instant fits
    /// in an `i64`: what a stored run holds.
    Stored,
}

fn parse_rfc3339(text: &str, years: Years) -> Option<Timestamp> {
    let text = text.trim();
    // ASCII digits only: `str::parse` would also take a sign, and `char::is_numeric` other scripts' digits.
    let number = |part: &str| -> Option<i64> {
        if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let (negative, date) = match date.strip_prefix('-') {
        Some(rest) if years == Years::Stored => (true, rest),
        _ => (false, date),
    };
    let mut date_parts = date.splitn(3, '-');
    let year = number(date_parts.next()?)?;
    let year = if negative { -year } else { year };
    let month = number(date_parts.next()?)?;
    let day = number(date_parts.next()?)?;
    if years == Years::Rfc3339 && !(0..=9999).contains(&year) {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut second_of_day = 0;
    if let Some(time) = time {
        let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else {
            let sign_at = time.rfind(['+', '-'])?;
            let (clock, offset) = time.split_at(sign_at);
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = offset[1..].split_once(':')?;
            let (hours, minutes) = (number(hours)?, number(minutes)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            (clock, sign * (hours * 3600 + minutes * 60))
        };
        let clock = match clock.split_once('.') {
            Some((whole, fraction))
                if !fraction.is_empty() && fraction.bytes().all(|byte| byte.is_ascii_digit()) =>
            {
                whole
            }
            Some(_) => return None,
            None => clock,
        };
        let mut clock_parts = clock.splitn(3, ':');
        let hour = number(clock_parts.next()?)?;
        let minute = number(clock_parts.next()?)?;
        let second = number(clock_parts.next()?)?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let local = hour * 3600 + minute * 60 + second;
        // A leap second ends a UTC day: 23:59:60Z, or the same instant written with an offset.
        if second == 60 && (local - 1 - offset).rem_euclid(86_400) != 86_399 {
            return None;
        }
        second_of_day = local - offset;
    }
    // Both parts are bounded (the day count by the year's i64), so the sum cannot overflow an i128; whether it
    // fits the i64 of a timestamp is checked.
    let seconds = days_from_civil(year, month, day) * 86_400 + i128::from(second_of_day);
    i64::try_from(seconds).ok().map(Timestamp)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). Computed in `i128`, where
/// no `i64` year can overflow it.
fn days_from_civil(year: i64, month: i64, day: i64) -> i128 {
    let (year, month, day) = (i128::from(year), i128::from(month), i128::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for (text, seconds, canonical) in [
            ("3d", 259_200, "3d"),
            ("90m", 5400, "1h30m"),
            ("1h30m", 5400, "1h30m"),
            ("2w", 1_209_600, "14d"),
            ("0s", 0, "0s"),
        ] {
            let duration = Duration::parse(text).unwrap();
            assert_eq!(duration.seconds(), seconds, "{text}");
            assert_eq!(duration.to_string(), canonical, "{text}");
        }
        for bad in ["", "5x", "d", "3", "1.5h", "-1d", "99999999999999999999d"] {
            assert!(Duration::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn timestamps_round_trip() {
        let at = Timestamp::parse_rfc3339("2026-01-31T09:15:30Z").unwrap();
        assert_eq!(at.to_string(), "2026-01-31T09:15:30Z");
        assert_eq!(at.day_of_month(), 31);
        assert_eq!(at.weekday(), 5, "2026-01-31 is a Saturday");
        let offset = Timestamp::parse_rfc3339("2026-01-31T10:15:30.250+01:00").unwrap();
        assert_eq!(offset, at);
        assert_eq!(Timestamp::parse_rfc3339("1970-01-01").unwrap().unix_seconds(), 0);
        assert_eq!(Timestamp::from_unix_seconds(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        for bad in ["2026-02-30", "2026-13-01", "yesterday", "2026-01-01T25:00:00Z"] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
