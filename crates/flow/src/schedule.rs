//! When the next attempt of a call happens: the delay from the policy, a deterministic jitter, and calendar
//! placement (paydays, business hours).
//!
//! All of it is a pure function of the policy, the attempt number, `now` and the run's jitter seed. Nothing here
//! draws randomness: the seed is chosen once by the runtime when the run starts and stored in the run, so replaying
//! a run gives the same instants, and tests can pin them to the second.

use crate::def::{BusinessHours, Delays, Paydays, Schedule, StepId};
use crate::time::{Duration, Timestamp};

/// The delay before the `nth` attempt (1-based) of one entry into a step, before jitter and placement.
pub fn delay_before(delays: &Delays, nth: u32) -> Duration {
    match delays {
        Delays::After(list) => {
            let index = (nth.max(1) as usize - 1).min(list.len().saturating_sub(1));
            list.get(index).copied().unwrap_or(Duration::from_seconds(0))
        }
        Delays::Backoff { first, initial, factor, max } => {
            if nth <= 1 {
                return *first;
            }
            let mut seconds = initial.seconds();
            for _ in 2..nth {
                seconds = seconds.saturating_mul(u64::from(*factor));
                if seconds >= max.seconds() {
                    break;
                }
            }
            Duration::from_seconds(seconds.min(max.seconds()))
        }
    }
}

/// The instant of the `nth` attempt of `step`, counted from `from` (entering the step, or the previous failure).
pub fn attempt_at(schedule: &Schedule, step: &StepId, nth: u32, from: Timestamp, seed: u64) -> Timestamp {
    let delay = delay_before(&schedule.delays, nth);
    let delay = jittered(delay, schedule.jitter_percent, seed, step, nth);
    let mut at = from.plus(delay);
    let offset = schedule.business_hours.as_ref().map_or(0, |hours| hours.utc_offset);
    if let Some(paydays) = &schedule.prefer_paydays {
        at = nudge_to_payday(at, paydays, offset);
    }
    if let Some(hours) = &schedule.business_hours {
        at = into_business_hours(at, hours);
    }
    at
}

/// Spreads `delay` by up to `percent` either way. The spread is a hash of the run's seed, the step and the
/// attempt, so it differs between runs (no thundering herd at 09:00) but never between replays of one run.
pub fn jittered(delay: Duration, percent: u32, seed: u64, step: &StepId, nth: u32) -> Duration {
    if percent == 0 || delay.seconds() == 0 {
        return delay;
    }
    let mut hash =
        seed ^ fnv1a(step.as_str().as_bytes()) ^ u64::from(nth).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    hash = splitmix64(hash);
    // A whole number from -1000 to 1000, scaled by the percentage: integer arithmetic keeps it exact everywhere.
    let spread = (hash % 2001) as i128 - 1000;
    let shift = i128::from(delay.seconds()) * i128::from(percent) * spread / 100_000;
    let seconds = (i128::from(delay.seconds()) + shift).max(0);
    Duration::from_seconds(u64::try_from(seconds).unwrap_or(u64::MAX))
}

/// Moves `at` to the same local time on the first payday within `paydays.within` after it, if there is one.
/// A retry that lands the day a salary is paid recovers more often; one that waits longer than `within` for it
/// would stretch the dunning window, so it stays where it is.
pub fn nudge_to_payday(at: Timestamp, paydays: &Paydays, utc_offset: i32) -> Timestamp {
    let local = Timestamp::from_unix_seconds(at.unix_seconds() + i64::from(utc_offset));
    let max_days = paydays.within.seconds() / 86_400;
    for days_later in 0..=max_days {
        let candidate = local.plus(Duration::from_seconds(days_later * 86_400));
        let day = candidate.day_of_month() as i32;
        let is_last_day = candidate.plus(Duration::from_seconds(86_400)).day_of_month() == 1;
        if paydays.days.iter().any(|payday| *payday == day || (*payday == -1 && is_last_day)) {
            return at.plus(Duration::from_seconds(days_later * 86_400));
        }
    }
    at
}

/// Moves `at` forward to the next instant inside the business-hours window (unchanged if already inside).
pub fn into_business_hours(at: Timestamp, hours: &BusinessHours) -> Timestamp {
    if hours.days.is_empty() {
        return at;
    }
    let offset = i64::from(hours.utc_offset);
    let local = at.unix_seconds() + offset;
    let local_midnight = local.div_euclid(86_400) * 86_400;
    for days_later in 0..8 {
        let midnight = local_midnight + days_later * 86_400;
        let weekday = Timestamp::from_unix_seconds(midnight).weekday();
        if !hours.days.contains(&weekday) {
            continue;
        }
        let opens = midnight + i64::from(hours.from);
        let closes = midnight + i64::from(hours.to);
        if local < closes {
            return Timestamp::from_unix_seconds(local.max(opens) - offset);
        }
    }
    at
}

/// Fowler-Noll-Vo, chosen because it is stable across Rust versions (the standard hasher is not), and replays
/// must agree with the original run forever.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_max() {
        let delays = Delays::Backoff {
            first: Duration::from_seconds(0),
            initial: Duration::from_seconds(30),
            factor: 2,
            max: Duration::from_seconds(100),
        };
        let seconds: Vec<u64> = (1..=5).map(|nth| delay_before(&delays, nth).seconds()).collect();
        assert_eq!(seconds, [0, 30, 60, 100, 100]);
    }

    #[test]
    fn jitter_is_bounded_and_deterministic() {
        let step = StepId::parse("retry").unwrap();
        let day = Duration::from_seconds(86_400);
        for seed in 0..200 {
            let shifted = jittered(day, 10, seed, &step, 2).seconds();
            assert!((77_760..=95_040).contains(&shifted), "{shifted}");
            assert_eq!(shifted, jittered(day, 10, seed, &step, 2).seconds());
        }
        assert_ne!(jittered(day, 10, 1, &step, 2), jittered(day, 10, 2, &step, 2));
    }

    #[test]
    fn business_hours_and_paydays_place_attempts() {
        let hours = BusinessHours {
            from: 9 * 3600,
            to: 17 * 3600,
            days: vec![0, 1, 2, 3, 4],
            utc_offset: -5 * 3600,
            utc_offset_from: None,
        };
        // Saturday 2026-01-31 at 12:00 in New York moves to Monday 09:00 there, 14:00 UTC.
        assert_eq!(
            into_business_hours(at("2026-01-31T17:00:00Z"), &hours).to_string(),
            "2026-02-02T14:00:00Z"
        );
        // Inside the window it stays; after closing it moves to the next morning.
        assert_eq!(
            into_business_hours(at("2026-02-03T15:00:00Z"), &hours).to_string(),
            "2026-02-03T15:00:00Z"
        );
        assert_eq!(
            into_business_hours(at("2026-02-03T23:30:00Z"), &hours).to_string(),
            "2026-02-04T14:00:00Z"
        );

        let paydays = Paydays { days: vec![1, 15, -1], within: Duration::from_seconds(2 * 86_400) };
        assert_eq!(
            nudge_to_payday(at("2026-01-13T10:00:00Z"), &paydays, 0).to_string(),
            "2026-01-15T10:00:00Z"
        );
        assert_eq!(
            nudge_to_payday(at("2026-01-29T10:00:00Z"), &paydays, 0).to_string(),
            "2026-01-31T10:00:00Z"
        );
        assert_eq!(
            nudge_to_payday(at("2026-01-05T10:00:00Z"), &paydays, 0).to_string(),
            "2026-01-05T10:00:00Z"
        );
    }
}
